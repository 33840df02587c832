//! Byte-level scanning for the parsers. `str::split_once` and friends go
//! through the generic pattern machinery (and a `memcmp`/`memchr` call
//! each), which dominates the cost of parsing a short topic; these helpers
//! are plain loops over ASCII bytes.

/// Byte classes of the generic path and of percent-encoding.
pub(crate) const UNRESERVED: u8 = 0;
/// A segment byte that percent-encoding escapes.
pub(crate) const ESCAPED: u8 = 1;
/// A byte that may not appear in a path segment (`/ . + #`, controls).
pub(crate) const FORBIDDEN: u8 = 2;

/// The class of every byte: unreserved `A-Z a-z 0-9 - _ . ~` (but `.` is
/// forbidden in segments, so it is [`FORBIDDEN`]), other segment bytes
/// [`ESCAPED`].
pub(crate) static CLASS: [u8; 256] = {
    let mut t = [ESCAPED; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'~' {
            t[i] = UNRESERVED;
        }
        if matches!(b, b'/' | b'+' | b'#' | b'.' | 0..=0x1f | 0x7f) {
            t[i] = FORBIDDEN;
        }
        i += 1;
    }
    t
};

/// The class of `b`.
#[inline(always)]
pub(crate) fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Index of the first `needle` in `s`, eight bytes at a time.
#[inline]
pub(crate) fn find(s: &[u8], needle: u8) -> Option<usize> {
    let pattern = LO.wrapping_mul(u64::from(needle));
    let mut base = 0usize;
    let mut rest = s;
    while let Some((chunk, tail)) = rest.split_first_chunk::<8>() {
        // A zero byte of `x` is a match; the lowest flagged byte is exact.
        let x = u64::from_le_bytes(*chunk) ^ pattern;
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
        rest = tail;
    }
    rest.iter().position(|&b| b == needle).map(|i| base + i)
}

/// Splits `s` around its first `sep` (an ASCII byte).
#[inline]
pub(crate) fn split_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find(s.as_bytes(), sep)?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// Splits `<head>/?<query>` at the first `?`, which must follow a `/`.
#[inline]
pub(crate) fn split_query(s: &str) -> Option<(&str, &str)> {
    let i = find(s.as_bytes(), b'?')?;
    let head_end = i.checked_sub(1)?;
    if s.as_bytes().get(head_end) != Some(&b'/') {
        return None;
    }
    Some((s.get(..head_end)?, s.get(i + 1..)?))
}

/// Equal byte strings, compared eight bytes at a time.
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (mut a, mut b) = (a, b);
    while let (Some((x, ra)), Some((y, rb))) =
        (a.split_first_chunk::<8>(), b.split_first_chunk::<8>())
    {
        if u64::from_ne_bytes(*x) != u64::from_ne_bytes(*y) {
            return false;
        }
        a = ra;
        b = rb;
    }
    if let (Some((x, ra)), Some((y, rb))) = (a.split_first_chunk::<4>(), b.split_first_chunk::<4>())
    {
        if u32::from_ne_bytes(*x) != u32::from_ne_bytes(*y) {
            return false;
        }
        a = ra;
        b = rb;
    }
    while let (Some((x, ra)), Some((y, rb))) = (a.split_first(), b.split_first()) {
        if x != y {
            return false;
        }
        a = ra;
        b = rb;
    }
    true
}

/// `s` without the ASCII `prefix`, if it starts with it.
#[inline]
pub(crate) fn eat<'t>(s: &'t str, prefix: &str) -> Option<&'t str> {
    let head = s.as_bytes().get(..prefix.len())?;
    if !bytes_eq(head, prefix.as_bytes()) {
        return None;
    }
    s.get(prefix.len()..)
}

/// Equal strings (see [`bytes_eq`]).
#[inline]
pub(crate) fn str_eq(a: &str, b: &str) -> bool {
    bytes_eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_agree_with_std() {
        let s = "$iothub/twin/res/204/?$rid=42&$version=5";
        assert_eq!(split_byte(s, b'/'), s.split_once('/'));
        assert_eq!(split_byte(s, b'!'), None);
        let long = "0123456789abcdef/0123456789/x";
        for needle in [b'0', b'7', b'f', b'/', b'x', b'9', b'#', 0x80] {
            assert_eq!(
                find(long.as_bytes(), needle),
                long.bytes().position(|b| b == needle)
            );
        }
        assert_eq!(find(&[0x81, 0x00, b'/'], b'/'), Some(2));
        assert_eq!(find(&[0xff; 9], 0xfe), None);
        assert_eq!(split_query("204/?a=1"), Some(("204", "a=1")));
        assert_eq!(split_query("204?a=1"), None);
        assert_eq!(split_query("?a=1"), None);
        for (a, b) in [
            ("", ""),
            ("abcdefgh", "abcdefgh"),
            ("abcdefghi", "abcdefghj"),
            ("abcdefghijklm", "abcdefghijklm"),
            ("abcdefghijklm", "abcdefghijkXm"),
            ("abcdefghiXklm", "abcdefghijklm"),
            ("abc", "abd"),
            ("a", "ab"),
        ] {
            assert_eq!(str_eq(a, b), a == b, "{a} {b}");
        }
        assert_eq!(eat(s, "$iothub/twin/"), s.strip_prefix("$iothub/twin/"));
        assert_eq!(eat("$io", "$iothub/"), None);
        assert_eq!(eat("é/x", "é"), Some("/x"));
        assert_eq!(class(b'a'), UNRESERVED);
        assert_eq!(class(b'~'), UNRESERVED);
        assert_eq!(class(b'.'), FORBIDDEN);
        assert_eq!(class(b' '), ESCAPED);
        assert_eq!(class(0xC3), ESCAPED);
    }
}
