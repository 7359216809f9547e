package com.fanruan.fanlic.verifier;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What {@link ApplicationClient#onAnswer} made of an answer of the authorization server: accepted,
 * with the registration's status after it, or refused with every cause (SPEC.md §7.2).
 */
public final class AnswerResult {
    private final RegistrationStatus status;
    private final List<Refusal> causes;

    private AnswerResult(RegistrationStatus status, List<Refusal> causes) {
        this.status = status;
        this.causes = causes;
    }

    static AnswerResult read(NativeResult r) {
        if (r.u8() == 0) {
            return new AnswerResult(RegistrationStatus.read(r), List.of());
        }
        return new AnswerResult(null, r.list(x -> new Refusal(AnswerCause.ofCode(x.text()), x.text())));
    }

    /** Whether the answer was accepted. */
    public boolean isAccepted() {
        return status != null;
    }

    /** The registration's status after an accepted answer; null when refused. */
    public RegistrationStatus status() {
        return status;
    }

    /** Every cause of a refusal, in order; empty when accepted. */
    public List<Refusal> causes() {
        return causes;
    }

    /** The causes alone, in order. */
    public List<AnswerCause> causeList() {
        return causes.stream().map(Refusal::cause).collect(Collectors.toUnmodifiableList());
    }

    /** An English sentence saying what happened, to show or log. */
    public String message() {
        if (isAccepted()) {
            return "the answer of the authorization server is accepted";
        }
        return "answer of the authorization server refused: "
                + causes.stream().map(Refusal::message).collect(Collectors.joining("; "));
    }

    @Override
    public String toString() {
        return "AnswerResult[" + (isAccepted() ? status : message()) + "]";
    }

    /**
     * One cause of a refusal.
     *
     * @param cause the cause
     * @param message an English sentence saying what is wrong
     */
    public record Refusal(AnswerCause cause, String message) {
        /** Checks that both are set. */
        public Refusal {
            Objects.requireNonNull(cause, "cause");
            Objects.requireNonNull(message, "message");
        }
    }
}
