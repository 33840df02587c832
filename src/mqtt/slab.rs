//! A compacting byte arena over caller-provided memory.
//!
//! Holds up to `N` variable-length records, each with a small metadata value
//! `M`, packed in insertion order in one byte area. Removing a record only
//! drops its entry; the space is reclaimed by compacting (moving the live
//! records down) when an insertion would not fit otherwise. The RAM it uses
//! is the caller's byte area plus `N` entries of `M` and two `u32`s.

use crate::{bytes, Error, Result};
use heapless::Vec;

/// One record: its metadata and where its bytes are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<M> {
    pub(crate) meta: M,
    start: u32,
    len: u32,
}

impl<M> Entry<M> {
    fn range(&self) -> core::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// The arena; see the module documentation.
pub(crate) struct Slab<'b, M, const N: usize> {
    area: &'b mut [u8],
    /// End of the last record's bytes: the next insertion goes here.
    used: usize,
    entries: Vec<Entry<M>, N>,
}

impl<'b, M, const N: usize> Slab<'b, M, N> {
    /// An empty arena over `area` (only its first `u32::MAX` bytes are used).
    pub(crate) fn new(area: &'b mut [u8]) -> Self {
        let cap = area.len().min(u32::MAX as usize);
        let area = match area.get_mut(..cap) {
            Some(a) => a,
            None => &mut [],
        };
        Slab {
            area,
            used: 0,
            entries: Vec::new(),
        }
    }

    /// Size of the byte area.
    pub(crate) fn capacity(&self) -> usize {
        self.area.len()
    }

    /// Number of records.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Appends a record of exactly `len` bytes written by `fill`.
    ///
    /// [`Error::PayloadTooLarge`] if `len` exceeds the whole area (it never
    /// fits), [`Error::Busy`] if the table is full or the free space is too
    /// small now (it fits once records are removed). Nothing changes on error.
    pub(crate) fn push(
        &mut self,
        meta: M,
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize>,
    ) -> Result<()> {
        if len > self.area.len() {
            return Err(Error::PayloadTooLarge);
        }
        if self.entries.is_full() {
            return Err(Error::Busy);
        }
        if self.area.len() - self.used < len {
            self.compact();
            if self.area.len() - self.used < len {
                return Err(Error::Busy);
            }
        }
        let start = self.used;
        let out = self.area.get_mut(start..start + len).ok_or(Error::Busy)?;
        if fill(out)? != len {
            return Err(Error::InvalidArgument);
        }
        let entry = Entry {
            meta,
            start: start as u32,
            len: len as u32,
        };
        self.entries.push(entry).map_err(|_| Error::Busy)?;
        self.used = start + len;
        Ok(())
    }

    /// Moves all records down so the free space is one block at the end.
    fn compact(&mut self) {
        let mut to = 0usize;
        for entry in self.entries.iter_mut() {
            let range = entry.range();
            let len = range.len();
            if range.start != to {
                if bytes::move_down(self.area, range, to).is_err() {
                    // Cannot happen (records lie in the area, in order);
                    // were it to, the records moved so far are consistent
                    // and `used` still ends the last one.
                    return;
                }
                entry.start = to as u32;
            }
            to += len;
        }
        self.used = to;
    }

    /// Removes the record at `index` (no-op if out of range).
    pub(crate) fn remove(&mut self, index: usize) {
        // Not `Vec::remove`: its bad-index panic formats both numbers.
        if let Some(tail) = self.entries.get_mut(index..) {
            // Move the record to the end, keeping the others in order.
            for i in 1..tail.len() {
                tail.swap(i - 1, i);
            }
            self.entries.pop();
        }
        if self.entries.is_empty() {
            self.used = 0;
        }
    }

    /// Keeps only the records for which `keep` returns true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&M, &[u8]) -> bool) {
        let area = &*self.area;
        self.entries
            .retain(|e| keep(&e.meta, area.get(e.range()).unwrap_or(&[])));
        if self.entries.is_empty() {
            self.used = 0;
        }
    }

    /// Index of the first record whose metadata and bytes match.
    pub(crate) fn position(&self, mut pred: impl FnMut(&M, &[u8]) -> bool) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| pred(&e.meta, self.area.get(e.range()).unwrap_or(&[])))
    }

    /// Metadata of the record at `index`.
    pub(crate) fn meta(&self, index: usize) -> Option<&M> {
        self.entries.get(index).map(|e| &e.meta)
    }

    /// Mutable metadata of the record at `index`.
    pub(crate) fn meta_mut(&mut self, index: usize) -> Option<&mut M> {
        self.entries.get_mut(index).map(|e| &mut e.meta)
    }

    /// Bytes of the record at `index` (empty if out of range).
    pub(crate) fn bytes(&self, index: usize) -> &[u8] {
        self.entries
            .get(index)
            .and_then(|e| self.area.get(e.range()))
            .unwrap_or(&[])
    }

    /// Metadata and mutable bytes of the record at `index`.
    pub(crate) fn get_mut(&mut self, index: usize) -> Option<(&mut M, &mut [u8])> {
        let entry = self.entries.get_mut(index)?;
        let bytes = self.area.get_mut(entry.range())?;
        Some((&mut entry.meta, bytes))
    }

    /// All metadata, in insertion order.
    pub(crate) fn metas(&self) -> impl Iterator<Item = &M> {
        self.entries.iter().map(|e| &e.meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(slab: &mut Slab<'_, u8, 4>, tag: u8, len: usize) -> Result<()> {
        slab.push(tag, len, |out| {
            out.fill(tag);
            Ok(out.len())
        })
    }

    #[test]
    fn compacts_when_needed_and_keeps_order() {
        let mut area = [0u8; 10];
        let mut slab: Slab<'_, u8, 4> = Slab::new(&mut area);
        put(&mut slab, 1, 4).unwrap();
        put(&mut slab, 2, 3).unwrap();
        put(&mut slab, 3, 3).unwrap();
        assert_eq!(put(&mut slab, 4, 1), Err(Error::Busy), "area full");
        slab.remove(0);
        // 4 bytes free, but only after compaction.
        put(&mut slab, 4, 4).unwrap();
        assert_eq!(slab.bytes(0), &[2, 2, 2]);
        assert_eq!(slab.bytes(1), &[3, 3, 3]);
        assert_eq!(slab.bytes(2), &[4, 4, 4, 4]);
        assert_eq!(put(&mut slab, 5, 11), Err(Error::PayloadTooLarge));
    }

    #[test]
    fn entry_table_full_is_busy() {
        let mut area = [0u8; 64];
        let mut slab: Slab<'_, u8, 4> = Slab::new(&mut area);
        for i in 0..4 {
            put(&mut slab, i, 1).unwrap();
        }
        assert_eq!(slab.len(), 4);
        assert_eq!(put(&mut slab, 9, 1), Err(Error::Busy));
        slab.retain(|m, _| *m != 2);
        assert_eq!(slab.len(), 3);
        assert_eq!(slab.position(|m, _| *m == 3), Some(2));
        put(&mut slab, 9, 1).unwrap();
    }

    #[test]
    fn remove_keeps_the_others_in_order() {
        let mut area = [0u8; 16];
        let mut slab: Slab<'_, u8, 4> = Slab::new(&mut area);
        for tag in 1..=4 {
            put(&mut slab, tag, 2).unwrap();
        }
        slab.remove(9);
        assert_eq!(
            slab.metas().copied().collect::<std::vec::Vec<_>>(),
            [1, 2, 3, 4]
        );
        slab.remove(1);
        assert_eq!(
            slab.metas().copied().collect::<std::vec::Vec<_>>(),
            [1, 3, 4]
        );
        assert_eq!(slab.bytes(1), &[3, 3]);
        slab.remove(2);
        assert_eq!(slab.metas().copied().collect::<std::vec::Vec<_>>(), [1, 3]);
        slab.remove(0);
        slab.remove(0);
        assert_eq!(slab.len(), 0);
        // Empty: the whole area is free again.
        put(&mut slab, 5, 16).unwrap();
    }

    #[test]
    fn failed_fill_leaves_nothing() {
        let mut area = [0u8; 8];
        let mut slab: Slab<'_, u8, 4> = Slab::new(&mut area);
        assert_eq!(
            slab.push(1, 4, |_| Err(Error::InvalidTopic)),
            Err(Error::InvalidTopic)
        );
        assert_eq!(slab.len(), 0);
        put(&mut slab, 2, 8).unwrap();
    }
}
