package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every vector of {@code fixtures/vectors/revocations/manifest.json} through Java, and cause
 * {@code revoked} with the same list Rust's tests use.
 */
class RevocationTest {
    static Verifier bothRoots() {
        return new Verifier(Fixtures.publicKey("root-a"), Fixtures.publicKey("root-b"));
    }

    @Test
    void everyRevocationVectorHasTheOutcomeRustExpects() {
        List<Object> vectors = Json.array(Fixtures.json("vectors/revocations/manifest.json").get("vectors"));
        assertTrue(vectors.size() > 10, "only " + vectors.size());
        for (Object o : vectors) {
            Map<String, Object> v = Json.object(o);
            String name = (String) v.get("name");
            Map<String, Object> expected = Json.object(v.get("expected"));
            Verifier verifier = VerifierTest.verifier(Json.array(v.get("roots")));
            byte[] file = Fixtures.read("vectors/revocations/" + v.get("file"));
            Long highest = (Long) v.get("highest_seen");
            if (Boolean.TRUE.equals(expected.get("valid"))) {
                RevocationList list = assertDoesNotThrow(() -> verifier.verifyRevocations(file, highest), name);
                assertEquals(expected.get("sequence"), list.sequence(), name);
                assertEquals(expected.get("licenses"), list.licenses(), name);
                assertEquals(expected.get("issuing_keys"), list.issuingKeys(), name);
                assertNull(expected.get("error"), name);
            } else {
                RevocationList.RefusedException e = assertThrows(RevocationList.RefusedException.class,
                        () -> verifier.verifyRevocations(file, highest), name);
                assertEquals(expected.get("error"), e.reason(), name);
                assertTrue(e.getMessage().startsWith("revocation list refused: "), e.getMessage());
            }
        }
    }

    static <T> T assertDoesNotThrow(Checked<T> f, String name) {
        try {
            return f.get();
        } catch (Exception e) {
            throw new AssertionError(name + ": " + e, e);
        }
    }

    interface Checked<T> {
        T get() throws Exception;
    }

    @Test
    void aRevokedLicenseOrIssuingKeyIsCauseRevoked() throws Exception {
        Verifier v = bothRoots();
        RevocationList list = v.verifyRevocations(Fixtures.read("vectors/revocations/valid.bin"), null);
        Environment env = VerifierTest.basicEnv();
        byte[] basic = Fixtures.read("vectors/valid-local-container.lic");
        byte[] rootB = Fixtures.read("vectors/root-b.lic");
        // Valid without the list, revoked with it: the license id, and the issuing key that signed root-b.lic.
        assertTrue(v.verify(basic, env).valid());
        assertTrue(v.verify(rootB, env).valid());
        Result revoked = v.verify(basic, env, list);
        assertEquals(List.of(Cause.REVOKED), revoked.causes());
        assertTrue(list.licenses().contains(revoked.license().orElseThrow().id()));
        assertTrue(revoked.prompt(Cause.REVOKED, Lang.EN).contains(revoked.license().orElseThrow().id()),
                revoked.prompt(Cause.REVOKED, Lang.EN));
        assertEquals("License content is incorrect", revoked.title(Cause.REVOKED, Lang.EN));
        assertFalse(revoked.advice(Cause.REVOKED, Lang.ZH_CN).isBlank());
        assertEquals(List.of(Cause.REVOKED), v.verify(rootB, env, list).causes());
        // Every cause still reported, revoked in its place.
        Environment elsewhere = new Environment("FineBI", "11.0", "webroot", 1, Environment.Method.LOCAL_CONTAINER,
                VerifierTest.JUNE_2026, null);
        assertEquals(List.of(Cause.APP_NAME_MISMATCH, Cause.REVOKED), v.verify(basic, elsewhere, list).causes());
        // A license the list does not name stays valid; a forged one is content_incorrect alone.
        assertTrue(v.verify(Fixtures.read("vectors/valid-perpetual.lic"), env, list).valid());
        assertEquals(List.of(Cause.CONTENT_INCORRECT),
                v.verify(Fixtures.read("vectors/bad-license-signature.lic"), env, list).causes());
        // The same answers as verify(license, env) when no list is given.
        assertTrue(v.verify(basic, env, null).valid());
    }

    /** The texts of cause revoked equal Rust's (written by the junit integration test; see VerifierTest). */
    @Test
    void theRevokedTextsAreRusts() throws Exception {
        Verifier v = bothRoots();
        RevocationList list = v.verifyRevocations(Fixtures.read("vectors/revocations/valid.bin"), null);
        String path = System.getProperty("fanlic.expected.texts", "");
        Map<String, Object> expected = path.isEmpty() ? null
                : Json.object(Json.parse(Files.readString(Path.of(path), StandardCharsets.UTF_8)));
        for (String file : List.of("valid-local-container.lic", "root-b.lic")) {
            Result r = v.verify(Fixtures.read("vectors/" + file), VerifierTest.basicEnv(), list);
            for (Lang lang : Lang.values()) {
                List<Object> got = List.of(List.of(r.title(Cause.REVOKED, lang), r.prompt(Cause.REVOKED, lang),
                        r.advice(Cause.REVOKED, lang)));
                if (expected == null) {
                    assertFalse(r.prompt(Cause.REVOKED, lang).isBlank());
                } else {
                    assertEquals(Json.object(expected.get("revoked:" + file)).get(lang == Lang.EN ? "en" : "zh-CN"),
                            got, file + " " + lang);
                }
            }
        }
    }

    @Test
    void aListIsCheckedAgainstTheVerifiersOwnRoots() throws Exception {
        RevocationList list = bothRoots().verifyRevocations(Fixtures.read("vectors/revocations/valid.bin"), 6L);
        assertEquals(7, list.sequence());
        // root-b alone does not certify the list's signer.
        Verifier onlyB = new Verifier(Fixtures.publicKey("root-b"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> onlyB.verify(Fixtures.read("vectors/root-b.lic"), VerifierTest.basicEnv(), list));
        assertTrue(e.getMessage().contains("does not verify against this verifier's root keys"), e.getMessage());
        RevocationList.RefusedException refused = assertThrows(RevocationList.RefusedException.class,
                () -> onlyB.verifyRevocations(Fixtures.read("vectors/revocations/valid.bin"), null));
        assertEquals("unknown_root_key", refused.reason());
    }

    @Test
    void badListBytesAreRefusedNeverACrash() {
        Verifier v = bothRoots();
        byte[] good = Fixtures.read("vectors/revocations/valid.bin");
        assertThrows(NullPointerException.class, () -> v.verifyRevocations(null, null));
        assertThrows(IllegalArgumentException.class, () -> v.verifyRevocations(good, -1L));
        for (int n = 0; n < good.length; n += 5) {
            byte[] t = Arrays.copyOf(good, n);
            assertThrows(RevocationList.RefusedException.class, () -> v.verifyRevocations(t, null), "truncated " + n);
        }
        for (int at = 0; at < good.length; at += 3) {
            byte[] m = good.clone();
            m[at] ^= 0x40;
            assertThrows(RevocationList.RefusedException.class, () -> v.verifyRevocations(m, null), "byte " + at);
        }
    }
}
