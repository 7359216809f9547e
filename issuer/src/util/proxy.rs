//! The client behind a reverse proxy: believed only from a proxy the
//! operator named (`--trusted-proxy`), never from anyone else.

use core::net::IpAddr;

use axum::http::HeaderMap;

/// The client a trusted proxy names: the right-most `X-Forwarded-For`
/// address that is not itself a trusted proxy (the left ones are whatever
/// the client claimed).
pub(crate) fn forwarded_for(headers: &HeaderMap, proxies: &[IpAddr]) -> Option<IpAddr> {
    let all: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    all.into_iter().rev().find(|a| !proxies.contains(a))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn the_right_most_address_not_a_proxy_is_the_client() {
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "1.1.1.1, 203.0.113.7".parse().unwrap());
        h.append("x-forwarded-for", "10.0.0.2".parse().unwrap());
        assert_eq!(forwarded_for(&h, &[proxy]), Some("203.0.113.7".parse().unwrap()));
        assert_eq!(forwarded_for(&HeaderMap::new(), &[proxy]), None);
    }
}
