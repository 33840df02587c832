//! What an incoming cloud topic means: the result of
//! [`Dialect::classify`](super::Dialect::classify).
//!
//! Everything here borrows from the topic; nothing is decoded or copied
//! until the caller asks for it.

use super::bag::PropertyBag;
use super::percent::DecodedBytes;
use super::topic_writer::TopicWriter;
use crate::Result;

/// An incoming topic, classified. A topic that is none of these is refused
/// by `classify` with an [`Error`](crate::Error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Incoming<'t> {
    /// A request for the device (any cloud).
    Request(Request<'t>),
    /// An AWS shadow topic (answers to get/update/delete, and `update/delta`,
    /// whose payload carries the desired change and its version).
    Shadow(ShadowTopic<'t>),
    /// An Azure twin answer to a GET or a reported PATCH.
    TwinResponse(TwinResponse<'t>),
    /// An Azure desired-properties patch.
    Desired {
        /// The twin version after the patch.
        version: u64,
    },
}

/// A request for the device, and how it came (which decides the way back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'t> {
    pub(crate) topic: &'t str,
    pub(crate) path: &'t str,
    pub(crate) route: Route,
    /// The `$rid` of a direct method (checked by
    /// [`check_rid`](super::check_rid)); empty on the other routes.
    pub(crate) rid: &'t str,
    /// Every property of a cloud-to-device message (`subtopic`, `$.mid`,
    /// `$.to`, user properties), still encoded; empty on the other routes.
    pub(crate) bag: PropertyBag<'t>,
}

/// How a request reached the device, which decides the way back. The one
/// route type: the dialect classifies a request into it, the pending table
/// keeps it until the answer, the application sees it in
/// [`device::Request`](crate::device::Request) (`nimbus_route_t` in C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// AWS: a publish to `<dev>/request/<path>`; answered on
    /// `<dev>/response/<path>`.
    Topic,
    /// Azure: a cloud-to-device message with `subtopic=request.<path>`;
    /// answered with a device-to-cloud message `subtopic=response.<path>`.
    C2d,
    /// Azure: a direct method; answered on
    /// `$iothub/methods/res/<status>/?$rid=<rid>` with the call's request id.
    Method,
}

impl<'t> Request<'t> {
    /// The cloud topic the request arrived on.
    pub fn cloud_topic(&self) -> &'t str {
        self.topic
    }

    /// How the request came.
    pub fn route(&self) -> Route {
        self.route
    }

    /// The request id a direct method is answered with; `None` on the
    /// other routes.
    pub fn rid(&self) -> Option<&'t str> {
        (self.route == Route::Method).then_some(self.rid)
    }

    /// The properties of a cloud-to-device message, still encoded; `None`
    /// on the other routes.
    pub fn properties(&self) -> Option<PropertyBag<'t>> {
        (self.route == Route::C2d).then_some(self.bag)
    }

    /// The generic path (`sensor/12/get`), produced byte by byte: `.` of
    /// Azure paths becomes `/`, and C2D values are percent-decoded.
    pub fn path_bytes(&self) -> PathBytes<'t> {
        let bytes = self.path.as_bytes();
        match self.route {
            Route::Topic => PathBytes {
                src: Src::Raw(bytes.iter()),
                dotted: false,
            },
            Route::Method => PathBytes {
                src: Src::Raw(bytes.iter()),
                dotted: true,
            },
            Route::C2d => PathBytes {
                src: Src::Decoded(super::percent::Encoded::checked(self.path).bytes()),
                dotted: true,
            },
        }
    }

    /// True if the generic path equals `path` (e.g. `"sensor/list"`).
    pub fn path_is(&self, path: &str) -> bool {
        self.path_bytes().eq(path.bytes())
    }

    /// The generic path, borrowed when the cloud topic holds it as is (AWS),
    /// otherwise written into `buf`.
    pub fn path<'o>(&self, buf: &'o mut [u8]) -> Result<&'o str>
    where
        't: 'o,
    {
        if self.route == Route::Topic {
            return Ok(self.path);
        }
        if self.route == Route::Method {
            // A method name is the path with `.` for `/`: copy, then swap.
            let out = buf
                .get_mut(..self.path.len())
                .ok_or(crate::Error::BufferTooSmall)?;
            out.copy_from_slice(self.path.as_bytes());
            out.iter_mut()
                .filter(|b| **b == b'.')
                .for_each(|b| *b = b'/');
            return core::str::from_utf8(out).map_err(|_| crate::Error::InvalidString);
        }
        let mut w = TopicWriter::new(buf);
        self.write_path(&mut w)?;
        w.finish()
    }

    pub(crate) fn write_path(&self, w: &mut TopicWriter<'_>) -> Result<()> {
        for b in self.path_bytes() {
            w.push(b)?;
        }
        Ok(())
    }
}

enum Src<'t> {
    Raw(core::slice::Iter<'t, u8>),
    Decoded(DecodedBytes<'t>),
}

/// The bytes of a request's generic path; see [`Request::path_bytes`].
pub struct PathBytes<'t> {
    src: Src<'t>,
    dotted: bool,
}

impl Iterator for PathBytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = match &mut self.src {
            Src::Raw(it) => it.next().copied(),
            Src::Decoded(it) => it.next(),
        }?;
        Some(if self.dotted && b == b'.' { b'/' } else { b })
    }
}

/// An AWS shadow topic: which shadow and which operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShadowTopic<'t> {
    /// The named shadow, or `None` for the classic shadow.
    pub shadow: Option<&'t str>,
    /// The operation suffix.
    pub op: ShadowOp,
}

/// The suffixes of AWS shadow topics (ARCHITECTURE.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ShadowOp {
    /// `update` (device → cloud).
    Update,
    /// `update/accepted`.
    UpdateAccepted,
    /// `update/rejected`.
    UpdateRejected,
    /// `update/delta`: desired differs from reported.
    UpdateDelta,
    /// `update/documents`: the whole document before and after an update.
    UpdateDocuments,
    /// `get` (device → cloud).
    Get,
    /// `get/accepted`.
    GetAccepted,
    /// `get/rejected`.
    GetRejected,
    /// `delete` (device → cloud).
    Delete,
    /// `delete/accepted`.
    DeleteAccepted,
    /// `delete/rejected`.
    DeleteRejected,
}

impl ShadowOp {
    /// Every operation, in the order of ARCHITECTURE.md.
    pub const ALL: [ShadowOp; 11] = [
        ShadowOp::Update,
        ShadowOp::UpdateAccepted,
        ShadowOp::UpdateRejected,
        ShadowOp::UpdateDelta,
        ShadowOp::UpdateDocuments,
        ShadowOp::Get,
        ShadowOp::GetAccepted,
        ShadowOp::GetRejected,
        ShadowOp::Delete,
        ShadowOp::DeleteAccepted,
        ShadowOp::DeleteRejected,
    ];

    /// The topic suffix, e.g. `"update/delta"`.
    #[inline(always)]
    pub const fn as_str(self) -> &'static str {
        match self {
            ShadowOp::Update => "update",
            ShadowOp::UpdateAccepted => "update/accepted",
            ShadowOp::UpdateRejected => "update/rejected",
            ShadowOp::UpdateDelta => "update/delta",
            ShadowOp::UpdateDocuments => "update/documents",
            ShadowOp::Get => "get",
            ShadowOp::GetAccepted => "get/accepted",
            ShadowOp::GetRejected => "get/rejected",
            ShadowOp::Delete => "delete",
            ShadowOp::DeleteAccepted => "delete/accepted",
            ShadowOp::DeleteRejected => "delete/rejected",
        }
    }

    /// The operation for a topic suffix.
    pub fn from_suffix(suffix: &str) -> Option<ShadowOp> {
        use super::scan::eq_lit;
        use ShadowOp::*;
        // A length test, then a compare of a word or two against
        // literals (suffixes of one length differ in their first byte, or
        // are tried in turn).
        let is = |lit: &str| eq_lit(suffix, lit);
        let op = match (suffix.len(), suffix.as_bytes().first()) {
            (3, _) if is("get") => Get,
            (6, Some(b'u')) if is("update") => Update,
            (6, _) if is("delete") => Delete,
            (12, Some(b'u')) if is("update/delta") => UpdateDelta,
            (12, _) if is("get/accepted") => GetAccepted,
            (12, _) if is("get/rejected") => GetRejected,
            (15, Some(b'u')) if is("update/accepted") => UpdateAccepted,
            (15, Some(b'u')) if is("update/rejected") => UpdateRejected,
            (15, _) if is("delete/accepted") => DeleteAccepted,
            (15, _) if is("delete/rejected") => DeleteRejected,
            (16, _) if is("update/documents") => UpdateDocuments,
            _ => return None,
        };
        Some(op)
    }

    /// True for the operations a device publishes (`update`, `get`,
    /// `delete`); the others are published by AWS only.
    pub const fn is_request(self) -> bool {
        matches!(self, ShadowOp::Update | ShadowOp::Get | ShadowOp::Delete)
    }
}

/// An Azure twin answer: `$iothub/twin/res/<status>/?$rid=<rid>[&$version=<v>]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwinResponse<'t> {
    /// The HTTP-like status (200 for GET, 204 for an accepted PATCH).
    pub status: u16,
    /// The request id of the GET or PATCH this answers.
    pub rid: &'t str,
    /// The new reported version, on an accepted PATCH.
    pub version: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suffix_maps_back_and_near_misses_do_not() {
        for op in ShadowOp::ALL {
            assert_eq!(ShadowOp::from_suffix(op.as_str()), Some(op), "{op:?}");
            // Same length, one byte changed anywhere: no operation.
            let text = op.as_str();
            for i in 0..text.len() {
                let mut bytes = text.as_bytes().to_vec();
                bytes[i] ^= 0x20;
                let changed = std::string::String::from_utf8(bytes).unwrap();
                assert_eq!(ShadowOp::from_suffix(&changed), None, "{changed}");
            }
        }
        for other in [
            "",
            "ge",
            "gets",
            "update/",
            "delete/acceptex",
            "update/documentz",
        ] {
            assert_eq!(ShadowOp::from_suffix(other), None, "{other}");
        }
    }
}
