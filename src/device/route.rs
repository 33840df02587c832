//! Request routing: generic request paths matched against handler patterns.
//!
//! A request path is the part of a generic request topic after
//! `<dev>/request/`, for example `sensor/12/get`. A pattern is a path whose
//! segments may be `+` (exactly one segment) or, as the last segment, `#`
//! (zero or more segments): `sensor/+/get`, `general_information`, `#`.

use crate::{Error, Result};

/// Longest pattern or request path, in bytes.
pub const MAX_PATH_LEN: usize = 64;

/// Whether `path` matches `pattern` (`+` one segment, trailing `#` the rest).
///
/// ```
/// use nimbus::device::route::matches;
/// assert!(matches("sensor/+/get", "sensor/12/get"));
/// assert!(!matches("sensor/+/get", "sensor/12/13/get"));
/// assert!(matches("sensor/#", "sensor/list"));
/// assert!(matches("#", "general_information"));
/// ```
pub fn matches(pattern: &str, path: &str) -> bool {
    let (mut pat, mut seg) = (Some(pattern.as_bytes()), Some(path.as_bytes()));
    while let Some(p) = pat {
        let (want, rest) = next_segment(p);
        if want == b"#" {
            return rest.is_none();
        }
        let Some(s) = seg else { return false };
        let (have, tail) = next_segment(s);
        if want != b"+" && want != have {
            return false;
        }
        (pat, seg) = (rest, tail);
    }
    seg.is_none()
}

/// The first segment of `path` and what follows its `/`, if any.
fn next_segment(path: &[u8]) -> (&[u8], Option<&[u8]>) {
    match path.iter().position(|&b| b == b'/') {
        Some(at) => (path.get(..at).unwrap_or_default(), path.get(at + 1..)),
        None => (path, None),
    }
}

/// Checks that a pattern is well formed: not empty, at most
/// [`MAX_PATH_LEN`] bytes, no empty segment, `+` and `#` only as whole
/// segments, `#` only last.
pub fn validate_pattern(pattern: &str) -> Result<()> {
    if pattern.is_empty() || pattern.len() > MAX_PATH_LEN {
        return Err(Error::InvalidArgument);
    }
    // Split as bytes: `str::split` with a `char` links panicking index code.
    let mut segs = pattern.as_bytes().split(|&b| b == b'/').peekable();
    while let Some(seg) = segs.next() {
        let last = segs.peek().is_none();
        let wild = seg.iter().any(|&b| b == b'+' || b == b'#');
        if seg.is_empty() || (wild && seg != b"+" && seg != b"#") || (seg == b"#" && !last) {
            return Err(Error::InvalidArgument);
        }
    }
    Ok(())
}

/// A fixed-capacity table of request handlers, each a pattern and a value
/// (a handler id, a function pointer, ...) of the caller's choice.
///
/// Lookups go from the most specific registration to the least: an exact
/// pattern wins over one with `+`, which wins over one with `#`; among
/// equals, the first registered wins.
#[derive(Debug)]
pub struct Router<'a, H, const N: usize> {
    routes: heapless::Vec<Registration<'a, H>, N>,
}

/// One registration, with its specificity worked out once.
#[derive(Debug)]
struct Registration<'a, H> {
    pattern: &'a str,
    specificity: u8,
    handler: H,
}

impl<'a, H, const N: usize> Default for Router<'a, H, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'a, H, const N: usize> Router<'a, H, N> {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            routes: heapless::Vec::new(),
        }
    }

    /// Registers `handler` for `pattern`. Registering the same pattern again
    /// replaces its handler. Errors: `InvalidArgument` for a malformed
    /// pattern, `Busy` when the table is full.
    pub fn register(&mut self, pattern: &'a str, handler: H) -> Result<()> {
        validate_pattern(pattern)?;
        if let Some(route) = self.routes.iter_mut().find(|r| r.pattern == pattern) {
            route.handler = handler;
            return Ok(());
        }
        let specificity = specificity(pattern);
        self.routes
            .push(Registration {
                pattern,
                specificity,
                handler,
            })
            .map_err(|_| Error::Busy)
    }

    /// Removes the handler registered for exactly `pattern`, if any.
    pub fn unregister(&mut self, pattern: &str) -> Option<H> {
        let at = self.routes.iter().position(|r| r.pattern == pattern)?;
        Some(self.routes.remove(at).handler)
    }

    /// The handler for `path`, with the pattern that matched.
    pub fn find(&self, path: &str) -> Option<(&'a str, &H)> {
        let mut best: Option<&Registration<'a, H>> = None;
        for route in &self.routes {
            let better = best.is_none_or(|b| route.specificity < b.specificity);
            let hit = if route.specificity == 0 {
                route.pattern == path
            } else {
                matches(route.pattern, path)
            };
            if better && hit {
                best = Some(route);
                if route.specificity == 0 {
                    break; // nothing beats an exact match
                }
            }
        }
        best.map(|r| (r.pattern, &r.handler))
    }

    /// How many handlers are registered.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no handler is registered.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}

/// 0 for an exact pattern, 1 with `+`, 2 with `#` (lower is more specific).
fn specificity(pattern: &str) -> u8 {
    if pattern.as_bytes().ends_with(b"#") {
        2
    } else if pattern.bytes().any(|b| b == b'+') {
        1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_level_wildcard_matches_exactly_one_segment() {
        assert!(matches("sensor/+/get", "sensor/0/get"));
        assert!(!matches("sensor/+/get", "sensor/get"));
        assert!(!matches("sensor/+/get", "sensor/1/2/get"));
        assert!(!matches("sensor/+", "sensor"));
        assert!(matches("+", "x"));
    }

    #[test]
    fn multi_level_wildcard_matches_the_rest() {
        assert!(matches("sensor/#", "sensor/1/get"));
        assert!(matches("sensor/#", "sensor"), "# matches zero levels too");
        assert!(!matches("sensor/#", "sensors/1"));
    }

    #[test]
    fn exact_patterns() {
        assert!(matches("sensor/list", "sensor/list"));
        assert!(!matches("sensor/list", "sensor/list/x"));
        assert!(!matches("sensor/list", "sensor"));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        for bad in ["", "a//b", "a/#/b", "sen+sor", "a#", "/a", "a/"] {
            assert_eq!(validate_pattern(bad), Err(Error::InvalidArgument), "{bad}");
        }
        let long = "a".repeat(MAX_PATH_LEN + 1);
        assert_eq!(validate_pattern(&long), Err(Error::InvalidArgument));
    }

    #[test]
    fn most_specific_handler_wins() {
        let mut r: Router<'_, u8, 4> = Router::new();
        r.register("#", 0).unwrap();
        r.register("sensor/+/get", 1).unwrap();
        r.register("sensor/7/get", 2).unwrap();
        assert_eq!(r.find("sensor/7/get"), Some(("sensor/7/get", &2)));
        assert_eq!(r.find("sensor/8/get"), Some(("sensor/+/get", &1)));
        assert_eq!(r.find("general_information"), Some(("#", &0)));
    }

    #[test]
    fn full_table_is_busy_and_reregistering_replaces() {
        let mut r: Router<'_, u8, 2> = Router::new();
        r.register("a", 1).unwrap();
        r.register("b", 2).unwrap();
        assert_eq!(r.register("c", 3), Err(Error::Busy));
        r.register("a", 9).unwrap();
        assert_eq!(r.find("a"), Some(("a", &9)));
        assert_eq!(r.unregister("a"), Some(9));
        assert_eq!(r.find("a"), None);
        r.register("c", 3).unwrap();
        assert_eq!(r.len(), 2);
    }
}
