package com.fanruan.fanlic.verifier;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of {@link Verifier#verify}: valid, or every failing cause at once in the specification's
 * order, with the license's fields whenever its signatures held, and the texts a person reads about each
 * cause — the registration page's title, the prompt with the values that failed, and the advice — in
 * English or Simplified Chinese: the same texts {@code fanlic verify} prints.
 *
 * <p>Immutable and thread-safe. The texts are made on first request (by the native library, verifying the
 * same input again), so a product that only branches on {@link #causes()} pays for no strings.
 */
public final class Result {
    private final Verifier verifier;
    private final byte[] license;
    private final Environment env;
    private final RevocationList revocations;
    private final List<Cause> causes;
    private final String contentError;
    private final byte[] answer;
    private final int licenseAt;
    private volatile License decoded;
    private final Map<Lang, String[]> texts = Collections.synchronizedMap(new EnumMap<>(Lang.class));

    Result(Verifier verifier, byte[] license, Environment env, RevocationList revocations, byte[] answer) {
        this.verifier = verifier;
        this.license = license;
        this.env = env;
        this.revocations = revocations;
        this.answer = answer;
        Reader r = new Reader(answer);
        r.u8();
        int mask = r.u16();
        if (mask == 0) {
            causes = List.of();
        } else {
            List<Cause> c = new ArrayList<>(Integer.bitCount(mask));
            for (int i = 0; i < 16; i++) {
                if ((mask & (1 << i)) != 0) {
                    c.add(Cause.ofBit(i));
                }
            }
            causes = Collections.unmodifiableList(c);
        }
        String reason = r.str();
        contentError = reason.isEmpty() ? null : reason;
        licenseAt = r.u8() == 1 ? r.position() : -1;
    }

    /** Whether the license is valid here: no cause at all. */
    public boolean valid() {
        return causes.isEmpty();
    }

    /** Every failing cause, in the specification's order; empty when valid. */
    public List<Cause> causes() {
        return causes;
    }

    /** Whether {@code cause} is among the causes. */
    public boolean has(Cause cause) {
        return causes.contains(cause);
    }

    /**
     * Why the content is incorrect when the cause is {@link Cause#CONTENT_INCORRECT}: a stable code —
     * {@code bad_armor}, {@code unknown_format}, {@code bad_encoding}, {@code unknown_root_key},
     * {@code bad_signature}, {@code issuing_key_outside_window}, {@code kind_not_certified}.
     */
    public Optional<String> contentError() {
        return Optional.ofNullable(contentError);
    }

    /**
     * The license's fields, whenever its signatures held (valid or not); empty when the cause is
     * {@link Cause#CONTENT_INCORRECT}, whose claims are not the vendor's.
     */
    public Optional<License> license() {
        if (licenseAt < 0) {
            return Optional.empty();
        }
        License l = decoded;
        if (l == null) {
            l = License.decode(new Reader(answer, licenseAt));
            decoded = l;
        }
        return Optional.of(l);
    }

    /** The product's name of the cause (e.g. "License Expired", "许可证过期"). */
    public String title(Cause cause, Lang lang) {
        return text(cause, lang, 0);
    }

    /** The cause's details with the values that failed (dates as {@code YYYY/MM/DD}). */
    public String prompt(Cause cause, Lang lang) {
        return text(cause, lang, 1);
    }

    /** What to do next. */
    public String advice(Cause cause, Lang lang) {
        return text(cause, lang, 2);
    }

    /** The title and the prompt on one line, as {@code fanlic verify} prints them. */
    public String message(Cause cause, Lang lang) {
        return title(cause, lang) + (lang == Lang.ZH_CN ? "。" : ". ") + prompt(cause, lang);
    }

    private String text(Cause cause, Lang lang, int which) {
        int i = causes.indexOf(cause);
        if (i < 0) {
            throw new IllegalArgumentException(cause.code() + " is not a cause of this result: " + causes);
        }
        String[] t = texts.computeIfAbsent(lang, l -> verifier.texts(license, env, revocations, l));
        if (t.length != 3 * causes.size()) {
            throw new IllegalStateException("the texts do not match the causes: " + t.length + " for " + causes);
        }
        return t[3 * i + which];
    }

    @Override
    public String toString() {
        return valid() ? "valid" : "invalid: " + causes;
    }
}
