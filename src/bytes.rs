//! Copies and moves between byte buffers that cannot panic.
//!
//! `copy_from_slice` and `copy_within` check their lengths at run time
//! and, should a check ever fail, panic with a formatted message: the
//! firmware then links the panic and formatting machinery even though the
//! callers have checked the lengths already. These helpers check once and
//! return an `Error` instead, so a bad length can only ever be an error.

use core::cell::Cell;
use core::ops::Range;

use crate::{Error, Result};

/// Bytes moved per step by [`copy`]: two machine words on 32-bit
/// targets, which the compiler moves as such (a byte loop is what it makes
/// of anything simpler at `opt-level = "z"`, where it never calls `memcpy`
/// for one, and a larger block becomes a `memcpy` call per block on
/// Cortex-M); four on 64-bit hosts, two vector moves.
const BLOCK: usize = if usize::BITS == 64 { 32 } else { 8 };

/// Copies `src` to the start of `dst`. [`Error::BufferTooSmall`], with
/// `dst` unchanged, when `src` is longer than `dst`.
pub(crate) fn copy(dst: &mut [u8], src: &[u8]) -> Result<()> {
    copy_in_blocks::<BLOCK>(dst, src)
}

/// [`copy`], `N` bytes per step.
fn copy_in_blocks<const N: usize>(dst: &mut [u8], src: &[u8]) -> Result<()> {
    let dst = dst.get_mut(..src.len()).ok_or(Error::BufferTooSmall)?;
    let Some(last_block) = src.len().checked_sub(N) else {
        for (d, s) in dst.iter_mut().zip(src) {
            *d = *s;
        }
        return Ok(());
    };
    // Whole blocks from the start...
    let (mut d, mut s) = (&mut *dst, src);
    while let Some((s_block, s_rest)) = s.split_first_chunk::<N>() {
        // `d` is as long as `s`: this always splits.
        let (d_block, d_rest) = core::mem::take(&mut d)
            .split_first_chunk_mut::<N>()
            .ok_or(Error::BufferTooSmall)?;
        *d_block = *s_block;
        (d, s) = (d_rest, s_rest);
    }
    if s.is_empty() {
        return Ok(());
    }
    // ...then the block that ends at the end, over bytes already copied.
    let d = dst.get_mut(last_block..).and_then(|d| d.first_chunk_mut());
    let s = src.get(last_block..).and_then(|s| s.first_chunk::<N>());
    if let (Some(d), Some(s)) = (d, s) {
        *d = *s;
    }
    Ok(())
}

/// Moves `buf[from]` down to start at `to` (the two ranges may overlap).
/// [`Error::BufferTooSmall`], with `buf` unchanged, when `from` is not
/// inside `buf` or `to` is above `from.start`.
pub(crate) fn move_down(buf: &mut [u8], from: Range<usize>, to: usize) -> Result<()> {
    if to > from.start || from.start > from.end || from.end > buf.len() {
        return Err(Error::BufferTooSmall);
    }
    let len = from.end - from.start;
    if from.start - to >= len {
        // Apart: one copy.
        let (head, tail) = buf
            .split_at_mut_checked(from.start)
            .ok_or(Error::BufferTooSmall)?;
        let src = tail.get(..len).ok_or(Error::BufferTooSmall)?;
        return copy(head.get_mut(to..).ok_or(Error::BufferTooSmall)?, src);
    }
    let cells = Cell::from_mut(buf).as_slice_of_cells();
    let (Some(src), Some(dst)) = (cells.get(from), cells.get(to..)) else {
        return Err(Error::BufferTooSmall);
    };
    // Front to back: with `to` below the source, every byte is read
    // before anything is written over it.
    for (d, s) in dst.iter().zip(src) {
        d.set(s.get());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_takes_only_what_fits() {
        let mut buf = [0u8; 4];
        assert_eq!(copy(&mut buf, b"ab"), Ok(()));
        assert_eq!(&buf, b"ab\0\0");
        assert_eq!(copy(&mut buf, b"wxyz"), Ok(()));
        assert_eq!(&buf, b"wxyz");
        assert_eq!(copy(&mut buf, b"12345"), Err(Error::BufferTooSmall));
        assert_eq!(&buf, b"wxyz");
        assert_eq!(copy(&mut buf, b""), Ok(()));
        assert_eq!(copy(&mut [], b""), Ok(()));
    }

    #[test]
    fn copy_moves_every_byte_at_every_length() {
        fn check(copy: impl Fn(&mut [u8], &[u8]) -> Result<()>) {
            let src: std::vec::Vec<u8> = (1..=100).collect();
            for n in 0..src.len() {
                let mut dst = [0u8; 101];
                assert_eq!(copy(&mut dst, &src[..n]), Ok(()));
                assert_eq!(&dst[..n], &src[..n]);
                assert!(dst[n..].iter().all(|&b| b == 0));
                assert_eq!(copy(&mut dst[..n], &src[..=n]), Err(Error::BufferTooSmall));
            }
        }
        // The block sizes of 32- and 64-bit targets, and the one in use.
        check(copy_in_blocks::<8>);
        check(copy_in_blocks::<32>);
        check(copy);
    }

    #[test]
    fn move_down_matches_copy_within() {
        for len in 0..40 {
            for start in 0..40 - len {
                for to in 0..=start {
                    let mut want: std::vec::Vec<u8> = (0..40).collect();
                    let mut got = want.clone();
                    want.copy_within(start..start + len, to);
                    assert_eq!(move_down(&mut got, start..start + len, to), Ok(()));
                    assert_eq!(got, want, "{start}..+{len} to {to}");
                }
            }
        }
    }

    #[test]
    fn move_down_handles_overlap_and_refuses_bad_ranges() {
        let mut buf = *b"0123456789";
        assert_eq!(move_down(&mut buf, 2..8, 0), Ok(()));
        assert_eq!(&buf, b"2345676789");

        let mut buf = *b"0123456789";
        assert_eq!(move_down(&mut buf, 7..10, 0), Ok(()));
        assert_eq!(&buf, b"7893456789");

        let mut buf = *b"0123456789";
        assert_eq!(move_down(&mut buf, 5..10, 4), Ok(()));
        assert_eq!(&buf, b"0123567899");

        let mut buf = *b"0123456789";
        assert_eq!(move_down(&mut buf, 3..3, 0), Ok(()));
        assert_eq!(move_down(&mut buf, 4..6, 4), Ok(()));
        assert_eq!(&buf, b"0123456789");

        let mut buf = *b"0123456789";
        assert_eq!(move_down(&mut buf, 8..11, 0), Err(Error::BufferTooSmall));
        #[allow(clippy::reversed_empty_ranges)]
        let backwards = 6..5;
        assert_eq!(
            move_down(&mut buf, backwards, 0),
            Err(Error::BufferTooSmall)
        );
        assert_eq!(move_down(&mut buf, 2..4, 3), Err(Error::BufferTooSmall));
        assert_eq!(&buf, b"0123456789");
    }
}
