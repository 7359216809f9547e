package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Checks an activation receipt (SPEC.md §6.4) for any acceptor. A product activating a local
 * container uses {@link Activation#acceptReceipt}, which also holds the challenge and uses it up;
 * this class is for the other acceptors and for tools: say what is expected with an {@link Expect}.
 */
public final class Receipt {
    static {
        NativeLibrary.load();
    }

    private Receipt() {}

    /**
     * Checks a receipt against a license and what the acceptor expects, at {@code now}: every cause
     * that can be known is reported, in SPEC.md §6.4's order.
     *
     * @param receipt the receipt file, armored or raw
     * @param license the acceptor's license file, armored or raw
     * @param rootKeys the vendor's root public keys (1 to 8, 32 bytes each)
     * @param expect what the acceptor holds
     * @param now the acceptor's time, for the lease
     * @return accepted with its contents, or refused with every cause
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the license is not authentic under {@code rootKeys}, a key
     *     or hash has the wrong length, or {@code now} is before 1970
     */
    public static ReceiptResult verify(
            byte[] receipt, byte[] license, List<byte[]> rootKeys, Expect expect, Instant now) {
        Objects.requireNonNull(receipt, "receipt");
        Objects.requireNonNull(license, "license");
        Objects.requireNonNull(expect, "expect");
        return ReceiptResult.read(new NativeResult(nativeVerify(
                receipt,
                license,
                NativeResult.roots(rootKeys),
                expect.challengeSha256(),
                expect.instancePublicKey(),
                expect.checkPrevious(),
                expect.previousReceipt(),
                NativeResult.seconds(now, "now"))));
    }

    /**
     * What an acceptor expects of a receipt (SPEC.md §6.4 rules 4 and 5).
     *
     * @param challengeSha256 SHA-256 of the raw token of the challenge it holds unanswered
     *     ({@link Challenge#tokenSha256()}), or null when it made none (an application checking its
     *     server's receipt)
     * @param instancePublicKey the authorization server instance key the receipt must bind, or null
     *     for a product, whose receipt binds none
     * @param checkPrevious whether the receipt's predecessor is checked (an authorization server)
     * @param previousReceipt the id of the receipt held, which the receipt must follow; null when none
     *     is held (only read when {@code checkPrevious})
     */
    public record Expect(
            byte[] challengeSha256, byte[] instancePublicKey, boolean checkPrevious, byte[] previousReceipt) {
        /**
         * A product's expectation: its challenge, no instance key.
         *
         * @param challengeSha256 SHA-256 of the challenge's raw token
         * @return the expectation
         */
        public static Expect product(byte[] challengeSha256) {
            return new Expect(Objects.requireNonNull(challengeSha256, "challengeSha256"), null, false, null);
        }

        /**
         * An authorization server's expectation: its challenge, its instance key, the receipt it holds.
         *
         * @param challengeSha256 SHA-256 of the challenge's raw token
         * @param instancePublicKey its instance key
         * @param previousReceipt the id of the receipt it holds, or null for none
         * @return the expectation
         */
        public static Expect server(byte[] challengeSha256, byte[] instancePublicKey, byte[] previousReceipt) {
            return new Expect(
                    Objects.requireNonNull(challengeSha256, "challengeSha256"),
                    Objects.requireNonNull(instancePublicKey, "instancePublicKey"),
                    true,
                    previousReceipt);
        }

        /**
         * An application's expectation of its server's receipt: no challenge, the answer's instance key.
         *
         * @param instancePublicKey the instance key of the server's answer
         * @return the expectation
         */
        public static Expect application(byte[] instancePublicKey) {
            return new Expect(null, Objects.requireNonNull(instancePublicKey, "instancePublicKey"), false, null);
        }
    }

    private static native byte[] nativeVerify(
            byte[] receipt,
            byte[] license,
            byte[][] rootKeys,
            byte[] challengeSha256,
            byte[] instancePublicKey,
            boolean checkPrevious,
            byte[] previousReceipt,
            long now);
}
