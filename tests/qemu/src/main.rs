//! Runs the core's tests on an emulated Cortex-M3 and reports each test's
//! peak stack use.
//!
//! Output, through semihosting: `name ... ok (stack N B)` or
//! `name ... FAILED (stack N B)` per test, the stack of single calls some
//! tests measure (`stack: <call>: N B`, e.g. one `Session::poll`), the
//! harness's own stack use, the peak, then exactly `N passed, M failed`. The semihosting exit code is
//! nonzero when any test fails, so `cargo run` fails too. A panic halts in
//! the core's panic handler; the runner's `timeout` then fails the run.
#![no_std]
#![no_main]

mod core_tests;
mod defmt_capture;
mod stack;

use cortex_m_rt::{entry, exception, ExceptionFrame};
use cortex_m_semihosting::{debug, hprint, hprintln};

/// Runs one test with a freshly painted stack; returns its result and the
/// peak stack use in bytes.
#[inline(never)]
fn run_measured(test: fn() -> bool) -> (bool, usize) {
    stack::repaint();
    let ok = test();
    (ok, stack::peak_use())
}

fn nothing() -> bool {
    true
}

#[entry]
fn main() -> ! {
    let (_, baseline) = run_measured(nothing);
    let mut passed = 0u32;
    let mut failed = 0u32;
    let mut peak = 0usize;
    for &(name, test) in core_tests::TESTS {
        // Printed first, so a test that halts (a panic) is named.
        hprint!("{} ... ", name);
        let (ok, used) = run_measured(test);
        peak = peak.max(used);
        if ok {
            passed += 1;
            hprintln!("ok (stack {} B)", used);
        } else {
            failed += 1;
            hprintln!("FAILED (stack {} B)", used);
        }
    }
    for (label, used) in core_tests::figures() {
        hprintln!("stack: {}: {} B", label, used);
    }
    hprintln!("stack: harness baseline {} B", baseline);
    hprintln!(
        "stack: peak of any test {} B ({} B above the harness; a test's own buffers count)",
        peak,
        peak.saturating_sub(baseline)
    );
    hprintln!("{} passed, {} failed", passed, failed);
    debug::exit(if failed == 0 {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

#[exception]
unsafe fn HardFault(frame: &ExceptionFrame) -> ! {
    hprintln!("hard fault at pc {:#010x}", frame.pc());
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
