package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;

/** TLS bindings (SPEC.md §7.7) through Java: every vector, and the steps a product takes on a real TLS connection. */
class TlsBindingTest {
    private static final String BOUND_SPKI = "b07f38d2da3103f4dcce32c70087d4b2eb0b17ce4411217321e5e13c997a143d";
    private static final String INSTANCE_A = "3cc9708c8cdabe8614c9b9e317d179dcfdd8239836be2d1c8426ea129ebbcad0";

    @Test
    void everyTlsBindingVectorGivesItsOutcomeAloneAndThroughTheClient() {
        List<Map<String, Object>> vectors = PrivateCloudVectors.named("tls-binding-");
        assertTrue(vectors.size() >= 10, "vectors: " + vectors.size());
        for (Map<String, Object> v : vectors) {
            String name = (String) v.get("name");
            Map<String, Object> in = Json.object(v.get("binding"));
            Map<String, Object> e = Json.object(v.get("expected"));
            byte[] file = PrivateCloudVectors.file(v);
            List<byte[]> roots = PrivateCloudVectors.roots(in.get("roots"));
            byte[] pinned = PrivateCloudVectors.hexOrNull(in.get("pinned_instance_key"));
            byte[] spki = Fixtures.hex((String) in.get("connection_spki_sha256"));
            TlsBindingResult alone = TlsBinding.verify(file, roots, pinned, spki);
            TlsBindingResult viaClient;
            try (ApplicationClient c = new ApplicationClient(new byte[16], "00".repeat(32), pinned)) {
                viaClient = c.onTlsBinding(file, spki, roots);
                if (viaClient.bound()) {
                    assertEquals(e.get("bound_instance_key"), Fixtures.hex(c.pinnedInstanceKey().orElseThrow()), name);
                } else {
                    assertArrayEquals(pinned, c.pinnedInstanceKey().orElse(null), name + ": a refusal pins nothing");
                }
            }
            for (TlsBindingResult r : List.of(alone, viaClient)) {
                assertEquals(e.get("valid"), r.bound(), name + ": " + r);
                List<Object> causes = PrivateCloudVectors.causes(v);
                if (r.bound()) {
                    assertTrue(causes.isEmpty(), name);
                    assertNull(r.cause(), name);
                    assertEquals(e.get("bound_instance_key"), Fixtures.hex(r.instancePublicKey()), name);
                    assertArrayEquals(spki, r.spkiSha256(), name);
                    assertEquals(16, r.licenseId().length, name);
                } else {
                    assertEquals(causes, List.of(r.cause().code()), name + ": " + r);
                    assertFalse(r.message().isEmpty(), name);
                }
            }
        }
    }

    @Test
    void theBoundKeysSpkiHashIsWhatJavaComputesFromTheKey() throws Exception {
        byte[] der = Fixtures.read("vectors/private-cloud/tls-binding-spki.der");
        PublicKey key = KeyFactory.getInstance("EC").generatePublic(new X509EncodedKeySpec(der));
        byte[] spki = TlsBinding.spkiSha256(key);
        assertEquals(BOUND_SPKI, Fixtures.hex(spki));
        TlsBindingResult r = TlsBinding.verify(
                Fixtures.read("vectors/private-cloud/tls-binding-valid.bin"), ActivationVectors.rootA(), null, spki);
        assertTrue(r.bound(), r.toString());
        assertEquals(INSTANCE_A, Fixtures.hex(r.instancePublicKey()));
    }

    /**
     * A real TLS handshake with a self-signed P-256 certificate made by keytool: the product's steps
     * (accept the chain for the handshake only, hash the peer certificate's SubjectPublicKeyInfo, check
     * the binding) refuse this connection, whose key the instance key does not bind, before anything
     * is sent.
     */
    @Test
    void aSelfSignedServerNotBoundByTheInstanceKeyIsRefusedBeforeAnythingIsSent() throws Exception {
        Path dir = Files.createTempDirectory("fanlic-tls");
        Path store = dir.resolve("server.p12");
        char[] password = "changeit".toCharArray();
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                        "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                        "-sigalg", "SHA256withECDSA", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1",
                        "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
                        "-storepass", "changeit", "-keypass", "changeit")
                .redirectErrorStream(true)
                .start();
        String out = new String(keytool.getInputStream().readAllBytes());
        assertTrue(keytool.waitFor(60, TimeUnit.SECONDS), "keytool did not finish");
        assertEquals(0, keytool.exitValue(), out);

        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(store)) {
            ks.load(in, password);
        }
        Certificate served = ks.getCertificate("server");
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext serverTls = SSLContext.getInstance("TLSv1.3");
        serverTls.init(kmf.getKeyManagers(), null, null);

        // The product's trust manager for this connection: the handshake goes through, the binding decides.
        X509TrustManager acceptForBinding = new X509TrustManager() {
            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {}

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType)
                    throws java.security.cert.CertificateException {
                throw new java.security.cert.CertificateException("not a server");
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext clientTls = SSLContext.getInstance("TLSv1.3");
        clientTls.init(null, new TrustManager[] {acceptForBinding}, null);

        try (SSLServerSocket server = (SSLServerSocket) serverTls.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            byte[][] received = new byte[1][];
            Thread serving = new Thread(() -> {
                try (SSLSocket s = (SSLSocket) server.accept()) {
                    s.startHandshake();
                    received[0] = s.getInputStream().readAllBytes();
                } catch (Exception e) {
                    received[0] = null;
                }
            });
            serving.start();
            try (SSLSocket s = (SSLSocket) clientTls.getSocketFactory()
                            .createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                    ApplicationClient client = new ApplicationClient(new byte[16], "00".repeat(32))) {
                s.startHandshake();
                Certificate peer = s.getSession().getPeerCertificates()[0];
                byte[] spki = TlsBinding.spkiSha256(peer);
                assertArrayEquals(TlsBinding.spkiSha256(served.getPublicKey()), spki, "the hash of the key served");
                assertFalse(Arrays.equals(Fixtures.hex(BOUND_SPKI), spki));
                // The binding fetched from this server (a machine in the middle relays the genuine one).
                byte[] binding = Fixtures.read("vectors/private-cloud/tls-binding-valid.bin");
                TlsBindingResult r = client.onTlsBinding(binding, spki, ActivationVectors.rootA());
                assertFalse(r.bound());
                assertEquals(TlsBindingCause.TLS_KEY_NOT_BOUND, r.cause());
                assertTrue(client.pinnedInstanceKey().isEmpty(), "a refused binding pins nothing");
            }
            serving.join(10_000);
            assertTrue(received[0] != null, "the server saw the connection close cleanly");
            assertEquals(0, received[0].length, "nothing was sent on the refused connection");
        }
    }

    @Test
    void badArgumentsAreDefinedExceptions() {
        byte[] file = Fixtures.read("vectors/private-cloud/tls-binding-valid.bin");
        List<byte[]> roots = ActivationVectors.rootA();
        byte[] spki = Fixtures.hex(BOUND_SPKI);
        assertThrows(NullPointerException.class, () -> TlsBinding.verify(null, roots, null, spki));
        assertThrows(NullPointerException.class, () -> TlsBinding.verify(file, null, null, spki));
        assertThrows(NullPointerException.class, () -> TlsBinding.verify(file, roots, null, null));
        assertThrows(IllegalArgumentException.class, () -> TlsBinding.verify(file, roots, new byte[5], spki));
        assertThrows(IllegalArgumentException.class, () -> TlsBinding.verify(file, roots, null, new byte[33]));
        assertThrows(NullPointerException.class, () -> TlsBinding.spkiSha256((Certificate) null));
        assertThrows(NullPointerException.class, () -> TlsBinding.spkiSha256((PublicKey) null));
        for (int len = 0; len < file.length; len += Math.max(1, file.length / 20)) {
            TlsBindingResult r = TlsBinding.verify(Arrays.copyOf(file, len), roots, null, spki);
            assertFalse(r.bound(), "truncated to " + len);
        }
        for (int i = 0; i < file.length; i += Math.max(1, file.length / 30)) {
            byte[] m = file.clone();
            m[i] ^= 0x10;
            assertFalse(TlsBinding.verify(m, roots, null, spki).bound(), "byte " + i);
        }
        assertEquals(TlsBindingCause.TLS_KEY_NOT_BOUND, TlsBindingCause.ofCode("tls_key_not_bound"));
        assertThrows(IllegalArgumentException.class, () -> TlsBindingCause.ofCode("nope"));
        assertTrue(Instant.now().getEpochSecond() > 0);
    }
}
