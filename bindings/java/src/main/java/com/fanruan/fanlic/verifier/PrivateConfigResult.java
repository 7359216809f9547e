package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.List;

/**
 * What {@link PrivateConfig#verify} made of a {@code privateConfig} file: valid with its contents,
 * or refused with the first check that failed.
 *
 * @param valid whether every signature and id holds
 * @param cause why not; null when valid
 * @param message an English sentence saying why not; null when valid
 * @param licenseId the server license's 16-byte id; null when refused
 * @param instancePublicKey the certified instance key (32 bytes); null when refused
 * @param generation the file's generation, raised at every write; 0 when refused
 * @param activatedAt when the server was activated, or null (not activated, or refused)
 * @param logHead the 32-byte head of its event log's hash chain; null when refused
 * @param events the number of events it records; 0 when refused
 * @param nodes the registered nodes; empty when refused
 */
public record PrivateConfigResult(
        boolean valid,
        PrivateConfigCause cause,
        String message,
        byte[] licenseId,
        byte[] instancePublicKey,
        long generation,
        Instant activatedAt,
        byte[] logHead,
        long events,
        List<Node> nodes) {
    static PrivateConfigResult read(NativeResult r) {
        if (r.u8() != 0) {
            return new PrivateConfigResult(
                    false, PrivateConfigCause.ofCode(r.text()), r.text(), null, null, 0, null, null, 0, List.of());
        }
        byte[] licenseId = r.bytes();
        byte[] instance = r.bytes();
        long generation = r.u64();
        Instant activatedAt = r.time();
        byte[] logHead = r.bytes();
        long events = r.u64();
        List<Node> nodes = r.list(x -> new Node(x.bytes(), x.time(), x.time()));
        return new PrivateConfigResult(
                true, null, null, licenseId, instance, generation, activatedAt, logHead, events, nodes);
    }

    /**
     * A node registered with the server.
     *
     * @param nodeId its 16-byte id
     * @param registeredAt when it registered
     * @param lastSeen when the server last heard from it
     */
    public record Node(byte[] nodeId, Instant registeredAt, Instant lastSeen) {}

    @Override
    public String toString() {
        return valid ? "PrivateConfigResult[valid, generation " + generation + "]"
                : "PrivateConfigResult[" + cause.code() + ": " + message + "]";
    }
}
