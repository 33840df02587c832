//! Instruction-count benchmark of `Error::as_str`, and the smallest example
//! of the convention `tools/bench.sh` relies on (see its header):
//!
//! - `selftest_ops --list` prints one line per operation:
//!   `<selector> <function> [<reference instructions> <reference name...>]`;
//! - `selftest_ops <selector>` runs that operation exactly once, inside a
//!   `#[inline(never)]` function whose name contains `<function>`, so that
//!   callgrind can count the instructions of that one call;
//! - no argument (or `--bench`, as `cargo bench` passes) runs every
//!   operation once as a smoke test.

use nimbus::Error;
use std::hint::black_box;
use std::process::ExitCode;

/// One measured operation.
struct Op {
    /// The argument that selects it.
    selector: &'static str,
    /// A name unique to the measured function (callgrind's toggle pattern).
    function: &'static str,
    /// A published instruction count to compare with, and where it is from.
    reference: Option<(u64, &'static str)>,
    /// Runs the function once; returns its result so nothing is optimised out.
    run: fn() -> usize,
}

const OPS: &[Op] = &[Op {
    selector: "error_str_len_sum",
    function: "bench_error_str_len_sum",
    reference: None,
    run: || bench_error_str_len_sum(black_box(&SAMPLE)),
}];

/// A few errors of every layer.
const SAMPLE: [Error; 8] = [
    Error::NullArgument,
    Error::BufferTooSmall,
    Error::ConnackTimeout,
    Error::MalformedPacket,
    Error::NotGenericTopic,
    Error::InvalidJson,
    Error::NotFound,
    Error::SensorFailed,
];

/// Total length of the descriptions of `errors`.
#[inline(never)]
fn bench_error_str_len_sum(errors: &[Error]) -> usize {
    errors.iter().map(|e| e.as_str().len()).sum()
}

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--list") => {
            for op in OPS {
                match op.reference {
                    Some((count, source)) => {
                        println!("{} {} {} {}", op.selector, op.function, count, source)
                    }
                    None => println!("{} {}", op.selector, op.function),
                }
            }
            ExitCode::SUCCESS
        }
        None | Some("--bench") => {
            for op in OPS {
                println!("{}: {}", op.selector, black_box((op.run)()));
            }
            ExitCode::SUCCESS
        }
        Some(selector) => match OPS.iter().find(|op| op.selector == selector) {
            Some(op) => {
                black_box((op.run)());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("unknown selector {selector:?}; --list shows them");
                ExitCode::from(2)
            }
        },
    }
}
