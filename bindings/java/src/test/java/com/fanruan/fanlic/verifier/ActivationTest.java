package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The code-entry state machine (SPEC.md §6.1, §6.2) through Java: the vectors, the lock, saving, bad input. */
class ActivationTest {
    /** The license with a code-policy activation key, and that key (as the fixtures' generator sets it). */
    private static final String LICENSE = "vectors/valid-all-optional-fields.lic";

    private static final byte[] LICENSE_KEY =
            ActivationVectors.sha256("fanlic/TEST-ONLY/activation-key".getBytes(StandardCharsets.US_ASCII));
    private static final Instant T0 = Instant.parse("2026-06-01T00:00:00Z");
    private static final byte[] NODE = Fixtures.hex("0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c");
    private static final byte[] NONCE = Fixtures.hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");

    private static Environment env(Instant now) {
        return ActivationVectors.localContainer("11.0.20", 1, now);
    }

    /** A challenge of the code-policy license at {@code now}, and its code computed in Java. */
    private static String show(Activation a, Instant now) {
        Challenge c = a.challenge(Fixtures.read(LICENSE), ActivationVectors.rootA(), env(now), NODE, new byte[0]);
        return ActivationVectors.code(LICENSE_KEY, c.token());
    }

    @Test
    void everyActivationVectorGivesItsTokenUrlAndCode() {
        List<Object> cases = Json.array(Fixtures.json("activation/vectors.json").get("cases"));
        assertEquals(3, cases.size());
        for (Object o : cases) {
            Map<String, Object> v = Json.object(o);
            String name = (String) v.get("name");
            byte[] token = Fixtures.hex((String) v.get("token"));
            ActivationVectors.Body body = new ActivationVectors.Body(Fixtures.hex((String) v.get("body")));
            Map<String, Object> fp = Json.object(v.get("project_fingerprint_input"));
            String url = (String) v.get("url");
            Activation a = new Activation();
            Challenge c = a.challengeWithKey(
                    Fixtures.hex((String) v.get("license_id")),
                    Fixtures.hex((String) v.get("activation_key")),
                    url.substring(0, url.lastIndexOf('/')),
                    (String) fp.get("app_name"),
                    (String) fp.get("project"),
                    Fixtures.hex((String) fp.get("deployment_id")),
                    body.nodes,
                    body.version,
                    body.issuedAt,
                    body.nonce,
                    body.nodeId,
                    body.instanceFingerprint,
                    body.generation);
            assertEquals(v.get("token"), Fixtures.hex(c.token()), name);
            assertEquals(url, c.url(), name);
            assertArrayEquals(ActivationVectors.sha256(token), c.tokenSha256(), name);
            assertEquals(body.issuedAt, c.issuedAt(), name);
            assertFalse(c.receiptPolicy(), name);
            // The vector's code is the one the state machine expects, and Java's computation agrees.
            String code = (String) v.get("code");
            assertEquals(code, ActivationVectors.code(Fixtures.hex((String) v.get("activation_key")), token), name);
            EnterResult wrong = a.enter(ActivationVectors.wrong(code), body.issuedAt.plusSeconds(1));
            assertEquals(EnterResult.Kind.WRONG_CODE, wrong.kind(), name);
            assertEquals(5, wrong.remaining(), name);
            EnterResult right = a.enter(" " + code + " ", body.issuedAt.plusSeconds(2));
            assertTrue(right.accepted(), name + ": " + right);
            assertEquals(body.issuedAt.plusSeconds(2), right.at(), name);
        }
    }

    @Test
    void aChallengeComesFromAVerifiedLicenseAndItsCodeActivates() {
        Activation a = new Activation();
        assertEquals(EnterResult.Kind.NO_CHALLENGE, a.enter("123456", T0).kind());
        assertEquals(new ActivationStatus(ActivationStatus.Kind.NOT_ACTIVATED, null), a.status(T0));
        Challenge c = a.challenge(
                Fixtures.read(LICENSE), ActivationVectors.rootA(), env(T0), NODE, "dep".getBytes(), NONCE);
        assertTrue(c.url().startsWith("https://activation.example.test/fanlic/v1/A"), c.url());
        assertEquals(T0, c.issuedAt());
        assertEquals(T0.plus(Duration.ofMinutes(5)), c.expiresAt());
        assertFalse(c.receiptPolicy());
        assertEquals(16, c.licenseId().length);
        // The token names the license and carries the nonce and node given.
        byte[] token = c.token();
        assertArrayEquals(c.licenseId(), Arrays.copyOfRange(token, 1, 17));
        assertArrayEquals(NONCE, Arrays.copyOfRange(token, 17, 33));
        assertArrayEquals(NODE, Arrays.copyOfRange(token, 33, 49));
        assertEquals(new ActivationStatus(ActivationStatus.Kind.AWAITING_CODE, c.expiresAt()), a.status(T0));

        String code = ActivationVectors.code(LICENSE_KEY, token);
        EnterResult notSix = a.enter("12a456", T0.plusSeconds(1));
        assertEquals(EnterResult.Kind.NOT_SIX_DIGITS, notSix.kind());
        assertFalse(notSix.message().isEmpty());
        EnterResult ok = a.enter(code, T0.plusSeconds(10));
        assertEquals(EnterResult.Kind.ACCEPTED, ok.kind());
        assertEquals(new ActivationStatus(ActivationStatus.Kind.ACTIVATED, T0.plusSeconds(10)), a.status(T0.plusSeconds(11)));
        // The code is used up with its challenge.
        assertEquals(EnterResult.Kind.NO_CHALLENGE, a.enter(code, T0.plusSeconds(12)).kind());
        a.restart();
        assertEquals(ActivationStatus.Kind.NOT_ACTIVATED, a.status(T0.plusSeconds(13)).kind());
        // Two challenges differ by their random nonce.
        Challenge c1 = a.challenge(Fixtures.read(LICENSE), ActivationVectors.rootA(), env(T0), NODE, new byte[0]);
        Challenge c2 = a.challenge(Fixtures.read(LICENSE), ActivationVectors.rootA(), env(T0), NODE, new byte[0]);
        assertFalse(Arrays.equals(c1.token(), c2.token()));
    }

    @Test
    void anExpiredChallengeRefusesItsRightCode() {
        Activation a = new Activation();
        String code = show(a, T0);
        EnterResult late = a.enter(code, T0.plusSeconds(300));
        assertEquals(EnterResult.Kind.EXPIRED, late.kind());
        assertEquals(T0, late.at());
        assertEquals(ActivationStatus.Kind.NOT_ACTIVATED, a.status(T0.plusSeconds(300)).kind());
        String fresh = show(a, T0.plusSeconds(301));
        assertTrue(a.enter(fresh, T0.plusSeconds(302)).accepted());
    }

    @Test
    void theSixthWrongCodeLocksForFifteenMinutesAndSavingBuysNoGuesses() {
        Activation a = new Activation();
        String code = show(a, T0);
        String bad = ActivationVectors.wrong(code);
        for (int i = 1; i <= 3; i++) {
            EnterResult r = a.enter(bad, T0.plusSeconds(1));
            assertEquals(EnterResult.Kind.WRONG_CODE, r.kind());
            assertEquals(6 - i, r.remaining());
            assertTrue(r.message().contains("wrong code"), r.message());
        }
        // Saved and restored: the count survives.
        Activation b = Activation.restore(a.save());
        assertEquals(2, b.enter(bad, T0.plusSeconds(2)).remaining());
        assertEquals(1, b.enter(bad, T0.plusSeconds(2)).remaining());
        EnterResult locked = b.enter(bad, T0.plusSeconds(3));
        Instant until = T0.plusSeconds(3 + 900);
        assertEquals(new EnterResult(EnterResult.Kind.LOCKED, until, 0, locked.message()), locked);
        // The right code is refused while locked, even with a new challenge, and counts nothing.
        String fresh = show(b, T0.plusSeconds(600));
        assertEquals(EnterResult.Kind.LOCKED, b.enter(fresh, T0.plusSeconds(601)).kind());
        assertEquals(new ActivationStatus(ActivationStatus.Kind.LOCKED, until), b.status(T0.plusSeconds(601)));
        // Restored while locked: still locked.
        Activation c = Activation.restore(b.save());
        assertEquals(new ActivationStatus(ActivationStatus.Kind.LOCKED, until), c.status(T0.plusSeconds(602)));
        assertEquals(ActivationStatus.Kind.LOCKED, c.status(until.minusSeconds(1)).kind());
        // At the end of the lock a fresh challenge's right code works.
        String last = show(c, until);
        assertTrue(c.enter(last, until).accepted());
        // The original object was not touched by its copy's guesses.
        assertEquals(2, a.enter(bad, T0.plusSeconds(4)).remaining());
    }

    @Test
    void aSavedStateIsSixtyFourBytesAndReadStrictly() {
        Activation a = new Activation();
        byte[] empty = a.save();
        assertEquals(Activation.STATE_LENGTH, empty.length);
        assertEquals(1, empty[0]);
        show(a, T0);
        byte[] saved = a.save();
        assertArrayEquals(saved, Activation.restore(saved).save());
        // save() is a copy: editing it changes nothing.
        saved[5] ^= 1;
        assertFalse(Arrays.equals(saved, a.save()));
        assertThrows(NullPointerException.class, () -> Activation.restore(null));
        for (int len : new int[] {0, 1, 63, 65, 1000}) {
            assertThrows(IllegalArgumentException.class, () -> Activation.restore(new byte[len]), "length " + len);
        }
        byte[] good = a.save();
        byte[] version = good.clone();
        version[0] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.restore(version));
        assertTrue(e.getMessage().contains("version 2"), e.getMessage());
        for (int at : new int[] {1, 2, 3, 48, 56}) {
            byte[] m = good.clone();
            m[at] = (byte) (at == 1 ? 0x10 : 7);
            assertThrows(IllegalArgumentException.class, () -> Activation.restore(m), "byte " + at);
        }
        byte[] big = good.clone();
        big[4] = 0x40;
        big[5] = 0x42;
        big[6] = 0x0f; // 1,000,000 little-endian: not a 6-digit code
        assertThrows(IllegalArgumentException.class, () -> Activation.restore(big));
        byte[] stray = empty.clone();
        stray[20] = 1;
        assertThrows(IllegalArgumentException.class, () -> Activation.restore(stray));
    }

    @Test
    void aLicenseThatDoesNotVerifyMakesNoChallenge() {
        Activation a = new Activation();
        byte[] license = Fixtures.read(LICENSE);
        List<byte[]> roots = ActivationVectors.rootA();
        // Another project: the license does not verify for this product.
        Environment other = new Environment("FineReport", "11.0", "other", 1, Environment.Method.LOCAL_CONTAINER, T0, null);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> a.challenge(license, roots, other, NODE, new byte[0]));
        assertTrue(e.getMessage().contains("does not verify"), e.getMessage());
        // Another root key, a changed byte, a truncated file.
        List<byte[]> rootB = List.of(Fixtures.publicKey("root-b"));
        assertThrows(IllegalArgumentException.class, () -> a.challenge(license, rootB, env(T0), NODE, new byte[0]));
        byte[] mutated = license.clone();
        mutated[mutated.length / 2] ^= 0x01;
        assertThrows(IllegalArgumentException.class, () -> a.challenge(mutated, roots, env(T0), NODE, new byte[0]));
        byte[] truncated = Arrays.copyOf(license, license.length / 2);
        assertThrows(IllegalArgumentException.class, () -> a.challenge(truncated, roots, env(T0), NODE, new byte[0]));
        // A license with no activation key needs no activation.
        IllegalArgumentException none = assertThrows(
                IllegalArgumentException.class,
                () -> a.challenge(
                        Fixtures.read("vectors/valid-local-container.lic"), roots, env(T0), NODE, new byte[0]));
        assertTrue(none.getMessage().contains("no activation key"), none.getMessage());
        // Nothing was shown by any of them.
        assertEquals(ActivationStatus.Kind.NOT_ACTIVATED, a.status(T0).kind());
    }

    @Test
    void badArgumentsAreDefinedExceptions() {
        Activation a = new Activation();
        byte[] license = Fixtures.read(LICENSE);
        List<byte[]> roots = ActivationVectors.rootA();
        assertThrows(NullPointerException.class, () -> a.enter(null, T0));
        assertThrows(NullPointerException.class, () -> a.enter("123456", null));
        assertThrows(NullPointerException.class, () -> a.status(null));
        assertThrows(IllegalArgumentException.class, () -> a.enter("123456", Instant.parse("1969-12-31T23:59:59Z")));
        assertThrows(NullPointerException.class, () -> a.challenge(null, roots, env(T0), NODE, new byte[0]));
        assertThrows(NullPointerException.class, () -> a.challenge(license, null, env(T0), NODE, new byte[0]));
        assertThrows(NullPointerException.class, () -> a.challenge(license, roots, null, NODE, new byte[0]));
        assertThrows(NullPointerException.class, () -> a.challenge(license, roots, env(T0), null, new byte[0]));
        assertThrows(NullPointerException.class, () -> a.challenge(license, roots, env(T0), NODE, null));
        assertThrows(IllegalArgumentException.class, () -> a.challenge(license, roots, env(T0), new byte[15], new byte[0]));
        assertThrows(
                IllegalArgumentException.class,
                () -> a.challenge(license, roots, env(T0), NODE, new byte[0], new byte[17]));
        assertThrows(IllegalArgumentException.class, () -> a.challenge(license, List.of(), env(T0), NODE, new byte[0]));
        assertThrows(
                IllegalArgumentException.class,
                () -> a.challenge(license, List.of(new byte[31]), env(T0), NODE, new byte[0]));
        assertThrows(
                NullPointerException.class,
                () -> a.challenge(license, Arrays.asList((byte[]) null), env(T0), NODE, new byte[0]));
        // Text that is not a code, however odd, is "not six digits".
        show(a, T0);
        for (String odd : List.of("", " ", "1234567", "１２３４５６", "12345\u0000", "\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00")) {
            assertEquals(EnterResult.Kind.NOT_SIX_DIGITS, a.enter(odd, T0.plusSeconds(1)).kind(), odd);
        }
        assertEquals(ActivationStatus.Kind.AWAITING_CODE, a.status(T0.plusSeconds(1)).kind());
        assertNull(a.status(Instant.parse("2030-01-01T00:00:00Z")).at());
    }
}
