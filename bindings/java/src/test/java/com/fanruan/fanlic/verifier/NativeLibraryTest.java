package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The jar's loader and the native boundary itself (panics, exceptions, text both ways), and the test helpers. */
class NativeLibraryTest {
    @BeforeAll
    static void load() {
        NativeLibrary.load();
    }

    @Test
    void theLibraryComesFromTheJarForThisPlatform() {
        assertEquals("linux-x86_64", NativeLibrary.platform());
        assertEquals("libfanlic_verifier_jni.so", NativeLibrary.fileName("linux-x86_64"));
        assertEquals("fanlic_verifier_jni.dll", NativeLibrary.fileName("windows-x86_64"));
        assertEquals("libfanlic_verifier_jni.dylib", NativeLibrary.fileName("macos-aarch64"));
        // Loading twice is a no-op.
        NativeLibrary.load();
    }

    @Test
    void aPlatformWithNoPackedLibraryIsNamedInTheError() {
        UnsatisfiedLinkError e =
                assertThrows(UnsatisfiedLinkError.class, () -> NativeLibrary.loadPacked("windows-aarch64"));
        assertTrue(e.getMessage().contains("no native library for windows-aarch64"), e.getMessage());
        assertTrue(e.getMessage().contains("/native/windows-aarch64/fanlic_verifier_jni.dll"), e.getMessage());
        assertTrue(e.getMessage().contains("-Dfanlic.native.path="), e.getMessage());
    }

    /** Runs LoadOverrideMain in a child JVM on the jar and the tests (build.sh passes their class path), with -Dfanlic.native.path=path. */
    static String childJvm(String path) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("fanlic.test.classpath"),
                        "-D" + NativeLibrary.PATH_PROPERTY + "=" + path, LoadOverrideMain.class.getName())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out.trim();
    }

    @Test
    void thePathPropertyLoadsAnotherFile() throws Exception {
        Path copy = Files.createTempFile("fanlic-test-", ".so");
        try (InputStream in = NativeLibrary.class.getResourceAsStream("/native/linux-x86_64/libfanlic_verifier_jni.so")) {
            assertNotNull(in, "the jar holds the library");
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        try {
            assertEquals("loaded: override", childJvm(copy.toString()));
            String missing = childJvm(copy + ".missing");
            assertTrue(missing.startsWith("refused: ") && missing.contains(".missing"), missing);
        } finally {
            Files.deleteIfExists(copy);
        }
    }

    @Test
    void textCrossesTheBoundaryBothWays() {
        for (String s : List.of("", "ok", "许可证 ✓", "emoji \uD83D\uDE00", "nul \0 inside")) {
            assertEquals(s, NativeLibrary.boundaryCheck(0, s));
        }
    }

    @Test
    void aRustPanicIsAnIllegalStateExceptionAndTheJvmCarriesOn() {
        for (int i = 0; i < 3; i++) {
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> NativeLibrary.boundaryCheck(1, "boom"));
            assertTrue(e.getMessage().contains("boundary check: boom"), e.getMessage());
            assertTrue(e.getMessage().contains("bug in the fanlic native library"), e.getMessage());
        }
        assertEquals("still here", NativeLibrary.boundaryCheck(0, "still here"));
    }

    @Test
    void errorsAreTheirJavaExceptions() {
        IllegalArgumentException iae =
                assertThrows(IllegalArgumentException.class, () -> NativeLibrary.boundaryCheck(2, "bad"));
        assertEquals("boundary check: bad", iae.getMessage());
        NullPointerException npe =
                assertThrows(NullPointerException.class, () -> NativeLibrary.boundaryCheck(3, "x"));
        assertEquals("boundary check", npe.getMessage());
        NullPointerException nullText =
                assertThrows(NullPointerException.class, () -> NativeLibrary.boundaryCheck(0, null));
        assertEquals("text", nullText.getMessage());
    }

    @Test
    void theJsonReaderReadsWhatTheManifestsHold() {
        Object v = Json.parse(" {\"a\": [1, -2.5e1, true, false, null, \"q\\\"\\\\\\/\\n\\u00e9\\u8bb8\"], \"b\": {}} ");
        Map<String, Object> o = Json.object(v);
        List<Object> a = Json.array(o.get("a"));
        assertEquals(1L, a.get(0));
        assertEquals(-25.0, a.get(1));
        assertEquals(Boolean.TRUE, a.get(2));
        assertEquals(Boolean.FALSE, a.get(3));
        assertEquals(null, a.get(4));
        assertEquals("q\"\\/\né许", a.get(5));
        assertTrue(Json.object(o.get("b")).isEmpty());
        for (String bad : List.of("", "{", "[1,]", "{\"a\":1,\"a\":2}", "\"\\x\"", "1 2", "tru", "\"\n\"")) {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(bad), bad);
        }
        Map<String, Object> manifest = Fixtures.json("vectors/manifest.json");
        assertTrue(Json.array(manifest.get("vectors")).size() > 50);
    }

    @Test
    void theFixtureHelpersDecode() {
        assertEquals("00ff7a", Fixtures.hex(Fixtures.hex("00FF7a")));
        assertThrows(IllegalArgumentException.class, () -> Fixtures.hex("0g"));
        assertEquals(Instant.ofEpochSecond(1_780_272_000L), Fixtures.rfc3339("2026-06-01T00:00:00Z"));
        assertEquals(32, Fixtures.publicKey("root-a").length);
    }
}
