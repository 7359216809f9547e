package com.fanruan.fanlic.verifier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * The repository's fixtures, for the tests: their folder comes from the system property
 * {@code fanlic.fixtures} (build.sh sets it), plus hex and RFC 3339 helpers.
 */
final class Fixtures {
    private Fixtures() {}

    /** The fixtures folder ({@code -Dfanlic.fixtures=DIR}). */
    static Path dir() {
        String d = System.getProperty("fanlic.fixtures");
        if (d == null || d.isEmpty()) {
            throw new IllegalStateException("set -Dfanlic.fixtures=PATH/TO/fixtures (build.sh --test does)");
        }
        return Path.of(d);
    }

    /** The bytes of {@code fixtures/<relative>}. */
    static byte[] read(String relative) {
        try {
            return Files.readAllBytes(dir().resolve(relative));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JSON of {@code fixtures/<relative>}, as an object. */
    static Map<String, Object> json(String relative) {
        return Json.object(Json.parse(new String(read(relative), StandardCharsets.UTF_8)));
    }

    /** The 32 raw bytes of the test key {@code fixtures/keys/<name>.pub.raw}. */
    static byte[] publicKey(String name) {
        byte[] k = read("keys/" + name + ".pub.raw");
        if (k.length != 32) {
            throw new IllegalStateException(name + ".pub.raw has " + k.length + " bytes, not 32");
        }
        return k;
    }

    /** Lower- or upper-case hex, an even number of digits, to bytes. */
    static byte[] hex(String h) {
        if (h.length() % 2 != 0) {
            throw new IllegalArgumentException("odd hex length: " + h);
        }
        byte[] out = new byte[h.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(h.charAt(2 * i), 16);
            int lo = Character.digit(h.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not hex: " + h);
            }
            out[i] = (byte) (hi << 4 | lo);
        }
        return out;
    }

    /** Bytes to lower-case hex. */
    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder(b.length * 2);
        for (byte x : b) {
            s.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return s.toString();
    }

    /** An RFC 3339 time such as {@code 2026-06-01T00:00:00Z}; null stays null. */
    static Instant rfc3339(String t) {
        return t == null ? null : DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(t, Instant::from);
    }
}
