package com.fanruan.fanlic.verifier;

/**
 * Why a {@code privateConfig} file is refused (SPEC.md §7.4): the first check that fails, along
 * image key → instance certificate → instance key → state. {@link #code()} is the stable reason of
 * the specification.
 */
public enum PrivateConfigCause {
    /** {@code unknown_format}: not a {@code privateConfig} file (another magic). */
    UNKNOWN_FORMAT("unknown_format"),
    /** {@code bad_encoding}: the file, the certificate or the state does not decode. */
    BAD_ENCODING("bad_encoding"),
    /** {@code bad_signature}: the certificate's or the state's signature does not hold. */
    BAD_SIGNATURE("bad_signature"),
    /** {@code foreign_license}: the instance certificate is for another license. */
    FOREIGN_LICENSE("foreign_license"),
    /** {@code image_key_id_mismatch}: the certificate names another image key than the one given. */
    IMAGE_KEY_ID_MISMATCH("image_key_id_mismatch"),
    /** {@code state_license_mismatch}: the state is for another license than its certificate. */
    STATE_LICENSE_MISMATCH("state_license_mismatch"),
    /** {@code instance_key_mismatch}: the state names another instance key than its certificate certifies. */
    INSTANCE_KEY_MISMATCH("instance_key_mismatch");

    private final String code;

    PrivateConfigCause(String code) {
        this.code = code;
    }

    /** The stable snake_case reason, e.g. {@code foreign_license}. */
    public String code() {
        return code;
    }

    /**
     * The cause with this code.
     *
     * @param code a reason of SPEC.md §7.4
     * @return its cause
     * @throws IllegalArgumentException if no cause has this code
     */
    public static PrivateConfigCause ofCode(String code) {
        for (PrivateConfigCause c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no privateConfig cause has the code " + code);
    }
}
