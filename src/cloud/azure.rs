//! Azure IoT Hub dialect (ARCHITECTURE.md §4): generic topics become D2C
//! messages with a `subtopic` property; requests arrive as C2D messages or
//! direct methods; the twin lives under `$iothub/twin/`.

use super::bag::{
    check_properties, write_properties, EncodedProperties, Property, PropertyBag, SUBTOPIC,
};
use super::generic::{self, check_path_bytes, check_path_until, Generic};
use super::incoming::{Incoming, Request, Route, TwinResponse};
use super::names::check_rid;
use super::percent::{encode_path_into, is_unreserved};
use super::scan::{eat, split_around, split_at, split_byte, split_query as split_at_query, str_eq};
use super::swar::find;
use super::topic::Topic;
use super::topic_writer::{parse_u64, TopicWriter};
use crate::{Error, Result};

/// The MQTT API version Nimbus speaks by default.
pub const DEFAULT_API_VERSION: &str = "2021-04-12";
/// Largest device-to-cloud message (256 KB).
pub const MAX_D2C_PAYLOAD: usize = 256 * 1024;
/// Largest direct-method response payload (128 KB).
pub const MAX_METHOD_PAYLOAD: usize = 128 * 1024;
/// Largest reported-properties patch (32 KB).
pub const MAX_TWIN_PATCH: usize = 32 * 1024;
/// Default (S1) device-to-cloud rate, messages per second.
pub const D2C_RATE_PER_S: u32 = 100;
/// Default (S1) twin update rate, per second.
pub const TWIN_UPDATE_RATE_PER_S: u32 = 50;
/// Default (S1) twin read rate, per second.
pub const TWIN_READ_RATE_PER_S: u32 = 100;

const METHOD_RES: &str = "$iothub/methods/res/";
const TWIN_GET: &str = "$iothub/twin/GET/?$rid=";
const TWIN_REPORTED: &str = "$iothub/twin/PATCH/properties/reported/?$rid=";

/// Writes `devices/<dev>/[modules/<mod>/]messages/events/`.
fn write_events_prefix(w: &mut TopicWriter<'_>, device: &str, module: Option<&str>) -> Result<()> {
    w.push_lit(b"devices/")?;
    w.push_str(device)?;
    if let Some(m) = module {
        w.push_lit(b"/modules/")?;
        w.push_str(m)?;
    }
    w.push_lit(b"/messages/events/")
}

/// The D2C topic for an outgoing generic topic:
/// `devices/<dev>/[modules/<mod>/]messages/events/` followed by the
/// property bag: `subtopic=<path with / → .>` for everything but events,
/// then `props`, all percent-encoded (so `$.ct` is written `%24.ct`).
pub fn publish_topic<'b>(
    device: &str,
    module: Option<&str>,
    generic: &str,
    props: &[Property<'_>],
    buf: &'b mut [u8],
) -> Result<Topic<'b>> {
    let kind = generic::split(device, generic)?;
    check_properties(props)?;
    let mut w = TopicWriter::new(buf);
    let first = write_d2c_head(&mut w, device, module, kind)?;
    write_properties(&mut w, props, first)?;
    w.finish_topic(MAX_D2C_PAYLOAD)
}

/// [`publish_topic`] with properties encoded beforehand: the bag is
/// copied as it is.
pub fn publish_topic_encoded<'b>(
    device: &str,
    module: Option<&str>,
    generic: &str,
    props: EncodedProperties<'_>,
    buf: &'b mut [u8],
) -> Result<Topic<'b>> {
    let kind = generic::split(device, generic)?;
    let mut w = TopicWriter::new(buf);
    let first = write_d2c_head(&mut w, device, module, kind)?;
    if !props.is_empty() {
        if !first {
            w.push_lit(b"&")?;
        }
        w.push_str(props.as_str())?;
    }
    w.finish_topic(MAX_D2C_PAYLOAD)
}

/// The D2C topic of a reading of sensor `sensor`: the translation of
/// `<dev>/response/sensor/<sensor>/reading`, written straight, followed by
/// `props`.
pub fn telemetry_topic<'b>(
    device: &str,
    module: Option<&str>,
    sensor: u16,
    props: EncodedProperties<'_>,
    buf: &'b mut [u8],
) -> Result<Topic<'b>> {
    let mut w = TopicWriter::new(buf);
    w.push_lit(b"devices/")?;
    w.push_str_inline(device)?;
    if let Some(m) = module {
        w.push_lit(b"/modules/")?;
        w.push_str(m)?;
    }
    w.push_lit(b"/messages/events/subtopic=response.sensor.")?;
    w.push_u16(sensor)?;
    w.push_lit(b".reading")?;
    if !props.is_empty() {
        w.push_lit(b"&")?;
        w.push_str_inline(props.as_str())?;
    }
    w.finish_topic_inline(MAX_D2C_PAYLOAD)
}

/// Writes the D2C topic of a generic topic up to its message properties:
/// the events prefix and, for a response, its `subtopic` (the path is
/// checked while it is copied). True if the property bag is still empty.
#[inline(always)]
fn write_d2c_head(
    w: &mut TopicWriter<'_>,
    device: &str,
    module: Option<&str>,
    kind: Generic<'_>,
) -> Result<bool> {
    write_events_prefix(w, device, module)?;
    match kind {
        Generic::Events => Ok(true),
        Generic::Response(path) => {
            w.push_lit(b"subtopic=response.")?;
            encode_path_into(w, path.as_bytes())?;
            Ok(false)
        }
        Generic::Request(_) => Err(Error::NotGenericTopic),
    }
}

/// The `$rid` and `$version` of an `$iothub` query string. Other parameters
/// are ignored; a pair without `=` or a repeated parameter is refused.
struct Query<'t> {
    rid: Option<&'t str>,
    version: Option<u64>,
}

fn parse_query(query: &str) -> Result<Query<'_>> {
    let mut q = Query {
        rid: None,
        version: None,
    };
    let mut rest = query;
    loop {
        let (pair, tail) = match find(rest.as_bytes(), b'&') {
            Some(i) => {
                let (pair, tail) = split_around(rest, i).ok_or(Error::InvalidEncoding)?;
                (pair, Some(tail))
            }
            None => (rest, None),
        };
        if let Some(rid) = eat(pair, "$rid=") {
            if q.rid.is_some() || rid.is_empty() {
                return Err(Error::InvalidEncoding);
            }
            q.rid = Some(rid);
        } else if let Some(version) = eat(pair, "$version=") {
            if q.version.is_some() {
                return Err(Error::InvalidEncoding);
            }
            q.version = Some(parse_u64(version).ok_or(Error::InvalidEncoding)?);
        } else if find(pair.as_bytes(), b'=').is_none() {
            // Other parameters are ignored, but they are `name=value`.
            return Err(Error::InvalidEncoding);
        }
        match tail {
            Some(t) => rest = t,
            None => return Ok(q),
        }
    }
}

/// Splits `<head>/?<query>`.
fn split_query(rest: &str) -> Result<(&str, Query<'_>)> {
    let (head, query) = split_at_query(rest).ok_or(Error::NotGenericTopic)?;
    Ok((head, parse_query(query)?))
}

/// Classifies an incoming Azure topic for `device` (and `module`).
pub fn classify<'t>(device: &str, module: Option<&str>, topic: &'t str) -> Result<Incoming<'t>> {
    if let Some(rest) = eat(topic, "$iothub/") {
        if let Some(rest) = eat(rest, "methods/POST/") {
            return classify_method(topic, rest);
        }
        if let Some(rest) = eat(rest, "twin/") {
            if let Some(rest) = eat(rest, "res/") {
                return classify_twin_response(rest);
            }
            let rest = eat(rest, "PATCH/properties/desired/").ok_or(Error::NotGenericTopic)?;
            let query = eat(rest, "?").ok_or(Error::NotGenericTopic)?;
            let version = parse_query(query)?.version.ok_or(Error::InvalidEncoding)?;
            return Ok(Incoming::Desired { version });
        }
        return Err(Error::NotGenericTopic);
    }
    if let Some(rest) = eat(topic, "devices/") {
        return classify_c2d(device, module, topic, rest);
    }
    Err(Error::NotGenericTopic)
}

fn classify_method<'t>(topic: &'t str, rest: &'t str) -> Result<Incoming<'t>> {
    // `<method>/?<query>`: the method name ends at the first `/`.
    let end = check_path_until(rest.as_bytes(), b'.', b'/')?;
    let (method, after) = split_at(rest, end).ok_or(Error::NotGenericTopic)?;
    let query = eat(after, "/?").ok_or(Error::NotGenericTopic)?;
    // Azure sends `$rid=<id>` and nothing else: take that straight, and
    // leave anything longer to the general query parser. The rid rule is
    // the one its answer is written with, so a classified call can always
    // be answered.
    let rid = match eat(query, "$rid=") {
        Some(rid) if check_rid(rid).is_ok() => rid,
        _ => match parse_query(query)?.rid {
            Some(rid) if check_rid(rid).is_ok() => rid,
            _ => return Err(Error::InvalidEncoding),
        },
    };
    Ok(Incoming::Request(Request {
        topic,
        path: method,
        route: Route::Method,
        rid,
        bag: PropertyBag::EMPTY,
    }))
}

fn classify_twin_response(rest: &str) -> Result<Incoming<'_>> {
    let (status, query) = split_query(rest)?;
    let status = parse_u64(status)
        .filter(|s| (100..=599).contains(s))
        .ok_or(Error::InvalidEncoding)?;
    Ok(Incoming::TwinResponse(TwinResponse {
        // 100..=599 fits a u16.
        status: status as u16,
        rid: query.rid.ok_or(Error::InvalidEncoding)?,
        version: query.version,
    }))
}

fn classify_c2d<'t>(
    device: &str,
    module: Option<&str>,
    topic: &'t str,
    rest: &'t str,
) -> Result<Incoming<'t>> {
    let (dev, rest) = split_byte(rest, b'/').ok_or(Error::NotGenericTopic)?;
    let raw_bag = eat(rest, "messages/devicebound/").ok_or(Error::NotGenericTopic)?;
    if !str_eq(dev, device) {
        return Err(Error::OtherDevice);
    }
    if module.is_some() {
        // Module identities receive no cloud-to-device messages.
        return Err(Error::TopicNotAllowed);
    }
    let bag = PropertyBag::parse(raw_bag)?;
    let mut subtopic = None;
    for entry in bag.iter().filter(|e| e.name.eq_decoded(SUBTOPIC)) {
        if subtopic.is_some() {
            return Err(Error::InvalidEncoding);
        }
        subtopic = Some(entry.value.ok_or(Error::NotGenericTopic)?);
    }
    let path = subtopic
        .ok_or(Error::NotGenericTopic)?
        .strip_decoded_prefix("request.")
        .ok_or(Error::NotGenericTopic)?;
    check_path_bytes(path.bytes(), b'.')?;
    Ok(Incoming::Request(Request {
        topic,
        path: path.raw(),
        route: Route::C2d,
        rid: "",
        bag,
    }))
}

/// The answer topic for a request: a direct method is answered on
/// `$iothub/methods/res/<status>/?$rid=<rid>`, a C2D request with the D2C
/// message `devices/<dev>/messages/events/subtopic=response.<path>` (the
/// status then travels in the payload).
pub fn response_topic<'b>(
    device: &str,
    module: Option<&str>,
    request: &Request<'_>,
    status: u16,
    buf: &'b mut [u8],
) -> Result<Topic<'b>> {
    match request.route {
        Route::Method => method_response_topic(status, request.rid, buf),
        Route::C2d => {
            let mut w = TopicWriter::new(buf);
            write_events_prefix(&mut w, device, module)?;
            w.push_str("subtopic=response.")?;
            for b in request.path_bytes() {
                if b == b'/' {
                    w.push(b'.')?;
                } else if is_unreserved(b) {
                    w.push(b)?;
                } else {
                    w.push_percent(b)?;
                }
            }
            w.finish_topic(MAX_D2C_PAYLOAD)
        }
        Route::Topic => Err(Error::InvalidArgument),
    }
}

/// `$iothub/methods/res/<status>/?$rid=<rid>`.
pub fn method_response_topic<'b>(status: u16, rid: &str, buf: &'b mut [u8]) -> Result<Topic<'b>> {
    check_rid(rid)?;
    let mut w = TopicWriter::new(buf);
    w.push_str(METHOD_RES)?;
    w.push_u64(u64::from(status))?;
    w.push_str("/?$rid=")?;
    w.push_str(rid)?;
    w.finish_topic(MAX_METHOD_PAYLOAD)
}

fn rid_topic<'b>(prefix: &str, rid: &str, buf: &'b mut [u8]) -> Result<Topic<'b>> {
    check_rid(rid)?;
    let mut w = TopicWriter::new(buf);
    w.push_str(prefix)?;
    w.push_str(rid)?;
    w.finish_topic(MAX_TWIN_PATCH)
}

/// `$iothub/twin/GET/?$rid=<rid>`: ask for the whole twin.
pub fn twin_get_topic<'b>(rid: &str, buf: &'b mut [u8]) -> Result<Topic<'b>> {
    rid_topic(TWIN_GET, rid, buf)
}

/// `$iothub/twin/PATCH/properties/reported/?$rid=<rid>`: patch reported.
pub fn twin_report_topic<'b>(rid: &str, buf: &'b mut [u8]) -> Result<Topic<'b>> {
    rid_topic(TWIN_REPORTED, rid, buf)
}

/// The MQTT client id: `<dev>` or `<dev>/<mod>`.
pub fn client_id<'b>(device: &str, module: Option<&str>, buf: &'b mut [u8]) -> Result<&'b str> {
    let mut w = TopicWriter::new(buf);
    w.push_str(device)?;
    if let Some(m) = module {
        w.push(b'/')?;
        w.push_str(m)?;
    }
    w.finish()
}

/// The MQTT username: `<hub>/<dev>/[<mod>/]?api-version=<v>`. The hub is
/// its host name (`[A-Za-z0-9.-]`), the API version unreserved text
/// ([`Error::InvalidArgument`] otherwise).
pub fn username<'b>(
    hub: &str,
    device: &str,
    module: Option<&str>,
    api_version: &str,
    buf: &'b mut [u8],
) -> Result<&'b str> {
    check_hub(hub)?;
    if api_version.is_empty() || !api_version.bytes().all(is_unreserved) {
        return Err(Error::InvalidArgument);
    }
    let mut w = TopicWriter::new(buf);
    w.push_str(hub)?;
    w.push(b'/')?;
    w.push_str(device)?;
    w.push(b'/')?;
    if let Some(m) = module {
        w.push_str(m)?;
        w.push(b'/')?;
    }
    w.push_str("?api-version=")?;
    w.push_str(api_version)?;
    w.finish()
}

/// Checks an IoT Hub host name: non-empty, `[A-Za-z0-9.-]`.
pub(crate) fn check_hub(hub: &str) -> Result<()> {
    if hub.is_empty()
        || !hub
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        return Err(Error::InvalidArgument);
    }
    Ok(())
}

/// What an allowed Azure publish is, for its payload limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Allowed {
    D2c,
    TwinGet,
    TwinReport,
    MethodResponse,
}

impl Allowed {
    pub(crate) const fn max_payload(self) -> usize {
        match self {
            Allowed::D2c => MAX_D2C_PAYLOAD,
            Allowed::TwinGet | Allowed::TwinReport => MAX_TWIN_PATCH,
            Allowed::MethodResponse => MAX_METHOD_PAYLOAD,
        }
    }
}

/// The Azure allow-list: D2C events of this device/module, twin GET and
/// reported PATCH, method responses. Anything else is
/// [`Error::TopicNotAllowed`] (events of another identity:
/// [`Error::OtherDevice`]).
pub(crate) fn allowed(device: &str, module: Option<&str>, topic: &str) -> Result<Allowed> {
    if let Some(rest) = eat(topic, "devices/") {
        let (dev, rest) = split_byte(rest, b'/').ok_or(Error::TopicNotAllowed)?;
        let (module_in_topic, rest) = match eat(rest, "modules/") {
            Some(r) => {
                let (m, r) = split_byte(r, b'/').ok_or(Error::TopicNotAllowed)?;
                (Some(m), r)
            }
            None => (None, rest),
        };
        let bag = eat(rest, "messages/events/").ok_or(Error::TopicNotAllowed)?;
        if !str_eq(dev, device) || !same_module(module_in_topic, module) {
            return Err(Error::OtherDevice);
        }
        if find(bag.as_bytes(), b'/').is_some() {
            return Err(Error::TopicNotAllowed);
        }
        PropertyBag::parse(bag)?;
        return Ok(Allowed::D2c);
    }
    let rid_only = |rest: &str| -> Result<()> {
        let q = parse_query(rest)?;
        if q.rid.is_none() {
            return Err(Error::TopicNotAllowed);
        }
        Ok(())
    };
    if let Some(rest) = eat(topic, "$iothub/twin/GET/?") {
        rid_only(rest)?;
        return Ok(Allowed::TwinGet);
    }
    if let Some(rest) = eat(topic, "$iothub/twin/PATCH/properties/reported/?") {
        rid_only(rest)?;
        return Ok(Allowed::TwinReport);
    }
    if let Some(rest) = eat(topic, METHOD_RES) {
        let (status, query) = split_at_query(rest).ok_or(Error::TopicNotAllowed)?;
        if parse_u64(status).is_none_or(|s| s > u64::from(u16::MAX)) {
            return Err(Error::TopicNotAllowed);
        }
        rid_only(query)?;
        return Ok(Allowed::MethodResponse);
    }
    Err(Error::TopicNotAllowed)
}

/// The same module identity (or none on both sides).
fn same_module(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => str_eq(a, b),
        (a, b) => a.is_none() && b.is_none(),
    }
}
