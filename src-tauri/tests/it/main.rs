//! The desktop app's binary from the outside, without a display: its command line. (The window,
//! the embedded runner and file watching are tested under Xvfb by tests/desktop.) This test also
//! makes `cargo test --workspace` build the binary with the workspace's one feature set, so the
//! desktop test needs no second build.

use std::process::Command;

#[test]
fn the_binary_describes_its_options() {
    let out = Command::new(env!("CARGO_BIN_EXE_polder-app")).arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    for option in ["--workspace", "--ui-dir", "--info-file", "POLDER_WORKSPACE"] {
        assert!(text.contains(option), "{option} missing from:\n{text}");
    }
}
