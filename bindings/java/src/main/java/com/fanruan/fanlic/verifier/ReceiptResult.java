package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What became of an activation receipt ({@link Activation#acceptReceipt}, {@link Receipt#verify}):
 * accepted with its contents, refused with every cause, or (for {@link Activation#acceptReceipt})
 * no challenge to answer.
 */
public final class ReceiptResult {
    private final Kind kind;
    private final Accepted accepted;
    private final List<Refusal> causes;
    private final String message;

    private ReceiptResult(Kind kind, Accepted accepted, List<Refusal> causes, String message) {
        this.kind = kind;
        this.accepted = accepted;
        this.causes = causes;
        this.message = message;
    }

    static ReceiptResult read(NativeResult r) {
        Kind kind = Kind.values()[r.u8()];
        switch (kind) {
            case ACCEPTED:
                Accepted a = new Accepted(
                        r.time(),
                        r.bytes(),
                        r.bytes(),
                        r.bytes(),
                        r.time(),
                        r.time(),
                        r.u32(),
                        r.optionalBytes(),
                        r.optionalBytes(),
                        toSequence(r.u64()));
                return new ReceiptResult(kind, a, List.of(), "the activation receipt is accepted");
            case REFUSED:
                List<Refusal> causes = r.list(x -> new Refusal(ReceiptCause.ofCode(x.text()), x.text()));
                String m = "activation receipt refused: "
                        + causes.stream().map(Refusal::message).collect(Collectors.joining("; "));
                return new ReceiptResult(kind, null, causes, m);
            default:
                return new ReceiptResult(kind, null, List.of(), r.text());
        }
    }

    private static Long toSequence(long v) {
        return v == -1 ? null : v;
    }

    /** What happened. */
    public Kind kind() {
        return kind;
    }

    /** Whether the receipt was accepted (and, through {@link Activation#acceptReceipt}, the product activated). */
    public boolean isAccepted() {
        return kind == Kind.ACCEPTED;
    }

    /** The accepted receipt; null unless {@link #isAccepted()}. */
    public Accepted accepted() {
        return accepted;
    }

    /** Every cause of a refusal, in SPEC.md §6.4's order; empty unless {@link Kind#REFUSED}. */
    public List<Refusal> causes() {
        return causes;
    }

    /** The causes alone, in order. */
    public List<ReceiptCause> causeList() {
        return causes.stream().map(Refusal::cause).collect(Collectors.toUnmodifiableList());
    }

    /** An English sentence saying what happened, to show or log. */
    public String message() {
        return message;
    }

    @Override
    public String toString() {
        return "ReceiptResult[" + kind + ": " + message + "]";
    }

    /** What became of a receipt. */
    public enum Kind {
        /** Accepted (through {@link Activation#acceptReceipt}: the product is activated). */
        ACCEPTED,
        /** Refused: see {@link ReceiptResult#causes()}. */
        REFUSED,
        /** No challenge is shown, or the one a receipt answered is used up: make a new challenge. */
        NO_CHALLENGE,
        /** The challenge shown is more than 5 minutes old: make a new one and activate again. */
        CHALLENGE_EXPIRED
    }

    /**
     * One cause of a refusal.
     *
     * @param cause the cause
     * @param message an English sentence saying what is wrong
     */
    public record Refusal(ReceiptCause cause, String message) {
        /** Checks that both are set. */
        public Refusal {
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(message, "message");
        }
    }

    /**
     * An accepted receipt's contents. Byte arrays are the caller's to keep (not shared).
     *
     * @param activatedAt when {@link Activation#acceptReceipt} activated the product; null from
     *     {@link Receipt#verify}
     * @param receiptId the receipt's 32-byte id (SPEC.md §6.4), what a server's next challenge names
     * @param keyId the 8-byte id of the receipt key that signed it
     * @param licenseId the 16-byte id of the license it is for
     * @param vendorTime the vendor's time when it signed
     * @param leaseUntil the end of the activation lease, or null for none
     * @param maxNodes the license's node count as the receipt states it
     * @param instancePublicKey the authorization server instance key it binds, or null (a product's)
     * @param previousReceipt the id of the receipt it follows, or null
     * @param deliveredListSequence the sequence of the revocation list it delivers, when that list
     *     verified; null otherwise
     */
    public record Accepted(
            Instant activatedAt,
            byte[] receiptId,
            byte[] keyId,
            byte[] licenseId,
            Instant vendorTime,
            Instant leaseUntil,
            int maxNodes,
            byte[] instancePublicKey,
            byte[] previousReceipt,
            Long deliveredListSequence) {}
}
