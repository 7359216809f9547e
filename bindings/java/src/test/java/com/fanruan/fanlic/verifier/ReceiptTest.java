package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Activation receipts (SPEC.md §6.4) through Java: every vector of fixtures/vectors/receipts, used receipts. */
class ReceiptTest {
    private static List<Map<String, Object>> vectors() {
        try (Stream<Path> files = Files.list(Fixtures.dir().resolve("vectors/receipts"))) {
            List<Map<String, Object>> out = new ArrayList<>();
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).sorted().collect(Collectors.toList())) {
                Map<String, Object> v = Fixtures.json("vectors/receipts/" + p.getFileName());
                v.put("name", p.getFileName().toString());
                out.add(v);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<byte[]> roots(Map<String, Object> v) {
        return Json.array(v.get("roots")).stream().map(n -> Fixtures.publicKey((String) n)).collect(Collectors.toList());
    }

    private static byte[] hexOrNull(Object h) {
        return h == null ? null : Fixtures.hex((String) h);
    }

    /** The product's activation holding the vector's challenge, made again from its inputs through Java. */
    private static Activation holding(Map<String, Object> v, String name) {
        Map<String, Object> c = Json.object(v.get("challenge"));
        Activation a = new Activation();
        Environment env = ActivationVectors.localContainer(
                (String) c.get("app_version"),
                Math.toIntExact((Long) c.get("nodes")),
                Fixtures.rfc3339((String) c.get("issued_at")));
        Challenge made = a.challenge(
                Fixtures.read("vectors/" + v.get("license")),
                roots(v),
                env,
                Fixtures.hex((String) c.get("node_id")),
                new byte[0],
                Fixtures.hex((String) c.get("nonce")));
        assertEquals(v.get("challenge_token"), Fixtures.hex(made.token()), name + ": the same challenge from the same inputs");
        assertEquals(v.get("challenge_sha256"), Fixtures.hex(made.tokenSha256()), name);
        assertTrue(made.receiptPolicy(), name);
        return a;
    }

    private static void assertOutcome(Map<String, Object> v, ReceiptResult r, boolean throughActivation, String name) {
        Map<String, Object> e = Json.object(v.get("expected"));
        List<String> codes = r.causeList().stream().map(ReceiptCause::code).collect(Collectors.toList());
        assertEquals(Json.array(e.get("causes")), codes, name + ": " + r);
        assertEquals(e.get("accepted"), r.isAccepted(), name + ": " + r);
        assertFalse(r.message().isEmpty(), name);
        if (!r.isAccepted()) {
            assertEquals(ReceiptResult.Kind.REFUSED, r.kind(), name);
            r.causes().forEach(c -> assertFalse(c.message().isEmpty(), name));
            assertNull(r.accepted(), name);
            return;
        }
        ReceiptResult.Accepted a = r.accepted();
        assertEquals(e.get("receipt_id"), Fixtures.hex(a.receiptId()), name);
        assertEquals(Fixtures.rfc3339((String) e.get("vendor_time")), a.vendorTime(), name);
        assertEquals(Fixtures.rfc3339((String) e.get("lease_until")), a.leaseUntil(), name);
        assertEquals(e.get("delivered_list_sequence"), a.deliveredListSequence(), name);
        assertEquals(8, a.keyId().length, name);
        assertArrayEquals(hexOrNull(v.get("instance_public_key")), a.instancePublicKey(), name);
        assertEquals(throughActivation ? Fixtures.rfc3339((String) v.get("now")) : null, a.activatedAt(), name);
    }

    @Test
    void everyReceiptVectorGivesItsOutcomeThroughJava() {
        List<Map<String, Object>> vectors = vectors();
        assertTrue(vectors.size() >= 30, "vectors: " + vectors.size());
        int product = 0;
        for (Map<String, Object> v : vectors) {
            String name = (String) v.get("name");
            byte[] license = Fixtures.read("vectors/" + v.get("license"));
            Instant now = Fixtures.rfc3339((String) v.get("now"));
            List<String> files = new ArrayList<>(List.of((String) v.get("file")));
            if (v.get("armored") != null) {
                files.add((String) v.get("armored"));
            }
            for (String file : files) {
                byte[] receipt = Fixtures.read("vectors/receipts/" + file);
                String label = name + " (" + file + ")";
                Receipt.Expect expect = switch ((String) v.get("acceptor")) {
                    case "product" -> Receipt.Expect.product(hexOrNull(v.get("challenge_sha256")));
                    case "server" -> Receipt.Expect.server(
                            hexOrNull(v.get("challenge_sha256")),
                            hexOrNull(v.get("instance_public_key")),
                            hexOrNull(v.get("previous_receipt")));
                    case "application" -> Receipt.Expect.application(hexOrNull(v.get("instance_public_key")));
                    default -> throw new AssertionError(label + ": acceptor " + v.get("acceptor"));
                };
                assertEquals(v.get("previous_receipt_checked"), expect.checkPrevious(), label);
                assertOutcome(v, Receipt.verify(receipt, license, roots(v), expect, now), false, label);
                if ("product".equals(v.get("acceptor"))) {
                    product++;
                    Activation a = holding(v, label);
                    ReceiptResult r = a.acceptReceipt(receipt, license, roots(v), now);
                    assertOutcome(v, r, true, label);
                    ActivationStatus.Kind after = r.isAccepted()
                            ? ActivationStatus.Kind.ACTIVATED
                            : ActivationStatus.Kind.AWAITING_CODE;
                    assertEquals(after, a.status(now).kind(), label);
                }
            }
        }
        assertTrue(product >= 20, "product vectors: " + product);
    }

    @Test
    void aReceiptIsAcceptedOnceEvenByARestoredState() {
        Map<String, Object> v = Fixtures.json("vectors/receipts/valid-local-container.json");
        byte[] receipt = Fixtures.read("vectors/receipts/valid-local-container.bin");
        byte[] license = Fixtures.read("vectors/" + v.get("license"));
        List<byte[]> roots = roots(v);
        Instant now = Fixtures.rfc3339((String) v.get("now"));
        Activation a = holding(v, "valid-local-container");
        byte[] beforeAccepting = a.save();
        assertTrue(a.acceptReceipt(receipt, license, roots, now).isAccepted());
        byte[] saved = a.save();
        // Again on the same object, then on the restored state: the challenge is used up.
        ReceiptResult again = a.acceptReceipt(receipt, license, roots, now.plusSeconds(1));
        assertEquals(ReceiptResult.Kind.NO_CHALLENGE, again.kind(), again.toString());
        Activation restored = Activation.restore(saved);
        assertEquals(ActivationStatus.Kind.ACTIVATED, restored.status(now.plusSeconds(2)).kind());
        assertEquals(ReceiptResult.Kind.NO_CHALLENGE, restored.acceptReceipt(receipt, license, roots, now.plusSeconds(2)).kind());
        // After a restart and a new challenge, the old receipt answers the wrong challenge.
        restored.restart();
        Environment env = ActivationVectors.localContainer("11.0.20", 1, now.plusSeconds(3));
        restored.challenge(license, roots, env, new byte[16], new byte[0]);
        ReceiptResult wrong = restored.acceptReceipt(receipt, license, roots, now.plusSeconds(4));
        assertEquals(List.of(ReceiptCause.CHALLENGE_MISMATCH), wrong.causeList(), wrong.toString());
        assertEquals(ActivationStatus.Kind.AWAITING_CODE, restored.status(now.plusSeconds(4)).kind());
        // A state saved before the receipt was accepted accepts it: that is its first use there.
        assertTrue(Activation.restore(beforeAccepting).acceptReceipt(receipt, license, roots, now).isAccepted());
    }

    @Test
    void aCodeIsNeverAcceptedUnderReceiptPolicyAndAnOldChallengeIsExpired() {
        Map<String, Object> v = Fixtures.json("vectors/receipts/valid-local-container.json");
        byte[] receipt = Fixtures.read("vectors/receipts/valid-local-container.bin");
        byte[] license = Fixtures.read("vectors/" + v.get("license"));
        Instant issued = Fixtures.rfc3339((String) Json.object(v.get("challenge")).get("issued_at"));
        Activation a = holding(v, "valid-local-container");
        for (String code : List.of("000000", "123456", "999999")) {
            EnterResult r = a.enter(code, issued.plusSeconds(1));
            assertEquals(EnterResult.Kind.RECEIPT_REQUIRED, r.kind());
            assertTrue(r.message().contains("receipt"), r.message());
        }
        // Seven codes refused, none counted: no lock.
        for (int i = 0; i < 7; i++) {
            a.enter("000000", issued.plusSeconds(2));
        }
        assertEquals(ActivationStatus.Kind.AWAITING_CODE, a.status(issued.plusSeconds(2)).kind());
        ReceiptResult late = a.acceptReceipt(receipt, license, roots(v), issued.plusSeconds(300));
        assertEquals(ReceiptResult.Kind.CHALLENGE_EXPIRED, late.kind(), late.toString());
        assertEquals(ReceiptResult.Kind.NO_CHALLENGE, new Activation().acceptReceipt(receipt, license, roots(v), issued).kind());
    }

    @Test
    void truncatedAndMutatedReceiptsAreRefusedNeverACrash() {
        Map<String, Object> v = Fixtures.json("vectors/receipts/valid-local-container.json");
        byte[] receipt = Fixtures.read("vectors/receipts/valid-local-container.bin");
        byte[] license = Fixtures.read("vectors/" + v.get("license"));
        List<byte[]> roots = roots(v);
        Instant now = Fixtures.rfc3339((String) v.get("now"));
        Receipt.Expect expect = Receipt.Expect.product(Fixtures.hex((String) v.get("challenge_sha256")));
        for (int len = 0; len < receipt.length; len += Math.max(1, receipt.length / 20)) {
            ReceiptResult r = Receipt.verify(Arrays.copyOf(receipt, len), license, roots, expect, now);
            assertFalse(r.isAccepted(), "truncated to " + len);
            assertFalse(r.causes().isEmpty(), "truncated to " + len);
        }
        for (int i = 0; i < receipt.length; i += Math.max(1, receipt.length / 30)) {
            byte[] m = receipt.clone();
            m[i] ^= 0x5a;
            ReceiptResult r = Receipt.verify(m, license, roots, expect, now);
            assertFalse(r.isAccepted(), "byte " + i);
        }
        Activation a = holding(v, "mutated");
        byte[] m = receipt.clone();
        m[m.length - 1] ^= 1;
        assertEquals(ReceiptResult.Kind.REFUSED, a.acceptReceipt(m, license, roots, now).kind());
        assertTrue(a.acceptReceipt(receipt, license, roots, now).isAccepted(), "a refused receipt uses nothing up");
    }

    @Test
    void badArgumentsAreDefinedExceptions() {
        Map<String, Object> v = Fixtures.json("vectors/receipts/valid-local-container.json");
        byte[] receipt = Fixtures.read("vectors/receipts/valid-local-container.bin");
        byte[] license = Fixtures.read("vectors/" + v.get("license"));
        List<byte[]> roots = roots(v);
        Instant now = Fixtures.rfc3339((String) v.get("now"));
        Receipt.Expect expect = Receipt.Expect.product(new byte[32]);
        assertThrows(NullPointerException.class, () -> Receipt.verify(null, license, roots, expect, now));
        assertThrows(NullPointerException.class, () -> Receipt.verify(receipt, null, roots, expect, now));
        assertThrows(NullPointerException.class, () -> Receipt.verify(receipt, license, null, expect, now));
        assertThrows(NullPointerException.class, () -> Receipt.verify(receipt, license, roots, null, now));
        assertThrows(NullPointerException.class, () -> Receipt.verify(receipt, license, roots, expect, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> Receipt.verify(receipt, license, roots, Receipt.Expect.product(new byte[31]), now));
        // The license must be authentic: mutated, or under another root, it is an argument error.
        byte[] bad = license.clone();
        bad[bad.length / 2] ^= 1;
        assertThrows(IllegalArgumentException.class, () -> Receipt.verify(receipt, bad, roots, expect, now));
        List<byte[]> rootB = List.of(Fixtures.publicKey("root-b"));
        assertThrows(IllegalArgumentException.class, () -> Receipt.verify(receipt, license, rootB, expect, now));
        Activation a = new Activation();
        assertThrows(NullPointerException.class, () -> a.acceptReceipt(null, license, roots, now));
        assertThrows(IllegalArgumentException.class, () -> a.acceptReceipt(receipt, bad, roots, now));
        assertEquals(ReceiptCause.LEASE_EXPIRED, ReceiptCause.ofCode("lease_expired"));
        assertThrows(IllegalArgumentException.class, () -> ReceiptCause.ofCode("nope"));
    }
}
