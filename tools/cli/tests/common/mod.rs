//! Running the built `nimbus` binary, shared by the CLI test files.

use std::process::Command;

/// Runs `nimbus ARGS`: exit code, stdout, stderr.
pub fn nimbus(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nimbus"))
        .args(args)
        .output()
        .expect("run nimbus");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs a command that must succeed with one line of output; returns it.
pub fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = nimbus(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "{stdout:?}"
    );
    stdout.trim_end().to_string()
}
