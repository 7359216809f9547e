package com.fanruan.fanlic.verifier;

/**
 * One reason an activation receipt is refused (SPEC.md §6.4), in the order causes are reported.
 * {@link #code()} is the stable code of the specification, for logs and support.
 */
public enum ReceiptCause {
    /** {@code receipt_malformed}: the file does not decode (nothing else is checked), or a signed part does not. */
    MALFORMED("receipt_malformed"),
    /** {@code receipt_unknown_root_key}: the receipt key is certified by a root key this product does not embed. */
    UNKNOWN_ROOT_KEY("receipt_unknown_root_key"),
    /** {@code receipt_bad_signature}: the certificate's or the receipt's signature does not hold. */
    BAD_SIGNATURE("receipt_bad_signature"),
    /** {@code receipt_key_not_certified}: the signing key is not certified for receipts alone, or for over 31 days. */
    KEY_NOT_CERTIFIED("receipt_key_not_certified"),
    /** {@code receipt_key_outside_window}: the receipt's vendor time is outside its key's window. */
    KEY_OUTSIDE_WINDOW("receipt_key_outside_window"),
    /** {@code receipt_license_mismatch}: the receipt is for another license, other bytes of it, or other terms. */
    LICENSE_MISMATCH("receipt_license_mismatch"),
    /** {@code receipt_challenge_mismatch}: the receipt answers another challenge than the one shown, or a used one. */
    CHALLENGE_MISMATCH("receipt_challenge_mismatch"),
    /** {@code receipt_instance_mismatch}: the receipt binds another authorization server instance, or one where none may be. */
    INSTANCE_MISMATCH("receipt_instance_mismatch"),
    /** {@code receipt_previous_mismatch}: the receipt follows another receipt than the one the server holds. */
    PREVIOUS_MISMATCH("receipt_previous_mismatch"),
    /** {@code lease_expired}: the receipt's lease has ended on the acceptor's clock. */
    LEASE_EXPIRED("lease_expired"),
    /** {@code revoked}: the revocation list the receipt delivers revokes the license or its issuing key. */
    REVOKED("revoked");

    private final String code;

    ReceiptCause(String code) {
        this.code = code;
    }

    /** The stable snake_case code of SPEC.md §6.4, e.g. {@code receipt_challenge_mismatch}. */
    public String code() {
        return code;
    }

    /**
     * The cause with this code.
     *
     * @param code a code of SPEC.md §6.4
     * @return its cause
     * @throws IllegalArgumentException if no cause has this code
     */
    public static ReceiptCause ofCode(String code) {
        for (ReceiptCause c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no receipt cause has the code " + code);
    }
}
