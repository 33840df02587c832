//! Validation of topic names (what a PUBLISH goes to) and topic filters
//! (what a SUBSCRIBE asks for), per MQTT 3.1.1 section 4.7.

use crate::{Error, Result};

/// Checks a topic name: 1 to 65,535 bytes, no `+`, `#` or NUL.
/// Errors: [`Error::InvalidTopic`], [`Error::TopicTooLong`].
pub fn validate_topic_name(topic: &str) -> Result<()> {
    check_length(topic)?;
    if topic.bytes().any(|b| matches!(b, b'+' | b'#' | 0)) {
        return Err(Error::InvalidTopic);
    }
    Ok(())
}

/// Checks a topic filter: 1 to 65,535 bytes, no NUL, `+` only as a whole
/// level, `#` only as the whole last level.
/// Errors: [`Error::InvalidTopic`], [`Error::TopicTooLong`].
pub fn validate_topic_filter(filter: &str) -> Result<()> {
    check_length(filter)?;
    // Split as bytes: `str::split` with a `char` links panicking index code.
    let mut levels = filter.as_bytes().split(|&b| b == b'/').peekable();
    while let Some(level) = levels.next() {
        let is_last = levels.peek().is_none();
        let ok = match level {
            b"+" => true,
            b"#" => is_last,
            _ => !level.iter().any(|b| matches!(b, b'+' | b'#' | 0)),
        };
        if !ok {
            return Err(Error::InvalidTopic);
        }
    }
    Ok(())
}

fn check_length(topic: &str) -> Result<()> {
    if topic.is_empty() {
        Err(Error::InvalidTopic)
    } else if topic.len() > u16::MAX as usize {
        Err(Error::TopicTooLong)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(validate_topic_name("a/b/c"), Ok(()));
        assert_eq!(validate_topic_name("$aws/things/x/shadow/get"), Ok(()));
        assert_eq!(validate_topic_name(""), Err(Error::InvalidTopic));
        assert_eq!(validate_topic_name("a/+/c"), Err(Error::InvalidTopic));
        assert_eq!(validate_topic_name("a/#"), Err(Error::InvalidTopic));
        assert_eq!(validate_topic_name("a\0b"), Err(Error::InvalidTopic));
        let long = "x".repeat(65_536);
        assert_eq!(validate_topic_name(&long), Err(Error::TopicTooLong));
    }

    #[test]
    fn filters() {
        for ok in [
            "a/b",
            "a/+/c",
            "+",
            "#",
            "a/#",
            "+/+/#",
            "/",
            "$iothub/twin/res/#",
        ] {
            assert_eq!(validate_topic_filter(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a/#/c", "a#", "a/b+", "#/", "++", "a\0"] {
            assert_eq!(
                validate_topic_filter(bad),
                Err(Error::InvalidTopic),
                "{bad}"
            );
        }
    }
}
