package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.time.LocalDate;

/**
 * The fields of a license whose signatures hold (SPEC.md §3.3): the vendor's claims. The per-license
 * activation key is not exposed (it is secret-ish); {@link #hasActivationKey()} says whether there is one.
 *
 * @param id the license id, 32 lower-case hex digits
 * @param kind the authentication method the license is for
 * @param appName application name, e.g. {@code FineReport}
 * @param company the customer's company
 * @param project project name ("project content")
 * @param contractSigned contract signing date
 * @param issuedAt when the issuer signed
 * @param notBefore not valid before
 * @param expiry the expiration date, or {@code null} for a perpetual license
 * @param version licensed version, {@code major.minor}
 * @param maxNodes the most cluster nodes the license registers (at least 1)
 * @param activationBaseUrl the activation service's base URL, or {@code null}
 * @param supersedes the id of the license this one replaces (hex), or {@code null}
 * @param imagePublicKey the private-cloud image public key (32 bytes), or {@code null}
 * @param requestEmailSha256 SHA-256 of the request mail (32 bytes), or {@code null}
 * @param hasActivationKey whether the license carries an activation key
 * @param activationPolicy how it is activated: {@code code} or {@code receipt}
 */
public record License(
        String id,
        Environment.Method kind,
        String appName,
        String company,
        String project,
        LocalDate contractSigned,
        Instant issuedAt,
        Instant notBefore,
        LocalDate expiry,
        String version,
        long maxNodes,
        String activationBaseUrl,
        String supersedes,
        byte[] imagePublicKey,
        byte[] requestEmailSha256,
        boolean hasActivationKey,
        String activationPolicy) {

    /** Whether the license never expires. */
    public boolean perpetual() {
        return expiry == null;
    }

    /** Reads the native answer's license fields (verify.rs {@code encode}) from {@code r}. */
    static License decode(Reader r) {
        String id = Reader.hex(r.bytes(16));
        Environment.Method kind = r.u8() == 0 ? Environment.Method.LOCAL_CONTAINER : Environment.Method.PRIVATE_CLOUD;
        String appName = r.str();
        String company = r.str();
        String project = r.str();
        LocalDate contractSigned = r.date();
        Instant issuedAt = Instant.ofEpochSecond(r.u64());
        Instant notBefore = Instant.ofEpochSecond(r.u64());
        LocalDate expiry = r.u8() == 1 ? r.date() : null;
        int major = r.u16();
        int minor = r.u16();
        long maxNodes = r.u32();
        String url = r.u8() == 1 ? r.str() : null;
        String supersedes = r.u8() == 1 ? Reader.hex(r.bytes(16)) : null;
        byte[] image = r.u8() == 1 ? r.bytes(32) : null;
        byte[] mail = r.u8() == 1 ? r.bytes(32) : null;
        boolean hasKey = r.u8() == 1;
        String policy = r.u8() == 0 ? "code" : "receipt";
        return new License(id, kind, appName, company, project, contractSigned, issuedAt, notBefore, expiry,
                major + "." + minor, maxNodes, url, supersedes, image, mail, hasKey, policy);
    }
}
