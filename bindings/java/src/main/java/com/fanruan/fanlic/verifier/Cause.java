package com.fanruan.fanlic.verifier;

/**
 * Why a license is not valid here: one constant per cause of the specification (SPEC.md §4.2), declared
 * in the order causes are reported — the product's table first, then fanlic's own.
 */
public enum Cause {
    /** {@code license_expired}: the expiration date has passed. */
    LICENSE_EXPIRED("license_expired"),
    /** {@code version_mismatch}: the licensed major.minor is not the local version's. */
    VERSION_MISMATCH("version_mismatch"),
    /** {@code app_name_mismatch}: the license is for another application. */
    APP_NAME_MISMATCH("app_name_mismatch"),
    /** {@code license_exhausted}: the cluster has more nodes than the license allows. */
    LICENSE_EXHAUSTED("license_exhausted"),
    /** {@code project_content_mismatch}: the license is for another project. */
    PROJECT_CONTENT_MISMATCH("project_content_mismatch"),
    /** {@code license_type_mismatch}: the license's kind is not the method the admin selected. */
    LICENSE_TYPE_MISMATCH("license_type_mismatch"),
    /** {@code not_yet_valid}: the license is not valid yet (beyond the clock tolerance). */
    NOT_YET_VALID("not_yet_valid"),
    /** {@code clock_rollback}: the clock is behind the latest time seen (beyond the tolerance). */
    CLOCK_ROLLBACK("clock_rollback"),
    /** {@code revoked}: the revocation list revokes the license or the key that signed it. */
    REVOKED("revoked"),
    /**
     * {@code content_incorrect}: the file does not decode or its signatures do not hold; then it is the
     * only cause, and no claim of the file is evaluated ({@link Result#contentError()} says which).
     */
    CONTENT_INCORRECT("content_incorrect");

    private static final Cause[] ALL = values();
    private final String code;

    Cause(String code) {
        this.code = code;
    }

    /** The stable snake_case code, as in the specification, JSON and {@code fanlic verify --json}. */
    public String code() {
        return code;
    }

    /** The cause of a code, e.g. {@code "license_expired"}. */
    public static Cause fromCode(String code) {
        for (Cause c : ALL) {
            if (c.code.equals(code)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown cause code: " + code);
    }

    /** The cause of bit {@code i} of the native answer's mask (the declaration order). */
    static Cause ofBit(int i) {
        return ALL[i];
    }
}
