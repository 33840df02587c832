//! Byte-level scanning for the parsers. `str::split_once` and friends go
//! through the generic pattern machinery (and a `memcmp`/`memchr` call
//! each), which dominates the cost of parsing a short topic; these helpers
//! are plain loops over ASCII bytes.

use super::swar::{find, load};

/// Flag of [`FLAGS`]: percent-encoding escapes the byte (it is not
/// `A-Z a-z 0-9 - _ . ~`).
pub(crate) const ESCAPE: u8 = 1;
/// Flag of [`FLAGS`]: the byte ends a run of path bytes that are copied as
/// they are (everything but `A-Z a-z 0-9 - _ ~` and `/`).
pub(crate) const PATH_STOP: u8 = 2;
/// Flag of [`FLAGS`]: the byte may not appear in a generic path segment
/// (`/ . + #`, controls; see [`super::generic`]).
pub(crate) const NOT_SEGMENT: u8 = 4;
/// Flag of [`FLAGS`]: the byte may not appear in a `/`-separated path
/// ([`NOT_SEGMENT`] but `/`).
pub(crate) const NOT_IN_SLASH_PATH: u8 = 8;
/// Flag of [`FLAGS`]: the byte may not appear in a `.`-separated path
/// ([`NOT_SEGMENT`] but `.`).
pub(crate) const NOT_IN_DOT_PATH: u8 = 16;

/// The flags of every byte ([`ESCAPE`], [`PATH_STOP`], [`NOT_SEGMENT`],
/// [`NOT_IN_SLASH_PATH`], [`NOT_IN_DOT_PATH`]): one table for the parsers
/// and the encoders.
pub(crate) static FLAGS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~');
        if !unreserved && b != b'.' {
            t[i] |= ESCAPE;
        }
        if !unreserved && b != b'/' {
            t[i] |= PATH_STOP;
        }
        if matches!(b, b'/' | b'+' | b'#' | b'.' | 0..=0x1f | 0x7f) {
            t[i] |= NOT_SEGMENT;
            if b != b'/' {
                t[i] |= NOT_IN_SLASH_PATH;
            }
            if b != b'.' {
                t[i] |= NOT_IN_DOT_PATH;
            }
        }
        i += 1;
    }
    t
};

/// The [`FLAGS`] of `b`.
#[inline(always)]
pub(crate) fn flags(b: u8) -> u8 {
    FLAGS[usize::from(b)]
}

/// The union of the [`FLAGS`] of eight bytes: one table load and one OR per
/// byte, no branch.
#[inline]
pub(crate) fn word_flags(w: &[u8; 8]) -> u8 {
    flags(w[0])
        | flags(w[1])
        | flags(w[2])
        | flags(w[3])
        | flags(w[4])
        | flags(w[5])
        | flags(w[6])
        | flags(w[7])
}

/// `s` split at byte `i` (`None` off a character boundary). Unlike
/// `str::get`, which stays an out-of-line call in the size-optimised
/// firmware build, this inlines to a boundary check.
#[inline(always)]
pub(crate) fn split_at(s: &str, i: usize) -> Option<(&str, &str)> {
    s.split_at_checked(i)
}

/// Splits `s` around the byte at `i`, an ASCII separator.
#[inline(always)]
pub(crate) fn split_around(s: &str, i: usize) -> Option<(&str, &str)> {
    let (head, tail) = split_at(s, i)?;
    Some((head, split_at(tail, 1)?.1))
}

/// Splits `s` around its first `sep` (an ASCII byte).
#[inline]
pub(crate) fn split_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    split_around(s, find(s.as_bytes(), sep)?)
}

/// Splits `<head>/?<query>` at the first `?`, which must follow a `/`.
#[inline]
pub(crate) fn split_query(s: &str) -> Option<(&str, &str)> {
    let i = find(s.as_bytes(), b'?')?;
    let head_end = i.checked_sub(1)?;
    if s.as_bytes().get(head_end) != Some(&b'/') {
        return None;
    }
    let (head, _) = split_at(s, head_end)?;
    Some((head, split_at(s, i + 1)?.1))
}

/// The eight bytes of `s` at `i` as a word (0 if there are fewer).
#[inline(always)]
fn word_at(s: &[u8], i: usize) -> u64 {
    match s.get(i..) {
        Some(&[a, b, c, d, e, f, g, h, ..]) => u64::from_le_bytes([a, b, c, d, e, f, g, h]),
        _ => 0,
    }
}

/// Equal byte strings of the same length, compared a word at a time: the
/// last word overlaps the one before it instead of a loop over the tail.
/// With a constant `b` (a literal prefix) it compiles to a compare or two.
#[inline(always)]
fn same_len_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n < 8 {
        return load(a) == load(b);
    }
    let mut i = 0;
    while i + 8 < n {
        if word_at(a, i) != word_at(b, i) {
            return false;
        }
        i += 8;
    }
    word_at(a, n - 8) == word_at(b, n - 8)
}

/// Equal byte strings (see [`same_len_eq`]).
#[inline]
pub(crate) fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && same_len_eq(a, b)
}

/// `s` without the ASCII `prefix`, if it starts with it.
#[inline(always)]
pub(crate) fn eat<'t>(s: &'t str, prefix: &str) -> Option<&'t str> {
    let head = s.as_bytes().get(..prefix.len())?;
    if !same_len_eq(head, prefix.as_bytes()) {
        return None;
    }
    Some(split_at(s, prefix.len())?.1)
}

/// `s` without its first segment and the `/` after it, if that segment is
/// `name`: a length test and a word compare or two, no search for the `/`.
#[inline(always)]
pub(crate) fn eat_segment<'t>(s: &'t str, name: &str) -> Option<&'t str> {
    let n = name.len();
    let bytes = s.as_bytes();
    if bytes.get(n) != Some(&b'/') || !same_len_eq(bytes.get(..n)?, name.as_bytes()) {
        return None;
    }
    Some(split_at(s, n + 1)?.1)
}

/// `s` equals the literal `lit` (inlined: a length test and a compare or
/// two).
#[inline(always)]
pub(crate) fn eq_lit(s: &str, lit: &str) -> bool {
    s.len() == lit.len() && same_len_eq(s.as_bytes(), lit.as_bytes())
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
        assert_eq!(flags(b'a'), 0);
        assert_eq!(flags(b'~'), 0);
        assert_eq!(flags(b'.'), PATH_STOP | NOT_SEGMENT | NOT_IN_SLASH_PATH);
        assert_eq!(flags(b'/'), ESCAPE | NOT_SEGMENT | NOT_IN_DOT_PATH);
        assert_eq!(flags(b' '), ESCAPE | PATH_STOP);
        assert_eq!(flags(0xC3), ESCAPE | PATH_STOP);
        assert_eq!(
            flags(0x7f),
            ESCAPE | PATH_STOP | NOT_SEGMENT | NOT_IN_SLASH_PATH | NOT_IN_DOT_PATH
        );
        assert_eq!(
            word_flags(b"ab/c-d_e"),
            ESCAPE | NOT_SEGMENT | NOT_IN_DOT_PATH
        );
    }
}
