package com.fanruan.fanlic.verifier;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Activation by QR code and 6-digit code: the state machine of the product's registration page,
 * with the caller's clock (every method takes the current time; nothing here reads a clock).
 *
 * <p>How a product uses it:
 *
 * <ol>
 *   <li>After its license verified ({@link Verifier}), the page calls {@link #challenge} and shows
 *       {@link Challenge#url()} as a QR code. The license is verified again here, natively, against
 *       the root keys and the environment: the key that makes the code comes only from a license that
 *       verifies. A challenge is valid for 5 minutes; "refresh" makes a new one.
 *   <li>The admin scans it; the vendor's service shows a 6-digit code. The page passes what the admin
 *       typed to {@link #enter}: the {@link EnterResult} says whether the product is activated, or
 *       why not, with a message to show.
 *   <li>The sixth wrong code in a row locks input for 15 minutes; a new challenge does not reset the
 *       count, and neither does restoring a saved state.
 *   <li>When all nodes restart, call {@link #restart()}: the product must be activated again.
 *   <li>A license under receipt policy ({@link Challenge#receiptPolicy()}) accepts no code: the
 *       vendor's service gives a receipt file, which {@link #acceptReceipt} checks. A receipt answers
 *       one challenge, once.
 * </ol>
 *
 * <p>The state is 64 bytes; {@link #save()} and {@link #restore(byte[])} keep it across a restart
 * of one node (it holds the expected code: store it where the product keeps its secrets). A restored
 * state never accepts a receipt a second time: the challenge a receipt answered is no longer
 * pending.
 *
 * <p>Thread-safe: every method locks the object. Holds no native resource (nothing to close).
 */
public final class Activation {
    /** Bytes in a saved state ({@link #save()}). */
    public static final int STATE_LENGTH = 64;

    private static final SecureRandom RANDOM = new SecureRandom();

    static {
        NativeLibrary.load();
    }

    private final byte[] state;

    /** Not activated, no challenge shown. */
    public Activation() {
        this.state = new byte[STATE_LENGTH];
        // Layout version 1 with nothing set (SPEC.md §6.2, "Saved state").
        this.state[0] = 1;
    }

    private Activation(byte[] state) {
        this.state = state;
    }

    /**
     * A state saved by {@link #save()}.
     *
     * @param saved the 64 bytes
     * @return the state machine as it was saved
     * @throws NullPointerException if {@code saved} is null
     * @throws IllegalArgumentException if the bytes are not a saved state: another length, an unknown
     *     layout version, or any byte that {@link #save()} would not have written
     */
    public static Activation restore(byte[] saved) {
        Objects.requireNonNull(saved, "saved");
        if (saved.length != STATE_LENGTH) {
            throw new IllegalArgumentException(
                    "a saved activation state is " + STATE_LENGTH + " bytes, not " + saved.length);
        }
        byte[] copy = saved.clone();
        nativeCheck(copy);
        return new Activation(copy);
    }

    /** The state as 64 bytes, for {@link #restore(byte[])}. A copy. */
    public synchronized byte[] save() {
        return state.clone();
    }

    /**
     * Makes a challenge with a fresh random nonce ({@link SecureRandom}) and shows it: see {@link
     * #challenge(byte[], List, Environment, byte[], byte[], byte[])}.
     *
     * @param license the license file, armored or raw
     * @param rootKeys the vendor's root public keys the product embeds (1 to 8, 32 bytes each)
     * @param env the product's environment; its {@code now} is the challenge's issue time
     * @param nodeId this node's 16-byte id, which the product keeps
     * @param deploymentId the deployment's id (any bytes, may be empty), part of the project fingerprint
     * @return the challenge to show
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the license does not verify against the root keys and the
     *     environment, has no activation key, or an argument has the wrong length
     */
    public Challenge challenge(
            byte[] license, List<byte[]> rootKeys, Environment env, byte[] nodeId, byte[] deploymentId) {
        byte[] nonce = new byte[16];
        RANDOM.nextBytes(nonce);
        return challenge(license, rootKeys, env, nodeId, deploymentId, nonce);
    }

    /**
     * Makes a challenge for the license and shows it: from now on {@link #enter} expects its code
     * (or, under receipt policy, {@link #acceptReceipt} its receipt). A previous challenge is
     * replaced; the wrong-code count is kept.
     *
     * <p>The license is verified here against {@code rootKeys} and {@code env} (as {@link Verifier}
     * does); the challenge names the license, {@code nonce}, {@code nodeId}, the project fingerprint
     * of ({@code env.appName()}, {@code env.project()}, {@code deploymentId}), {@code env.nodes()},
     * {@code env.version()} and {@code env.now()}, and is authenticated with the license's key.
     *
     * @param license the license file, armored or raw
     * @param rootKeys the vendor's root public keys the product embeds (1 to 8, 32 bytes each)
     * @param env the product's environment; its {@code now} is the challenge's issue time
     * @param nodeId this node's 16-byte id, which the product keeps
     * @param deploymentId the deployment's id (any bytes, may be empty), part of the project fingerprint
     * @param nonce 16 fresh random bytes, never used before
     * @return the challenge to show
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the license does not verify against the root keys and the
     *     environment, has no activation key, or an argument has the wrong length
     */
    public synchronized Challenge challenge(
            byte[] license,
            List<byte[]> rootKeys,
            Environment env,
            byte[] nodeId,
            byte[] deploymentId,
            byte[] nonce) {
        Objects.requireNonNull(license, "license");
        Objects.requireNonNull(env, "env");
        NativeResult.seconds(env.now(), "env.now");
        return new Challenge(new NativeResult(nativeChallenge(
                state,
                license,
                NativeResult.roots(rootKeys),
                env,
                Objects.requireNonNull(nonce, "nonce"),
                Objects.requireNonNull(nodeId, "nodeId"),
                Objects.requireNonNull(deploymentId, "deploymentId"))));
    }

    /**
     * A challenge from a raw license id and activation key, shown like {@link #challenge}: only for the
     * specification's test vectors, which name keys, not licenses. Not public: a product's key comes
     * from a license that verifies.
     */
    synchronized Challenge challengeWithKey(
            byte[] licenseId,
            byte[] activationKey,
            String baseUrl,
            String appName,
            String project,
            byte[] deploymentId,
            int nodes,
            String version,
            Instant now,
            byte[] nonce,
            byte[] nodeId,
            byte[] instanceFingerprint,
            long generation) {
        return new Challenge(new NativeResult(nativeChallengeWithKey(
                state,
                licenseId,
                activationKey,
                NativeResult.utf8(baseUrl, "baseUrl"),
                NativeResult.utf8(appName, "appName"),
                NativeResult.utf8(project, "project"),
                deploymentId,
                nodes,
                NativeResult.utf8(version, "version"),
                NativeResult.seconds(now, "now"),
                nonce,
                nodeId,
                instanceFingerprint,
                generation)));
    }

    /**
     * Checks a code the admin typed, at {@code now}.
     *
     * @param typed what the admin typed (six digits; spaces around them are ignored)
     * @param now the current time
     * @return accepted, or why not, with the message to show
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code now} is before 1970
     */
    public synchronized EnterResult enter(String typed, Instant now) {
        byte[] text = NativeResult.utf8(typed, "typed");
        NativeResult r = new NativeResult(nativeEnter(state, text, NativeResult.seconds(now, "now")));
        EnterResult.Kind kind = EnterResult.Kind.values()[r.u8()];
        long value = r.u64();
        String message = r.text();
        return switch (kind) {
            case ACCEPTED, EXPIRED, LOCKED -> new EnterResult(kind, Instant.ofEpochSecond(value), 0, message);
            case WRONG_CODE -> new EnterResult(kind, null, (int) value, message);
            default -> new EnterResult(kind, null, 0, message);
        };
    }

    /**
     * Where activation stands at {@code now}.
     *
     * @param now the current time
     * @return the status
     * @throws NullPointerException if {@code now} is null
     * @throws IllegalArgumentException if {@code now} is before 1970
     */
    public synchronized ActivationStatus status(Instant now) {
        NativeResult r = new NativeResult(nativeStatus(state, NativeResult.seconds(now, "now")));
        return new ActivationStatus(ActivationStatus.Kind.values()[r.u8()], r.time());
    }

    /** All nodes restarted: forgets the activation and the challenge shown; a lock stays. */
    public synchronized void restart() {
        nativeRestart(state);
    }

    /**
     * Checks a receipt from the vendor's service for the challenge shown, and activates when it is
     * accepted (SPEC.md §6.4, as a product: the receipt names no authorization server instance). The
     * challenge is then used up: the same receipt is never accepted again, by this object or by a
     * state saved after it.
     *
     * <p>The receipt must be signed by a receipt key that one of {@code rootKeys} certified, for this
     * license as issued (its id, the SHA-256 of its raw file, its node count), for the challenge shown
     * (made by {@link #challenge} and not older than 5 minutes), and its lease, if any, must not have
     * ended at {@code now}. A revocation list it delivers that revokes the license refuses it. When
     * the accepted receipt names a lease ({@link ReceiptResult.Accepted#leaseUntil()}), the product
     * keeps it and asks for activation again at its end ({@link #restart()}, then a new challenge).
     *
     * @param receipt the receipt file, armored ({@code receipt.fanlic}) or raw
     * @param license the license file the challenge was made for, armored or raw
     * @param rootKeys the vendor's root public keys the product embeds
     * @param now the current time
     * @return accepted, refused with every cause, or why no challenge could be answered
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the license is not authentic under {@code rootKeys}, or
     *     {@code now} is before 1970
     */
    public synchronized ReceiptResult acceptReceipt(
            byte[] receipt, byte[] license, List<byte[]> rootKeys, Instant now) {
        Objects.requireNonNull(receipt, "receipt");
        Objects.requireNonNull(license, "license");
        return ReceiptResult.read(new NativeResult(nativeAcceptReceipt(
                state, receipt, license, NativeResult.roots(rootKeys), NativeResult.seconds(now, "now"))));
    }

    @Override
    public String toString() {
        return "Activation[state hidden]";
    }

    private static native void nativeCheck(byte[] state);

    private static native byte[] nativeChallenge(
            byte[] state,
            byte[] license,
            byte[][] rootKeys,
            Environment env,
            byte[] nonce,
            byte[] nodeId,
            byte[] deploymentId);

    private static native byte[] nativeChallengeWithKey(
            byte[] state,
            byte[] licenseId,
            byte[] activationKey,
            byte[] baseUrl,
            byte[] appName,
            byte[] project,
            byte[] deploymentId,
            int nodes,
            byte[] version,
            long now,
            byte[] nonce,
            byte[] nodeId,
            byte[] instanceFingerprint,
            long generation);

    private static native byte[] nativeEnter(byte[] state, byte[] typed, long now);

    private static native byte[] nativeStatus(byte[] state, long now);

    private static native void nativeRestart(byte[] state);

    private static native byte[] nativeAcceptReceipt(
            byte[] state, byte[] receipt, byte[] license, byte[][] rootKeys, long now);
}
