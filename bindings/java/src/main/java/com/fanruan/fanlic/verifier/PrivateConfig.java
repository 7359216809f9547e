package com.fanruan.fanlic.verifier;

import java.util.Objects;

/**
 * Checks an authorization server's {@code privateConfig} file (SPEC.md §7.4): the state the server
 * keeps, signed by its instance key, whose certificate the license's image key signed. For the
 * vendor's migration check and for tools that read a server's state.
 */
public final class PrivateConfig {
    static {
        NativeLibrary.load();
    }

    private PrivateConfig() {}

    /**
     * Checks a {@code privateConfig} file along image key → instance certificate → instance key →
     * state: the certificate's signature with {@code imagePublicKey}, its license id {@code licenseId}
     * and its image key id that of {@code imagePublicKey}; the state's signature with the certified
     * instance key, its license id and instance key the certificate's. Nothing is read before its
     * signature holds.
     *
     * @param file the file's bytes
     * @param imagePublicKey the server license's 32-byte image public key
     * @param licenseId the server license's 16-byte id
     * @return valid with its contents, or the first check that failed
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the key is not 32 bytes or the id not 16
     */
    public static PrivateConfigResult verify(byte[] file, byte[] imagePublicKey, byte[] licenseId) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(imagePublicKey, "imagePublicKey");
        Objects.requireNonNull(licenseId, "licenseId");
        return PrivateConfigResult.read(new NativeResult(nativeVerify(file, imagePublicKey, licenseId)));
    }

    private static native byte[] nativeVerify(byte[] file, byte[] imagePublicKey, byte[] licenseId);
}
