//! Sender authentication: `Authentication-Results` (RFC 8601) from trusted authserv-ids.
