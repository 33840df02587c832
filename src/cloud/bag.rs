//! Azure property bags: `name=value` pairs joined by `&`, names and values
//! percent-encoded (see [`super::percent`]).
//!
//! Outgoing bags are written from [`Property`] slices. Incoming bags are
//! checked once by [`PropertyBag::parse`] and then iterated lazily: each
//! [`BagEntry`] borrows the encoded name and value from the topic, and
//! decodes only when asked (`eq_decoded`, `bytes`, `decode_into`).

use super::percent::{encode_into, Encoded};
use super::scan::{bytes_eq, eat, split_byte, str_eq};
use super::topic_writer::TopicWriter;
use crate::{Error, Result};

/// One message property to send: a user property, or a system property
/// such as `$.ct` (content type) or `$.ce` (content encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Property<'a> {
    /// The property name, not encoded.
    pub name: &'a str,
    /// The property value, not encoded.
    pub value: &'a str,
}

impl<'a> Property<'a> {
    /// A property `name=value`.
    pub const fn new(name: &'a str, value: &'a str) -> Self {
        Property { name, value }
    }
}

/// The system properties a device may set on a D2C message (message id,
/// correlation id, user id, content type, content encoding).
pub const AZURE_SYSTEM_PROPERTIES: [&str; 5] = ["$.mid", "$.cid", "$.uid", "$.ct", "$.ce"];

/// The property that carries the generic path on Azure.
pub(crate) const SUBTOPIC: &str = "subtopic";

/// Checks the names of outgoing properties: non-empty, not `subtopic`
/// (Nimbus sets it), a `$` name only if it is one of
/// [`AZURE_SYSTEM_PROPERTIES`], and no name twice.
pub(crate) fn check_properties(props: &[Property<'_>]) -> Result<()> {
    for (i, p) in props.iter().enumerate() {
        let name = p.name.as_bytes();
        let bad = match name {
            [] => true,
            [b'$', ..] => !is_system_property(name),
            _ => bytes_eq(name, SUBTOPIC.as_bytes()),
        } || props
            .get(..i)
            .is_some_and(|before| before.iter().any(|q| str_eq(q.name, p.name)));
        if bad {
            return Err(Error::InvalidPropertyName);
        }
    }
    Ok(())
}

/// Whether `name` is one of [`AZURE_SYSTEM_PROPERTIES`], spelt as array
/// patterns (a length test and byte compares, no loop over the list).
#[inline(always)]
fn is_system_property(name: &[u8]) -> bool {
    matches!(
        name,
        [b'$', b'.', b'm' | b'c' | b'u', b'i', b'd'] | [b'$', b'.', b'c', b't' | b'e']
    )
}

/// Appends `&name=value` pairs (the first without `&` when `first`); the
/// names must have passed [`check_properties`].
pub(crate) fn write_properties(
    w: &mut TopicWriter<'_>,
    props: &[Property<'_>],
    mut first: bool,
) -> Result<()> {
    for p in props {
        if !first {
            w.push_lit(b"&")?;
        }
        first = false;
        match eat(p.name, "$") {
            // A system property: `$` and then unreserved bytes only.
            Some(rest) => {
                w.push_lit(b"%24")?;
                w.push_str(rest)?;
            }
            None => encode_into(w, p.name.as_bytes())?,
        }
        w.push_lit(b"=")?;
        encode_into(w, p.value.as_bytes())?;
    }
    Ok(())
}

/// Message properties percent-encoded once, for any number of messages:
/// `name=value` pairs joined by `&`, exactly as they follow the `subtopic`
/// in a D2C topic.
///
/// Properties that are the same on every message (a content type, a
/// schema name) are best encoded once with [`EncodedProperties::encode`]
/// and then appended by
/// [`Dialect::publish_topic_encoded`](super::Dialect::publish_topic_encoded)
/// as a plain copy, like the property buffer of the Azure SDK for C (which
/// leaves the encoding to its caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EncodedProperties<'a>(&'a str);

impl<'a> EncodedProperties<'a> {
    /// No properties.
    pub const NONE: EncodedProperties<'static> = EncodedProperties("");

    /// Checks `props` (names: non-empty, not `subtopic`, `$` names only
    /// from [`AZURE_SYSTEM_PROPERTIES`], none twice:
    /// [`Error::InvalidPropertyName`]) and percent-encodes them into `buf`
    /// ([`Error::BufferTooSmall`] if they do not fit).
    pub fn encode(props: &[Property<'_>], buf: &'a mut [u8]) -> Result<Self> {
        check_properties(props)?;
        let mut w = TopicWriter::new(buf);
        write_properties(&mut w, props, true)?;
        w.finish().map(EncodedProperties)
    }

    /// Properties already encoded, for constants of the crate (each one is
    /// compared with [`encode`](Self::encode)'s output by a test).
    pub(crate) const fn from_encoded(text: &'static str) -> EncodedProperties<'static> {
        EncodedProperties(text)
    }

    /// The encoded bag, e.g. `%24.ct=application%2Fjson`.
    pub const fn as_str(&self) -> &'a str {
        self.0
    }

    /// True when there are no properties.
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One entry of an incoming property bag, still encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BagEntry<'t> {
    /// The name (never empty).
    pub name: Encoded<'t>,
    /// The value: `None` for a bare `name` without `=`, empty for `name=`.
    pub value: Option<Encoded<'t>>,
}

/// A checked incoming property bag, borrowed from the topic.
///
/// Every entry has a non-empty name and well-formed percent-encoding; an
/// empty bag (the topic ends with `/`) has no entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyBag<'t>(&'t str);

impl<'t> PropertyBag<'t> {
    /// The bag with no entries.
    pub const EMPTY: PropertyBag<'static> = PropertyBag("");

    /// Checks `raw` (the text after the last `/` of a C2D topic).
    /// [`Error::InvalidEncoding`] on an empty pair (`a=1&&b=2`, trailing
    /// `&`), an empty name (`=v`) or a bad `%` sequence.
    pub fn parse(raw: &'t str) -> Result<Self> {
        if !raw.is_empty() {
            let mut rest = raw;
            loop {
                match split_byte(rest, b'&') {
                    Some((pair, tail)) => {
                        split_pair(pair)?;
                        rest = tail;
                    }
                    None => {
                        split_pair(rest)?;
                        break;
                    }
                }
            }
        }
        Ok(PropertyBag(raw))
    }

    /// The bag as it stands in the topic.
    pub fn raw(&self) -> &'t str {
        self.0
    }

    /// The entries, in topic order.
    pub fn iter(&self) -> BagIter<'t> {
        BagIter {
            rest: if self.0.is_empty() {
                None
            } else {
                Some(self.0)
            },
        }
    }

    /// The first entry whose decoded name is `name`.
    pub fn get(&self, name: &str) -> Option<BagEntry<'t>> {
        self.iter().find(|e| e.name.eq_decoded(name))
    }
}

impl<'t> IntoIterator for PropertyBag<'t> {
    type Item = BagEntry<'t>;
    type IntoIter = BagIter<'t>;

    fn into_iter(self) -> BagIter<'t> {
        self.iter()
    }
}

fn split_pair(pair: &str) -> Result<BagEntry<'_>> {
    let (name, value) = match split_byte(pair, b'=') {
        Some((n, v)) => (n, Some(Encoded::new(v)?)),
        None => (pair, None),
    };
    if name.is_empty() {
        return Err(Error::InvalidEncoding);
    }
    Ok(BagEntry {
        name: Encoded::new(name)?,
        value,
    })
}

/// Iterator over the entries of a [`PropertyBag`].
#[derive(Clone, Debug)]
pub struct BagIter<'t> {
    rest: Option<&'t str>,
}

impl<'t> Iterator for BagIter<'t> {
    type Item = BagEntry<'t>;

    fn next(&mut self) -> Option<BagEntry<'t>> {
        let rest = self.rest?;
        let (pair, tail) = match split_byte(rest, b'&') {
            Some((p, t)) => (p, Some(t)),
            None => (rest, None),
        };
        self.rest = tail;
        // Checked by `PropertyBag::parse`.
        split_pair(pair).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(e: Encoded<'_>) -> std::string::String {
        let mut buf = [0u8; 64];
        e.decode_into(&mut buf).unwrap().into()
    }

    #[test]
    fn parses_and_decodes_entries_lazily() {
        let bag = PropertyBag::parse("%24.mid=m1&%24.to=%2Fdevices%2Fd1&a%20b=x%26y&empty=&bare")
            .unwrap();
        let entries: std::vec::Vec<_> = bag
            .iter()
            .map(|e| (decoded(e.name), e.value.map(decoded)))
            .collect();
        assert_eq!(
            entries,
            [
                ("$.mid".into(), Some("m1".into())),
                ("$.to".into(), Some("/devices/d1".into())),
                ("a b".into(), Some("x&y".into())),
                ("empty".into(), Some("".into())),
                ("bare".into(), None),
            ]
        );
        assert_eq!(bag.get("a b").unwrap().value.unwrap().raw(), "x%26y");
        assert!(bag.get("missing").is_none());
    }

    #[test]
    fn empty_bag_has_no_entries() {
        assert_eq!(PropertyBag::parse("").unwrap().iter().count(), 0);
    }

    #[test]
    fn malformed_bags_are_refused() {
        for bad in ["a=1&&b=2", "a=1&", "&a=1", "=v", "a=%2", "a%zz=1", "a=%"] {
            assert_eq!(
                PropertyBag::parse(bad),
                Err(Error::InvalidEncoding),
                "{bad}"
            );
        }
    }

    #[test]
    fn outgoing_names_are_checked() {
        let ok = [
            Property::new("$.ct", "application/json"),
            Property::new("k", ""),
        ];
        assert_eq!(check_properties(&ok), Ok(()));
        for bad in [
            [Property::new("", "v")],
            [Property::new("subtopic", "x")],
            [Property::new("$.xx", "v")],
        ] {
            assert_eq!(check_properties(&bad), Err(Error::InvalidPropertyName));
        }
        let dup = [Property::new("a", "1"), Property::new("a", "2")];
        assert_eq!(check_properties(&dup), Err(Error::InvalidPropertyName));
    }

    #[test]
    fn system_properties_are_exactly_the_documented_ones() {
        for name in AZURE_SYSTEM_PROPERTIES {
            assert!(is_system_property(name.as_bytes()), "{name}");
        }
        for name in [
            "$", "$.", "$.m", "$.mi", "$.mid.", "$.cx", "$.to", "$.ctt", "$ct", "#.ct",
        ] {
            assert!(!is_system_property(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn encoded_properties_are_checked_and_encoded_once() {
        let mut buf = [0u8; 64];
        let props = [Property::new("$.ct", "a/b"), Property::new("k y", "")];
        let bag = EncodedProperties::encode(&props, &mut buf).unwrap();
        assert_eq!(bag.as_str(), "%24.ct=a%2Fb&k%20y=");
        assert!(!bag.is_empty());
        assert!(EncodedProperties::NONE.is_empty());
        let mut buf = [0u8; 64];
        assert_eq!(
            EncodedProperties::encode(&[Property::new("subtopic", "x")], &mut buf),
            Err(Error::InvalidPropertyName)
        );
        let mut small = [0u8; 8];
        assert_eq!(
            EncodedProperties::encode(&props, &mut small),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn outgoing_bag_is_encoded() {
        let mut buf = [0u8; 64];
        let mut w = TopicWriter::new(&mut buf);
        let props = [Property::new("$.ct", "a/b"), Property::new("k y", "")];
        write_properties(&mut w, &props, true).unwrap();
        assert_eq!(w.finish().unwrap(), "%24.ct=a%2Fb&k%20y=");
    }
}
