//! Requests received and not yet answered.
//!
//! Every incoming request gets a slot here until the application answers
//! it, so that the answer can go back the way the request came (an Azure
//! direct method needs its `$rid`, every route needs the request path).
//! A slot lives until it is answered or its deadline passes; a handle names
//! a slot *and* its generation, so a handle that was answered or expired
//! can never answer a later request that reuses the slot.

use crate::cloud::Route;
use crate::device::route::MAX_PATH_LEN;
use crate::{Error, Result};
use heapless::String;

/// Longest Azure request id (`$rid`) kept, in bytes: the longest that
/// [`check_rid`](crate::cloud::check_rid) accepts, so every classified call
/// can be answered.
pub const MAX_RID_LEN: usize = crate::cloud::MAX_RID_LEN;

/// A request waiting for its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The way back.
    pub route: Route,
    /// The request id of a direct method ([`Route::Method`]); empty on the
    /// other routes.
    pub rid: String<MAX_RID_LEN>,
    /// The request path, e.g. `sensor/12/get`.
    pub path: String<MAX_PATH_LEN>,
    /// When the request expires, in the port's milliseconds.
    pub deadline_ms: u64,
}

/// Names one pending request. Zero is never a valid handle, so C code can
/// use it as "none".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RequestHandle(u32);

impl RequestHandle {
    /// The handle as a number (for the C API).
    pub const fn to_raw(self) -> u32 {
        self.0
    }

    /// A handle from a number given back by C code (validated on use).
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    fn new(slot: usize, generation: u16) -> Self {
        // The slot index fits in 8 bits: N is bounded by a const assertion.
        Self((u32::from(generation) << 8) | (slot as u32 & 0xff))
    }

    fn slot(self) -> usize {
        (self.0 & 0xff) as usize
    }

    fn generation(self) -> u16 {
        (self.0 >> 8) as u16
    }
}

/// A slot keeps its `Pending` between uses (written in place, never moved:
/// it is some 150 bytes); `used` says whether it waits for an answer.
#[derive(Clone, Debug)]
struct Slot {
    generation: u16,
    used: bool,
    entry: Pending,
}

impl Pending {
    const EMPTY: Pending = Pending {
        route: Route::Topic,
        rid: String::new(),
        path: String::new(),
        deadline_ms: 0,
    };
}

/// A fixed table of at most `N` (≤ 255) pending requests.
#[derive(Debug)]
pub struct PendingTable<const N: usize> {
    slots: [Slot; N],
}

impl<const N: usize> Default for PendingTable<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> PendingTable<N> {
    const CAPACITY_FITS_A_HANDLE: () = assert!(N > 0 && N <= 255, "1..=255 pending requests");

    /// An empty table.
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::CAPACITY_FITS_A_HANDLE;
        Self {
            slots: [const {
                Slot {
                    generation: 0,
                    used: false,
                    entry: Pending::EMPTY,
                }
            }; N],
        }
    }

    /// Records a request that came by `route` (with its request id `rid`
    /// for [`Route::Method`], `""` otherwise) and must be answered before
    /// `now_ms + timeout_ms`. Errors: `InvalidArgument` when `rid` breaks
    /// the one rid rule ([`check_rid`](crate::cloud::check_rid)) or is given
    /// for another route, `Busy` when all `N` slots wait for answers,
    /// `TopicTooLong` when `path` is over [`MAX_PATH_LEN`].
    pub fn open(
        &mut self,
        route: Route,
        rid: &str,
        path: &str,
        now_ms: u64,
        timeout_ms: u32,
    ) -> Result<RequestHandle> {
        match route {
            Route::Method => crate::cloud::check_rid(rid)?,
            Route::Topic | Route::C2d if !rid.is_empty() => return Err(Error::InvalidArgument),
            Route::Topic | Route::C2d => {}
        }
        self.fill(route, rid, path, now_ms, timeout_ms)
    }

    /// [`open`](Self::open) for a request as the dialect classified it: its
    /// `$rid` was checked by [`check_rid`](crate::cloud::check_rid) then,
    /// and is copied straight into the slot.
    pub fn open_incoming(
        &mut self,
        request: &crate::cloud::Request<'_>,
        path: &str,
        now_ms: u64,
        timeout_ms: u32,
    ) -> Result<RequestHandle> {
        self.fill(request.route, request.rid, path, now_ms, timeout_ms)
    }

    /// Writes a request into a free slot, in place.
    fn fill(
        &mut self,
        route: Route,
        rid: &str,
        path: &str,
        now_ms: u64,
        timeout_ms: u32,
    ) -> Result<RequestHandle> {
        if path.len() > MAX_PATH_LEN {
            return Err(Error::TopicTooLong);
        }
        let (index, slot) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, s)| !s.used)
            .ok_or(Error::Busy)?;
        let entry = &mut slot.entry;
        entry.route = route;
        entry.rid.clear();
        entry
            .rid
            .push_str(rid)
            .map_err(|_| Error::InvalidArgument)?;
        entry.path.clear();
        entry.path.push_str(path).map_err(|_| Error::TopicTooLong)?;
        entry.deadline_ms = now_ms.saturating_add(u64::from(timeout_ms));
        // Generations run 1..=u16::MAX so that no handle is ever zero.
        slot.generation = slot.generation.checked_add(1).unwrap_or(1);
        slot.used = true;
        Ok(RequestHandle::new(index, slot.generation))
    }

    /// Takes the request `handle` names, to answer it: it no longer waits,
    /// and the entry stays readable until the slot is used again. Each
    /// request can be taken once; a handle that is unknown, answered or
    /// past its deadline gives `UnknownRequest` (an expired entry is
    /// removed).
    pub fn take(&mut self, handle: RequestHandle, now_ms: u64) -> Result<&Pending> {
        let slot = self
            .slots
            .get_mut(handle.slot())
            .filter(|s| s.used && s.generation == handle.generation())
            .ok_or(Error::UnknownRequest)?;
        slot.used = false;
        if now_ms >= slot.entry.deadline_ms {
            return Err(Error::UnknownRequest);
        }
        Ok(&slot.entry)
    }

    /// The request `handle` names, if it still waits (not removed).
    pub fn get(&self, handle: RequestHandle) -> Option<&Pending> {
        self.slots
            .get(handle.slot())
            .filter(|s| s.used && s.generation == handle.generation())
            .map(|s| &s.entry)
    }

    /// Removes a request whose deadline has passed and returns its handle
    /// and path, so that the caller reports it (call it until `None`:
    /// nothing disappears unreported). The path is a copy, so that the
    /// report may act on the client, this table included.
    #[inline]
    pub fn take_expired(&mut self, now_ms: u64) -> Option<(RequestHandle, String<MAX_PATH_LEN>)> {
        let (index, slot) = self
            .slots
            .iter_mut()
            .enumerate()
            .find(|(_, slot)| slot.used && now_ms >= slot.entry.deadline_ms)?;
        slot.used = false;
        Some((
            RequestHandle::new(index, slot.generation),
            slot.entry.path.clone(),
        ))
    }

    /// The earliest deadline, for the poll's next wake time.
    pub fn next_deadline(&self) -> Option<u64> {
        self.slots
            .iter()
            .filter(|s| s.used)
            .map(|s| s.entry.deadline_ms)
            .min()
    }

    /// How many requests wait for an answer.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.used).count()
    }

    /// Whether no request waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_answered_at_most_once() {
        let mut t: PendingTable<2> = PendingTable::new();
        let h = t.open(Route::Topic, "", "sensor/list", 0, 1000).unwrap();
        assert_ne!(h.to_raw(), 0);
        let p = t.take(h, 10).unwrap();
        assert_eq!(
            (p.route, p.rid.as_str(), p.path.as_str(), p.deadline_ms),
            (Route::Topic, "", "sensor/list", 1000)
        );
        assert_eq!(t.take(h, 10), Err(Error::UnknownRequest));
    }

    #[test]
    fn a_stale_handle_never_answers_a_newer_request() {
        let mut t: PendingTable<1> = PendingTable::new();
        let old = t.open(Route::C2d, "", "a", 0, 100).unwrap();
        t.take(old, 1).unwrap();
        let new = t.open(Route::C2d, "", "b", 1, 100).unwrap();
        assert_ne!(old, new);
        assert_eq!(t.take(old, 2), Err(Error::UnknownRequest));
        assert_eq!(t.take(new, 2).unwrap().path.as_str(), "b");
    }

    #[test]
    fn full_table_is_busy_and_frees_on_answer() {
        let mut t: PendingTable<2> = PendingTable::new();
        let a = t.open(Route::Method, "1f", "x", 0, 100).unwrap();
        t.open(Route::Method, "20", "y", 0, 100).unwrap();
        assert_eq!(t.open(Route::Topic, "", "z", 0, 100), Err(Error::Busy));
        t.take(a, 1).unwrap();
        let z = t.open(Route::Topic, "", "z", 1, 100).unwrap();
        let reused = t.get(z).unwrap();
        assert_eq!(
            (reused.route, reused.rid.as_str()),
            (Route::Topic, ""),
            "the slot's earlier rid is gone"
        );
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn expired_requests_are_reported_once_and_cannot_be_answered() {
        let mut t: PendingTable<3> = PendingTable::new();
        let early = t.open(Route::Topic, "", "early", 0, 50).unwrap();
        let late = t.open(Route::Topic, "", "late", 0, 500).unwrap();
        assert_eq!(t.next_deadline(), Some(50));
        let (handle, path) = t.take_expired(60).unwrap();
        assert_eq!((handle, path.as_str()), (early, "early"));
        assert_eq!(t.take_expired(60), None);
        assert_eq!(t.take_expired(61), None, "reported twice");
        assert_eq!(t.take(early, 61), Err(Error::UnknownRequest));
        assert_eq!(t.next_deadline(), Some(500));
        assert_eq!(
            t.take(late, 500),
            Err(Error::UnknownRequest),
            "deadline is exclusive"
        );
    }

    #[test]
    fn bad_rids_paths_and_handles_are_refused() {
        let mut t: PendingTable<1> = PendingTable::new();
        let mut method = |rid: &str| t.open(Route::Method, rid, "p", 0, 1);
        assert_eq!(method(""), Err(Error::InvalidArgument));
        assert_eq!(method("1f&x=2"), Err(Error::InvalidArgument));
        assert_eq!(method("a%20"), Err(Error::InvalidArgument));
        assert_eq!(
            method(&"a".repeat(MAX_RID_LEN + 1)),
            Err(Error::InvalidArgument)
        );
        let longest = "A-_.~z".repeat(10) + "0123";
        let h = method(&longest).expect("64 unreserved characters");
        assert_eq!(t.take(h, 0).unwrap().rid.as_str(), longest);
        for route in [Route::Topic, Route::C2d] {
            assert_eq!(
                t.open(route, "1f", "p", 0, 1),
                Err(Error::InvalidArgument),
                "a rid on {route:?}"
            );
        }
        assert!(t.is_empty(), "nothing refused was kept");
        let long = "p".repeat(MAX_PATH_LEN + 1);
        assert_eq!(
            t.open(Route::Topic, "", &long, 0, 1),
            Err(Error::TopicTooLong)
        );
        for raw in [0, 1, 0xffff_ffff, 0x100] {
            assert_eq!(
                t.take(RequestHandle::from_raw(raw), 0),
                Err(Error::UnknownRequest)
            );
        }
    }
}
