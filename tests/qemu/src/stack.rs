//! Stack high-water mark by painting.
//!
//! cortex-m-rt (feature `paint-stack`) fills the whole stack, `_stack_end`
//! up to `_stack_start`, with [`STACK_PAINT_VALUE`] before `main`. Before
//! each test [`repaint`] paints again everything below the current stack
//! pointer; afterwards [`peak_use`] scans up from the bottom for the first
//! word that is no longer paint. The distance from there to the top of the
//! stack is the deepest the stack reached. [`measure`] does the same around
//! one call inside a test and counts from the caller's stack pointer.
//!
//! This is the only `unsafe` in the harness: it reads and writes the unused
//! part of the stack, which nothing else owns while no interrupt is enabled.

use cortex_m_rt::STACK_PAINT_VALUE;

extern "C" {
    /// Bottom of the stack (end of `.bss`), from cortex-m-rt's `link.x`.
    static _stack_end: u32;
    /// Top of the stack (initial SP), from cortex-m-rt's `link.x`.
    static _stack_start: u32;
}

/// Room left unpainted just below the live stack pointer.
const MARGIN: usize = 16;

fn bottom() -> usize {
    core::ptr::addr_of!(_stack_end) as usize
}

fn top() -> usize {
    core::ptr::addr_of!(_stack_start) as usize
}

/// Paints the free stack below the caller's frame.
#[inline(never)]
pub fn repaint() {
    let sp = cortex_m::register::msp::read() as usize;
    let mut word = bottom();
    while word + 4 + MARGIN <= sp {
        // SAFETY: `word` is 4-aligned (cortex-m-rt aligns `_stack_end`) and
        // lies between the bottom of the stack and below the live stack
        // pointer, so no frame and no static lives there.
        unsafe { (word as *mut u32).write_volatile(STACK_PAINT_VALUE) };
        word += 4;
    }
}

/// Deepest stack use, in bytes from the top of the stack, since the last
/// paint.
#[inline(never)]
pub fn peak_use() -> usize {
    let mut word = bottom();
    let end = top();
    while word < end {
        // SAFETY: as in `repaint`: aligned, inside the stack region.
        let value = unsafe { (word as *const u32).read_volatile() };
        if value != STACK_PAINT_VALUE {
            break;
        }
        word += 4;
    }
    end - word
}

/// Runs `f` on a freshly painted stack and returns its result and the
/// deepest the stack went below the caller's stack pointer: the stack `f`
/// itself needs (its frames and everything it calls), not the caller's.
#[inline(never)]
pub fn measure<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let sp = cortex_m::register::msp::read() as usize;
    repaint();
    let result = call(f);
    let lowest = top() - peak_use();
    (result, sp.saturating_sub(lowest))
}

/// Calls `f` in a frame of its own, below the stack pointer `measure`
/// read: inlined into `measure`, the locals of `f` would sit in
/// `measure`'s frame, above that pointer, and go uncounted.
#[inline(never)]
fn call<R>(f: impl FnOnce() -> R) -> R {
    f()
}
