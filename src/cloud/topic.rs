//! [`Topic`]: an outgoing topic name as the dialect wrote it.

use core::fmt;
use core::ops::Deref;

/// An outgoing MQTT topic name written (or borrowed) by a
/// [`Dialect`](super::Dialect).
///
/// It is UTF-8 by construction (it is made of `str`s and ASCII), but it is
/// handed out as bytes, which is what MQTT puts on the wire: turning bytes
/// into a `&str` without `unsafe` costs a validation pass over the whole
/// topic, which would otherwise dominate the cost of writing it.
/// [`as_str`](Self::as_str) pays that pass when text is really needed.
///
/// It carries what it is: the dialect wrote it for one kind of message
/// and knows what the cloud allows there, so a topic it built is sent
/// without being checked again, with the payload limit of its kind
/// ([`max_payload`](Self::max_payload)). (A topic a caller writes itself
/// goes through [`Dialect::check_publish`](super::Dialect::check_publish)
/// instead.)
///
/// It dereferences to its bytes and compares equal to the `str` it spells.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Topic<'a>(&'a [u8], usize);

impl<'a> Topic<'a> {
    /// A topic that is already text, for payloads of at most `max_payload`
    /// bytes.
    #[inline]
    pub(crate) const fn new(text: &'a str, max_payload: usize) -> Self {
        Topic(text.as_bytes(), max_payload)
    }

    /// Bytes that are UTF-8 by construction (see
    /// [`TopicWriter::finish_topic`](super::topic_writer::TopicWriter::finish_topic)).
    #[inline]
    pub(crate) fn from_utf8_bytes(bytes: &'a [u8], max_payload: usize) -> Self {
        debug_assert!(core::str::from_utf8(bytes).is_ok());
        Topic(bytes, max_payload)
    }

    /// The topic's bytes, as sent.
    #[inline]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The largest payload the cloud takes on this topic: its limit for
    /// this kind of message (events, twin patches, method answers).
    #[inline]
    pub const fn max_payload(&self) -> usize {
        self.1
    }

    /// The topic as text. This validates the bytes again (one pass); it
    /// cannot fail, since a `Topic` is UTF-8 by construction.
    pub fn as_str(&self) -> &'a str {
        // Never the empty fallback: every constructor guarantees UTF-8.
        core::str::from_utf8(self.0).unwrap_or_default()
    }
}

impl Deref for Topic<'_> {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        self.0
    }
}

impl AsRef<[u8]> for Topic<'_> {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.0
    }
}

impl PartialEq<str> for Topic<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<&str> for Topic<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == other.as_bytes()
    }
}

impl PartialEq<Topic<'_>> for str {
    fn eq(&self, other: &Topic<'_>) -> bool {
        self.as_bytes() == other.0
    }
}

impl PartialEq<Topic<'_>> for &str {
    fn eq(&self, other: &Topic<'_>) -> bool {
        self.as_bytes() == other.0
    }
}

impl fmt::Display for Topic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Topic<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn compares_and_prints_as_its_text() {
        let t = Topic::new("devices/d1/messages/events/", 1);
        assert_eq!(t, "devices/d1/messages/events/");
        assert_eq!("devices/d1/messages/events/", t);
        assert_ne!(t, "devices/d1");
        assert_eq!(t.as_str(), "devices/d1/messages/events/");
        assert_eq!(t.to_string(), "devices/d1/messages/events/");
        assert_eq!(std::format!("{t:?}"), "\"devices/d1/messages/events/\"");
        assert_eq!(t.len(), 27);
        assert_eq!(t.as_bytes().as_ptr(), t.as_ptr());
    }
}
