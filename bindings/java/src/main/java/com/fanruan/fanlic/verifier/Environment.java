package com.fanruan.fanlic.verifier;

import java.time.Instant;
import java.util.Objects;

/**
 * What the product knows about itself when it checks a license: the fields of its
 * registration page, the node count and the time (the verifier has no clock of its own).
 *
 * @param appName local application name, e.g. {@code FineReport}
 * @param version local version, e.g. {@code 11.0.20}; matched on major.minor
 * @param project local project name ("project content")
 * @param nodes nodes currently in the cluster (1 when standalone)
 * @param method the authentication method the admin selected
 * @param now the current time
 * @param lastSeen the latest time this product has seen before, or {@code null}
 */
public record Environment(
        String appName, String version, String project, int nodes, Method method, Instant now, Instant lastSeen) {
    /** Checks that every field but {@code lastSeen} is set. */
    public Environment {
        Objects.requireNonNull(appName, "appName");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(project, "project");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(now, "now");
        if (nodes < 0) {
            throw new IllegalArgumentException("nodes must not be negative: " + nodes);
        }
    }

    /** The authentication method the admin selected on the registration page. */
    public enum Method {
        /** Local container: a {@code Container.lic} checked on the product itself. */
        LOCAL_CONTAINER,
        /** Private cloud: the authorization server on the customer's premises. */
        PRIVATE_CLOUD
    }
}
