//! Cloud dialects: the generic topic scheme translated to AWS IoT Core and
//! Azure IoT Hub (ARCHITECTURE.md §2–4).
//!
//! Everything here is pure: no I/O, no state beyond what the caller holds.
//! Outputs go into caller buffers ([`Error::BufferTooSmall`](crate::Error::BufferTooSmall) when they do
//! not fit), and parsed topics borrow from the input.
//!
//! [`Dialect`](crate::cloud::Dialect) is the entry point: one cloud and one identity, with
//! - [`publish_topic`](crate::cloud::Dialect::publish_topic): generic → cloud topic
//!   (and [`publish_topic_encoded`](crate::cloud::Dialect::publish_topic_encoded) with
//!   properties encoded once, and [`telemetry_topic`](crate::cloud::Dialect::telemetry_topic)
//!   for readings);
//! - [`classify`](crate::cloud::Dialect::classify): cloud topic → [`Incoming`](crate::cloud::Incoming);
//! - [`response_topic`](crate::cloud::Dialect::response_topic): where to answer a [`Request`](crate::cloud::Request);
//! - [`twin_topic`](crate::cloud::Dialect::twin_topic): shadow/twin get and report;
//! - [`subscriptions`](crate::cloud::Dialect::subscriptions): the filters to subscribe;
//! - [`check_publish`](crate::cloud::Dialect::check_publish): the guard for a topic the caller
//!   wrote itself (a [`Topic`](crate::cloud::Topic) the dialect built is allowed by
//!   construction and carries its payload limit).
//!
//! Azure credentials are in [`sas`](crate::cloud::sas), rate limits in [`rate`](crate::cloud::rate).

pub mod aws;
pub mod azure;
mod bag;
pub(crate) mod base64;
mod generic;
mod guard;
mod incoming;
mod names;
mod percent;
pub mod rate;
pub mod sas;
mod scan;
mod subscribe;
mod swar;
mod topic;
mod topic_writer;

pub use bag::{
    BagEntry, BagIter, EncodedProperties, Property, PropertyBag, AZURE_SYSTEM_PROPERTIES,
};
pub use generic::{parse as parse_generic, Generic};
pub use guard::{check_topic_name, MQTT_MAX_TOPIC_LEN};
pub use incoming::{Incoming, PathBytes, Request, Route, ShadowOp, ShadowTopic, TwinResponse};
pub use names::{
    check_aws_client_id, check_azure_id, check_rid, check_shadow_name, check_thing_name,
    AWS_MAX_CLIENT_ID, AWS_MAX_SHADOW_NAME, AWS_MAX_THING_NAME, AZURE_MAX_ID, MAX_RID_LEN,
};
pub use percent::{DecodedBytes, Encoded};
pub use subscribe::{Filter, Subscriptions};
pub use topic::Topic;

use crate::{Error, Result};
use topic_writer::TopicWriter;

/// The cloud a device talks to. A build has the clouds of its `aws` and
/// `azure` features (both by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cloud {
    /// AWS IoT Core.
    #[cfg(feature = "aws")]
    Aws,
    /// Azure IoT Hub.
    #[cfg(feature = "azure")]
    Azure,
}

#[cfg(not(any(feature = "aws", feature = "azure")))]
compile_error!("Nimbus needs a cloud: enable the `aws` feature, the `azure` feature or both");

/// A twin/shadow request to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwinOp {
    /// Fetch the whole document.
    Get,
    /// Patch the reported properties.
    Report,
}

/// One cloud and one device identity: the translator between generic and
/// cloud topics. Names are checked once, by [`Dialect::new`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dialect<'a> {
    cloud: Cloud,
    device: &'a str,
    module: Option<&'a str>,
}

impl<'a> Dialect<'a> {
    /// A dialect for `device` (the AWS thing name, or the Azure device id)
    /// and, on Azure only, a module identity. [`Error::InvalidName`] for a
    /// name that breaks the cloud's rules, [`Error::InvalidArgument`] for a
    /// module on AWS.
    pub fn new(cloud: Cloud, device: &'a str, module: Option<&'a str>) -> Result<Self> {
        match cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                names::check_thing_name(device)?;
                if module.is_some() {
                    return Err(Error::InvalidArgument);
                }
            }
            #[cfg(feature = "azure")]
            Cloud::Azure => {
                names::check_azure_id(device)?;
                if let Some(m) = module {
                    names::check_azure_id(m)?;
                }
            }
        }
        Ok(Dialect {
            cloud,
            device,
            module,
        })
    }

    /// The cloud.
    pub const fn cloud(&self) -> Cloud {
        self.cloud
    }

    /// The device id / thing name.
    pub const fn device(&self) -> &'a str {
        self.device
    }

    /// The Azure module id, if this is a module identity.
    pub const fn module(&self) -> Option<&'a str> {
        self.module
    }

    /// The MQTT client id: the thing name on AWS; `<dev>` or `<dev>/<mod>`
    /// on Azure.
    pub fn client_id<'o>(&self, buf: &'o mut [u8]) -> Result<&'o str>
    where
        'a: 'o,
    {
        match (self.cloud, self.module) {
            (_, None) => Ok(self.device),
            #[cfg(feature = "azure")]
            (Cloud::Azure, Some(_)) => azure::client_id(self.device, self.module, buf),
            #[cfg(feature = "aws")]
            (Cloud::Aws, Some(_)) => Err(Error::InvalidArgument),
        }
    }

    /// The cloud topic for an outgoing generic topic (`<dev>/events` or
    /// `<dev>/response/<path>`) with extra message properties. On AWS the
    /// generic topic itself is returned (checked, borrowed; properties are
    /// refused since MQTT 3.1.1 cannot carry them); on Azure the D2C topic
    /// with its property bag is written into `buf`.
    pub fn publish_topic<'o>(
        &self,
        generic: &'o str,
        props: &[Property<'_>],
        buf: &'o mut [u8],
    ) -> Result<Topic<'o>> {
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => aws::publish_topic(self.device, generic, props)
                .map(|t| Topic::new(t, aws::MAX_PAYLOAD)),
            #[cfg(feature = "azure")]
            Cloud::Azure => azure::publish_topic(self.device, self.module, generic, props, buf),
        }
    }

    /// [`publish_topic`](Self::publish_topic) with properties encoded
    /// beforehand ([`EncodedProperties`]), copied into the topic as they
    /// are: the cheaper way for properties that every message carries. On
    /// AWS non-empty properties are refused ([`Error::InvalidArgument`]).
    pub fn publish_topic_encoded<'o>(
        &self,
        generic: &'o str,
        props: EncodedProperties<'_>,
        buf: &'o mut [u8],
    ) -> Result<Topic<'o>> {
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws if !props.is_empty() => Err(Error::InvalidArgument),
            #[cfg(feature = "aws")]
            Cloud::Aws => aws::publish_topic(self.device, generic, &[])
                .map(|t| Topic::new(t, aws::MAX_PAYLOAD)),
            #[cfg(feature = "azure")]
            Cloud::Azure => {
                azure::publish_topic_encoded(self.device, self.module, generic, props, buf)
            }
        }
    }

    /// The topic of a reading of sensor `sensor`, the cloud topic of
    /// `<dev>/response/sensor/<sensor>/reading`, written without going
    /// through the generic topic (the telemetry path of the client). On
    /// Azure `props` follow the `subtopic`; on AWS non-empty properties are
    /// refused ([`Error::InvalidArgument`]).
    pub fn telemetry_topic<'o>(
        &self,
        sensor: u16,
        props: EncodedProperties<'_>,
        buf: &'o mut [u8],
    ) -> Result<Topic<'o>> {
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws if !props.is_empty() => Err(Error::InvalidArgument),
            #[cfg(feature = "aws")]
            Cloud::Aws => aws::telemetry_topic(self.device, sensor, buf),
            #[cfg(feature = "azure")]
            Cloud::Azure => azure::telemetry_topic(self.device, self.module, sensor, props, buf),
        }
    }

    /// Classifies an incoming cloud topic. Refusals:
    /// [`Error::OtherDevice`] (another device/thing),
    /// [`Error::NotGenericTopic`] (not a topic Nimbus handles),
    /// [`Error::InvalidEncoding`] (malformed bag or query),
    /// [`Error::InvalidName`] (bad shadow name).
    pub fn classify<'t>(&self, topic: &'t str) -> Result<Incoming<'t>> {
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => aws::classify(self.device, topic),
            #[cfg(feature = "azure")]
            Cloud::Azure => azure::classify(self.device, self.module, topic),
        }
    }

    /// The generic topic of a request, `<dev>/request/<path>`: borrowed on
    /// AWS, written into `buf` on Azure.
    pub fn request_topic<'o>(&self, request: &Request<'o>, buf: &'o mut [u8]) -> Result<&'o str> {
        if request.route == Route::Topic {
            return Ok(request.topic);
        }
        let mut w = TopicWriter::new(buf);
        w.push_str(self.device)?;
        w.push_str("/request/")?;
        request.write_path(&mut w)?;
        w.finish()
    }

    /// The topic of the answer to `request`. `status` is used by Azure
    /// direct methods only; elsewhere it travels in the payload.
    pub fn response_topic<'o>(
        &self,
        request: &Request<'_>,
        status: u16,
        buf: &'o mut [u8],
    ) -> Result<Topic<'o>> {
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => aws::response_topic(self.device, request, buf),
            #[cfg(feature = "azure")]
            Cloud::Azure => azure::response_topic(self.device, self.module, request, status, buf),
        }
    }

    /// The topic of a twin/shadow request. On AWS: the (named) shadow's
    /// `get` or `update` topic; `rid` travels as the payload's
    /// `clientToken` and is only checked here. On Azure: the twin GET or
    /// reported PATCH topic carrying `rid`; there is one twin per
    /// identity, so a `shadow` is refused ([`Error::InvalidArgument`]).
    pub fn twin_topic<'o>(
        &self,
        op: TwinOp,
        rid: &str,
        shadow: Option<&str>,
        buf: &'o mut [u8],
    ) -> Result<Topic<'o>> {
        names::check_rid(rid)?;
        match self.cloud {
            #[cfg(feature = "aws")]
            Cloud::Aws => {
                let op = match op {
                    TwinOp::Get => ShadowOp::Get,
                    TwinOp::Report => ShadowOp::Update,
                };
                aws::shadow_topic(self.device, shadow, op, buf)
            }
            #[cfg(feature = "azure")]
            Cloud::Azure if shadow.is_some() => Err(Error::InvalidArgument),
            #[cfg(feature = "azure")]
            Cloud::Azure => match op {
                TwinOp::Get => azure::twin_get_topic(rid, buf),
                TwinOp::Report => azure::twin_report_topic(rid, buf),
            },
        }
    }

    /// The topic filters this identity subscribes to after connecting.
    pub fn subscriptions(&self) -> Subscriptions<'a> {
        Subscriptions::new(self.cloud, self.device, self.module)
    }

    /// The guard for a topic the caller wrote itself: QoS 2, topics the
    /// cloud would refuse (Azure allow-list, AWS topic rules) and payloads
    /// over the cloud's limit are refused locally. A [`Topic`] this
    /// dialect built needs only its [`max_payload`](Topic::max_payload).
    pub fn check_publish(&self, topic: &str, qos: u8, payload_len: usize) -> Result<()> {
        guard::check_publish(
            self.cloud,
            self.device,
            self.module,
            topic,
            qos,
            payload_len,
        )
    }
}
