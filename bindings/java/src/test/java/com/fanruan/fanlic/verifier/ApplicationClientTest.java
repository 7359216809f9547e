package com.fanruan.fanlic.verifier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The authorization server's client (SPEC.md §7.2, §7.3, §7.5) through Java. */
class ApplicationClientTest {
    private static final String SECRET = "d0307c5185b2085248021908d50b8be65ac1d8d7e41ac6a0f0005925c134fd93";
    private static final byte[] NODE = Fixtures.hex("11111111111111111111111111111111");
    private static final byte[] NONCE = Fixtures.hex("40bd1fc9d48381a8e1335e737bf233c8");
    private static final Instant T = Instant.parse("2026-06-01T00:00:00Z");
    private static final Instant VALID_UNTIL = Instant.parse("2026-06-01T23:59:00Z");
    private static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);

    private static Environment fineBi(Instant now) {
        return new Environment("FineBI", "6.1.3", "bi-cluster", 1, Environment.Method.PRIVATE_CLOUD, now, null);
    }

    private static byte[] answer(String name) {
        return Fixtures.read("vectors/private-cloud/" + name + ".bin");
    }

    private static ApplicationClient.RequestKind kind(String k) {
        return switch (k) {
            case "registered" -> ApplicationClient.RequestKind.REGISTER;
            case "heartbeat" -> ApplicationClient.RequestKind.HEARTBEAT;
            case "deregistered" -> ApplicationClient.RequestKind.DEREGISTER;
            default -> throw new AssertionError(k);
        };
    }

    @Test
    void everyAnswerVectorGivesItsOutcomeThroughTheClient() {
        List<Map<String, Object>> vectors = PrivateCloudVectors.named("answer-");
        assertTrue(vectors.size() >= 30, "answer vectors: " + vectors.size());
        for (Map<String, Object> v : vectors) {
            String name = (String) v.get("name");
            Map<String, Object> in = Json.object(v.get("answer"));
            Map<String, Object> e = Json.object(v.get("expected"));
            byte[] pinned = PrivateCloudVectors.hexOrNull(in.get("pinned_instance_key"));
            Environment env = ActivationVectors.env(Json.object(in.get("env")));
            List<byte[]> roots = PrivateCloudVectors.roots(in.get("roots"));
            byte[] file = PrivateCloudVectors.file(v);
            try (ApplicationClient client =
                    new ApplicationClient(Fixtures.hex((String) in.get("node_id")), SECRET, pinned)) {
                client.request(kind((String) in.get("kind")), Fixtures.hex((String) in.get("nonce")), BODY, env.now());
                AnswerResult r = client.onAnswer(file, roots, env);
                List<String> codes = r.causeList().stream().map(AnswerCause::code).collect(Collectors.toList());
                assertEquals(PrivateCloudVectors.causes(v), codes, name + ": " + r);
                assertEquals(e.get("valid"), r.isAccepted(), name + ": " + r);
                assertFalse(r.message().isEmpty(), name);
                if (r.isAccepted()) {
                    Map<String, Object> a = Json.object(e.get("accepted"));
                    RegistrationStatus expected = "deregistered".equals(a.get("kind"))
                            ? new RegistrationStatus(RegistrationStatus.Kind.DEREGISTERED, null, 0)
                            : new RegistrationStatus(
                                    RegistrationStatus.Kind.REGISTERED,
                                    Fixtures.rfc3339((String) a.get("valid_until")),
                                    Math.toIntExact((Long) a.get("nodes")));
                    assertEquals(expected, r.status(), name);
                    assertEquals(expected, client.status(env.now()), name);
                    assertEquals(a.get("instance_public_key"), Fixtures.hex(client.pinnedInstanceKey().orElseThrow()), name);
                    // The answer is consumed: given again, it is unrequested.
                    assertEquals(List.of(AnswerCause.UNREQUESTED), client.onAnswer(file, roots, env).causeList(), name);
                } else {
                    assertNull(r.status(), name);
                    r.causes().forEach(c -> assertFalse(c.message().isEmpty(), name));
                    assertEquals(RegistrationStatus.Kind.NOT_REGISTERED, client.status(env.now()).kind(), name);
                    assertArrayEquals(pinned, client.pinnedInstanceKey().orElse(null), name + ": a refusal pins nothing");
                }
            }
        }
    }

    @Test
    void everyNodeAuthVectorGivesItsAuthorization() {
        List<Object> requests = Json.array(Json.parse(new String(
                Fixtures.read("vectors/private-cloud/node-auth/requests.json"), StandardCharsets.UTF_8)));
        assertEquals(4, requests.size());
        for (Object o : requests) {
            Map<String, Object> v = Json.object(o);
            String path = (String) v.get("path");
            ApplicationClient.RequestKind kind = switch (path) {
                case "/api/v1/register" -> ApplicationClient.RequestKind.REGISTER;
                case "/api/v1/heartbeat" -> ApplicationClient.RequestKind.HEARTBEAT;
                default -> ApplicationClient.RequestKind.DEREGISTER;
            };
            try (ApplicationClient client = new ApplicationClient(NODE, (String) v.get("join_secret"))) {
                byte[] body = ((String) v.get("body")).getBytes(StandardCharsets.UTF_8);
                ApplicationClient.Request r =
                        client.request(kind, NONCE, body, Instant.ofEpochSecond((Long) v.get("at")));
                assertEquals(path, r.path(), (String) v.get("name"));
                assertEquals(v.get("authorization"), r.authorization(), (String) v.get("name"));
                assertEquals(kind, r.kind());
            }
        }
    }

    @Test
    void theClientsLifeRegisterHeartbeatRetryAndFail() {
        try (ApplicationClient c = new ApplicationClient(NODE, SECRET)) {
            assertEquals(new RegistrationStatus(RegistrationStatus.Kind.NOT_REGISTERED, null, 0), c.status(T));
            assertTrue(c.pinnedInstanceKey().isEmpty());
            assertEquals(new ApplicationClient.Next(ApplicationClient.Action.REGISTER, null), c.next(T));
            ApplicationClient.Request reg = c.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T);
            assertEquals("/api/v1/register", reg.path());
            assertTrue(reg.authorization().startsWith("FANLIC-HMAC-SHA256 " + T.getEpochSecond() + ":"));
            // While the request is out, wait for its time-out.
            assertEquals(new ApplicationClient.Next(ApplicationClient.Action.WAIT, T.plusSeconds(300)), c.next(T));
            AnswerResult ok = c.onAnswer(answer("answer-registered"), ActivationVectors.rootA(), fineBi(T));
            assertTrue(ok.isAccepted(), ok.toString());
            assertEquals(new RegistrationStatus(RegistrationStatus.Kind.REGISTERED, VALID_UNTIL, 2), ok.status());
            assertEquals(32, c.pinnedInstanceKey().orElseThrow().length);
            // A heartbeat 7200 s after the accepted answer.
            assertEquals(ApplicationClient.Action.WAIT, c.next(T.plusSeconds(7199)).action());
            assertEquals(T.plusSeconds(7200), c.next(T).at());
            Instant hb = T.plusSeconds(7200);
            assertEquals(ApplicationClient.Action.HEARTBEAT, c.next(hb).action());
            c.request(ApplicationClient.RequestKind.HEARTBEAT, NONCE, BODY, hb);
            assertTrue(c.onAnswer(answer("answer-heartbeat"), ActivationVectors.rootA(), fineBi(hb)).isAccepted());
            // The next heartbeat fails: retried every 300 s.
            Instant hb2 = hb.plusSeconds(7200);
            assertEquals(ApplicationClient.Action.HEARTBEAT, c.next(hb2).action());
            c.request(ApplicationClient.RequestKind.HEARTBEAT, ApplicationClient.newNonce(), BODY, hb2);
            c.onFailure(hb2);
            assertEquals(new ApplicationClient.Next(ApplicationClient.Action.WAIT, hb2.plusSeconds(300)), c.next(hb2));
            assertEquals(ApplicationClient.Action.HEARTBEAT, c.next(hb2.plusSeconds(300)).action());
            // A refused answer also waits 300 s, and changes nothing else.
            c.request(ApplicationClient.RequestKind.HEARTBEAT, ApplicationClient.newNonce(), BODY, hb2.plusSeconds(300));
            AnswerResult replay = c.onAnswer(answer("answer-heartbeat"), ActivationVectors.rootA(), fineBi(hb2.plusSeconds(300)));
            assertEquals(List.of(AnswerCause.NONCE_MISMATCH), replay.causeList(), "an old answer replayed");
            assertEquals(hb2.plusSeconds(600), c.next(hb2.plusSeconds(300)).at());
            assertEquals(RegistrationStatus.Kind.REGISTERED, c.status(VALID_UNTIL.minusSeconds(1)).kind());
            // No feedback until valid_until: the registration fails, said once, then register again.
            c.onFailure(VALID_UNTIL.minusSeconds(1));
            assertEquals(new RegistrationStatus(RegistrationStatus.Kind.FAILED, VALID_UNTIL, 0), c.status(VALID_UNTIL));
            assertEquals(
                    new ApplicationClient.Next(ApplicationClient.Action.REGISTRATION_FAILED, VALID_UNTIL),
                    c.next(VALID_UNTIL));
            assertEquals(ApplicationClient.Action.REGISTER, c.next(VALID_UNTIL).action());
            // The instance key stays pinned: an answer from a copy of the server is refused.
            c.request(ApplicationClient.RequestKind.HEARTBEAT, NONCE, BODY, T);
            AnswerResult clone = c.onAnswer(answer("answer-cloned-server-unpinned"), ActivationVectors.rootA(), fineBi(T));
            assertEquals(List.of(AnswerCause.INSTANCE_KEY_CHANGED), clone.causeList());
        }
    }

    @Test
    void thePinnedKeyIsKeptAcrossARestart() {
        byte[] pinned;
        try (ApplicationClient first = new ApplicationClient(NODE, SECRET)) {
            first.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T);
            assertTrue(first.onAnswer(answer("answer-registered"), ActivationVectors.rootA(), fineBi(T)).isAccepted());
            pinned = first.pinnedInstanceKey().orElseThrow();
        }
        try (ApplicationClient again = new ApplicationClient(NODE, SECRET, pinned)) {
            assertArrayEquals(pinned, again.pinnedInstanceKey().orElseThrow());
            again.request(ApplicationClient.RequestKind.HEARTBEAT, NONCE, BODY, T);
            AnswerResult r = again.onAnswer(answer("answer-cloned-server-unpinned"), ActivationVectors.rootA(), fineBi(T));
            assertEquals(List.of(AnswerCause.INSTANCE_KEY_CHANGED), r.causeList());
        }
    }

    @Test
    void closeTwiceIsHarmlessAndAClosedClientRefusesEveryCall() {
        ApplicationClient c = new ApplicationClient(NODE, SECRET);
        c.close();
        c.close();
        assertThrows(IllegalStateException.class, () -> c.next(T));
        assertThrows(IllegalStateException.class, () -> c.status(T));
        assertThrows(IllegalStateException.class, () -> c.onFailure(T));
        assertThrows(IllegalStateException.class, () -> c.pinnedInstanceKey());
        assertThrows(
                IllegalStateException.class,
                () -> c.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T));
        assertThrows(
                IllegalStateException.class,
                () -> c.onAnswer(answer("answer-registered"), ActivationVectors.rootA(), fineBi(T)));
        assertThrows(
                IllegalStateException.class,
                () -> c.onTlsBinding(new byte[0], new byte[32], ActivationVectors.rootA()));
        // Many clients dropped unclosed are freed by the Cleaner; the JVM carries on.
        for (int i = 0; i < 2000; i++) {
            new ApplicationClient(NODE, SECRET).next(T);
        }
        System.gc();
        try (ApplicationClient d = new ApplicationClient(NODE, SECRET)) {
            assertEquals(ApplicationClient.Action.REGISTER, d.next(T).action());
        }
    }

    @Test
    void closingWhileOtherThreadsCallIsSafe() throws Exception {
        for (int round = 0; round < 20; round++) {
            ApplicationClient c = new ApplicationClient(NODE, SECRET);
            java.util.concurrent.atomic.AtomicInteger closedSeen = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<Throwable> unexpected = new java.util.concurrent.atomic.AtomicReference<>();
            List<Thread> threads = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Thread th = new Thread(() -> {
                    for (int i = 0; i < 200; i++) {
                        try {
                            c.status(T);
                            c.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T);
                            c.next(T);
                        } catch (IllegalStateException closed) {
                            closedSeen.incrementAndGet();
                            return;
                        } catch (Throwable other) {
                            unexpected.set(other);
                            return;
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            Thread.sleep(round % 3);
            c.close();
            for (Thread th : threads) {
                th.join(10_000);
            }
            assertNull(unexpected.get());
            assertThrows(IllegalStateException.class, () -> c.next(T));
        }
    }

    @Test
    void truncatedAndMutatedAnswersAreRefusedNeverACrash() {
        byte[] good = answer("answer-registered");
        try (ApplicationClient c = new ApplicationClient(NODE, SECRET)) {
            for (int len = 0; len < good.length; len += Math.max(1, good.length / 20)) {
                c.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T);
                AnswerResult r = c.onAnswer(Arrays.copyOf(good, len), ActivationVectors.rootA(), fineBi(T));
                assertFalse(r.isAccepted(), "truncated to " + len);
            }
            for (int i = 0; i < good.length; i += Math.max(1, good.length / 30)) {
                byte[] m = good.clone();
                m[i] ^= 0x21;
                c.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T);
                assertFalse(c.onAnswer(m, ActivationVectors.rootA(), fineBi(T)).isAccepted(), "byte " + i);
            }
            // After all that, the genuine answer is still accepted.
            c.request(ApplicationClient.RequestKind.REGISTER, NONCE, BODY, T);
            assertTrue(c.onAnswer(good, ActivationVectors.rootA(), fineBi(T)).isAccepted());
        }
    }

    @Test
    void badArgumentsAreDefinedExceptions() {
        assertThrows(NullPointerException.class, () -> new ApplicationClient(null, SECRET));
        assertThrows(NullPointerException.class, () -> new ApplicationClient(NODE, null));
        assertThrows(IllegalArgumentException.class, () -> new ApplicationClient(new byte[15], SECRET));
        assertThrows(IllegalArgumentException.class, () -> new ApplicationClient(NODE, "not hex"));
        assertThrows(IllegalArgumentException.class, () -> new ApplicationClient(NODE, SECRET.substring(2)));
        assertThrows(IllegalArgumentException.class, () -> new ApplicationClient(NODE, SECRET, new byte[31]));
        try (ApplicationClient c = new ApplicationClient(NODE, " " + SECRET.toUpperCase() + "\n")) {
            assertThrows(NullPointerException.class, () -> c.next(null));
            assertThrows(IllegalArgumentException.class, () -> c.next(Instant.ofEpochSecond(-1)));
            assertThrows(NullPointerException.class, () -> c.request(null, NONCE, BODY, T));
            assertThrows(NullPointerException.class, () -> c.request(ApplicationClient.RequestKind.REGISTER, null, BODY, T));
            assertThrows(NullPointerException.class, () -> c.request(ApplicationClient.RequestKind.REGISTER, NONCE, null, T));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> c.request(ApplicationClient.RequestKind.REGISTER, new byte[8], BODY, T));
            assertThrows(NullPointerException.class, () -> c.onAnswer(null, ActivationVectors.rootA(), fineBi(T)));
            assertThrows(NullPointerException.class, () -> c.onAnswer(new byte[0], null, fineBi(T)));
            assertThrows(NullPointerException.class, () -> c.onAnswer(new byte[0], ActivationVectors.rootA(), null));
            assertThrows(IllegalArgumentException.class, () -> c.onAnswer(new byte[0], List.of(), fineBi(T)));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> c.onTlsBinding(new byte[0], new byte[31], ActivationVectors.rootA()));
            // With nothing requested an answer is not even read.
            assertEquals(
                    List.of(AnswerCause.UNREQUESTED),
                    c.onAnswer(new byte[] {1, 2, 3}, ActivationVectors.rootA(), fineBi(T)).causeList());
            // The secret is accepted with spaces around it and in upper case: the MAC is the same.
            ApplicationClient.Request r = c.request(ApplicationClient.RequestKind.HEARTBEAT, NONCE, BODY, T);
            try (ApplicationClient d = new ApplicationClient(NODE, SECRET)) {
                assertEquals(r, d.request(ApplicationClient.RequestKind.HEARTBEAT, NONCE, BODY, T));
            }
        }
        assertEquals(AnswerCause.NONCE_MISMATCH, AnswerCause.ofCode("nonce_mismatch"));
        assertThrows(IllegalArgumentException.class, () -> AnswerCause.ofCode("nope"));
        assertEquals(16, ApplicationClient.newNonce().length);
        assertFalse(Arrays.equals(ApplicationClient.newNonce(), ApplicationClient.newNonce()));
    }
}
