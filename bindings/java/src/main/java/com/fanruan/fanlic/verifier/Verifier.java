package com.fanruan.fanlic.verifier;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.time.Instant;
import java.util.Objects;

/**
 * Checks a {@code Container.lic} the way the product's registration page does and reports every failing
 * cause at once (SPEC.md §4): the chain of signatures root key → issuing-key certificate → license, then
 * the license's claims against the product's {@link Environment}.
 *
 * <pre>{@code
 * Verifier verifier = new Verifier(ROOT_KEY);           // the vendor's root public key(s), 32 bytes each
 * Result result = verifier.verify(Files.readAllBytes(path), new Environment(
 *         "FineReport", "11.0.20", "webroot", 1, Environment.Method.LOCAL_CONTAINER, Instant.now(), lastSeen));
 * for (Cause cause : result.causes()) {
 *     System.out.println(cause.code() + ": " + result.title(cause, Lang.ZH_CN));
 * }
 * }</pre>
 *
 * <p>Thread-safe: one verifier serves every thread. The root keys are parsed once, here; the native
 * memory holding them is freed when the verifier becomes unreachable.
 */
public final class Verifier {
    static {
        NativeLibrary.load();
    }

    private static final Cleaner CLEANER = Cleaner.create();

    private final long roots;

    /**
     * A verifier trusting these root public keys (32 bytes each, 1 to 8: a product embeds one, or two
     * during a rotation).
     *
     * @throws NullPointerException when the array or a key is null
     * @throws IllegalArgumentException when there is no key or more than 8, or a key is not 32 bytes or not
     *     an Ed25519 public key (a small-order point is refused)
     */
    public Verifier(byte[]... rootKeys) {
        Objects.requireNonNull(rootKeys, "rootKeys");
        long handle = newRoots(rootKeys);
        this.roots = handle;
        CLEANER.register(this, () -> freeRoots(handle));
    }

    /**
     * Verifies a license file (armored {@code Container.lic} or raw) against the product's environment.
     * Bad input is a result, not an exception: a file that is empty, truncated, altered or not a license
     * is {@link Cause#CONTENT_INCORRECT}.
     *
     * @throws NullPointerException when {@code license} or {@code env} is null
     */
    public Result verify(byte[] license, Environment env) {
        return verify(license, env, null);
    }

    /**
     * {@link #verify(byte[], Environment)}, and cause {@link Cause#REVOKED} when {@code revocations} (from
     * {@link #verifyRevocations}; null for none) revokes the license or the issuing key that signed it.
     *
     * @throws IllegalArgumentException when the list does not verify under this verifier's root keys
     */
    public Result verify(byte[] license, Environment env, RevocationList revocations) {
        Objects.requireNonNull(license, "license");
        Objects.requireNonNull(env, "env");
        byte[] copy = license.clone();
        try {
            Instant lastSeen = env.lastSeen();
            byte[] answer = verify(roots, copy, env.appName(), env.version(), env.project(), env.nodes(),
                    env.method().ordinal(), seconds(env.now(), "env.now"),
                    lastSeen == null ? -1 : seconds(lastSeen, "env.lastSeen"),
                    revocations == null ? null : revocations.file());
            return new Result(this, copy, env, revocations, answer);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    /**
     * Checks a revocation list file (SPEC.md §5) under this verifier's root keys.
     *
     * @param list the list file, as the vendor publishes it
     * @param highestSeen the highest sequence the product accepted before, or null when none: an older
     *     list is refused ({@code rollback}), so a list cannot un-revoke
     * @throws RevocationList.RefusedException when the list's format, signatures or sequence do not hold
     */
    public RevocationList verifyRevocations(byte[] list, Long highestSeen) throws RevocationList.RefusedException {
        Objects.requireNonNull(list, "list");
        byte[] copy = list.clone();
        byte[] answer;
        try {
            answer = verifyRevocations(roots, copy, highestSeen != null, highestSeen == null ? 0 : highestSeen);
        } finally {
            Reference.reachabilityFence(this);
        }
        Reader r = new Reader(answer);
        if (r.u8() == 1) {
            return RevocationList.decode(copy, r);
        }
        String reason = r.str();
        throw new RevocationList.RefusedException(reason, r.str());
    }

    /** Unix seconds of a time the verifier can take (it has no times before 1970). */
    private static long seconds(Instant t, String what) {
        long s = t.getEpochSecond();
        if (s < 0) {
            throw new IllegalArgumentException(what + " is before 1970-01-01T00:00:00Z: " + t);
        }
        return s;
    }

    String[] texts(byte[] license, Environment env, RevocationList revocations, Lang lang) {
        try {
            return texts(roots, license, env, revocations == null ? null : revocations.file(), lang.ordinal());
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private static native long newRoots(byte[][] rootKeys);

    private static native void freeRoots(long roots);

    // The environment in parts: reading the record's fields from native code costs a lookup per field.
    private static native byte[] verify(long roots, byte[] license, String appName, String version, String project,
            int nodes, int method, long now, long lastSeen, byte[] revocations);

    private static native String[] texts(long roots, byte[] license, Environment env, byte[] revocations, int lang);

    private static native byte[] verifyRevocations(long roots, byte[] list, boolean hasHighestSeen, long highestSeen);
}
