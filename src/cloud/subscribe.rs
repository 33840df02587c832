//! The topic filters a device subscribes to after connecting.

use super::topic_writer::TopicWriter;
use super::Cloud;
use crate::Result;

/// One topic filter: `<prefix><device><suffix>`, or just `<prefix>` when it
/// names no device. Write it out with [`Filter::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter<'a> {
    prefix: &'static str,
    device: Option<&'a str>,
    suffix: &'static str,
}

impl Filter<'_> {
    /// The filter's length in bytes.
    pub fn len(&self) -> usize {
        self.prefix.len() + self.device.map_or(0, str::len) + self.suffix.len()
    }

    /// Never true: every filter has a fixed part.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the filter into `buf`.
    pub fn write<'b>(&self, buf: &'b mut [u8]) -> Result<&'b str> {
        let mut w = TopicWriter::new(buf);
        w.push_str(self.prefix)?;
        if let Some(d) = self.device {
            w.push_str(d)?;
        }
        w.push_str(self.suffix)?;
        w.finish()
    }
}

/// `(prefix, names the device, suffix)`.
type Row = (&'static str, bool, &'static str);

const AWS: &[Row] = &[
    ("", true, "/request/#"),
    ("$aws/things/", true, "/shadow/update/accepted"),
    ("$aws/things/", true, "/shadow/update/rejected"),
    ("$aws/things/", true, "/shadow/update/delta"),
    ("$aws/things/", true, "/shadow/get/accepted"),
    ("$aws/things/", true, "/shadow/get/rejected"),
];

const AZURE_DEVICE: &[Row] = &[
    ("devices/", true, "/messages/devicebound/#"),
    ("$iothub/methods/POST/#", false, ""),
    ("$iothub/twin/res/#", false, ""),
    ("$iothub/twin/PATCH/properties/desired/#", false, ""),
];

/// Modules receive no cloud-to-device messages.
const AZURE_MODULE: &[Row] = &[
    ("$iothub/methods/POST/#", false, ""),
    ("$iothub/twin/res/#", false, ""),
    ("$iothub/twin/PATCH/properties/desired/#", false, ""),
];

/// The filters of one identity: on AWS its requests and the answers of its
/// classic shadow; on Azure C2D (devices only), direct methods, twin
/// answers and desired patches.
#[derive(Clone, Debug)]
pub struct Subscriptions<'a> {
    rows: core::slice::Iter<'static, Row>,
    device: &'a str,
}

impl<'a> Subscriptions<'a> {
    pub(crate) fn new(cloud: Cloud, device: &'a str, module: Option<&'a str>) -> Self {
        let rows = match (cloud, module) {
            #[cfg(feature = "aws")]
            (Cloud::Aws, _) => AWS,
            #[cfg(feature = "azure")]
            (Cloud::Azure, None) => AZURE_DEVICE,
            #[cfg(feature = "azure")]
            (Cloud::Azure, Some(_)) => AZURE_MODULE,
        };
        Subscriptions {
            rows: rows.iter(),
            device,
        }
    }
}

impl<'a> Iterator for Subscriptions<'a> {
    type Item = Filter<'a>;

    fn next(&mut self) -> Option<Filter<'a>> {
        let &(prefix, named, suffix) = self.rows.next()?;
        Some(Filter {
            prefix,
            device: named.then_some(self.device),
            suffix,
        })
    }
}
