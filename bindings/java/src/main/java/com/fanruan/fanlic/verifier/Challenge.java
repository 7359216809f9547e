package com.fanruan.fanlic.verifier;

import java.time.Duration;
import java.time.Instant;

/**
 * An activation challenge made by {@link Activation#challenge}: show {@link #url()} as a QR code
 * (and as a link) on the registration page. The admin scans it with a phone, the vendor's service
 * opens it and shows a 6-digit code to type back ({@link Activation#enter}), or, for a license
 * under receipt policy, gives a receipt file to upload ({@link Activation#acceptReceipt}).
 *
 * <p>A challenge is valid for {@link #VALID_FOR} (5 minutes) from {@link #issuedAt()}; after that,
 * make a new one.
 */
public final class Challenge {
    /** How long a challenge is valid: 5 minutes. */
    public static final Duration VALID_FOR = Duration.ofMinutes(5);

    private final byte[] token;
    private final String url;
    private final Instant issuedAt;
    private final boolean receiptPolicy;
    private final byte[] tokenSha256;
    private final byte[] licenseId;

    Challenge(NativeResult r) {
        this.token = r.bytes();
        this.url = r.text();
        this.issuedAt = r.time();
        this.receiptPolicy = r.u8() != 0;
        this.tokenSha256 = r.bytes();
        this.licenseId = r.bytes();
    }

    /** The URL to show as a QR code: the license's activation base URL, a slash, the token in base64url. */
    public String url() {
        return url;
    }

    /** The raw token ({@code version || body || tag}), a copy. */
    public byte[] token() {
        return token.clone();
    }

    /** SHA-256 of the raw token: what a receipt for this challenge names. A copy. */
    public byte[] tokenSha256() {
        return tokenSha256.clone();
    }

    /** When it was made (the {@code now} of the environment it was made with). */
    public Instant issuedAt() {
        return issuedAt;
    }

    /** The first instant at which it is expired: {@link #issuedAt()} plus {@link #VALID_FOR}. */
    public Instant expiresAt() {
        return issuedAt.plus(VALID_FOR);
    }

    /**
     * Whether the license is under receipt policy: then no code is accepted, only a receipt from the
     * vendor's service ({@link Activation#acceptReceipt}); show an upload field instead of a code field.
     */
    public boolean receiptPolicy() {
        return receiptPolicy;
    }

    /** The 16-byte id of the license it is for, a copy. */
    public byte[] licenseId() {
        return licenseId.clone();
    }

    @Override
    public String toString() {
        return "Challenge[issuedAt=" + issuedAt + ", receiptPolicy=" + receiptPolicy + ", url=" + url + "]";
    }
}
