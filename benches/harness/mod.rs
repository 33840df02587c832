//! The convention every benchmark in `benches/` follows, so that
//! `tools/bench.sh` can measure it with callgrind (see the script's header):
//!
//! - `<bench> --list` prints one line per operation:
//!   `<selector> <function> [<reference instructions> <reference name...>]`;
//! - `<bench> <selector>` runs that operation exactly once, inside an
//!   `#[inline(never)]` function whose name contains `<function>`, so that
//!   callgrind can count the instructions of that one call;
//! - no argument (or `--bench`, as `cargo bench` passes) runs every
//!   operation once as a smoke test.

use std::process::ExitCode;

/// One measured operation.
pub struct Op {
    /// The argument that selects it.
    pub selector: &'static str,
    /// A name unique to the measured function (callgrind's toggle pattern).
    pub function: &'static str,
    /// A published instruction count to compare with, and where it is from.
    pub reference: Option<(u64, &'static str)>,
    /// Sets up, calls the measured function once, and checks its result.
    pub run: fn(),
}

/// The `main` of a benchmark over `ops`.
pub fn main(ops: &[Op]) -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--list") => {
            for op in ops {
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
            for op in ops {
                (op.run)();
                println!("{}: ok", op.selector);
            }
            ExitCode::SUCCESS
        }
        Some(selector) => match ops.iter().find(|op| op.selector == selector) {
            Some(op) => {
                (op.run)();
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("unknown selector {selector:?}; --list shows them");
                ExitCode::from(2)
            }
        },
    }
}
