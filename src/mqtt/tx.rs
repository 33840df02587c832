//! The transmit queue: whole encoded packets waiting for the transport.

use crate::{bytes, Error, Result};

/// A FIFO of bytes in a caller buffer. Packets are appended whole; the
/// transport takes bytes from the front, possibly a few at a time.
pub(crate) struct TxQueue<'b> {
    buf: &'b mut [u8],
    head: usize,
    tail: usize,
}

impl<'b> TxQueue<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        TxQueue {
            buf,
            head: 0,
            tail: 0,
        }
    }

    /// Size of the buffer.
    pub(crate) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Whether a packet of `len` bytes can be queued now.
    pub(crate) fn fits(&self, len: usize) -> bool {
        self.buf.len() - (self.tail - self.head) >= len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Appends a packet of exactly `len` bytes written by `fill`.
    /// [`Error::PayloadTooLarge`] if it can never fit, [`Error::Busy`] if it
    /// does not fit now. Nothing is queued on error.
    pub(crate) fn push(
        &mut self,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<()> {
        if len > self.buf.len() {
            return Err(Error::PayloadTooLarge);
        }
        if !self.fits(len) {
            return Err(Error::Busy);
        }
        if self.buf.len() - self.tail < len {
            bytes::move_down(self.buf, self.head..self.tail, 0)?;
            self.tail -= self.head;
            self.head = 0;
        }
        let out = self
            .buf
            .get_mut(self.tail..self.tail + len)
            .ok_or(Error::Busy)?;
        if fill(out)? != len {
            return Err(Error::InvalidArgument);
        }
        self.tail += len;
        Ok(())
    }

    /// The bytes not yet sent.
    pub(crate) fn pending(&self) -> &[u8] {
        self.buf.get(self.head..self.tail).unwrap_or(&[])
    }

    /// Drops the first `n` pending bytes (the transport took them).
    pub(crate) fn advance(&mut self, n: usize) {
        self.head = (self.head + n).min(self.tail);
        if self.head == self.tail {
            self.clear();
        }
    }

    /// Drops everything (the link is gone).
    pub(crate) fn clear(&mut self) {
        self.head = 0;
        self.tail = 0;
    }
}
