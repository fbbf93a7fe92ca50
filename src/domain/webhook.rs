//! Webhook rules: which URLs may be called, how deliveries are signed, when a failed one is
//! tried again. Pure: the dispatcher (`realtime::webhooks`) and the service apply them.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::{Host, Url};

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "FinAI-Signature";
/// The delivery's id: the same on every retry, so a receiver can drop repeats.
pub const DELIVERY_HEADER: &str = "FinAI-Delivery";
/// The event type (`ping` for a ping).
pub const EVENT_HEADER: &str = "FinAI-Event";

/// A webhook URL as registered: http or https, a host, no credentials, at most 2,048 bytes.
pub fn parse_url(raw: &str) -> Result<Url, String> {
    if raw.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let url = Url::parse(raw.trim()).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http:// or https:// URL".into());
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry credentials (use the signature to authenticate)".into());
    }
    Ok(url)
}

/// The address a URL names literally, if it does (an IP, or `localhost`).
pub fn literal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost"))
                .then_some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        }
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local (cloud
/// metadata services live there), shared (CGNAT), unspecified, multicast, broadcast, reserved
/// or documentation space. A webhook may only reach public addresses unless the operator
/// allows private ones (server-side request forgery otherwise reaches the server's own
/// network).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            // Only global unicast (2000::/3) is on the internet: that leaves out loopback,
            // unique and link-local, multicast, discard-only, site-local and the translation
            // prefixes that carry an IPv4 address to a gateway (NAT64 64:ff9b::/96 and
            // 64:ff9b:1::/48, IPv4-translated ::ffff:0:0:0/96), which would reach a private
            // address or the metadata service behind them. Within it, the special blocks:
            // 2001::/23 (Teredo and other IETF assignments), documentation (2001:db8::/32,
            // 3fff::/20), and 6to4 (2002::/16, an IPv4 address inside).
            let [first, second, ..] = ip.segments();
            (first & 0xe000) == 0x2000
                && !(first == 0x2001 && second < 0x0200)
                && !(first == 0x2001 && second == 0x0db8)
                && first != 0x2002
                && !(first == 0x3fff && second < 0x1000)
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

/// `t=<timestamp>,v1=<signature>` for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={timestamp},v1={digest}")
}

/// How long to wait after the `attempts`-th failed attempt: `base` doubled each time, at most
/// an hour (with base 10 s: 10 s, 20 s, 40 s, ... about 30 attempts in a day).
pub fn retry_delay(attempts: u32, base: Duration) -> Duration {
    let doubled = base.saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
    doubled.min(Duration::from_secs(3600))
}

/// A delivery is given up after a day of failures, and so is an endpoint.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            // Found by an outside test: addresses that carry or reach an IPv4 one.
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::a00:1",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::",
            "::ffff:0:7f00:1",
            "2001::1",
            "100::1",
            "fec0::1",
            "3fff::1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::6810:84e5",
            "2a00:1450:4001:80b::200e",
            "2001:4860:4860::8888",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(parse_url("https://hooks.example.com/finai").is_ok());
        assert!(parse_url("http://93.184.216.34:8080/x").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
            "not a url",
            "http://",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
        let localhost = parse_url("http://LOCALHOST./x").unwrap();
        assert_eq!(
            literal_address(&localhost),
            Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
        );
        let v6 = parse_url("http://[::1]:9/").unwrap();
        assert_eq!(literal_address(&v6), Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(
            literal_address(&parse_url("https://example.com/").unwrap()),
            None
        );
    }

    #[test]
    fn the_signature_is_stripes_recipe_over_timestamp_and_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn retries_back_off_to_an_hour() {
        let base = Duration::from_secs(10);
        assert_eq!(retry_delay(1, base), Duration::from_secs(10));
        assert_eq!(retry_delay(2, base), Duration::from_secs(20));
        assert_eq!(retry_delay(5, base), Duration::from_secs(160));
        assert_eq!(retry_delay(30, base), Duration::from_secs(3600));
    }
}
