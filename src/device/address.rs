//! Network addresses written as text by hand: `core::net`'s `Display`
//! would bring the whole formatting machinery into the firmware. The text
//! is the same, byte for byte: IPv4 dotted decimal (`192.0.2.1`), IPv6 as
//! RFC 5952 has it (lower case, the longest run of two or more zero
//! groups as `::`, IPv4-mapped addresses in dotted form). Addresses come
//! in binary (`core::net`, `nimbus_ip_t` from C), never as text.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::writer::TextWriter;
use crate::Result;

/// Writes an address (`192.0.2.1`, `2001:db8::1`).
pub(crate) fn write_ip(w: &mut TextWriter<'_>, ip: IpAddr) -> Result<()> {
    match ip {
        IpAddr::V4(ip) => write_ipv4(w, ip),
        IpAddr::V6(ip) => write_ipv6(w, ip),
    }
}

/// Writes `a.b.c.d`.
pub(crate) fn write_ipv4(w: &mut TextWriter<'_>, ip: Ipv4Addr) -> Result<()> {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            w.byte(b'.')?;
        }
        w.uint(u64::from(octet))?;
    }
    Ok(())
}

/// Writes an IPv6 address in its RFC 5952 form.
pub(crate) fn write_ipv6(w: &mut TextWriter<'_>, ip: Ipv6Addr) -> Result<()> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        w.raw("::ffff:")?;
        return write_ipv4(w, v4);
    }
    let groups = ip.segments();
    // The longest run of zero groups; the first one among equals.
    let (mut zeros_at, mut zeros_len) = (0, 0);
    let (mut run_at, mut run_len) = (0, 0);
    for (i, &group) in groups.iter().enumerate() {
        if group == 0 {
            if run_len == 0 {
                run_at = i;
            }
            run_len += 1;
            if run_len > zeros_len {
                (zeros_at, zeros_len) = (run_at, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    if zeros_len > 1 {
        write_groups(w, groups.get(..zeros_at).unwrap_or_default())?;
        w.raw("::")?;
        write_groups(w, groups.get(zeros_at + zeros_len..).unwrap_or_default())
    } else {
        write_groups(w, &groups)
    }
}

/// Writes groups as lowercase hex without leading zeros, `:` between them.
fn write_groups(w: &mut TextWriter<'_>, groups: &[u16]) -> Result<()> {
    for (i, &group) in groups.iter().enumerate() {
        if i > 0 {
            w.byte(b':')?;
        }
        let digits = (16 - group.leading_zeros()).div_ceil(4).max(1);
        write_hex(w, u32::from(group), digits)?;
    }
    Ok(())
}

/// Writes a MAC address, `aa:bb:cc:dd:ee:ff`.
pub(crate) fn write_mac(w: &mut TextWriter<'_>, mac: [u8; 6]) -> Result<()> {
    for (i, byte) in mac.into_iter().enumerate() {
        if i > 0 {
            w.byte(b':')?;
        }
        write_hex(w, u32::from(byte), 2)?;
    }
    Ok(())
}

/// Writes the low `digits` (at most 8) hex digits of `v`, lower case.
fn write_hex(w: &mut TextWriter<'_>, v: u32, digits: u32) -> Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..digits).rev() {
        let nibble = v.checked_shr(4 * shift).unwrap_or(0) & 0xF;
        w.byte(HEX[nibble as usize])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn text(f: impl FnOnce(&mut TextWriter<'_>) -> Result<()>) -> String {
        let mut buf = [0u8; 64];
        let mut w = TextWriter::new(&mut buf);
        f(&mut w).unwrap();
        w.as_str().into()
    }

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// IPv6 addresses rich in zero runs, mapped and compatible IPv4 forms.
    fn ipv6_samples(rng: &mut Rng) -> Vec<Ipv6Addr> {
        let mut out = Vec::new();
        for _ in 0..20_000 {
            let mut groups = [0u16; 8];
            for g in &mut groups {
                *g = match rng.below(4) {
                    0 | 1 => 0,
                    2 => rng.below(0x10) as u16,
                    _ => rng.next() as u16,
                };
            }
            out.push(Ipv6Addr::from(groups));
        }
        for v4 in [0u32, 1, 0x7F00_0001, 0xC000_0201, u32::MAX] {
            out.push(Ipv4Addr::from(v4).to_ipv6_mapped());
            out.push(Ipv4Addr::from(v4).to_ipv6_compatible());
        }
        out.extend([Ipv6Addr::UNSPECIFIED, Ipv6Addr::LOCALHOST]);
        out
    }

    #[test]
    fn addresses_are_written_as_core_net_writes_them() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for ip in ipv6_samples(&mut rng) {
            assert_eq!(text(|w| write_ipv6(w, ip)), ip.to_string());
            assert_eq!(text(|w| write_ip(w, IpAddr::V6(ip))), ip.to_string());
        }
        for _ in 0..20_000 {
            let ip = Ipv4Addr::from(rng.next() as u32);
            assert_eq!(text(|w| write_ipv4(w, ip)), ip.to_string());
            assert_eq!(text(|w| write_ip(w, IpAddr::V4(ip))), ip.to_string());
        }
        for ip in [Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST] {
            assert_eq!(text(|w| write_ipv4(w, ip)), ip.to_string());
        }
        assert_eq!(
            text(|w| write_ipv6(w, Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1))),
            "2001:db8::1:0:0:1"
        );
        assert_eq!(
            text(|w| write_ipv6(w, Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))),
            "2001:db8:0:1:1:1:1:1"
        );
    }

    #[test]
    fn mac_addresses_are_lowercase_pairs() {
        assert_eq!(
            text(|w| write_mac(w, [0x00, 0x1b, 0xAC, 0xff, 0x0a, 0x90])),
            "00:1b:ac:ff:0a:90"
        );
    }

    #[test]
    fn a_write_that_does_not_fit_fails() {
        let mut buf = [0u8; 6];
        let mut w = TextWriter::new(&mut buf);
        assert!(write_ipv4(&mut w, Ipv4Addr::new(192, 0, 2, 1)).is_err());
        let mut buf = [0u8; 12];
        let mut w = TextWriter::new(&mut buf);
        assert!(write_ipv6(&mut w, Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)).is_ok());
        assert_eq!(w.as_str(), "2001:db8::1");
        assert!(write_ipv6(&mut w, Ipv6Addr::LOCALHOST).is_err());
    }
}
