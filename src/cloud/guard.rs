//! The last check before a publish leaves the client: a topic, QoS or
//! payload the cloud would refuse is refused here, locally and with a
//! reason, instead of costing the connection.

use super::{aws, azure, Cloud};
use crate::{Error, Result};

/// Longest topic MQTT can carry (its length is a 16-bit field).
pub const MQTT_MAX_TOPIC_LEN: usize = 65_535;

/// Checks an MQTT topic name: non-empty, no wildcard, no NUL, at most
/// [`MQTT_MAX_TOPIC_LEN`] bytes.
pub fn check_topic_name(topic: &str) -> Result<()> {
    if topic.len() > MQTT_MAX_TOPIC_LEN {
        return Err(Error::TopicTooLong);
    }
    if topic.is_empty() || topic.bytes().any(|b| matches!(b, b'+' | b'#' | 0)) {
        return Err(Error::InvalidTopic);
    }
    Ok(())
}

/// Checks one publish before it is sent: [`Error::QosNotSupported`] for
/// QoS 2 ([`Error::InvalidArgument`] above 2), [`Error::InvalidTopic`] for
/// a topic that is not valid MQTT; on AWS the topic rules of
/// [`aws::check_topic`] and no publish to AWS's own shadow answers; on
/// Azure the allow-list (D2C events of this identity, twin GET and reported
/// PATCH, method responses); then [`Error::PayloadTooLarge`] over the
/// cloud's limit for that kind of message.
pub(crate) fn check_publish(
    cloud: Cloud,
    device: &str,
    module: Option<&str>,
    topic: &str,
    qos: u8,
    payload_len: usize,
) -> Result<()> {
    match qos {
        0 | 1 => {}
        2 => return Err(Error::QosNotSupported),
        _ => return Err(Error::InvalidArgument),
    }
    check_topic_name(topic)?;
    let max = match cloud {
        #[cfg(feature = "aws")]
        Cloud::Aws => {
            aws::check_topic(topic)?;
            if topic.starts_with("$aws/things/") {
                if let Ok(shadow) = aws::parse_shadow(device, topic) {
                    if !shadow.op.is_request() {
                        return Err(Error::TopicNotAllowed);
                    }
                }
            }
            aws::MAX_PAYLOAD
        }
        #[cfg(feature = "azure")]
        Cloud::Azure => azure::allowed(device, module, topic)?.max_payload(),
    };
    if payload_len > max {
        return Err(Error::PayloadTooLarge);
    }
    Ok(())
}
