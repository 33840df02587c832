//! AWS IoT Core dialect (ARCHITECTURE.md §3): generic topics are used unchanged
//! but checked against AWS's topic rules; shadow topics live under
//! `$aws/things/<thing>/shadow/[name/<shadow>/]<op>`.

use super::bag::Property;
use super::bag::PropertyBag;
use super::generic::{self, Generic};
use super::incoming::{Incoming, Request, Route, ShadowOp, ShadowTopic};
use super::names::check_shadow_name;
use super::scan::{eat, eat_segment, split_byte};
use super::topic::Topic;
use super::topic_writer::TopicWriter;
use crate::{Error, Result};

/// Longest topic AWS accepts, in bytes.
pub const MAX_TOPIC_LEN: usize = 256;
/// Most `/` in a topic outside the reserved `$aws/` topics.
pub const MAX_TOPIC_SLASHES: usize = 7;
/// Largest MQTT payload AWS accepts (128 KB).
pub const MAX_PAYLOAD: usize = 128 * 1024;
/// Default publish rate limit per connection, per second.
pub const PUBLISH_RATE_PER_S: u32 = 100;

const SHADOW_PREFIX: &str = "$aws/things/";

/// Checks a topic against AWS's rules: at most [`MAX_TOPIC_LEN`] bytes
/// ([`Error::TopicTooLong`]); outside `$aws/`, no other `$` prefix and at
/// most [`MAX_TOPIC_SLASHES`] slashes ([`Error::TopicNotAllowed`]).
pub fn check_topic(topic: &str) -> Result<()> {
    check_topic_bytes(topic.as_bytes())
}

fn check_topic_bytes(topic: &[u8]) -> Result<()> {
    if topic.len() > MAX_TOPIC_LEN {
        return Err(Error::TopicTooLong);
    }
    if topic.starts_with(b"$") {
        return if topic.starts_with(b"$aws/") {
            Ok(())
        } else {
            Err(Error::TopicNotAllowed)
        };
    }
    if topic.iter().filter(|&&b| b == b'/').count() > MAX_TOPIC_SLASHES {
        return Err(Error::TopicNotAllowed);
    }
    Ok(())
}

/// The AWS topic for an outgoing generic topic (events or a response): the
/// generic topic itself, borrowed, once checked. AWS over MQTT 3.1.1 has
/// no message properties, so a non-empty `props` is refused
/// ([`Error::InvalidArgument`]) rather than dropped.
pub fn publish_topic<'t>(thing: &str, generic: &'t str, props: &[Property<'_>]) -> Result<&'t str> {
    match generic::parse(thing, generic)? {
        Generic::Events | Generic::Response(_) => {}
        Generic::Request(_) => return Err(Error::NotGenericTopic),
    }
    if !props.is_empty() {
        return Err(Error::InvalidArgument);
    }
    check_topic(generic)?;
    Ok(generic)
}

/// The topic of a reading of sensor `sensor`:
/// `<thing>/response/sensor/<sensor>/reading`, written straight.
pub fn telemetry_topic<'b>(thing: &str, sensor: u16, buf: &'b mut [u8]) -> Result<Topic<'b>> {
    let mut w = TopicWriter::new(buf);
    w.push_str(thing)?;
    w.push_lit(b"/response/sensor/")?;
    w.push_u16(sensor)?;
    w.push_lit(b"/reading")?;
    let topic = w.finish_topic(MAX_PAYLOAD)?;
    check_topic_bytes(&topic)?;
    Ok(topic)
}

/// Classifies an incoming AWS topic for `thing`: a generic request, or a
/// shadow topic.
pub fn classify<'t>(thing: &str, topic: &'t str) -> Result<Incoming<'t>> {
    if let Some(rest) = eat(topic, SHADOW_PREFIX) {
        return parse_shadow_rest(thing, rest).map(Incoming::Shadow);
    }
    match generic::parse(thing, topic)? {
        Generic::Request(path) => Ok(Incoming::Request(Request {
            topic,
            path,
            route: Route::Topic,
            rid: "",
            bag: PropertyBag::EMPTY,
        })),
        Generic::Events | Generic::Response(_) => Err(Error::NotGenericTopic),
    }
}

/// Parses `$aws/things/<thing>/shadow/[name/<shadow>/]<op>`.
/// [`Error::NotGenericTopic`] if it is not a shadow topic,
/// [`Error::OtherDevice`] for another thing, [`Error::InvalidName`] for a
/// shadow name that breaks AWS's rules.
pub fn parse_shadow<'t>(thing: &str, topic: &'t str) -> Result<ShadowTopic<'t>> {
    parse_shadow_rest(
        thing,
        eat(topic, SHADOW_PREFIX).ok_or(Error::NotGenericTopic)?,
    )
}

/// [`parse_shadow`] after `$aws/things/`.
fn parse_shadow_rest<'t>(thing: &str, rest: &'t str) -> Result<ShadowTopic<'t>> {
    // Topics for this thing are the ones that arrive: try them first.
    let rest = match eat_segment(rest, thing) {
        Some(rest) => rest,
        None => return Err(shadow_refusal(rest)),
    };
    let rest = eat(rest, "shadow/").ok_or(Error::NotGenericTopic)?;
    let (shadow, suffix) = match eat(rest, "name/") {
        Some(named) => {
            let (shadow, suffix) = split_byte(named, b'/').ok_or(Error::NotGenericTopic)?;
            check_shadow_name(shadow)?;
            (Some(shadow), suffix)
        }
        None => (None, rest),
    };
    let op = ShadowOp::from_suffix(suffix).ok_or(Error::NotGenericTopic)?;
    Ok(ShadowTopic { shadow, op })
}

/// Why a topic after `$aws/things/` that does not start with this thing's
/// name is refused: [`Error::OtherDevice`] for a shadow topic of another
/// thing, [`Error::NotGenericTopic`] for anything else.
#[cold]
fn shadow_refusal(rest: &str) -> Error {
    let Some((_, rest)) = split_byte(rest, b'/') else {
        return Error::NotGenericTopic;
    };
    let Some(rest) = eat(rest, "shadow/") else {
        return Error::NotGenericTopic;
    };
    let suffix = match eat(rest, "name/") {
        Some(named) => match split_byte(named, b'/') {
            Some((shadow, suffix)) if check_shadow_name(shadow).is_ok() => suffix,
            Some(_) => return Error::InvalidName,
            None => return Error::NotGenericTopic,
        },
        None => rest,
    };
    match ShadowOp::from_suffix(suffix) {
        Some(_) => Error::OtherDevice,
        None => Error::NotGenericTopic,
    }
}

/// Writes the shadow topic `$aws/things/<thing>/shadow/[name/<shadow>/]<op>`.
pub fn shadow_topic<'b>(
    thing: &str,
    shadow: Option<&str>,
    op: ShadowOp,
    buf: &'b mut [u8],
) -> Result<Topic<'b>> {
    let mut w = TopicWriter::new(buf);
    w.push_str(SHADOW_PREFIX)?;
    w.push_str(thing)?;
    w.push_str("/shadow/")?;
    if let Some(name) = shadow {
        check_shadow_name(name)?;
        w.push_str("name/")?;
        w.push_str(name)?;
        w.push(b'/')?;
    }
    w.push_str(op.as_str())?;
    if w.len() > MAX_TOPIC_LEN {
        return Err(Error::TopicTooLong);
    }
    w.finish_topic(MAX_PAYLOAD)
}

/// The answer topic for a request that came on `<thing>/request/<path>`:
/// `<thing>/response/<path>`.
pub fn response_topic<'b>(
    thing: &str,
    request: &Request<'_>,
    buf: &'b mut [u8],
) -> Result<Topic<'b>> {
    if request.route != Route::Topic {
        return Err(Error::InvalidArgument);
    }
    let mut w = TopicWriter::new(buf);
    w.push_str(thing)?;
    w.push_str("/response/")?;
    w.push_str(request.path)?;
    let topic = w.finish_topic(MAX_PAYLOAD)?;
    check_topic_bytes(&topic)?;
    Ok(topic)
}
