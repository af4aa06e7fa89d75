//! The README's quick-start command: `tome demo` runs a headless session through the real
//! protocol and prints what a user sees.

use std::process::Command;

#[test]
fn the_demo_runs_through_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(tome_e2e::tome_bin())
        .args(["demo", "--size", "16M", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "initialized it over stdio",
        "seq=0 ",
        "viewport at 50%",
        "line index complete",
        "edits sent without waiting",
        "count of",
        "undo",
        "tome/saveAs",
    ] {
        assert!(text.contains(step), "missing {step:?} in:\n{text}");
    }
}
