package com.fanruan.fanlic.verifier;

import java.lang.ref.Cleaner;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A product node's client of its authorization server (private cloud, SPEC.md §7.3, §7.5): a state
 * machine with no clock and no I/O. The product does the HTTPS; this says what to send and when,
 * signs each request with the cluster's join secret, and checks every answer.
 *
 * <p>The loop, run by one thread of the product:
 *
 * <pre>{@code
 * try (ApplicationClient client = new ApplicationClient(nodeId, joinSecret, savedInstanceKeyOrNull)) {
 *     while (running) {
 *         Instant now = Instant.now();
 *         ApplicationClient.Next next = client.next(now);
 *         switch (next.action()) {
 *             case WAIT -> { sleepUntil(next.at()); continue; }
 *             case REGISTRATION_FAILED -> { showRegistrationFailed(next.at()); continue; }
 *             default -> {}
 *         }
 *         RequestKind kind = next.action() == Action.REGISTER ? RequestKind.REGISTER : RequestKind.HEARTBEAT;
 *         byte[] nonce = ApplicationClient.newNonce();
 *         byte[] body = json(nodeId, nonce);                  // SPEC.md §7.3's body, with this nonce
 *         ApplicationClient.Request request = client.request(kind, nonce, body, now);
 *         // new TLS connection: TlsBinding's steps first (client.onTlsBinding), then
 *         // POST request.path() with "Authorization: " + request.authorization() and body
 *         byte[] answer = postOrNull(request, body);
 *         if (answer == null) { client.onFailure(Instant.now()); continue; }
 *         AnswerResult r = client.onAnswer(answer, rootKeys, environment(Instant.now()));
 *         if (!r.isAccepted()) { log(r.message()); }        // retried 300 s later
 *         client.pinnedInstanceKey().ifPresent(this::saveInstanceKey);
 *     }
 * }
 * }</pre>
 *
 * <ul>
 *   <li>It registers at start and sends a heartbeat 7200 seconds after each accepted answer; after a
 *       failed attempt (no answer, a connection error, a refused answer) it tries again 300 seconds
 *       later.
 *   <li>The registration fails when the last accepted answer's {@code valid_until} passes (no
 *       feedback within 24 hours; under a lease, at its end if sooner): {@link #next} says so once.
 *   <li>Only an answer to the one outstanding request is accepted (its nonce); a replayed answer is
 *       refused.
 *   <li>It pins the instance key of the first accepted TLS binding or answer: another instance (a
 *       copy of the server) is refused for the life of the client. Persist {@link
 *       #pinnedInstanceKey()} and pass it to the constructor after a restart.
 * </ul>
 *
 * <p>The state lives in native memory: {@link #close()} frees it (a {@link Cleaner} frees it too
 * if the client is dropped unclosed). After {@code close()} every method but {@code close()}
 * throws {@link IllegalStateException}. Thread-safe: calls are serialized.
 */
public final class ApplicationClient implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final SecureRandom RANDOM = new SecureRandom();

    static {
        NativeLibrary.load();
    }

    /** The native address, freed once: by close() or by the Cleaner, under its own lock. */
    private static final class Handle implements Runnable {
        private long address;

        Handle(long address) {
            this.address = address;
        }

        /** The address, for a call made while holding this handle's lock. */
        long address() {
            if (address == 0) {
                throw new IllegalStateException("the ApplicationClient is closed");
            }
            return address;
        }

        @Override
        public synchronized void run() {
            long a = address;
            address = 0;
            // Under the lock: no call is using the address while it is freed.
            nativeFree(a);
        }
    }

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;

    /**
     * A node that has not registered yet and has pinned no instance key.
     *
     * @param nodeId this node's 16-byte id, which the product keeps
     * @param joinSecret the cluster's join secret as the authorization server shows it: 64 hex digits
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code nodeId} is not 16 bytes or the join secret not 64 hex digits
     */
    public ApplicationClient(byte[] nodeId, String joinSecret) {
        this(nodeId, joinSecret, null);
    }

    /**
     * A node that has not registered yet, with the instance key it pinned before (or none).
     *
     * @param nodeId this node's 16-byte id, which the product keeps
     * @param joinSecret the cluster's join secret as the authorization server shows it: 64 hex digits
     * @param pinnedInstanceKey the 32-byte instance key from {@link #pinnedInstanceKey()} of an earlier
     *     run, or null when none was pinned
     * @throws NullPointerException if {@code nodeId} or {@code joinSecret} is null
     * @throws IllegalArgumentException if {@code nodeId} is not 16 bytes, the join secret not 64 hex
     *     digits, or the key not 32 bytes
     */
    public ApplicationClient(byte[] nodeId, String joinSecret, byte[] pinnedInstanceKey) {
        Objects.requireNonNull(nodeId, "nodeId");
        byte[] secret = NativeResult.utf8(joinSecret, "joinSecret");
        long address = nativeNew(nodeId, secret, pinnedInstanceKey);
        this.handle = new Handle(address);
        this.cleanable = CLEANER.register(this, handle);
    }

    /** 16 fresh random bytes from {@link SecureRandom}: a request's nonce. */
    public static byte[] newNonce() {
        byte[] n = new byte[16];
        RANDOM.nextBytes(n);
        return n;
    }

    /**
     * What to do at {@code now}.
     *
     * @param now the current time
     * @return register, heartbeat, wait until a time, or "the registration has just failed"
     * @throws IllegalStateException if the client is closed
     */
    public Next next(Instant now) {
        long t = NativeResult.seconds(now, "now");
        synchronized (handle) {
            NativeResult r = new NativeResult(nativeNext(handle.address(), t));
            return new Next(Action.values()[r.u8()], r.time());
        }
    }

    /**
     * Makes the request to send at {@code now} and remembers it as the one outstanding (a later
     * request replaces it); until its answer or {@link #onFailure}, {@link #next} waits 300 seconds.
     *
     * @param kind what to ask
     * @param nonce 16 fresh random bytes ({@link #newNonce()}), the same as in {@code body}
     * @param body the exact bytes of the JSON body to send (SPEC.md §7.3), which the MAC covers
     * @param now the current time
     * @return the path to POST to and the {@code Authorization} header's value
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code nonce} is not 16 bytes
     * @throws IllegalStateException if the client is closed
     */
    public Request request(RequestKind kind, byte[] nonce, byte[] body, Instant now) {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(nonce, "nonce");
        Objects.requireNonNull(body, "body");
        long t = NativeResult.seconds(now, "now");
        synchronized (handle) {
            NativeResult r = new NativeResult(nativeRequest(handle.address(), kind.ordinal(), nonce, body, t));
            return new Request(kind, r.text(), r.text());
        }
    }

    /**
     * Checks the answer to the outstanding request against the root keys and this product's
     * environment at {@code env.now()} (SPEC.md §7.2). Accepted, the request is consumed, the instance
     * key pinned if none was, and the registration moves on; refused, nothing changes but the next
     * attempt (in 300 seconds), and the outstanding request may still get its genuine answer.
     *
     * @param answer the answer file the server sent
     * @param rootKeys the vendor's root public keys (1 to 8, 32 bytes each)
     * @param env this product's environment; the server license is checked against it as a
     *     private-cloud license
     * @return accepted with the new status, or refused with every cause
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException if the client is closed
     */
    public AnswerResult onAnswer(byte[] answer, List<byte[]> rootKeys, Environment env) {
        Objects.requireNonNull(answer, "answer");
        Objects.requireNonNull(env, "env");
        NativeResult.seconds(env.now(), "env.now");
        byte[][] roots = NativeResult.roots(rootKeys);
        synchronized (handle) {
            return AnswerResult.read(new NativeResult(nativeOnAnswer(handle.address(), answer, roots, env)));
        }
    }

    /**
     * Checks the TLS binding fetched over a new connection before anything else is sent on it (see
     * {@link TlsBinding} for the steps). Bound, it pins the binding's instance key if none is pinned
     * (along the vendor's chain: only an instance an image of this license certified); refused, it
     * changes nothing: close the connection.
     *
     * @param binding the file served at {@code /api/v1/tls-binding}
     * @param connectionSpkiSha256 {@link TlsBinding#spkiSha256(java.security.cert.Certificate)} of the
     *     connection's peer certificate
     * @param rootKeys the vendor's root public keys (1 to 8, 32 bytes each)
     * @return bound, or the first check that failed
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the hash is not 32 bytes
     * @throws IllegalStateException if the client is closed
     */
    public TlsBindingResult onTlsBinding(byte[] binding, byte[] connectionSpkiSha256, List<byte[]> rootKeys) {
        Objects.requireNonNull(binding, "binding");
        Objects.requireNonNull(connectionSpkiSha256, "connectionSpkiSha256");
        byte[][] roots = NativeResult.roots(rootKeys);
        synchronized (handle) {
            return TlsBindingResult.read(
                    new NativeResult(nativeOnTlsBinding(handle.address(), binding, connectionSpkiSha256, roots)));
        }
    }

    /**
     * The request got no answer (time-out, connection error, an HTTP error): it is dropped, and the
     * next attempt is 300 seconds after {@code now}.
     *
     * @param now the current time
     * @throws IllegalStateException if the client is closed
     */
    public void onFailure(Instant now) {
        long t = NativeResult.seconds(now, "now");
        synchronized (handle) {
            nativeOnFailure(handle.address(), t);
        }
    }

    /**
     * Where the registration stands at {@code now} (failed once {@code now} reaches the last answer's
     * {@code valid_until}, whether or not {@link #next} was called).
     *
     * @param now the current time
     * @return the status
     * @throws IllegalStateException if the client is closed
     */
    public RegistrationStatus status(Instant now) {
        long t = NativeResult.seconds(now, "now");
        synchronized (handle) {
            return RegistrationStatus.read(new NativeResult(nativeStatus(handle.address(), t)));
        }
    }

    /**
     * The pinned instance key (32 bytes, a copy), once a binding or an answer was accepted or one was
     * given to the constructor: persist it and give it to the constructor after a restart.
     *
     * @return the key, or empty
     * @throws IllegalStateException if the client is closed
     */
    public Optional<byte[]> pinnedInstanceKey() {
        synchronized (handle) {
            return Optional.ofNullable(new NativeResult(nativePinned(handle.address())).optionalBytes());
        }
    }

    /** Frees the native state. Idempotent: a second call does nothing. */
    @Override
    public void close() {
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "ApplicationClient[join secret hidden]";
    }

    /**
     * What the client should do.
     *
     * @param action the step
     * @param at for {@link Action#WAIT} when to call {@link #next} again; for {@link
     *     Action#REGISTRATION_FAILED} the {@code valid_until} that passed; otherwise null
     */
    public record Next(Action action, Instant at) {}

    /** A step of the client (SPEC.md §7.5). */
    public enum Action {
        /** Send a registration ({@link RequestKind#REGISTER}) now. */
        REGISTER,
        /** Send a heartbeat ({@link RequestKind#HEARTBEAT}) now. */
        HEARTBEAT,
        /** Nothing to send before {@link Next#at()}. */
        WAIT,
        /**
         * The registration has just failed: no feedback within 24 hours. Reported once; the next call
         * says to register again.
         */
        REGISTRATION_FAILED
    }

    /** What a request asks (SPEC.md §7.3). */
    public enum RequestKind {
        /** {@code POST /api/v1/register}. */
        REGISTER,
        /** {@code POST /api/v1/heartbeat}. */
        HEARTBEAT,
        /** {@code POST /api/v1/deregister}. */
        DEREGISTER
    }

    /**
     * A request to send.
     *
     * @param kind what it asks
     * @param path the path to POST to, e.g. {@code /api/v1/heartbeat}
     * @param authorization the value of its {@code Authorization} header, {@code FANLIC-HMAC-SHA256
     *     <at>:<mac>}: a MAC of path, time and body under the join secret, which never travels
     */
    public record Request(RequestKind kind, String path, String authorization) {}

    private static native long nativeNew(byte[] nodeId, byte[] joinSecret, byte[] pinnedInstanceKey);

    private static native void nativeFree(long handle);

    private static native byte[] nativeNext(long handle, long now);

    private static native byte[] nativeRequest(long handle, int kind, byte[] nonce, byte[] body, long now);

    private static native byte[] nativeOnAnswer(long handle, byte[] answer, byte[][] rootKeys, Environment env);

    private static native byte[] nativeOnTlsBinding(
            long handle, byte[] binding, byte[] connectionSpkiSha256, byte[][] rootKeys);

    private static native void nativeOnFailure(long handle, long now);

    private static native byte[] nativeStatus(long handle, long now);

    private static native byte[] nativePinned(long handle);
}
