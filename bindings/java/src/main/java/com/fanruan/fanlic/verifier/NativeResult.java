package com.fanruan.fanlic.verifier;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a result the native library wrote as one {@code byte[]} (the activation and private-cloud
 * calls): big-endian numbers, byte strings and UTF-8 texts with a 4-byte length first, times as
 * Unix seconds with all ones for "none". Results cross as bytes so that the native side builds no
 * Java object.
 */
final class NativeResult {
    private final ByteBuffer in;

    NativeResult(byte[] bytes) {
        if (bytes == null) {
            throw new IllegalStateException("the native library returned no result");
        }
        this.in = ByteBuffer.wrap(bytes);
    }

    /** One byte, 0 to 255. */
    int u8() {
        return in.get() & 0xff;
    }

    /** A number (the native side writes nothing above {@link Long#MAX_VALUE} but "none"). */
    long u64() {
        return in.getLong();
    }

    /** A number that fits an {@code int}. */
    int u32() {
        return Math.toIntExact(in.getLong());
    }

    /** A time, or null for none. */
    Instant time() {
        long t = in.getLong();
        return t == -1 ? null : Instant.ofEpochSecond(t);
    }

    /** Bytes with their length. */
    byte[] bytes() {
        int len = in.getInt();
        byte[] b = new byte[len];
        in.get(b);
        return b;
    }

    /** Bytes with their length; no bytes read as null. */
    byte[] optionalBytes() {
        byte[] b = bytes();
        return b.length == 0 ? null : b;
    }

    /** A UTF-8 text with its length. */
    String text() {
        return new String(bytes(), StandardCharsets.UTF_8);
    }

    /** A count, then each element read by {@code element}. */
    <T> List<T> list(java.util.function.Function<NativeResult, T> element) {
        int n = u32();
        List<T> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(element.apply(this));
        }
        return List.copyOf(out);
    }

    /** The root keys as the native side takes them. */
    static byte[][] roots(List<byte[]> rootKeys) {
        java.util.Objects.requireNonNull(rootKeys, "rootKeys");
        byte[][] out = new byte[rootKeys.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = java.util.Objects.requireNonNull(rootKeys.get(i), "rootKeys[" + i + "]");
        }
        return out;
    }

    /** Seconds since the epoch of {@code now}, refusing null and times before 1970. */
    static long seconds(Instant now, String name) {
        java.util.Objects.requireNonNull(now, name);
        if (now.getEpochSecond() < 0) {
            throw new IllegalArgumentException(name + " is before 1970-01-01T00:00:00Z: " + now);
        }
        return now.getEpochSecond();
    }

    /** UTF-8 bytes of a text, refusing null. */
    static byte[] utf8(String s, String name) {
        return java.util.Objects.requireNonNull(s, name).getBytes(StandardCharsets.UTF_8);
    }
}
