package com.fanruan.fanlic.verifier;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A signed revocation list (SPEC.md §5) that {@link Verifier#verifyRevocations} accepted: its chain of
 * signatures holds under the verifier's root keys, and it is not older than the highest sequence the
 * product accepted before. Pass it to {@link Verifier#verify(byte[], Environment, RevocationList)} for
 * cause {@link Cause#REVOKED}, and persist {@link #sequence()} as the new highest accepted.
 *
 * <p>Each verification with a list checks the list's signatures again (two Ed25519 verifications): the
 * native library keeps no state between calls.
 */
public final class RevocationList {
    private final byte[] file;
    private final long sequence;
    private final List<String> licenses;
    private final List<String> issuingKeys;

    private RevocationList(byte[] file, long sequence, List<String> licenses, List<String> issuingKeys) {
        this.file = file;
        this.sequence = sequence;
        this.licenses = licenses;
        this.issuingKeys = issuingKeys;
    }

    /** The native answer for an accepted list (verify.rs {@code verifyRevocations}). */
    static RevocationList decode(byte[] file, Reader r) {
        long sequence = r.u64();
        int n = (int) r.u32();
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            ids.add(Reader.hex(r.bytes(16)));
        }
        int m = (int) r.u32();
        List<String> keys = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            keys.add(Reader.hex(r.bytes(8)));
        }
        return new RevocationList(file, sequence, Collections.unmodifiableList(ids), Collections.unmodifiableList(keys));
    }

    /** The list's sequence number: persist it as the highest accepted. */
    public long sequence() {
        return sequence;
    }

    /** The revoked license ids (32 lower-case hex digits), ascending. */
    public List<String> licenses() {
        return licenses;
    }

    /** The revoked issuing-key ids (16 lower-case hex digits), ascending. */
    public List<String> issuingKeys() {
        return issuingKeys;
    }

    byte[] file() {
        return file;
    }

    @Override
    public String toString() {
        return "RevocationList(sequence " + sequence + ", " + licenses.size() + " licenses, " + issuingKeys.size()
                + " issuing keys)";
    }

    /** A revocation list that was refused: its signatures, its format, or it is older than one accepted. */
    public static final class RefusedException extends Exception {
        private static final long serialVersionUID = 1L;
        private final String reason;

        RefusedException(String reason, String message) {
            super(message);
            this.reason = reason;
        }

        /**
         * A stable code: {@code unknown_format}, {@code bad_encoding}, {@code unknown_root_key},
         * {@code bad_signature}, {@code not_certified}, {@code issuing_key_outside_window}, {@code rollback}.
         */
        public String reason() {
            return reason;
        }
    }
}
