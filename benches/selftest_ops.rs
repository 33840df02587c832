//! Instruction-count benchmark of `Error::as_str`, and the smallest example
//! of the convention in `harness/mod.rs` that `tools/bench.sh` relies on.

mod harness;

use harness::Op;
use nimbus::Error;
use std::hint::black_box;
use std::process::ExitCode;

const OPS: &[Op] = &[Op {
    selector: "error_str_len_sum",
    function: "bench_error_str_len_sum",
    reference: None,
    run: || assert_eq!(bench_error_str_len_sum(black_box(&SAMPLE)), 152),
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
    harness::main(OPS)
}
