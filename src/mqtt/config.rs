//! Session configuration: what CONNECT carries and the engine's timers.

use super::backoff::BackoffConfig;
use super::codec::{Connect, Will};
use crate::{Error, Result};

/// How a [`Session`](super::Session) connects and times out. Changes made
/// through [`Session::config_mut`](super::Session::config_mut) take effect
/// at the next connection (e.g. a renewed SAS token as the password).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config<'a> {
    /// Client identifier (AWS: ≤ 128 bytes; Azure: the device id).
    pub client_id: &'a str,
    /// User name, if any (Azure requires one).
    pub username: Option<&'a str>,
    /// Password, if any (e.g. an Azure SAS token); needs a user name.
    pub password: Option<&'a [u8]>,
    /// Keepalive in seconds; 0 disables PINGREQ. A PINGREQ is sent when
    /// nothing was sent *or* nothing was received for this long, so a link
    /// on which only the device talks is still found dead within
    /// keepalive + `ping_timeout_ms`.
    pub keep_alive_s: u16,
    /// Start a new session at every connection instead of resuming one.
    pub clean_session: bool,
    /// Last will, if any.
    pub will: Option<Will<'a>>,
    /// Time allowed from the start of opening the link to the CONNACK
    /// (at least 1 ms).
    pub connect_timeout_ms: u32,
    /// Time allowed for a PINGRESP after a PINGREQ is due (at least 1 ms);
    /// a PINGREQ that cannot even be queued counts against it too.
    pub ping_timeout_ms: u32,
    /// Time after which an unacknowledged QoS 1 PUBLISH makes the session
    /// probe the link with a PINGREQ (declared dead when the PINGRESP does
    /// not come within `ping_timeout_ms`); 0 turns the probe off. The
    /// message itself is resent only after a reconnect, as MQTT 3.1.1
    /// prescribes, never on the same connection.
    pub ack_timeout_ms: u32,
    /// Reconnect backoff bounds.
    pub backoff: BackoffConfig,
}

impl<'a> Config<'a> {
    /// A configuration with the given client id and common defaults:
    /// keepalive 60 s, persistent session, 10 s connect timeout, 5 s ping
    /// timeout, 10 s ack timeout, [`BackoffConfig::DEFAULT`].
    pub const fn new(client_id: &'a str) -> Self {
        Config {
            client_id,
            username: None,
            password: None,
            keep_alive_s: 60,
            clean_session: false,
            will: None,
            connect_timeout_ms: 10_000,
            ping_timeout_ms: 5_000,
            ack_timeout_ms: 10_000,
            backoff: BackoffConfig::DEFAULT,
        }
    }

    /// Checks the timers: [`Error::InvalidArgument`] for a zero connect or
    /// ping timeout or backoff base, or a base above the cap (each would
    /// make the session retry or time out in the same poll, forever).
    pub const fn check_timers(&self) -> Result<()> {
        if self.connect_timeout_ms == 0 || self.ping_timeout_ms == 0 || !self.backoff.is_valid() {
            return Err(Error::InvalidArgument);
        }
        Ok(())
    }

    /// The CONNECT fields of this configuration.
    pub const fn connect(&self) -> Connect<'a> {
        Connect {
            client_id: self.client_id,
            username: self.username,
            password: self.password,
            keep_alive_s: self.keep_alive_s,
            clean_session: self.clean_session,
            will: self.will,
        }
    }
}
