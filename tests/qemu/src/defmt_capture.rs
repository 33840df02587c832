//! The firmware's defmt logger: keeps the bytes of every frame (defmt
//! hands the logger its frames unencoded; a `{=str}` argument is its
//! length and its bytes, as they are) so that a test can look for the
//! client's trace lines in them. The core is built with its `defmt`
//! feature here, so its trace lines come through defmt as they would on a
//! device that logs over RTT.

use core::cell::RefCell;
use critical_section::Mutex;

/// The frames since the last [`take_contains`] or [`clear`], cut at the
/// capacity.
static FRAMES: Mutex<RefCell<heapless::Vec<u8, 1024>>> =
    Mutex::new(RefCell::new(heapless::Vec::new()));

#[defmt::global_logger]
struct Capture;

// SAFETY: one execution context (no interrupt logs); every method only
// touches FRAMES inside a critical section.
unsafe impl defmt::Logger for Capture {
    fn acquire() {}

    unsafe fn flush() {}

    unsafe fn release() {}

    unsafe fn write(bytes: &[u8]) {
        critical_section::with(|cs| {
            let mut frames = FRAMES.borrow_ref_mut(cs);
            let room = frames.capacity() - frames.len();
            let _ = frames.extend_from_slice(&bytes[..bytes.len().min(room)]);
        });
    }
}

/// Forgets what was logged so far.
pub fn clear() {
    critical_section::with(|cs| FRAMES.borrow_ref_mut(cs).clear());
}

/// Whether the frames logged since the last call (or [`clear`]) hold
/// `text` (not empty); forgets them.
pub fn take_contains(text: &[u8]) -> bool {
    critical_section::with(|cs| {
        let mut frames = FRAMES.borrow_ref_mut(cs);
        let found = frames.windows(text.len()).any(|w| w == text);
        frames.clear();
        found
    })
}
