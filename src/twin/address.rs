//! Network addresses as text, written and parsed by hand: `core::net`'s
//! `Display` and `FromStr` would bring the whole formatting machinery into
//! the firmware. The text is the same, byte for byte, and the accepted
//! syntax is the same as theirs:
//!
//! - IPv4: four decimal numbers of 0–255, separated by `.`, without
//!   leading zeros (`192.0.2.1`; not `192.0.2.01`, which could be octal);
//! - IPv6: eight groups of 1–4 hexadecimal digits (either case), one `::`
//!   standing for one or more groups of zeros, and optionally an IPv4
//!   address as the last two groups (`2001:db8::1`, `::ffff:192.0.2.1`);
//!   written as RFC 5952 has it (lower case, the longest run of two or
//!   more zero groups as `::`, IPv4-mapped addresses in dotted form).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::writer::JsonWriter;
use crate::Result;

/// Writes an address (`192.0.2.1`, `2001:db8::1`).
pub(crate) fn write_ip(w: &mut JsonWriter<'_>, ip: IpAddr) -> Result<()> {
    match ip {
        IpAddr::V4(ip) => write_ipv4(w, ip),
        IpAddr::V6(ip) => write_ipv6(w, ip),
    }
}

/// Writes `a.b.c.d`.
pub(crate) fn write_ipv4(w: &mut JsonWriter<'_>, ip: Ipv4Addr) -> Result<()> {
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            w.byte(b'.')?;
        }
        w.uint(u64::from(octet))?;
    }
    Ok(())
}

/// Writes an IPv6 address in its RFC 5952 form.
pub(crate) fn write_ipv6(w: &mut JsonWriter<'_>, ip: Ipv6Addr) -> Result<()> {
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
fn write_groups(w: &mut JsonWriter<'_>, groups: &[u16]) -> Result<()> {
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
pub(crate) fn write_mac(w: &mut JsonWriter<'_>, mac: [u8; 6]) -> Result<()> {
    for (i, byte) in mac.into_iter().enumerate() {
        if i > 0 {
            w.byte(b':')?;
        }
        write_hex(w, u32::from(byte), 2)?;
    }
    Ok(())
}

/// Writes the low `digits` (at most 8) hex digits of `v`, lower case.
fn write_hex(w: &mut JsonWriter<'_>, v: u32, digits: u32) -> Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..digits).rev() {
        let nibble = v.checked_shr(4 * shift).unwrap_or(0) & 0xF;
        w.byte(HEX[nibble as usize])?;
    }
    Ok(())
}

/// Parses an IPv4 address; `None` unless all of `text` is one.
pub(crate) fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut p = Parser::new(text);
    p.ipv4().filter(|_| p.rest.is_empty())
}

/// Parses an IPv6 address; `None` unless all of `text` is one.
pub(crate) fn parse_ipv6(text: &str) -> Option<Ipv6Addr> {
    let mut p = Parser::new(text);
    p.ipv6().filter(|_| p.rest.is_empty())
}

/// Parses an IPv4 or IPv6 address; `None` unless all of `text` is one.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    let mut p = Parser::new(text);
    let ip = match p.ipv4() {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => p.ipv6().map(IpAddr::V6),
    };
    ip.filter(|_| p.rest.is_empty())
}

/// The text still to read. Every reading step either succeeds and
/// consumes its part, or fails and consumes nothing.
struct Parser<'a> {
    rest: &'a [u8],
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            rest: text.as_bytes(),
        }
    }

    /// Runs `read`, putting the text back when it fails.
    fn atomically<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let saved = self.rest;
        let result = read(self);
        if result.is_none() {
            self.rest = saved;
        }
        result
    }

    /// Reads `byte`.
    fn given(&mut self, byte: u8) -> Option<()> {
        let (&first, tail) = self.rest.split_first()?;
        if first != byte {
            return None;
        }
        self.rest = tail;
        Some(())
    }

    /// Reads `sep` unless `index` is 0, then `read`.
    fn separated<T>(
        &mut self,
        sep: u8,
        index: usize,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        self.atomically(|p| {
            if index > 0 {
                p.given(sep)?;
            }
            read(p)
        })
    }

    /// Reads a number of 1 to `max_digits` digits (fails on more), decimal
    /// or hex; with `leading_zero` false, a number of two or more digits
    /// must not start with `0`.
    fn number(&mut self, hex: bool, max_digits: usize, leading_zero: bool) -> Option<u32> {
        self.atomically(|p| {
            let starts_with_zero = p.rest.first() == Some(&b'0');
            let mut value = 0u32;
            let mut count = 0;
            while let Some((&b, tail)) = p.rest.split_first() {
                let Some(d) = digit(b, hex) else { break };
                p.rest = tail;
                value = value * if hex { 16 } else { 10 } + d;
                count += 1;
                if count > max_digits {
                    return None;
                }
            }
            if count == 0 || (!leading_zero && starts_with_zero && count > 1) {
                return None;
            }
            Some(value)
        })
    }

    fn ipv4(&mut self) -> Option<Ipv4Addr> {
        self.atomically(|p| {
            let mut octets = [0u8; 4];
            for (i, octet) in octets.iter_mut().enumerate() {
                let n = p.separated(b'.', i, |p| p.number(false, 3, false))?;
                *octet = u8::try_from(n).ok()?;
            }
            Some(Ipv4Addr::from(octets))
        })
    }

    /// Reads up to `groups.len()` groups, `:`-separated, the last two of
    /// which may be an IPv4 address; returns how many were read and
    /// whether the IPv4 form was.
    fn groups(&mut self, groups: &mut [u16]) -> (usize, bool) {
        let limit = groups.len();
        for i in 0..limit {
            // An IPv4 address needs two groups.
            if i + 1 < limit {
                if let Some(v4) = self.separated(b':', i, Self::ipv4) {
                    let [a, b, c, d] = v4.octets();
                    if let Some(pair) = groups.get_mut(i..).and_then(|g| g.first_chunk_mut()) {
                        *pair = [u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d])];
                    }
                    return (i + 2, true);
                }
            }
            match self.separated(b':', i, |p| p.number(true, 4, true)) {
                // At most 4 hex digits: fits.
                Some(group) => {
                    if let Some(slot) = groups.get_mut(i) {
                        *slot = group as u16;
                    }
                }
                None => return (i, false),
            }
        }
        (limit, false)
    }

    fn ipv6(&mut self) -> Option<Ipv6Addr> {
        self.atomically(|p| {
            // Everything, or what comes before `::`.
            let mut head = [0u16; 8];
            let (head_len, head_ipv4) = p.groups(&mut head);
            if head_len == 8 {
                return Some(Ipv6Addr::from(head));
            }
            // An IPv4 part only ends an address.
            if head_ipv4 {
                return None;
            }
            p.given(b':')?;
            p.given(b':')?;
            // `::` stands for at least one group: 7 more at most.
            let mut tail = [0u16; 7];
            let tail_max = 7usize.checked_sub(head_len)?;
            let (tail_len, _) = p.groups(tail.get_mut(..tail_max)?);
            let at = 8usize.checked_sub(tail_len)?;
            let zeros_and_tail = head.get_mut(at..)?;
            for (group, &t) in zeros_and_tail.iter_mut().zip(&tail) {
                *group = t;
            }
            Some(Ipv6Addr::from(head))
        })
    }
}

/// The value of a decimal digit, or of a hex digit when `hex`.
fn digit(b: u8, hex: bool) -> Option<u32> {
    let d = match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' if hex => b - b'a' + 10,
        b'A'..=b'F' if hex => b - b'A' + 10,
        _ => return None,
    };
    Some(u32::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn text(f: impl FnOnce(&mut JsonWriter<'_>) -> Result<()>) -> String {
        let mut buf = [0u8; 64];
        let mut w = JsonWriter::new(&mut buf);
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
        let mut w = JsonWriter::new(&mut buf);
        assert!(write_ipv4(&mut w, Ipv4Addr::new(192, 0, 2, 1)).is_err());
        let mut buf = [0u8; 12];
        let mut w = JsonWriter::new(&mut buf);
        assert!(write_ipv6(&mut w, Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)).is_ok());
        assert_eq!(w.as_str(), "2001:db8::1");
        assert!(write_ipv6(&mut w, Ipv6Addr::LOCALHOST).is_err());
    }

    fn check(s: &str) {
        assert_eq!(parse_ipv4(s), s.parse::<Ipv4Addr>().ok(), "ipv4 {s:?}");
        assert_eq!(parse_ipv6(s), s.parse::<Ipv6Addr>().ok(), "ipv6 {s:?}");
        assert_eq!(parse_ip(s), s.parse::<IpAddr>().ok(), "ip {s:?}");
    }

    #[test]
    fn the_same_text_parses_as_with_core_net() {
        for s in [
            "",
            "0.0.0.0",
            "255.255.255.255",
            "256.0.0.1",
            "1.2.3",
            "1.2.3.4.",
            "1.2.3.4.5",
            "01.2.3.4",
            "0.0.0.00",
            "1.2.3.0004",
            "1..2.3",
            " 1.2.3.4",
            "1.2.3.4 ",
            "+1.2.3.4",
            "1.2.3.-4",
            "::",
            "::1",
            "1::",
            ":::",
            "1:::2",
            "::1::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8::",
            "1::2:3:4:5:6:7:8",
            "2001:DB8::AbCd",
            "2001:db8::00001",
            "0000:0000:0000:0000:0000:0000:0000:0001",
            "::ffff:192.0.2.1",
            "::192.0.2.1",
            "1:2:3:4:5:6:1.2.3.4",
            "1:2:3:4:5:6:7:1.2.3.4",
            "1.2.3.4::",
            "1.2.3.4:1:2:3:4:5:6",
            "::1.2.3.4:5",
            "::1.2.3",
            "::01.2.3.4",
            "fe80::1%1",
            "[::1]",
            "1:2:3:4:5:6:7:8.",
            "g::1",
            ":1::",
            "1:",
            "é",
            "1.2.3.4é",
        ] {
            check(s);
        }
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let v6 = ipv6_samples(&mut rng);
        const ALPHABET: &[u8] = b"0123456789abcdefABCDEFg.:%x ";
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..200_000 {
            // A valid text in one of the forms, then up to three random edits.
            let g = |rng: &mut Rng| rng.next() as u16;
            let mut text = match rng.below(4) {
                0 => Ipv4Addr::from(rng.next() as u32).to_string(),
                1 => v6[rng.below(v6.len() as u64) as usize].to_string(),
                2 => std::format!(
                    "{:X}:{:x}:{:04x}:{:x}:{:x}:{:x}:{:x}:{:x}",
                    g(&mut rng),
                    g(&mut rng),
                    g(&mut rng),
                    g(&mut rng),
                    g(&mut rng),
                    g(&mut rng),
                    g(&mut rng),
                    g(&mut rng)
                ),
                _ => std::format!(
                    "{:x}::{:x}:{}",
                    g(&mut rng),
                    g(&mut rng),
                    Ipv4Addr::from(rng.next() as u32)
                ),
            }
            .into_bytes();
            for _ in 0..rng.below(4) {
                let at = rng.below(text.len() as u64 + 1) as usize;
                let c = ALPHABET[rng.below(ALPHABET.len() as u64) as usize];
                match rng.below(3) {
                    0 => text.insert(at, c),
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    _ if at < text.len() => text[at] = c,
                    _ => {}
                }
            }
            let text = String::from_utf8(text).unwrap();
            if text.parse::<IpAddr>().is_ok() {
                accepted += 1;
            } else {
                refused += 1;
            }
            check(&text);
        }
        // Both sides of the syntax got a fair share of the cases.
        assert!(
            accepted > 40_000 && refused > 40_000,
            "{accepted} {refused}"
        );
        for ip in ipv6_samples(&mut rng) {
            check(&ip.to_string());
            let upper = ip.to_string().to_uppercase();
            check(&upper);
            check(&upper[1..]);
        }
    }
}
