package com.fanruan.fanlic.verifier;

/**
 * One reason an answer of the authorization server is refused (SPEC.md §7.2, §7.5), in the order
 * causes are reported: the file, then the server license's own causes (SPEC.md §4.2), then along
 * the chain image key → instance certificate → answer, then its receipt. {@link #code()} is the
 * stable code of the specification.
 */
public enum AnswerCause {
    /** {@code malformed_answer}: a part does not decode. */
    MALFORMED_ANSWER("malformed_answer"),
    /** {@code license_expired}: the server license has expired. */
    LICENSE_EXPIRED("license_expired"),
    /** {@code version_mismatch}: the server license is for another major.minor version. */
    VERSION_MISMATCH("version_mismatch"),
    /** {@code app_name_mismatch}: the server license is for another application. */
    APP_NAME_MISMATCH("app_name_mismatch"),
    /** {@code license_exhausted}: more nodes than the server license allows. */
    LICENSE_EXHAUSTED("license_exhausted"),
    /** {@code project_content_mismatch}: the server license is for another project. */
    PROJECT_CONTENT_MISMATCH("project_content_mismatch"),
    /** {@code license_type_mismatch}: the server license is not a private-cloud license. */
    LICENSE_TYPE_MISMATCH("license_type_mismatch"),
    /** {@code not_yet_valid}: the server license is not valid yet. */
    NOT_YET_VALID("not_yet_valid"),
    /** {@code clock_rollback}: this node's clock is behind a time it saw before. */
    CLOCK_ROLLBACK("clock_rollback"),
    /** {@code revoked}: the server license or its issuing key is revoked. */
    REVOKED("revoked"),
    /** {@code content_incorrect}: the server license is not authentic under the root keys (alone). */
    CONTENT_INCORRECT("content_incorrect"),
    /** {@code no_image_key}: the server license has no image key, so no instance can be certified. */
    NO_IMAGE_KEY("no_image_key"),
    /** {@code bad_signature}: the instance certificate's or the answer's signature does not hold. */
    BAD_SIGNATURE("bad_signature"),
    /** {@code certificate_license_mismatch}: the instance certificate is for another license. */
    CERTIFICATE_LICENSE_MISMATCH("certificate_license_mismatch"),
    /** {@code image_key_id_mismatch}: the certificate names another image key than the license's. */
    IMAGE_KEY_ID_MISMATCH("image_key_id_mismatch"),
    /** {@code instance_key_changed}: another instance key than the pinned one: a copy of the server. */
    INSTANCE_KEY_CHANGED("instance_key_changed"),
    /** {@code answer_license_mismatch}: the answer names another license than the one it carries. */
    ANSWER_LICENSE_MISMATCH("answer_license_mismatch"),
    /** {@code kind_mismatch}: the answer is not what was asked for. */
    KIND_MISMATCH("kind_mismatch"),
    /** {@code node_mismatch}: the answer is for another node. */
    NODE_MISMATCH("node_mismatch"),
    /** {@code nonce_mismatch}: the answer is for another request: an old answer replayed. */
    NONCE_MISMATCH("nonce_mismatch"),
    /** {@code answer_expired}: the answer's {@code valid_until} has passed. */
    ANSWER_EXPIRED("answer_expired"),
    /** {@code answer_from_future}: the server's time is more than 300 seconds ahead of this node's. */
    ANSWER_FROM_FUTURE("answer_from_future"),
    /** {@code receipt_missing}: the server license is under receipt policy and the answer carries no receipt. */
    RECEIPT_MISSING("receipt_missing"),
    /** {@code receipt_malformed}: the answer's receipt does not decode. */
    RECEIPT_MALFORMED("receipt_malformed"),
    /** {@code receipt_unknown_root_key}: the receipt key is certified by an unknown root key. */
    RECEIPT_UNKNOWN_ROOT_KEY("receipt_unknown_root_key"),
    /** {@code receipt_bad_signature}: a signature of the receipt does not hold. */
    RECEIPT_BAD_SIGNATURE("receipt_bad_signature"),
    /** {@code receipt_key_not_certified}: the receipt's key is not certified for receipts alone. */
    RECEIPT_KEY_NOT_CERTIFIED("receipt_key_not_certified"),
    /** {@code receipt_key_outside_window}: the receipt was signed outside its key's window. */
    RECEIPT_KEY_OUTSIDE_WINDOW("receipt_key_outside_window"),
    /** {@code receipt_license_mismatch}: the receipt is for another license, or other terms. */
    RECEIPT_LICENSE_MISMATCH("receipt_license_mismatch"),
    /** {@code receipt_challenge_mismatch}: the receipt answers another challenge. */
    RECEIPT_CHALLENGE_MISMATCH("receipt_challenge_mismatch"),
    /** {@code receipt_instance_mismatch}: the receipt binds another instance than the answer's. */
    RECEIPT_INSTANCE_MISMATCH("receipt_instance_mismatch"),
    /** {@code receipt_previous_mismatch}: the receipt follows another receipt. */
    RECEIPT_PREVIOUS_MISMATCH("receipt_previous_mismatch"),
    /** {@code lease_expired}: the server's activation lease has ended: it must be activated again. */
    LEASE_EXPIRED("lease_expired"),
    /** {@code unrequested}: no request is outstanding, so this cannot be its answer; not checked. */
    UNREQUESTED("unrequested");

    private final String code;

    AnswerCause(String code) {
        this.code = code;
    }

    /** The stable snake_case code, e.g. {@code nonce_mismatch}. */
    public String code() {
        return code;
    }

    /**
     * The cause with this code.
     *
     * @param code a code of SPEC.md §4.2, §6.4 or §7.2
     * @return its cause
     * @throws IllegalArgumentException if no cause has this code
     */
    public static AnswerCause ofCode(String code) {
        for (AnswerCause c : values()) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        throw new IllegalArgumentException("no answer cause has the code " + code);
    }
}
