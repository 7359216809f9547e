package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.Objects;

/**
 * Where a node's registration with its authorization server stands ({@link
 * ApplicationClient#status}, SPEC.md §7.5).
 *
 * @param kind where it stands
 * @param at for {@link Kind#REGISTERED} the first instant at which the registration fails without
 *     another answer; for {@link Kind#FAILED} that instant, passed; otherwise null
 * @param nodes for {@link Kind#REGISTERED} the nodes registered with the server, by its last answer;
 *     otherwise 0
 */
public record RegistrationStatus(Kind kind, Instant at, int nodes) {
    /** Checks that {@code kind} is set. */
    public RegistrationStatus {
        Objects.requireNonNull(kind, "kind");
    }

    static RegistrationStatus read(NativeResult r) {
        return new RegistrationStatus(Kind.values()[r.u8()], r.time(), r.u32());
    }

    /** Where a registration stands. */
    public enum Kind {
        /** No answer accepted yet. */
        NOT_REGISTERED,
        /** Registered until {@link RegistrationStatus#at()}. */
        REGISTERED,
        /** Failed: no accepted answer within 24 hours (or the server's lease ended). */
        FAILED,
        /** The server confirmed this node's deregistration. */
        DEREGISTERED
    }
}
