//! The limits a server on a customer's network needs against slow or greedy
//! clients: the connection loop (`net`), the TLS handshakes (`tls`) and the
//! router (`http`) all enforce them.

use core::time::Duration;

/// How long a client has to send a request's headers (and how long a
/// keep-alive connection may sit idle).
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take, its body included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest request body: the application API's JSON and the forms are far
/// smaller.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Connections open at once, all clients together.
pub const MAX_CONNECTIONS: usize = 512;
/// Connections open at once from one address.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 32;
