package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
