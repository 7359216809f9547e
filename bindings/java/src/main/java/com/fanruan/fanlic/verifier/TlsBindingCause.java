package com.fanruan.fanlic.verifier;

/**
 * Why a TLS binding refuses a connection (SPEC.md §7.7): the first check that fails. {@link
 * #code()} is the stable code of the specification.
 */
public enum TlsBindingCause {
    /** {@code malformed_binding}: the file, the instance certificate or the binding does not decode. */
    MALFORMED_BINDING("malformed_binding"),
    /** {@code content_incorrect}: the server license is not authentic under the root keys. */
    CONTENT_INCORRECT("content_incorrect"),
    /** {@code license_type_mismatch}: the server license is not a private-cloud license. */
    LICENSE_TYPE_MISMATCH("license_type_mismatch"),
    /** {@code no_image_key}: the server license has no image key. */
    NO_IMAGE_KEY("no_image_key"),
    /** {@code bad_signature}: the instance certificate's or the binding's signature does not hold. */
    BAD_SIGNATURE("bad_signature"),
    /** {@code certificate_license_mismatch}: the instance certificate is for another license. */
    CERTIFICATE_LICENSE_MISMATCH("certificate_license_mismatch"),
    /** {@code image_key_id_mismatch}: the certificate names another image key than the license's. */
    IMAGE_KEY_ID_MISMATCH("image_key_id_mismatch"),
    /** {@code instance_key_changed}: the binding comes from another instance than the pinned one. */
    INSTANCE_KEY_CHANGED("instance_key_changed"),
    /** {@code binding_license_mismatch}: the binding is for another license. */
    BINDING_LICENSE_MISMATCH("binding_license_mismatch"),
    /**
     * {@code tls_key_not_bound}: the connection's TLS key is not the one the instance key binds: a
     * machine in the middle, or a certificate the server does not serve.
     */
    TLS_KEY_NOT_BOUND("tls_key_not_bound");

    private final String code;

    TlsBindingCause(String code) {
        this.code = code;
    }

    /** The stable snake_case code, e.g. {@code tls_key_not_bound}. */
    public String code() {
        return code;
    }

    /**
     * The cause with this code.
     *
     * @param code a code of SPEC.md §7.7
     * @return its cause
     * @throws IllegalArgumentException if no cause has this code
     */
    public static TlsBindingCause ofCode(String code) {
        for (TlsBindingCause c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no TLS binding cause has the code " + code);
    }
}
