//! A streaming, allocation-free JSON scanner and validator (RFC 8259).
//!
//! Everything works on `&[u8]` in one forward pass and returns sub-slices of
//! the input (zero copy):
//! - [`Scanner`] yields [`Token`]s and validates as it goes: strings (every
//!   escape, `\uXXXX` with surrogate pairs checked, UTF-8, no raw control
//!   characters), numbers (no leading zeros, fraction, exponent), literals,
//!   nesting and trailing garbage;
//! - [`validate`] checks a whole document and measures its depth;
//! - [`lookup`] finds the values at several key paths in one pass;
//! - [`members`] lists the members (key, value) of an object;
//! - [`parse_u64`] / [`parse_i64`] read integers safely;
//! - [`unescape`] / [`raw_key_chars`] decode string contents.
//!
//! Depth counts containers: a scalar has depth 0, `{}` and `[]` depth 1,
//! `{"a":[1]}` depth 2. The scanner refuses anything deeper than
//! [`MAX_DEPTH`] with [`Error::JsonTooDeep`]; it keeps its container stack in
//! one machine word, so its stack use is fixed whatever the input.

use crate::{Error, Result};

/// The deepest nesting the scanner accepts, whatever the cloud allows
/// (both clouds allow far less). The container stack is a `u32` bit set.
pub const MAX_DEPTH: usize = 32;

/// One syntactic element of a JSON text, borrowing the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    /// `{` at byte offset `at`.
    ObjectStart {
        /// Offset of the `{`.
        at: usize,
    },
    /// `}` at byte offset `at`.
    ObjectEnd {
        /// Offset of the `}`.
        at: usize,
    },
    /// `[` at byte offset `at`.
    ArrayStart {
        /// Offset of the `[`.
        at: usize,
    },
    /// `]` at byte offset `at`.
    ArrayEnd {
        /// Offset of the `]`.
        at: usize,
    },
    /// An object member name: the raw string contents between the quotes
    /// (escapes not decoded), starting at byte offset `at` (after the quote).
    Key {
        /// The raw key, without quotes.
        raw: &'a [u8],
        /// Offset of its first byte.
        at: usize,
    },
    /// A string, number or literal: its exact text (strings with quotes).
    Scalar {
        /// The raw text of the value.
        raw: &'a [u8],
        /// Offset of its first byte.
        at: usize,
    },
}

/// What the scanner expects next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A value (document start, after `:`, after `,` in an array).
    Value,
    /// A value or `]` (just after `[`).
    ValueOrEnd,
    /// A key or `}` (just after `{`).
    KeyOrEnd,
    /// A key (after `,` in an object).
    Key,
    /// The `:` after a key.
    Colon,
    /// `,` or the end of the current container.
    CommaOrEnd,
    /// Only whitespace may follow: the top-level value is complete.
    Done,
}

/// A pull tokenizer that validates one JSON text as it goes.
///
/// `next_token` returns `Ok(None)` exactly once the whole input was a single
/// valid JSON value followed only by whitespace. After an error the scanner
/// keeps returning the same error.
#[derive(Clone, Debug)]
pub struct Scanner<'a> {
    input: &'a [u8],
    pos: usize,
    /// Bit `d` is set when the container at depth `d + 1` is an object.
    stack: u32,
    depth: usize,
    max_depth: usize,
    expect: Expect,
    failed: Option<Error>,
    /// The last key read holds a backslash escape.
    key_escaped: bool,
}

impl<'a> Scanner<'a> {
    /// A scanner over one JSON text.
    pub const fn new(input: &'a [u8]) -> Self {
        Scanner {
            input,
            pos: 0,
            stack: 0,
            depth: 0,
            max_depth: 0,
            expect: Expect::Value,
            failed: None,
            key_escaped: false,
        }
    }

    /// The current nesting depth (0 outside any container).
    pub const fn depth(&self) -> usize {
        self.depth
    }

    /// The deepest nesting seen so far.
    pub const fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// The next token, `Ok(None)` at the valid end of the document.
    pub fn next_token(&mut self) -> Result<Option<Token<'a>>> {
        self.next_inline()
    }

    /// [`next_token`](Self::next_token), inlined into the hot loops.
    #[inline(always)]
    fn next_inline(&mut self) -> Result<Option<Token<'a>>> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.step();
        if let Err(e) = r {
            self.failed = Some(e);
        }
        r
    }

    #[inline(always)]
    fn step(&mut self) -> Result<Option<Token<'a>>> {
        loop {
            self.skip_ws();
            let Some(&b) = self.input.get(self.pos) else {
                return if self.expect == Expect::Done {
                    Ok(None)
                } else {
                    Err(Error::InvalidJson)
                };
            };
            let at = self.pos;
            match self.expect {
                Expect::Done => return Err(Error::InvalidJson),
                Expect::Colon => {
                    if b != b':' {
                        return Err(Error::InvalidJson);
                    }
                    self.pos += 1;
                    self.expect = Expect::Value;
                }
                Expect::CommaOrEnd => match b {
                    b',' => {
                        self.pos += 1;
                        self.expect = if self.in_object() {
                            Expect::Key
                        } else {
                            Expect::Value
                        };
                    }
                    b'}' if self.in_object() => {
                        return Ok(Some(self.close(Token::ObjectEnd { at })))
                    }
                    b']' if !self.in_object() => {
                        return Ok(Some(self.close(Token::ArrayEnd { at })))
                    }
                    _ => return Err(Error::InvalidJson),
                },
                Expect::KeyOrEnd | Expect::Key => {
                    if b == b'}' && self.expect == Expect::KeyOrEnd {
                        return Ok(Some(self.close(Token::ObjectEnd { at })));
                    }
                    if b != b'"' {
                        return Err(Error::InvalidJson);
                    }
                    let Scanned { end, escaped } = scan_string(self.input, at)?;
                    self.key_escaped = escaped;
                    self.pos = end;
                    self.expect = Expect::Colon;
                    let raw = self.input.get(at + 1..end - 1).ok_or(Error::InvalidJson)?;
                    return Ok(Some(Token::Key { raw, at: at + 1 }));
                }
                Expect::Value | Expect::ValueOrEnd => {
                    if b == b']' && self.expect == Expect::ValueOrEnd {
                        return Ok(Some(self.close(Token::ArrayEnd { at })));
                    }
                    return self.value(b, at).map(Some);
                }
            }
        }
    }

    #[inline(always)]
    fn value(&mut self, b: u8, at: usize) -> Result<Token<'a>> {
        let end = match b {
            b'{' => {
                self.open(true)?;
                self.expect = Expect::KeyOrEnd;
                return Ok(Token::ObjectStart { at });
            }
            b'[' => {
                self.open(false)?;
                self.expect = Expect::ValueOrEnd;
                return Ok(Token::ArrayStart { at });
            }
            b'"' => scan_string(self.input, at)?.end,
            b'-' | b'0'..=b'9' => scan_number(self.input, at)?,
            b't' => scan_literal(self.input, at, b"true")?,
            b'f' => scan_literal(self.input, at, b"false")?,
            b'n' => scan_literal(self.input, at, b"null")?,
            _ => return Err(Error::InvalidJson),
        };
        self.pos = end;
        self.after_value();
        let raw = self.input.get(at..end).ok_or(Error::InvalidJson)?;
        Ok(Token::Scalar { raw, at })
    }

    #[inline(always)]
    fn skip_ws(&mut self) {
        while self
            .input
            .get(self.pos)
            .is_some_and(|&b| class(b) & SPACE != 0)
        {
            self.pos += 1;
        }
    }

    #[inline(always)]
    fn in_object(&self) -> bool {
        self.depth > 0 && self.stack & (1 << (self.depth - 1)) != 0
    }

    #[inline(always)]
    fn open(&mut self, object: bool) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(Error::JsonTooDeep);
        }
        let bit = 1u32 << self.depth;
        if object {
            self.stack |= bit;
        } else {
            self.stack &= !bit;
        }
        self.depth += 1;
        self.pos += 1;
        if self.depth > self.max_depth {
            self.max_depth = self.depth;
        }
        Ok(())
    }

    #[inline(always)]
    fn close(&mut self, token: Token<'a>) -> Token<'a> {
        self.depth = self.depth.saturating_sub(1);
        self.pos += 1;
        self.after_value();
        token
    }

    #[inline(always)]
    fn after_value(&mut self) {
        self.expect = if self.depth == 0 {
            Expect::Done
        } else {
            Expect::CommaOrEnd
        };
    }
}

/// Byte classes of the scanner (bit flags).
const STRING_STOP: u8 = 1;
/// JSON whitespace.
const SPACE: u8 = 2;

/// The class of every byte: [`STRING_STOP`] for the bytes that end a run
/// of plain string contents (`"`, `\\`, control characters and non-ASCII
/// bytes), [`SPACE`] for whitespace.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        if i < 0x20 || i >= 0x80 || i == b'"' as usize || i == b'\\' as usize {
            t[i] |= STRING_STOP;
        }
        if matches!(i as u8, b' ' | b'\t' | b'\n' | b'\r') {
            t[i] |= SPACE;
        }
        i += 1;
    }
    t
};

#[inline(always)]
fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// What [`scan_string`] learnt about a string.
#[derive(Clone, Copy)]
struct Scanned {
    /// The offset just past the closing quote.
    end: usize,
    /// The contents hold a backslash escape.
    escaped: bool,
}

/// Scans the string whose opening quote is at `at`.
///
/// A tight loop skips the plain bytes (one table look-up each); only the
/// [`STRING_STOP`] bytes leave it. Non-ASCII bytes are only noted on the
/// way, and the contents validated as UTF-8 once at the end.
#[inline(always)]
fn scan_string(input: &[u8], at: usize) -> Result<Scanned> {
    let mut i = at + 1;
    let mut non_ascii = false;
    let mut escaped = false;
    loop {
        while input.get(i).is_some_and(|&b| class(b) & STRING_STOP == 0) {
            i += 1;
        }
        match input.get(i) {
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                i = scan_escape(input, i)?;
            }
            Some(0x80..) => {
                non_ascii = true;
                i += 1;
            }
            _ => return Err(Error::InvalidJson),
        }
    }
    if non_ascii {
        let body = input.get(at + 1..i).ok_or(Error::InvalidJson)?;
        core::str::from_utf8(body).map_err(|_| Error::InvalidJson)?;
    }
    Ok(Scanned {
        end: i + 1,
        escaped,
    })
}

/// Checks the escape whose backslash is at `i`; returns the offset after it.
fn scan_escape(input: &[u8], i: usize) -> Result<usize> {
    let e = *input.get(i + 1).ok_or(Error::InvalidJson)?;
    match e {
        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(i + 2),
        b'u' => {
            let unit = hex4(input, i + 2)?;
            let i = i + 6;
            match unit {
                0xD800..=0xDBFF => {
                    // A high surrogate must be followed by an escaped low
                    // surrogate.
                    if input.get(i) != Some(&b'\\') || input.get(i + 1) != Some(&b'u') {
                        return Err(Error::InvalidJson);
                    }
                    if !(0xDC00..=0xDFFF).contains(&hex4(input, i + 2)?) {
                        return Err(Error::InvalidJson);
                    }
                    Ok(i + 6)
                }
                0xDC00..=0xDFFF => Err(Error::InvalidJson),
                _ => Ok(i),
            }
        }
        _ => Err(Error::InvalidJson),
    }
}

/// Four hex digits at `at` as a UTF-16 code unit.
fn hex4(input: &[u8], at: usize) -> Result<u32> {
    let digits = input.get(at..at + 4).ok_or(Error::InvalidJson)?;
    let mut v = 0u32;
    for &d in digits {
        v = (v << 4) | hex_digit(d).ok_or(Error::InvalidJson)?;
    }
    Ok(v)
}

fn hex_digit(d: u8) -> Option<u32> {
    match d {
        b'0'..=b'9' => Some(u32::from(d - b'0')),
        b'a'..=b'f' => Some(u32::from(d - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(d - b'A' + 10)),
        _ => None,
    }
}

/// Scans the number starting at `at`; returns the offset just past it.
#[inline(always)]
fn scan_number(input: &[u8], at: usize) -> Result<usize> {
    let mut i = at;
    if input.get(i) == Some(&b'-') {
        i += 1;
    }
    match input.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = skip_digits(input, i + 1),
        _ => return Err(Error::InvalidJson),
    }
    if is_digit_at(input, i) {
        // A leading zero followed by more digits.
        return Err(Error::InvalidJson);
    }
    if input.get(i) == Some(&b'.') {
        if !is_digit_at(input, i + 1) {
            return Err(Error::InvalidJson);
        }
        i = skip_digits(input, i + 1);
    }
    if let Some(b'e' | b'E') = input.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = input.get(i) {
            i += 1;
        }
        if !is_digit_at(input, i) {
            return Err(Error::InvalidJson);
        }
        i = skip_digits(input, i);
    }
    Ok(i)
}

#[inline(always)]
fn is_digit_at(input: &[u8], i: usize) -> bool {
    input.get(i).is_some_and(u8::is_ascii_digit)
}

/// The offset of the first non-digit at or after `i`.
#[inline(always)]
fn skip_digits(input: &[u8], mut i: usize) -> usize {
    while is_digit_at(input, i) {
        i += 1;
    }
    i
}

fn scan_literal(input: &[u8], at: usize, word: &[u8]) -> Result<usize> {
    let end = at + word.len();
    if input.get(at..end) == Some(word) {
        Ok(end)
    } else {
        Err(Error::InvalidJson)
    }
}

/// What [`validate`] learnt about a valid document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The deepest container nesting (0 for a scalar).
    pub depth: usize,
    /// Whether the top-level value is an object.
    pub is_object: bool,
}

/// Validates a whole JSON text and measures its depth.
///
/// Errors: [`Error::InvalidJson`] for anything malformed (including an empty
/// input and trailing garbage), [`Error::JsonTooDeep`] beyond [`MAX_DEPTH`].
pub fn validate(input: &[u8]) -> Result<Summary> {
    let mut s = Scanner::new(input);
    let first = s.next_token()?;
    while s.next_token()?.is_some() {}
    Ok(Summary {
        depth: s.max_depth(),
        is_object: matches!(first, Some(Token::ObjectStart { .. })),
    })
}

/// A key path such as `&["state", "reported"]`: object member names from
/// the top-level object down (decoded names; the input may escape them).
pub type Path<'p> = &'p [&'p str];

/// Finds the values at `K` key paths in one pass over a document, which is
/// validated as a whole on the way (an invalid document is an error even if
/// the paths were found before the fault).
///
/// Each result is the exact text of the value (a sub-slice of `input`,
/// strings with quotes), or `None` when the path does not exist. An empty
/// path names the whole document. When a key repeats in one object, the
/// first occurrence wins.
pub fn lookup<'a, const K: usize>(
    input: &'a [u8],
    paths: [Path<'_>; K],
) -> Result<[Option<&'a [u8]>; K]> {
    let mut found: [Option<&'a [u8]>; K] = [None; K];
    let mut state = [PathState::default(); K];
    lookup_into(input, &paths, &mut found, &mut state)?;
    Ok(found)
}

/// How far the document read so far matches one path of [`lookup`].
#[derive(Clone, Copy, Default)]
struct PathState {
    /// `on == j` means the open containers at depths 1..=j are objects
    /// whose key paths are the first 0..j components of the path, so the
    /// next component to match is `path[j]`, inside container `j`.
    on: usize,
    /// The last key read inside container `on` is the next component of
    /// the path (the value that follows is on the path).
    key_hit: bool,
    /// A container value being captured: its start offset and depth.
    capture: (usize, usize),
}

/// [`lookup`] over slices (one copy of the code whatever `K`), with the
/// scanner inlined so that its state lives in registers.
fn lookup_into<'a>(
    input: &'a [u8],
    paths: &[Path<'_>],
    found: &mut [Option<&'a [u8]>],
    state: &mut [PathState],
) -> Result<()> {
    let mut s = Scanner::new(input);
    while let Some(tok) = s.next_inline()? {
        let each = paths.iter().zip(found.iter_mut()).zip(state.iter_mut());
        match tok {
            Token::Key { raw, .. } => {
                let d = s.depth();
                let escaped = s.key_escaped;
                for ((path, found), st) in each {
                    st.key_hit = found.is_none()
                        && st.on == d
                        && path.get(d.wrapping_sub(1)).is_some_and(|want| {
                            // Without escapes the key is its own text.
                            if escaped {
                                key_eq(raw, want)
                            } else {
                                raw == want.as_bytes()
                            }
                        });
                }
            }
            Token::Scalar { raw, .. } => {
                let d = s.depth();
                for ((path, found), st) in each {
                    if on_path(found.is_some(), st.on, st.key_hit, d) && path.len() == d {
                        *found = Some(raw);
                    }
                }
            }
            Token::ObjectStart { at } | Token::ArrayStart { at } => {
                // The container now open is at depth `d + 1`; as a value
                // it sits inside depth `d`.
                let d = s.depth() - 1;
                let object = matches!(tok, Token::ObjectStart { .. });
                for ((path, found), st) in each {
                    if !on_path(found.is_some(), st.on, st.key_hit, d) {
                        continue;
                    }
                    if path.len() == d {
                        st.capture = (at, d + 1);
                    } else if object {
                        st.on = d + 1;
                    }
                }
            }
            Token::ObjectEnd { at } | Token::ArrayEnd { at } => {
                let closed = s.depth() + 1;
                for ((_, found), st) in each {
                    let (start, depth) = st.capture;
                    if depth == closed && found.is_none() {
                        *found = input.get(start..=at);
                    }
                    if st.on >= closed {
                        st.on = closed - 1;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether a value read inside depth `d` (0 = the top-level value) lies on
/// a path, given that path's tracking state.
fn on_path(done: bool, on: usize, key_hit: bool, d: usize) -> bool {
    !done && (d == 0 || (on == d && key_hit))
}

/// Finds the value at one key path (see [`lookup`]).
pub fn find<'a>(input: &'a [u8], path: Path<'_>) -> Result<Option<&'a [u8]>> {
    let [v] = lookup(input, [path])?;
    Ok(v)
}

/// Whether a raw (possibly escaped) key equals `want`.
pub fn key_eq(raw: &[u8], want: &str) -> bool {
    if raw.iter().all(|&b| b != b'\\') {
        return raw == want.as_bytes();
    }
    let mut chars = raw_key_chars(raw);
    let mut want = want.chars();
    loop {
        match (chars.next(), want.next()) {
            (None, None) => return true,
            (Some(Ok(a)), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// Iterates the decoded characters of raw string contents (as in
/// [`Token::Key`], or a string scalar without its quotes).
pub fn raw_key_chars(raw: &[u8]) -> RawChars<'_> {
    match core::str::from_utf8(raw) {
        Ok(s) => RawChars {
            chars: s.chars(),
            bad: false,
        },
        Err(_) => RawChars {
            chars: "".chars(),
            bad: true,
        },
    }
}

/// Iterator over decoded string contents; yields `Err(InvalidJson)` once on
/// a malformed escape or invalid UTF-8, then ends.
#[derive(Clone, Debug)]
pub struct RawChars<'a> {
    chars: core::str::Chars<'a>,
    bad: bool,
}

impl RawChars<'_> {
    fn hex4(&mut self) -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            let c = self.chars.next()?;
            v = (v << 4) | c.to_digit(16)?;
        }
        Some(v)
    }

    fn escape(&mut self) -> Option<char> {
        Some(match self.chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) {
                    if self.chars.next()? != '\\' || self.chars.next()? != 'u' {
                        return None;
                    }
                    let lo = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&lo) {
                        return None;
                    }
                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?
                } else {
                    char::from_u32(hi)?
                }
            }
            _ => return None,
        })
    }
}

impl Iterator for RawChars<'_> {
    type Item = Result<char>;

    fn next(&mut self) -> Option<Result<char>> {
        if self.bad {
            self.bad = false;
            self.chars = "".chars();
            return Some(Err(Error::InvalidJson));
        }
        let c = self.chars.next()?;
        if c != '\\' {
            return Some(Ok(c));
        }
        match self.escape() {
            Some(c) => Some(Ok(c)),
            None => {
                self.chars = "".chars();
                Some(Err(Error::InvalidJson))
            }
        }
    }
}

/// Decodes raw string contents (no quotes) into `out`; returns the text.
///
/// Errors: [`Error::InvalidJson`] on a malformed escape,
/// [`Error::BufferTooSmall`] when `out` is too short.
pub fn unescape<'o>(raw: &[u8], out: &'o mut [u8]) -> Result<&'o str> {
    let mut len = 0;
    for c in raw_key_chars(raw) {
        let c = c?;
        let dst = out
            .get_mut(len..len + c.len_utf8())
            .ok_or(Error::BufferTooSmall)?;
        c.encode_utf8(dst);
        len += c.len_utf8();
    }
    let text = out.get(..len).ok_or(Error::BufferTooSmall)?;
    core::str::from_utf8(text).map_err(|_| Error::InvalidJson)
}

/// The raw contents (between the quotes, escapes not decoded) of a string
/// value as returned by [`lookup`], or `None` if `value` is not a string.
pub fn string_contents(value: &[u8]) -> Option<&[u8]> {
    match value {
        [b'"', inner @ .., b'"'] => Some(inner),
        _ => None,
    }
}

/// Whether `value` (as returned by [`lookup`]) is an object.
pub fn is_object(value: &[u8]) -> bool {
    value.first() == Some(&b'{')
}

/// Reads an unsigned integer value as returned by [`lookup`].
///
/// Only the plain integer form is accepted (no sign, fraction or exponent:
/// `5.0` and `5e0` are refused, so are values above `u64::MAX`), error
/// [`Error::UnexpectedJson`].
pub fn parse_u64(value: &[u8]) -> Result<u64> {
    let digits = match value {
        [b'0'] => return Ok(0),
        [b'1'..=b'9', ..] => value,
        _ => return Err(Error::UnexpectedJson),
    };
    let mut v: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(Error::UnexpectedJson);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(Error::UnexpectedJson)?;
    }
    Ok(v)
}

/// Reads a signed integer value as returned by [`lookup`]; like
/// [`parse_u64`] with an optional `-`, within `i64::MIN..=i64::MAX`.
pub fn parse_i64(value: &[u8]) -> Result<i64> {
    match value {
        [b'-', rest @ ..] => {
            let mag = parse_u64(rest)?;
            if mag == 0 && rest != b"0" {
                return Err(Error::UnexpectedJson);
            }
            0i64.checked_sub_unsigned(mag).ok_or(Error::UnexpectedJson)
        }
        _ => i64::try_from(parse_u64(value)?).map_err(|_| Error::UnexpectedJson),
    }
}

/// One member of an object, as listed by [`members`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    /// The raw key (between the quotes, escapes not decoded).
    pub key: &'a [u8],
    /// The exact text of the value.
    pub value: &'a [u8],
}

/// Lists the members of the object `input` (top level only), validating the
/// whole text on the way: the iterator yields `Err` once (the document is
/// not an object, malformed, or too deep) and then ends.
pub fn members(input: &[u8]) -> Members<'_> {
    Members {
        scanner: Scanner::new(input),
        input,
        started: false,
        done: false,
    }
}

/// Iterator returned by [`members`].
#[derive(Clone, Debug)]
pub struct Members<'a> {
    scanner: Scanner<'a>,
    input: &'a [u8],
    started: bool,
    done: bool,
}

impl<'a> Members<'a> {
    fn advance(&mut self) -> Result<Option<Member<'a>>> {
        if !self.started {
            self.started = true;
            if !matches!(self.scanner.next_token()?, Some(Token::ObjectStart { .. })) {
                return Err(Error::UnexpectedJson);
            }
        }
        let key = match self.scanner.next_token()? {
            Some(Token::Key { raw, .. }) => raw,
            Some(Token::ObjectEnd { .. }) => {
                // The object is closed: make sure nothing follows it.
                return match self.scanner.next_token()? {
                    None => Ok(None),
                    Some(_) => Err(Error::InvalidJson),
                };
            }
            _ => return Err(Error::InvalidJson),
        };
        let value = match self.scanner.next_token()? {
            Some(Token::Scalar { raw, .. }) => raw,
            Some(Token::ObjectStart { at } | Token::ArrayStart { at }) => {
                let end = loop {
                    match self.scanner.next_token()? {
                        Some(Token::ObjectEnd { at: end } | Token::ArrayEnd { at: end })
                            if self.scanner.depth() == 1 =>
                        {
                            break end
                        }
                        Some(_) => {}
                        None => return Err(Error::InvalidJson),
                    }
                };
                self.input.get(at..=end).ok_or(Error::InvalidJson)?
            }
            _ => return Err(Error::InvalidJson),
        };
        Ok(Some(Member { key, value }))
    }
}

impl<'a> Iterator for Members<'a> {
    type Item = Result<Member<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.advance() {
            Ok(Some(m)) => Some(Ok(m)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
