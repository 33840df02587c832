//! What the fuzz targets share: a scripted link and clock driven by the
//! fuzzer's bytes, and the liveness rule every driven target checks.

use nimbus::mqtt::{OpenState, Random, Transport, TransportError};

/// Reads the fuzzer's input front to back; past the end it yields zeros.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// Up to `max` bytes.
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let n = usize::from(self.byte()).min(max).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// The rest of the input.
    pub fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.data)
    }
}

/// Appends a PUBLISH from the broker (QoS 0 or 1) to `out`.
pub fn publish(out: &mut Vec<u8>, topic: &[u8], qos: u8, packet_id: u16, payload: &[u8]) {
    let mut body = Vec::with_capacity(4 + topic.len() + payload.len());
    body.extend((topic.len() as u16).to_be_bytes());
    body.extend(topic);
    if qos == 1 {
        body.extend(packet_id.to_be_bytes());
    }
    body.extend(payload);
    out.push(0x30 | (qos << 1));
    let mut n = body.len();
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        out.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    out.extend(body);
}

/// A link whose incoming bytes and send budget the target scripts.
#[derive(Default)]
pub struct Link {
    pub incoming: std::collections::VecDeque<u8>,
    /// Most bytes the next `recv` returns.
    pub recv_chunk: usize,
    /// Bytes `send` accepts before "would block".
    pub send_budget: usize,
    pub sent: usize,
    pub open: bool,
    pub refuse_open: bool,
}

impl Transport for Link {
    fn open(&mut self) -> Result<OpenState, TransportError> {
        if self.refuse_open {
            return Err(TransportError::Failed);
        }
        self.open = true;
        Ok(OpenState::Ready)
    }

    fn send(&mut self, bytes: &[u8]) -> Result<usize, TransportError> {
        if !self.open {
            return Err(TransportError::Closed);
        }
        let n = bytes.len().min(self.send_budget);
        self.send_budget -= n;
        self.sent += n;
        Ok(n)
    }

    fn recv(&mut self, buf: &mut [u8]) -> Result<usize, TransportError> {
        if !self.open {
            return Err(TransportError::Closed);
        }
        let n = buf.len().min(self.recv_chunk).min(self.incoming.len());
        for slot in buf.iter_mut().take(n) {
            *slot = self.incoming.pop_front().unwrap_or(0);
        }
        Ok(n)
    }

    fn close(&mut self) {
        self.open = false;
    }
}

/// A deterministic random source.
#[derive(Default)]
pub struct Counter(pub u32);

impl Random for Counter {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        self.0
    }
}

/// Liveness: a `poll` may ask to run again at once (a wake time not after
/// `now`) only while it makes progress. `MAX_IDLE` such polls in a row
/// with nothing received, sent or changed is a spin, and fails the target.
pub struct Liveness {
    idle: u32,
}

impl Liveness {
    pub const MAX_IDLE: u32 = 64;

    pub fn new() -> Self {
        Liveness { idle: 0 }
    }

    /// Records one poll: its wake time, the time it ran at, and whether
    /// anything moved (`progress`: a digest of what changed).
    pub fn check(&mut self, now: u64, wake: u64, progress: bool) {
        if wake <= now && !progress {
            self.idle += 1;
            assert!(
                self.idle < Self::MAX_IDLE,
                "poll keeps asking to run at once at {now} with no progress"
            );
        } else {
            self.idle = 0;
        }
    }
}

impl Default for Liveness {
    fn default() -> Self {
        Self::new()
    }
}
