//! `[server] trusted_proxies`: the CIDRs whose `X-Forwarded-*` headers
//! cutover believes. Parsed here into [`TrustedProxies`]; the proxy asks it
//! about the TCP peer of each request. Pure; no serde.

use std::net::IpAddr;

/// One `address/prefix` block. IPv4-mapped IPv6 peers match IPv4 blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `"10.0.0.0/8"`, `"fd00::/8"`, or a bare address (a /32 or /128).
    /// Host bits must be zero, so a typo like `10.0.0.1/8` is caught.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| {
            format!(
                "`{text}` is not a CIDR: write ADDRESS/PREFIX, e.g. \"10.0.0.0/8\" or \"fd00::/8\""
            )
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.trim().parse::<u8>() {
                Ok(n) if n <= max => n,
                _ => {
                    return Err(format!(
                        "`{text}`: the prefix length must be 0..={max} for this address"
                    ));
                }
            },
        };
        let cidr = Cidr { addr, prefix };
        if cidr.network() != bits(addr) {
            return Err(format!(
                "`{text}` has host bits set: write the network address, e.g. \"{}/{prefix}\"",
                cidr.network_addr()
            ));
        }
        Ok(cidr)
    }

    fn mask(&self) -> u128 {
        let (width, full) = if self.addr.is_ipv4() {
            (32, u128::from(u32::MAX))
        } else {
            (128, u128::MAX)
        };
        match u32::from(self.prefix) {
            0 => 0,
            p => (u128::MAX << (width - p)) & full,
        }
    }

    fn network(&self) -> u128 {
        bits(self.addr) & self.mask()
    }

    fn network_addr(&self) -> IpAddr {
        let n = self.network();
        match self.addr {
            IpAddr::V4(_) => IpAddr::V4(std::net::Ipv4Addr::from(n as u32)),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::from(n)),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        ip.is_ipv4() == self.addr.is_ipv4() && bits(ip) & self.mask() == self.network()
    }
}

fn bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The proxies in front of cutover whose `X-Forwarded-*` are believed.
/// Empty (the default): every client-sent `X-Forwarded-Host`/`-Proto` is
/// overwritten and the client IP is the TCP peer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    pub fn new(blocks: Vec<Cidr>) -> TrustedProxies {
        TrustedProxies(blocks)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client behind a trusted `peer`: the right-most `X-Forwarded-For`
    /// entry that is not itself a trusted proxy (entries to its left are the
    /// client's own claims). `peer` itself when it is not trusted or the
    /// header says nothing usable.
    pub fn client_ip<'a>(&self, peer: IpAddr, xff: impl Iterator<Item = &'a str>) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<IpAddr> = xff
            .flat_map(|v| v.split(','))
            .filter_map(|h| h.trim().parse().ok())
            .collect();
        hops.iter()
            .rev()
            .find(|ip| !self.contains(**ip))
            .or(hops.first())
            .copied()
            .unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_match_their_addresses_only() {
        let ten = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(ten.contains(ip("10.200.1.2")));
        assert!(ten.contains(ip("::ffff:10.0.0.1")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(!ten.contains(ip("fd00::1")));
        let v6 = Cidr::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12::1")));
        assert!(!v6.contains(ip("fe80::1")));
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Cidr::parse("10.0.0.0/31").unwrap().contains(ip("10.0.0.1")));
    }

    #[test]
    fn bad_blocks_say_how_to_fix_them() {
        let e = Cidr::parse("10.0.0.1/8").unwrap_err();
        assert!(e.contains("\"10.0.0.0/8\""), "{e}");
        assert!(Cidr::parse("10.0.0.0/33").unwrap_err().contains("0..=32"));
        assert!(
            Cidr::parse("proxy.local")
                .unwrap_err()
                .contains("ADDRESS/PREFIX")
        );
    }

    #[test]
    fn client_ip_is_believed_only_from_a_trusted_peer() {
        let t = TrustedProxies::new(vec![Cidr::parse("10.0.0.0/8").unwrap()]);
        let xff = ["203.0.113.9, 198.51.100.1", "10.1.1.1"];
        assert_eq!(
            t.client_ip(ip("10.0.0.2"), xff.into_iter()),
            ip("198.51.100.1")
        );
        assert_eq!(
            t.client_ip(ip("192.0.2.1"), xff.into_iter()),
            ip("192.0.2.1")
        );
        assert_eq!(
            t.client_ip(ip("10.0.0.2"), ["garbage"].into_iter()),
            ip("10.0.0.2")
        );
        assert_eq!(
            t.client_ip(ip("10.0.0.2"), ["10.9.9.9"].into_iter()),
            ip("10.9.9.9")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.0.0.2"), xff.into_iter()),
            ip("10.0.0.2")
        );
    }
}
