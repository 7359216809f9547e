package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.Objects;

/**
 * What {@link Activation#enter} made of a typed code.
 *
 * @param kind what happened
 * @param at for {@link Kind#ACCEPTED} when the product was activated; for {@link Kind#EXPIRED} when
 *     the challenge was made; for {@link Kind#LOCKED} when input unlocks; otherwise null
 * @param remaining for {@link Kind#WRONG_CODE} how many more wrong codes are allowed before input
 *     locks for 15 minutes; otherwise 0
 * @param message an English sentence for the admin saying what happened and what to do
 */
public record EnterResult(Kind kind, Instant at, int remaining, String message) {
    /** Checks that {@code kind} and {@code message} are set. */
    public EnterResult {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }

    /** Whether the code was right and the product is activated now. */
    public boolean accepted() {
        return kind == Kind.ACCEPTED;
    }

    /** What happened to a typed code (SPEC.md §6.2). */
    public enum Kind {
        /** The right code: the product is activated until all its nodes restart. */
        ACCEPTED,
        /** No challenge is shown: make one ({@link Activation#challenge}) first. */
        NO_CHALLENGE,
        /** Not six digits (spaces around them are ignored). Not counted as a wrong code. */
        NOT_SIX_DIGITS,
        /** The challenge is more than 5 minutes old: make a new one. Not counted. */
        EXPIRED,
        /** Too many wrong codes: input is locked until {@link EnterResult#at()}. Not counted. */
        LOCKED,
        /** A wrong code; the sixth wrong code in a row locks input for 15 minutes. */
        WRONG_CODE,
        /**
         * The license is under receipt policy: no code is ever accepted, only a receipt
         * ({@link Activation#acceptReceipt}). Not counted.
         */
        RECEIPT_REQUIRED
    }
}
