//! The shadow/twin state machine shared by both clouds.

use super::id::RequestId;
use super::inflight::{Entry, Op, Table};
use super::json::{self, Path};
use super::rules::{self, SpacePolicy};
use crate::cloud::Cloud;
use crate::writer::TextWriter as Out;
use crate::{Error, Result};

/// Default capacity of the pending-request table (the AWS in-flight limit).
pub const MAX_PENDING: usize = 10;

/// Default time a request waits for its answer.
pub const DEFAULT_TIMEOUT_MS: u32 = 10_000;

/// What the twin model needs to know about the device's cloud.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwinConfig<'a> {
    /// Whose rules apply.
    pub cloud: Cloud,
    /// AWS named shadow (`None`: the classic shadow). Carried for the
    /// dialect layer, which builds the topic; must be `None` on Azure.
    pub shadow_name: Option<&'a str>,
    /// How long a request waits for its answer before it completes as
    /// [`Error::Timeout`].
    pub timeout_ms: u32,
    /// Spaces in Azure property names: refuse or remove.
    pub spaces: SpacePolicy,
    /// The first request id to use (0 counts as 1). Seeding it with a
    /// random or boot-count value keeps ids of a previous boot from
    /// matching late answers after a reboot.
    pub first_request_id: u32,
}

impl<'a> TwinConfig<'a> {
    /// The defaults for `cloud`: classic shadow, [`DEFAULT_TIMEOUT_MS`],
    /// spaces refused, ids from 1.
    pub const fn new(cloud: Cloud) -> Self {
        TwinConfig {
            cloud,
            shadow_name: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            spaces: SpacePolicy::Reject,
            first_request_id: 1,
        }
    }
}

/// An outgoing request: the payload is in the caller's buffer, `len` bytes;
/// the dialect layer builds the topic from `op`, `id` and the shadow name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TwinRequest {
    /// What to ask for.
    pub op: Op,
    /// The request id (AWS `clientToken`, in the payload already; Azure
    /// `$rid`, for the topic).
    pub id: RequestId,
    /// Payload length at the start of the caller's buffer (0: empty payload).
    pub len: usize,
    /// The earlier get this one replaces ([`Twin::on_connected`]).
    pub superseded: Option<RequestId>,
}

/// An AWS shadow response topic, as classified by the dialect layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AwsReply {
    /// `.../update/accepted`
    UpdateAccepted,
    /// `.../update/rejected`
    UpdateRejected,
    /// `.../get/accepted`
    GetAccepted,
    /// `.../get/rejected`
    GetRejected,
}

/// A classified answer to a twin request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response<'a> {
    /// AWS: the topic's operation and the payload (which holds the
    /// `clientToken`).
    Aws {
        /// Which answer topic it came on.
        reply: AwsReply,
        /// The message payload.
        payload: &'a [u8],
    },
    /// Azure: `$iothub/twin/res/<status>/?$rid=<rid>[&$version=<v>]`.
    Azure {
        /// The status from the topic.
        status: u16,
        /// The `$rid` from the topic.
        rid: &'a str,
        /// The `$version` from the topic, if any.
        version: Option<u64>,
        /// The message payload.
        payload: &'a [u8],
    },
}

/// What happened, borrowing the payload it came from.
///
/// Every request completes with exactly one event: `ReportAccepted`,
/// `Document` (a get), `Desired` (the get issued by
/// [`Twin::on_connected`], when it brings a newer desired state), `Rejected`
/// or `Failed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwinEvent<'a> {
    /// The cloud accepted a report. `version` is the document version after
    /// it (AWS `version` in the answer, Azure `$version` from the topic),
    /// `None` when the answer carries no readable version.
    ReportAccepted {
        /// The request.
        id: RequestId,
        /// The new document version.
        version: Option<u64>,
    },
    /// The cloud refused a request.
    Rejected {
        /// The request.
        id: RequestId,
        /// What it asked for.
        op: Op,
        /// AWS `code` (0 if absent or not a `u16`); Azure status from the topic.
        status: u16,
        /// AWS: the raw contents of `message` (JSON-escaped, see
        /// [`json::unescape`]); Azure: the whole body as received (may be
        /// empty or not JSON).
        message: &'a [u8],
    },
    /// The answer to [`Twin::get`], normalised. Sections are the exact JSON
    /// objects received (AWS `state.desired` / `state.reported`, Azure
    /// `desired` / `reported`); a missing or `null` section is `{}`.
    /// `version` is AWS `version` or Azure `desired.$version`, 0 if absent.
    Document {
        /// The request.
        id: RequestId,
        /// The desired section, a JSON object.
        desired: &'a [u8],
        /// The reported section, a JSON object.
        reported: &'a [u8],
        /// The document version.
        version: u64,
    },
    /// Desired properties changed: an AWS delta's `state`, an Azure desired
    /// patch (whole body, including its `$version` member), or after a
    /// reconnect the whole desired section if it is newer than the last one
    /// delivered. Versions strictly increase from one such event to the next.
    Desired {
        /// The changed properties, a JSON object.
        patch: &'a [u8],
        /// Its version.
        version: u64,
    },
    /// A request ended without a usable answer: [`Error::Timeout`] from
    /// [`Twin::poll`], or the answer was malformed ([`Error::InvalidJson`],
    /// [`Error::UnexpectedJson`], [`Error::DocumentTooLarge`] for a get
    /// whose sections exceed the cloud's limit).
    Failed {
        /// The request.
        id: RequestId,
        /// What it asked for.
        op: Op,
        /// Why.
        error: Error,
    },
}

/// Why an input produced no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ignored {
    /// The answer names no pending request: not ours, already completed, or
    /// timed out.
    UnknownRequest,
    /// A desired state whose version is not newer than the last delivered.
    Stale {
        /// The version it carried.
        version: u64,
    },
}

/// The result of feeding one input to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// Something to act on.
    Event(TwinEvent<'a>),
    /// Nothing to do, and why.
    Ignored(Ignored),
}

/// The empty object a missing section stands for.
const EMPTY_OBJECT: &[u8] = b"{}";

const AWS_REPORT_HEAD: &[u8] = br#"{"state":{"reported":"#;
const AWS_REPORT_TOKEN: &[u8] = br#"},"clientToken":""#;
const AWS_TAIL: &[u8] = br#""}"#;
const AWS_GET_HEAD: &[u8] = br#"{"clientToken":""#;

const _: () = assert!(super::id::MAX_REQUEST_ID_LEN <= rules::AWS_MAX_CLIENT_TOKEN);

/// One device shadow (AWS) or device twin (Azure): pending requests with
/// their deadlines, and the version of the last desired state delivered.
///
/// Sans-I/O: requests are written to caller buffers and answers are fed in
/// already classified; nothing here knows topics or sockets. `N` bounds the
/// requests waiting for an answer (on AWS also at most
/// [`rules::AWS_MAX_IN_FLIGHT`]). The AWS limit is per connection: a device
/// that uses several shadows on one connection must share it between them.
#[derive(Clone, Debug)]
pub struct Twin<'a, const N: usize = MAX_PENDING> {
    config: TwinConfig<'a>,
    pending: Table<N>,
    next_id: u32,
    last_desired: Option<u64>,
}

impl<'a, const N: usize> Twin<'a, N> {
    /// A model with nothing pending and no desired state delivered yet.
    ///
    /// Errors: [`Error::InvalidName`] for a bad shadow name,
    /// [`Error::InvalidArgument`] for a shadow name on Azure.
    pub fn new(config: TwinConfig<'a>) -> Result<Self> {
        if let Some(name) = config.shadow_name {
            #[cfg(feature = "aws")]
            if config.cloud != Cloud::Aws {
                return Err(Error::InvalidArgument);
            }
            crate::cloud::check_shadow_name(name)?;
        }
        Ok(Twin {
            config,
            pending: Table::new(),
            next_id: config.first_request_id,
            last_desired: None,
        })
    }

    /// The configuration.
    pub const fn config(&self) -> &TwinConfig<'a> {
        &self.config
    }

    /// The AWS named shadow, if any.
    pub const fn shadow_name(&self) -> Option<&'a str> {
        self.config.shadow_name
    }

    /// Requests waiting for an answer.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The version of the last desired state delivered, if any.
    pub const fn last_desired_version(&self) -> Option<u64> {
        self.last_desired
    }

    /// When [`Twin::poll`] next has work: the earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        self.pending.next_deadline()
    }

    /// Reports `patch` (a JSON object of reported properties): checks it
    /// against the cloud's rules, writes the payload to `out` (AWS wraps it
    /// as `{"state":{"reported":<patch>},"clientToken":"<id>"}`; Azure sends
    /// it as is, or with spaces removed from names) and records the request.
    ///
    /// Errors, and nothing is recorded: [`Error::InvalidJson`],
    /// [`Error::UnexpectedJson`] (not an object), [`Error::JsonTooDeep`],
    /// [`Error::InvalidPropertyName`] (Azure), [`Error::DocumentTooLarge`],
    /// [`Error::Busy`] (too many requests in flight), [`Error::BufferTooSmall`].
    pub fn report(&mut self, patch: &[u8], out: &mut [u8], now_ms: u64) -> Result<TwinRequest> {
        match self.config.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                let summary = json::validate(patch)?;
                if !summary.is_object {
                    return Err(Error::UnexpectedJson);
                }
                if summary.depth + 2 > rules::AWS_MAX_DEPTH {
                    return Err(Error::JsonTooDeep);
                }
                let id = self.free_id()?;
                let doc_len = AWS_REPORT_HEAD.len()
                    + patch.len()
                    + AWS_REPORT_TOKEN.len()
                    + id.as_bytes().len()
                    + AWS_TAIL.len();
                if doc_len > rules::AWS_MAX_DOCUMENT {
                    return Err(Error::DocumentTooLarge);
                }
                let mut w = Out::new(out);
                w.push(AWS_REPORT_HEAD)?;
                w.push(patch)?;
                w.push(AWS_REPORT_TOKEN)?;
                w.push(id.as_bytes())?;
                w.push(AWS_TAIL)?;
                let len = w.len();
                self.record(id, Op::Report, false, len, now_ms)
            }
            #[cfg(feature = "azure")]
            Cloud::Azure => {
                let checked = rules::check_azure_patch(patch, self.config.spaces)?;
                if checked.len > rules::AZURE_MAX_SECTION {
                    return Err(Error::DocumentTooLarge);
                }
                let id = self.free_id()?;
                let mut w = Out::new(out);
                rules::write_azure_patch(patch, checked.rewrite, &mut w)?;
                let len = w.len();
                self.record(id, Op::Report, false, len, now_ms)
            }
        }
    }

    /// Asks for the whole document; the answer comes as [`TwinEvent::Document`].
    /// AWS payload `{"clientToken":"<id>"}`, Azure an empty payload.
    ///
    /// Errors: [`Error::Busy`] (also while another get is pending: at most
    /// one get is ever outstanding), [`Error::BufferTooSmall`].
    pub fn get(&mut self, out: &mut [u8], now_ms: u64) -> Result<TwinRequest> {
        if self.pending.get_op().is_some() {
            return Err(Error::Busy);
        }
        self.get_request(false, out, now_ms)
    }

    /// The get waiting for its answer, if any, and whether it is the one
    /// [`Twin::on_connected`] issued.
    pub fn pending_get(&self) -> Option<(RequestId, bool)> {
        self.pending.get_op().map(|e| (e.id, e.sync))
    }

    /// Completes a request whose answer could not be read (larger than the
    /// receive buffer) as [`TwinEvent::Failed`] with `error`: the request `id`
    /// names, or without an id (an AWS answer, whose `clientToken` is in
    /// the lost payload) the oldest pending request for `op`. `None` when
    /// nothing matches.
    pub fn fail(
        &mut self,
        id: Option<RequestId>,
        op: Op,
        error: Error,
    ) -> Option<TwinEvent<'static>> {
        let e = match id {
            Some(id) => self.pending.take(id, None)?,
            None => self.pending.take_oldest(op)?,
        };
        Some(TwinEvent::Failed {
            id: e.id,
            op: e.op,
            error,
        })
    }

    /// Call after every (re)connect and publish the request it returns: it
    /// fetches the document so that desired changes made while the device
    /// was offline are delivered (once, as [`TwinEvent::Desired`], if newer than
    /// the last delivered; otherwise the answer is [`Ignored::Stale`]).
    /// A rejection or timeout of this get is reported like any other; call
    /// again to retry. A get from an earlier call still pending is
    /// superseded: it is forgotten (no event) and its id returned in
    /// [`TwinRequest::superseded`], so that its publish can be dropped rather
    /// than resent beside its replacement. While an application's
    /// [`Twin::get`] is pending this is [`Error::Busy`]: its answer serves
    /// (call again once it completed).
    ///
    /// On AWS the version counts every update, reported ones included, so
    /// after a reconnect the desired section is delivered again whenever the
    /// shadow changed in any way since the last desired state was delivered.
    ///
    /// Errors: [`Error::Busy`], [`Error::BufferTooSmall`].
    pub fn on_connected(&mut self, out: &mut [u8], now_ms: u64) -> Result<TwinRequest> {
        let superseded = match self.pending.get_op() {
            Some(e) if e.sync => self.pending.take(e.id, None).map(|e| e.id),
            Some(_) => return Err(Error::Busy),
            None => None,
        };
        let mut request = self.get_request(true, out, now_ms)?;
        request.superseded = superseded;
        Ok(request)
    }

    fn get_request(&mut self, sync: bool, out: &mut [u8], now_ms: u64) -> Result<TwinRequest> {
        let id = self.free_id()?;
        let len = match self.config.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                let mut w = Out::new(out);
                w.push(AWS_GET_HEAD)?;
                w.push(id.as_bytes())?;
                w.push(AWS_TAIL)?;
                w.len()
            }
            #[cfg(feature = "azure")]
            Cloud::Azure => 0,
        };
        self.record(id, Op::Get, sync, len, now_ms)
    }

    /// Forgets a request that could not be sent, so that it neither waits
    /// for an answer nor times out. Returns whether it was pending.
    pub fn cancel(&mut self, id: RequestId) -> bool {
        self.pending.take(id, None).is_some()
    }

    /// Completes requests whose deadline has passed, one per call, as
    /// [`TwinEvent::Failed`] with [`Error::Timeout`]; `None` when none is due.
    /// Call until `None` (at most `N` times).
    pub fn poll(&mut self, now_ms: u64) -> Option<TwinEvent<'static>> {
        let e = self.pending.take_expired(now_ms)?;
        Some(TwinEvent::Failed {
            id: e.id,
            op: e.op,
            error: Error::Timeout,
        })
    }

    /// Feeds an answer to a request.
    ///
    /// Errors (no request completes): [`Error::InvalidArgument`] for an
    /// answer of the other cloud; on AWS, [`Error::InvalidJson`] or
    /// [`Error::JsonTooDeep`] when the payload cannot be read for its
    /// `clientToken`. An answer that names no pending request of this kind
    /// is [`Ignored::UnknownRequest`].
    pub fn on_response<'p>(&mut self, response: Response<'p>) -> Result<Outcome<'p>> {
        match (self.config.cloud, response) {
            #[cfg(feature = "aws")]
            (Cloud::Aws, Response::Aws { reply, payload }) => self.on_aws_response(reply, payload),
            #[cfg(feature = "azure")]
            (
                Cloud::Azure,
                Response::Azure {
                    status,
                    rid,
                    version,
                    payload,
                },
            ) => Ok(self.on_azure_response(status, rid, version, payload)),
            _ => Err(Error::InvalidArgument),
        }
    }

    fn on_aws_response<'p>(&mut self, reply: AwsReply, payload: &'p [u8]) -> Result<Outcome<'p>> {
        const TOKEN: Path = &["clientToken"];
        const VERSION: Path = &["version"];
        let op = match reply {
            AwsReply::UpdateAccepted | AwsReply::UpdateRejected => Op::Report,
            AwsReply::GetAccepted | AwsReply::GetRejected => Op::Get,
        };
        match reply {
            AwsReply::UpdateAccepted => {
                let [token, version] = json::lookup(payload, [TOKEN, VERSION])?;
                let Some(e) = self.take(token, op) else {
                    return Ok(Outcome::Ignored(Ignored::UnknownRequest));
                };
                let version = version.and_then(|v| json::parse_u64(v).ok());
                Ok(Outcome::Event(TwinEvent::ReportAccepted {
                    id: e.id,
                    version,
                }))
            }
            AwsReply::UpdateRejected | AwsReply::GetRejected => {
                let [token, code, message] =
                    json::lookup(payload, [TOKEN, &["code"], &["message"]])?;
                let Some(e) = self.take(token, op) else {
                    return Ok(Outcome::Ignored(Ignored::UnknownRequest));
                };
                let status = code
                    .and_then(|c| json::parse_u64(c).ok())
                    .and_then(|c| u16::try_from(c).ok())
                    .unwrap_or(0);
                let message = message.and_then(json::string_contents).unwrap_or(&[]);
                Ok(Outcome::Event(TwinEvent::Rejected {
                    id: e.id,
                    op,
                    status,
                    message,
                }))
            }
            AwsReply::GetAccepted => {
                let [token, desired, reported, version] = json::lookup(
                    payload,
                    [
                        TOKEN,
                        &["state", "desired"],
                        &["state", "reported"],
                        VERSION,
                    ],
                )?;
                let Some(e) = self.take(token, op) else {
                    return Ok(Outcome::Ignored(Ignored::UnknownRequest));
                };
                Ok(self.document(e, desired, reported, version))
            }
        }
    }

    fn on_azure_response<'p>(
        &mut self,
        status: u16,
        rid: &str,
        version: Option<u64>,
        payload: &'p [u8],
    ) -> Outcome<'p> {
        let Some(e) = RequestId::parse(rid.as_bytes()).and_then(|id| self.pending.take(id, None))
        else {
            return Outcome::Ignored(Ignored::UnknownRequest);
        };
        if !(200..300).contains(&status) {
            return Outcome::Event(TwinEvent::Rejected {
                id: e.id,
                op: e.op,
                status,
                message: payload,
            });
        }
        match e.op {
            Op::Report => Outcome::Event(TwinEvent::ReportAccepted { id: e.id, version }),
            Op::Get => match json::lookup(
                payload,
                [&["desired"], &["reported"], &["desired", "$version"]],
            ) {
                Ok([desired, reported, version]) => self.document(e, desired, reported, version),
                Err(error) => Outcome::Event(TwinEvent::Failed {
                    id: e.id,
                    op: e.op,
                    error,
                }),
            },
        }
    }

    /// Removes the pending request named by a raw AWS `clientToken` value.
    fn take(&mut self, token: Option<&[u8]>, op: Op) -> Option<Entry> {
        let id = RequestId::parse(json::string_contents(token?)?)?;
        self.pending.take(id, Some(op))
    }

    /// Normalises a received document and completes the get `e` with it.
    fn document<'p>(
        &mut self,
        e: Entry,
        desired: Option<&'p [u8]>,
        reported: Option<&'p [u8]>,
        version: Option<&[u8]>,
    ) -> Outcome<'p> {
        let checked = (|| {
            let desired = section(desired)?;
            let reported = section(reported)?;
            let too_large = match self.config.cloud {
                // Only desired + reported count towards the AWS limit.
                #[cfg(feature = "aws")]
                Cloud::Aws => desired.len() + reported.len() > rules::AWS_MAX_DOCUMENT,
                #[cfg(feature = "azure")]
                Cloud::Azure => desired.len().max(reported.len()) > rules::AZURE_MAX_SECTION,
            };
            if too_large {
                return Err(Error::DocumentTooLarge);
            }
            let version = version.map_or(Ok(0), json::parse_u64)?;
            Ok((desired, reported, version))
        })();
        let (desired, reported, version) = match checked {
            Ok(parts) => parts,
            Err(error) => {
                return Outcome::Event(TwinEvent::Failed {
                    id: e.id,
                    op: e.op,
                    error,
                })
            }
        };
        if e.sync {
            self.desired(desired, version)
        } else {
            Outcome::Event(TwinEvent::Document {
                id: e.id,
                desired,
                reported,
                version,
            })
        }
    }

    /// Feeds a desired-state change: AWS `update/delta` (`topic_version` is
    /// ignored; the body's `state` and `version` are used), Azure desired
    /// PATCH (version from the topic, else the body's `$version`).
    ///
    /// A version not newer than the last delivered is [`Ignored::Stale`].
    /// Errors: [`Error::InvalidJson`], [`Error::JsonTooDeep`],
    /// [`Error::UnexpectedJson`] (no object, or no integer version).
    pub fn on_desired<'p>(
        &mut self,
        topic_version: Option<u64>,
        payload: &'p [u8],
    ) -> Result<Outcome<'p>> {
        let (patch, version) = match self.config.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                let [state, version] = json::lookup(payload, [&["state"], &["version"]])?;
                (state, version.map(json::parse_u64).transpose()?)
            }
            #[cfg(feature = "azure")]
            Cloud::Azure => {
                let [body, version] = json::lookup(payload, [&[], &["$version"]])?;
                let version = match topic_version {
                    Some(v) => Some(v),
                    None => version.map(json::parse_u64).transpose()?,
                };
                (body, version)
            }
        };
        match (patch, version) {
            (Some(patch), Some(version)) if json::is_object(patch) => {
                Ok(self.desired(patch, version))
            }
            _ => Err(Error::UnexpectedJson),
        }
    }

    fn desired<'p>(&mut self, patch: &'p [u8], version: u64) -> Outcome<'p> {
        if self.last_desired.is_some_and(|last| version <= last) {
            return Outcome::Ignored(Ignored::Stale { version });
        }
        self.last_desired = Some(version);
        Outcome::Event(TwinEvent::Desired { patch, version })
    }

    /// The next id not in use, without consuming it; [`Error::Busy`] when
    /// the table or the cloud's in-flight limit is full.
    fn free_id(&self) -> Result<RequestId> {
        let used = self.pending.len();
        if used >= N || used >= rules::max_in_flight(self.config.cloud) {
            return Err(Error::Busy);
        }
        let mut candidate = self.next_id;
        // At most `used` ids are taken, so `used + 2` tries find a free one
        // (one more for skipping 0).
        for _ in 0..used + 2 {
            if candidate != 0 && !self.pending.contains(candidate) {
                return RequestId::new(candidate).ok_or(Error::Busy);
            }
            candidate = candidate.wrapping_add(1);
        }
        Err(Error::Busy)
    }

    fn record(
        &mut self,
        id: RequestId,
        op: Op,
        sync: bool,
        len: usize,
        now_ms: u64,
    ) -> Result<TwinRequest> {
        let entry = Entry {
            id,
            op,
            sync,
            deadline_ms: now_ms.saturating_add(u64::from(self.config.timeout_ms)),
        };
        if !self.pending.insert(entry) {
            return Err(Error::Busy);
        }
        self.next_id = id.value().wrapping_add(1);
        Ok(TwinRequest {
            op,
            id,
            len,
            superseded: None,
        })
    }
}

/// A received section: an object as is, missing or `null` as `{}`.
fn section(value: Option<&[u8]>) -> Result<&[u8]> {
    match value {
        None | Some(b"null") => Ok(EMPTY_OBJECT),
        Some(v) if json::is_object(v) => Ok(v),
        Some(_) => Err(Error::UnexpectedJson),
    }
}
