//! The fixed-capacity table of twin requests waiting for an answer.

use super::id::RequestId;

/// What a request asks the cloud for; the dialect layer picks the topic
/// from it (AWS `update` / `get`, Azure `PATCH/properties/reported` / `GET`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// Update the reported properties.
    Report,
    /// Read the whole document.
    Get,
}

/// One request waiting for its answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub id: RequestId,
    pub op: Op,
    /// The get issued by `on_connected`: its answer feeds the desired
    /// state instead of being handed out as a document.
    pub sync: bool,
    pub deadline_ms: u64,
}

/// Up to `N` pending requests, in no particular order.
#[derive(Clone, Debug)]
pub(crate) struct Table<const N: usize> {
    slots: [Option<Entry>; N],
}

impl<const N: usize> Table<N> {
    pub const fn new() -> Self {
        Table { slots: [None; N] }
    }

    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    pub fn contains(&self, id: u32) -> bool {
        self.slots.iter().flatten().any(|e| e.id.value() == id)
    }

    /// Stores `entry`; `false` when the table is full.
    pub fn insert(&mut self, entry: Entry) -> bool {
        match self.slots.iter_mut().find(|s| s.is_none()) {
            Some(slot) => {
                *slot = Some(entry);
                true
            }
            None => false,
        }
    }

    /// Removes and returns the request `id` if it is pending for `op`.
    pub fn take(&mut self, id: RequestId, op: Option<Op>) -> Option<Entry> {
        let slot = self
            .slots
            .iter_mut()
            .find(|s| s.is_some_and(|e| e.id == id && op.is_none_or(|op| e.op == op)))?;
        slot.take()
    }

    /// The pending get, if any (there is at most one).
    pub fn get_op(&self) -> Option<Entry> {
        self.slots
            .iter()
            .flatten()
            .find(|e| e.op == Op::Get)
            .copied()
    }

    /// Removes and returns the oldest pending request for `op`.
    pub fn take_oldest(&mut self, op: Op) -> Option<Entry> {
        let slot = self
            .slots
            .iter_mut()
            .filter(|s| s.is_some_and(|e| e.op == op))
            .min_by_key(|s| s.map_or(u64::MAX, |e| e.deadline_ms))?;
        slot.take()
    }

    /// Removes and returns the expired request with the earliest deadline.
    pub fn take_expired(&mut self, now_ms: u64) -> Option<Entry> {
        let slot = self
            .slots
            .iter_mut()
            .filter(|s| s.is_some_and(|e| e.deadline_ms <= now_ms))
            .min_by_key(|s| s.map_or(u64::MAX, |e| e.deadline_ms))?;
        slot.take()
    }

    /// The earliest deadline among pending requests.
    pub fn next_deadline(&self) -> Option<u64> {
        self.slots.iter().flatten().map(|e| e.deadline_ms).min()
    }
}
