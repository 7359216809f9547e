package com.fanruan.fanlic.verifier;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.util.List;
import java.util.Objects;

/**
 * The check that ties the authorization server's TLS certificate to its instance key (SPEC.md
 * §7.7). The server's certificate is self-signed, so a product's default trust manager refuses it;
 * the product trusts the pinned instance key instead, which vouches for the TLS key with a TLS
 * binding served at {@code GET /api/v1/tls-binding}.
 *
 * <p>On every new TLS connection to the server, before sending any request that carries the node's
 * credential:
 *
 * <ol>
 *   <li>Let the handshake finish with an {@link javax.net.ssl.X509TrustManager} whose {@code
 *       checkServerTrusted} accepts the server's certificate chain (the handshake still proves that
 *       the peer holds the private key of the certificate it sent); never use that trust manager for
 *       another host.
 *   <li>Take the peer certificate, {@code
 *       sslSocket.getSession().getPeerCertificates()[0]}, and hash its SubjectPublicKeyInfo with
 *       {@link #spkiSha256(Certificate)}.
 *   <li>Fetch the binding file on that connection ({@code GET /api/v1/tls-binding}: it carries
 *       nothing secret) and check it with {@link ApplicationClient#onTlsBinding} (which pins the
 *       instance key on first use) or {@link #verify}.
 *   <li>Bound: go on and send requests on this connection. Refused: close it without sending
 *       anything else.
 * </ol>
 *
 * <pre>{@code
 * X509TrustManager acceptForBinding = new X509TrustManager() {
 *     public void checkServerTrusted(X509Certificate[] chain, String authType) {} // the binding decides
 *     public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
 *         throw new CertificateException("not a server");
 *     }
 *     public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
 * };
 * SSLContext tls = SSLContext.getInstance("TLS");
 * tls.init(null, new TrustManager[] {acceptForBinding}, null);
 * try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(host, 443)) {
 *     s.startHandshake();
 *     byte[] spki = TlsBinding.spkiSha256(s.getSession().getPeerCertificates()[0]);
 *     byte[] binding = get(s, "/api/v1/tls-binding");
 *     TlsBindingResult r = client.onTlsBinding(binding, spki, rootKeys);
 *     if (!r.bound()) { return; } // closes the socket: nothing was sent
 *     // ... register or heartbeat on s
 * }
 * }</pre>
 */
public final class TlsBinding {
    static {
        NativeLibrary.load();
    }

    private TlsBinding() {}

    /**
     * SHA-256 of a certificate's DER SubjectPublicKeyInfo: what a TLS binding names.
     *
     * @param certificate the peer certificate the TLS handshake proved
     * @return 32 bytes
     * @throws NullPointerException if {@code certificate} is null
     */
    public static byte[] spkiSha256(Certificate certificate) {
        return spkiSha256(Objects.requireNonNull(certificate, "certificate").getPublicKey());
    }

    /**
     * SHA-256 of a public key's DER SubjectPublicKeyInfo ({@link PublicKey#getEncoded()} in X.509 format).
     *
     * @param key the key
     * @return 32 bytes
     * @throws NullPointerException if {@code key} is null
     * @throws IllegalArgumentException if the key has no X.509 encoding
     */
    public static byte[] spkiSha256(PublicKey key) {
        Objects.requireNonNull(key, "key");
        if (!"X.509".equals(key.getFormat()) || key.getEncoded() == null) {
            throw new IllegalArgumentException("the key has no X.509 SubjectPublicKeyInfo: " + key.getFormat());
        }
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /**
     * Checks a TLS binding file against the connection it came over, without a client: the first check
     * of SPEC.md §7.7 that fails.
     *
     * @param binding the file served at {@code /api/v1/tls-binding}
     * @param rootKeys the vendor's root public keys (1 to 8, 32 bytes each)
     * @param pinnedInstanceKey the instance key pinned before (32 bytes), or null when none is
     * @param connectionSpkiSha256 {@link #spkiSha256(Certificate)} of the connection's peer certificate
     * @return bound, or the first check that failed
     * @throws NullPointerException if an argument but {@code pinnedInstanceKey} is null
     * @throws IllegalArgumentException if a key or hash has the wrong length
     */
    public static TlsBindingResult verify(
            byte[] binding, List<byte[]> rootKeys, byte[] pinnedInstanceKey, byte[] connectionSpkiSha256) {
        Objects.requireNonNull(binding, "binding");
        Objects.requireNonNull(connectionSpkiSha256, "connectionSpkiSha256");
        return TlsBindingResult.read(new NativeResult(
                nativeVerify(binding, NativeResult.roots(rootKeys), pinnedInstanceKey, connectionSpkiSha256)));
    }

    private static native byte[] nativeVerify(
            byte[] binding, byte[][] rootKeys, byte[] pinnedInstanceKey, byte[] connectionSpkiSha256);
}
