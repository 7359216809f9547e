package com.fanruan.fanlic.verifier;

/**
 * What a TLS binding says of a connection ({@link TlsBinding#verify}, {@link
 * ApplicationClient#onTlsBinding}): bound, with the instance key that vouches for it, or refused
 * with the first check that failed. Refused: close the connection without sending anything.
 *
 * @param bound whether the binding holds for this connection
 * @param cause why not; null when bound
 * @param message an English sentence saying why not; null when bound
 * @param licenseId the server license's 16-byte id; null when refused
 * @param instancePublicKey the instance key that signed the binding (the one to pin); null when refused
 * @param spkiSha256 the SHA-256 of the connection's SubjectPublicKeyInfo it binds; null when refused
 */
public record TlsBindingResult(
        boolean bound,
        TlsBindingCause cause,
        String message,
        byte[] licenseId,
        byte[] instancePublicKey,
        byte[] spkiSha256) {
    static TlsBindingResult read(NativeResult r) {
        if (r.u8() == 0) {
            return new TlsBindingResult(true, null, null, r.bytes(), r.bytes(), r.bytes());
        }
        return new TlsBindingResult(false, TlsBindingCause.ofCode(r.text()), r.text(), null, null, null);
    }

    @Override
    public String toString() {
        return bound ? "TlsBindingResult[bound]" : "TlsBindingResult[" + cause.code() + ": " + message + "]";
    }
}
