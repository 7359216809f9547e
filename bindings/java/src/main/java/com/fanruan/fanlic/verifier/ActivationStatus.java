package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.Objects;

/**
 * Where activation stands at a given time ({@link Activation#status}).
 *
 * @param kind where it stands
 * @param at for {@link Kind#AWAITING_CODE} when the challenge shown expires; for {@link Kind#LOCKED}
 *     when input unlocks; for {@link Kind#ACTIVATED} when the product was activated; otherwise null
 */
public record ActivationStatus(Kind kind, Instant at) {
    /** Checks that {@code kind} is set. */
    public ActivationStatus {
        Objects.requireNonNull(kind, "kind");
    }

    /** Where activation stands (SPEC.md §6.2). */
    public enum Kind {
        /** Not activated, and no valid challenge is shown. */
        NOT_ACTIVATED,
        /** A challenge is shown and valid until {@link ActivationStatus#at()}. */
        AWAITING_CODE,
        /** Input is locked after too many wrong codes, until {@link ActivationStatus#at()}. */
        LOCKED,
        /** Activated at {@link ActivationStatus#at()}, until all nodes restart ({@link Activation#restart()}). */
        ACTIVATED
    }
}
