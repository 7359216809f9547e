package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Every license vector of {@code fixtures/vectors/manifest.json} through Java, with the outcome the Rust
 * tests expect; the texts against Rust's own; and bad input, which is an exception or an invalid result,
 * never a crash of the JVM.
 */
class VerifierTest {
    static final Instant JUNE_2026 = Instant.parse("2026-06-01T00:00:00Z");

    static Verifier verifier(List<Object> rootNames) {
        byte[][] keys = new byte[rootNames.size()][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = Fixtures.publicKey((String) rootNames.get(i));
        }
        return new Verifier(keys);
    }

    static Environment environment(Map<String, Object> e) {
        String method = (String) e.get("method");
        return new Environment((String) e.get("app_name"), (String) e.get("version"), (String) e.get("project"),
                ((Long) e.get("nodes")).intValue(),
                switch (method) {
                    case "local-container" -> Environment.Method.LOCAL_CONTAINER;
                    case "private-cloud" -> Environment.Method.PRIVATE_CLOUD;
                    default -> throw new IllegalArgumentException(method);
                },
                Fixtures.rfc3339((String) e.get("now")), Fixtures.rfc3339((String) e.get("last_seen")));
    }

    static List<Map<String, Object>> vectors() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object v : Json.array(Fixtures.json("vectors/manifest.json").get("vectors"))) {
            out.add(Json.object(v));
        }
        return out;
    }

    static Result run(Map<String, Object> v) {
        Verifier verifier = verifier(Json.array(v.get("roots")));
        byte[] file = Fixtures.read("vectors/" + v.get("file"));
        return verifier.verify(file, environment(Json.object(v.get("env"))));
    }

    static List<String> codes(Result r) {
        List<String> out = new ArrayList<>();
        for (Cause c : r.causes()) {
            out.add(c.code());
        }
        return out;
    }

    static Environment basicEnv() {
        return new Environment("FineReport", "11.0", "webroot", 1, Environment.Method.LOCAL_CONTAINER, JUNE_2026, null);
    }

    @Test
    void everyVectorHasTheOutcomeRustExpects() {
        List<Map<String, Object>> all = vectors();
        assertTrue(all.size() > 50, "only " + all.size() + " vectors");
        int valid = 0;
        for (Map<String, Object> v : all) {
            String name = (String) v.get("name");
            Map<String, Object> expected = Json.object(v.get("expected"));
            Result r = run(v);
            assertEquals(expected.get("valid"), r.valid(), name);
            assertEquals(Json.array(expected.get("causes")), codes(r), name);
            assertEquals(expected.get("content_error"), r.contentError().orElse(null), name);
            // The license's fields exactly when its signatures held.
            assertEquals(!r.has(Cause.CONTENT_INCORRECT), r.license().isPresent(), name);
            if (r.valid()) {
                valid++;
            }
        }
        assertTrue(valid >= 10 && valid < all.size(), "valid " + valid + " of " + all.size());
    }

    @Test
    void theLicensesFieldsComeAcross() {
        Verifier v = new Verifier(Fixtures.publicKey("root-a"));
        License l = v.verify(Fixtures.read("vectors/valid-local-container.lic"), basicEnv()).license().orElseThrow();
        assertEquals("FineReport", l.appName());
        assertEquals("Example Test Co.", l.company());
        assertEquals("webroot", l.project());
        assertEquals("11.0", l.version());
        assertEquals(1, l.maxNodes());
        assertEquals(Environment.Method.LOCAL_CONTAINER, l.kind());
        assertEquals(LocalDate.of(2030, 12, 31), l.expiry());
        assertFalse(l.perpetual());
        assertEquals(Instant.parse("2026-01-01T00:00:00Z"), l.issuedAt());
        assertEquals(32, l.id().length());
        assertEquals("code", l.activationPolicy());

        License all = v.verify(Fixtures.read("vectors/valid-all-optional-fields.lic"), basicEnv()).license().orElseThrow();
        // supersedes is the basic license's id (the vector's description).
        assertEquals(l.id(), all.supersedes());
        assertEquals(32, all.imagePublicKey().length);
        assertEquals(32, all.requestEmailSha256().length);
        assertTrue(all.hasActivationKey());
        assertTrue(all.activationBaseUrl().startsWith("http"), all.activationBaseUrl());
        assertNull(l.supersedes());
        assertNull(l.activationBaseUrl());

        License perpetual = v.verify(Fixtures.read("vectors/valid-perpetual.lic"), basicEnv()).license().orElseThrow();
        assertTrue(perpetual.perpetual());
        // An invalid license still shows its fields when the signatures held.
        Environment elsewhere = new Environment("FineBI", "6.0", "other", 9, Environment.Method.PRIVATE_CLOUD,
                JUNE_2026, null);
        Result r = v.verify(Fixtures.read("vectors/valid-local-container.lic"), elsewhere);
        assertEquals(List.of(Cause.VERSION_MISMATCH, Cause.APP_NAME_MISMATCH, Cause.LICENSE_EXHAUSTED,
                Cause.PROJECT_CONTENT_MISMATCH, Cause.LICENSE_TYPE_MISMATCH), r.causes());
        assertEquals(l.id(), r.license().orElseThrow().id());
    }

    @Test
    void theTextsAreTheVerifiersInBothLanguages() {
        // The registration page's titles (SPEC.md §4.2).
        Map<Cause, String[]> titles = Map.of(
                Cause.LICENSE_EXPIRED, new String[] {"License Expired", "许可证已过期"},
                Cause.VERSION_MISMATCH, new String[] {"Version Mismatch", "版本不匹配"},
                Cause.LICENSE_TYPE_MISMATCH, new String[] {"License Type/Version Mismatch", "许可证类型/版本不匹配"},
                Cause.CLOCK_ROLLBACK, new String[] {"License content is incorrect", "许可证内容不正确"});
        for (Map<String, Object> v : vectors()) {
            if (!v.get("name").equals("all-causes")) {
                continue;
            }
            Result r = run(v);
            for (Map.Entry<Cause, String[]> t : titles.entrySet()) {
                assertEquals(t.getValue()[0], r.title(t.getKey(), Lang.EN));
                assertEquals(t.getValue()[1], r.title(t.getKey(), Lang.ZH_CN));
            }
            assertTrue(r.prompt(Cause.LICENSE_EXPIRED, Lang.EN).contains("/"), r.prompt(Cause.LICENSE_EXPIRED, Lang.EN));
            assertEquals(r.title(Cause.VERSION_MISMATCH, Lang.EN) + ". " + r.prompt(Cause.VERSION_MISMATCH, Lang.EN),
                    r.message(Cause.VERSION_MISMATCH, Lang.EN));
            assertFalse(r.advice(Cause.LICENSE_EXHAUSTED, Lang.ZH_CN).isBlank());
            assertThrows(IllegalArgumentException.class, () -> r.title(Cause.REVOKED, Lang.EN));
            return;
        }
        throw new AssertionError("no all-causes vector");
    }

    /**
     * Every vector's texts, in both languages, equal those Rust wrote for the same vector (the junit
     * integration test writes them with the verifier crate and passes the file in
     * {@code -Dfanlic.expected.texts}; build.sh run alone writes none, and this test then checks that
     * each invalid result has three non-empty texts per cause).
     */
    @Test
    void theTextsAreRustsTexts() throws Exception {
        String path = System.getProperty("fanlic.expected.texts", "");
        Map<String, Object> expected = path.isEmpty()
                ? null
                : Json.object(Json.parse(Files.readString(Path.of(path), StandardCharsets.UTF_8)));
        int compared = 0;
        for (Map<String, Object> v : vectors()) {
            String name = (String) v.get("name");
            Result r = run(v);
            for (Lang lang : Lang.values()) {
                List<Object> got = new ArrayList<>();
                for (Cause c : r.causes()) {
                    got.add(List.of(r.title(c, lang), r.prompt(c, lang), r.advice(c, lang)));
                }
                if (expected == null) {
                    for (Object t : got) {
                        for (Object s : (List<?>) t) {
                            assertFalse(((String) s).isBlank(), name);
                        }
                    }
                } else {
                    String tag = lang == Lang.EN ? "en" : "zh-CN";
                    assertEquals(Json.object(expected.get(name)).get(tag), got, name + " " + tag);
                    compared++;
                }
            }
        }
        assertTrue(expected == null || compared == 2 * vectors().size(), "compared " + compared);
    }

    @Test
    void badLicenseBytesAreAnInvalidResultNeverACrash() {
        Verifier v = new Verifier(Fixtures.publicKey("root-a"));
        Environment env = basicEnv();
        byte[] good = Fixtures.read("vectors/valid-local-container.lic");
        assertTrue(v.verify(good, env).valid());
        assertEquals(List.of(Cause.CONTENT_INCORRECT), v.verify(new byte[0], env).causes());
        // Every truncation is refused.
        for (int n = 0; n < good.length; n += 7) {
            Result r = v.verify(Arrays.copyOf(good, n), env);
            assertEquals(List.of(Cause.CONTENT_INCORRECT), r.causes(), "truncated to " + n);
            assertTrue(r.contentError().isPresent());
            assertFalse(r.license().isPresent());
        }
        // Mutations: a changed byte is refused, or (armor whitespace, case of the label's letters is
        // not among them) still the same license; never anything else.
        Random random = new Random(16);
        for (int i = 0; i < 200; i++) {
            byte[] m = good.clone();
            int at = random.nextInt(m.length);
            m[at] ^= (byte) (1 + random.nextInt(255));
            Result r = v.verify(m, env);
            assertTrue(r.causes().equals(List.of(Cause.CONTENT_INCORRECT)) || r.valid(), "byte " + at + ": " + r);
            if (r.valid()) {
                assertEquals(v.verify(good, env).license().orElseThrow().id(), r.license().orElseThrow().id());
            }
        }
        // Random garbage and oversized input.
        for (int len : new int[] {1, 64, 2048, 2049, 1 << 20}) {
            byte[] g = new byte[len];
            random.nextBytes(g);
            assertEquals(List.of(Cause.CONTENT_INCORRECT), v.verify(g, env).causes(), "garbage of " + len);
        }
        // The caller's array is not kept: changing it afterwards changes nothing.
        byte[] mine = good.clone();
        Result kept = v.verify(mine, new Environment("FineBI", "11.0", "webroot", 1,
                Environment.Method.LOCAL_CONTAINER, JUNE_2026, null));
        Arrays.fill(mine, (byte) 0);
        assertTrue(kept.prompt(Cause.APP_NAME_MISMATCH, Lang.EN).contains("FineReport"));
    }

    @Test
    void badArgumentsAreDefinedExceptions() {
        byte[] root = Fixtures.publicKey("root-a");
        Verifier v = new Verifier(root);
        byte[] good = Fixtures.read("vectors/valid-local-container.lic");
        assertEquals("license", assertThrows(NullPointerException.class, () -> v.verify(null, basicEnv())).getMessage());
        assertEquals("env", assertThrows(NullPointerException.class, () -> v.verify(good, null)).getMessage());
        assertThrows(NullPointerException.class, () -> new Verifier((byte[][]) null));
        assertThrows(NullPointerException.class, () -> new Verifier(root, null));
        assertThrows(IllegalArgumentException.class, () -> new Verifier());
        String shortKey = assertThrows(IllegalArgumentException.class, () -> new Verifier(new byte[31])).getMessage();
        assertEquals("root key 0 has 31 bytes, not 32", shortKey);
        assertThrows(IllegalArgumentException.class, () -> new Verifier(root, new byte[33]));
        assertThrows(IllegalArgumentException.class, () -> new Verifier(new byte[0]));
        // The identity point: small order, refused.
        byte[] identity = new byte[32];
        identity[0] = 1;
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Verifier(identity)).getMessage()
                .contains("not an Ed25519 public key"));
        byte[][] nine = new byte[9][];
        Arrays.fill(nine, root);
        assertThrows(IllegalArgumentException.class, () -> new Verifier(nine));
        // The environment: refused by the record, or by the native side for times it cannot represent.
        assertThrows(IllegalArgumentException.class, () -> new Environment("FineReport", "11.0", "webroot", -1,
                Environment.Method.LOCAL_CONTAINER, JUNE_2026, null));
        Environment before1970 = new Environment("FineReport", "11.0", "webroot", 1,
                Environment.Method.LOCAL_CONTAINER, Instant.parse("1969-12-31T23:59:59Z"), null);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> v.verify(good, before1970)).getMessage()
                .contains("before 1970"));
        // Text of any kind is just text that does not match.
        Environment odd = new Environment("Fine\0Report\uD83D\uDE00", "", "项目", Integer.MAX_VALUE,
                Environment.Method.LOCAL_CONTAINER, Instant.MAX, Instant.EPOCH);
        Result r = v.verify(good, odd);
        assertTrue(r.has(Cause.APP_NAME_MISMATCH) && r.has(Cause.LICENSE_EXHAUSTED) && r.has(Cause.LICENSE_EXPIRED), r.toString());
        assertTrue(r.prompt(Cause.APP_NAME_MISMATCH, Lang.EN).contains("Fine\0Report\uD83D\uDE00"));
        // After all that, the verifier still works.
        assertTrue(v.verify(good, basicEnv()).valid());
    }

    @Test
    void oneVerifierServesManyThreads() throws Exception {
        Verifier v = new Verifier(Fixtures.publicKey("root-a"));
        byte[] good = Fixtures.read("vectors/valid-local-container.lic");
        byte[] bad = Fixtures.read("vectors/bad-license-signature.lic");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                boolean even = i % 2 == 0;
                results.add(pool.submit(() -> v.verify(even ? good : bad, basicEnv()).valid()));
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals(i % 2 == 0, results.get(i).get());
            }
        } finally {
            pool.shutdown();
        }
        // Verifiers that become unreachable free their native memory (Cleaner); making many must not fail.
        for (int i = 0; i < 1000; i++) {
            assertFalse(new Verifier(Fixtures.publicKey("root-a")).verify(new byte[0], basicEnv()).valid());
        }
    }

    @Test
    void theMinimalExampleRunsAsTheReadmeShows() throws Exception {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String root = Fixtures.dir().resolve("keys/root-a.pub.raw").toString();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            Class.forName("Minimal").getMethod("main", String[].class).invoke(null, (Object) new String[] {
                Fixtures.dir().resolve("vectors/valid-local-container.lic").toString(), root, "2026-06-01T00:00:00Z"});
            Class.forName("Minimal").getMethod("main", String[].class).invoke(null, (Object) new String[] {
                Fixtures.dir().resolve("vectors/valid-local-container.lic").toString(), root, "2031-06-01T00:00:00Z"});
        } finally {
            System.setOut(out);
        }
        assertEquals("valid: registered to Example Test Co.\nlicense_expired: License Expired\n",
                captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void causeCodesAreTheSpecs() {
        assertEquals(10, Cause.values().length);
        assertEquals("license_expired", Cause.LICENSE_EXPIRED.code());
        assertEquals("content_incorrect", Cause.CONTENT_INCORRECT.code());
        for (Cause c : Cause.values()) {
            assertEquals(c, Cause.fromCode(c.code()));
        }
        assertThrows(IllegalArgumentException.class, () -> Cause.fromCode("expired"));
        assertArrayEquals(new Cause[] {Cause.LICENSE_EXPIRED, Cause.VERSION_MISMATCH}, Arrays.copyOf(Cause.values(), 2));
    }
}
