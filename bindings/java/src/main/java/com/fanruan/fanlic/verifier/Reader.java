package com.fanruan.fanlic.verifier;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;

/** Reads the native side's compact answers: little-endian integers, u16-length-prefixed UTF-8. */
final class Reader {
    private final byte[] b;
    private int i;

    Reader(byte[] b) {
        this(b, 0);
    }

    Reader(byte[] b, int at) {
        this.b = b;
        this.i = at;
    }

    int position() {
        return i;
    }

    int u8() {
        return b[i++] & 0xff;
    }

    int u16() {
        return u8() | u8() << 8;
    }

    long u32() {
        return (u16() | (long) u16() << 16) & 0xffffffffL;
    }

    long u64() {
        return u32() | u32() << 32;
    }

    byte[] bytes(int n) {
        byte[] out = new byte[n];
        System.arraycopy(b, i, out, 0, n);
        i += n;
        return out;
    }

    String str() {
        int n = u16();
        String s = new String(b, i, n, StandardCharsets.UTF_8);
        i += n;
        return s;
    }

    LocalDate date() {
        int y = u16();
        int m = u8();
        return LocalDate.of(y, m, u8());
    }

    static String hex(byte[] v) {
        StringBuilder s = new StringBuilder(v.length * 2);
        for (byte x : v) {
            s.append(Character.forDigit((x >> 4) & 0xf, 16)).append(Character.forDigit(x & 0xf, 16));
        }
        return s.toString();
    }
}
