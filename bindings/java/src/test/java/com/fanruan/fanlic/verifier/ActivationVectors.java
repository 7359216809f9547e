package com.fanruan.fanlic.verifier;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Test helpers of the activation tests: the vectors' inputs, an independent code computation, environments. */
final class ActivationVectors {
    private ActivationVectors() {}

    /** The root key every vector's license is signed under. */
    static List<byte[]> rootA() {
        return List.of(Fixtures.publicKey("root-a"));
    }

    /** An environment read from a vector's {@code env} object. */
    static Environment env(Map<String, Object> e) {
        return new Environment(
                (String) e.get("app_name"),
                (String) e.get("version"),
                (String) e.get("project"),
                Math.toIntExact((Long) e.get("nodes")),
                "private-cloud".equals(e.get("method"))
                        ? Environment.Method.PRIVATE_CLOUD
                        : Environment.Method.LOCAL_CONTAINER,
                Fixtures.rfc3339((String) e.get("now")),
                Fixtures.rfc3339((String) e.get("last_seen")));
    }

    /** The product environment a local-container challenge of the receipt vectors was made in. */
    static Environment localContainer(String version, int nodes, Instant now) {
        return new Environment("FineReport", version, "webroot", nodes, Environment.Method.LOCAL_CONTAINER, now, null);
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The 6-digit code of a raw token under an activation key, computed here in Java from SPEC.md
     * §6.1 (HMAC-SHA256 over the label and the body, RFC 4226 truncation), not by the library.
     */
    static String code(byte[] activationKey, byte[] token) {
        byte[] body = Arrays.copyOfRange(token, 1, token.length - 32);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(activationKey, "HmacSHA256"));
            mac.update("fanlic/1/activation-code\n".getBytes(StandardCharsets.US_ASCII));
            byte[] m = mac.doFinal(body);
            int offset = m[31] & 0x0f;
            int v = ((m[offset] & 0x7f) << 24) | ((m[offset + 1] & 0xff) << 16) | ((m[offset + 2] & 0xff) << 8)
                    | (m[offset + 3] & 0xff);
            return String.format("%06d", v % 1_000_000);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A code that is not {@code code}. */
    static String wrong(String code) {
        return String.format("%06d", (Integer.parseInt(code) + 1) % 1_000_000);
    }

    /** Reads a challenge body (SPEC.md §6.1) of the vectors: what {@code challengeWithKey} takes. */
    static final class Body {
        final byte[] licenseId;
        final byte[] nonce;
        final byte[] nodeId;
        final int nodes;
        final String version;
        final Instant issuedAt;
        final byte[] instanceFingerprint;
        final long generation;
        private final byte[] b;
        private int at;

        Body(byte[] body) {
            this.b = body;
            licenseId = take(16);
            nonce = take(16);
            nodeId = take(16);
            take(32); // the project fingerprint, made again from its inputs
            nodes = Math.toIntExact(varint());
            version = new String(take(Math.toIntExact(varint())), StandardCharsets.UTF_8);
            issuedAt = Instant.ofEpochSecond(varint());
            if (b[at++] == 1) {
                instanceFingerprint = take(32);
                generation = varint();
            } else {
                instanceFingerprint = null;
                generation = 0;
            }
        }

        private byte[] take(int n) {
            byte[] out = Arrays.copyOfRange(b, at, at + n);
            at += n;
            return out;
        }

        private long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                int x = b[at++] & 0xff;
                v |= (long) (x & 0x7f) << shift;
                if ((x & 0x80) == 0) {
                    return v;
                }
            }
        }
    }
}
