//! `WholeLines`: lines short enough are read whole whatever the column window (an editor that
//! holds lines whole, as Neovim does, edits them natively); longer ones, and those past the
//! budget, are cut to the window as before.

use tome_core::{ColumnWindow, Control, Document, WholeLines};

fn doc_of(bytes: &[u8]) -> (tempfile::TempDir, Document) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    std::fs::write(&path, bytes).unwrap();
    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();
    (dir, doc)
}

const WINDOW: Option<ColumnWindow> = Some(ColumnWindow { start: 0, len: 10 });

#[test]
fn short_lines_come_whole_and_long_ones_cut() {
    let long = "x".repeat(100);
    let text = format!("short\n{long}\n{}\nend", "y".repeat(1000));
    let (_d, doc) = doc_of(text.as_bytes());
    let whole = Some(WholeLines {
        max_line: 500,
        max_total: 10_000,
    });
    let lines = doc.view().lines_whole(0, 10, WINDOW, whole).unwrap();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0].text, "short");
    assert!(lines[0].whole);
    assert_eq!(
        lines[1].text, long,
        "100 bytes ≤ max_line: whole, past the window"
    );
    assert!(lines[1].whole && !lines[1].cut_after);
    assert_eq!(lines[2].text, "y".repeat(10), "1000 bytes > max_line: cut");
    assert!(!lines[2].whole && lines[2].cut_after);
    assert_eq!(lines[2].len, 1000);
    assert!(lines[3].whole);
    // Without a budget: as `lines`.
    assert_eq!(
        doc.view().lines_whole(0, 10, WINDOW, None).unwrap(),
        doc.view().lines(0, 10, WINDOW).unwrap()
    );
}

#[test]
fn the_budget_is_spent_in_line_order() {
    let text = format!(
        "{}\n{}\n{}\nz",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(20)
    );
    let (_d, doc) = doc_of(text.as_bytes());
    let whole = Some(WholeLines {
        max_line: 100,
        max_total: 100,
    });
    let lines = doc.view().lines_whole(0, 4, WINDOW, whole).unwrap();
    assert!(lines[0].whole);
    // 60 + 60 > 100: cut to the window; the rest of the budget still serves later lines.
    assert!(!lines[1].whole && lines[1].cut_after);
    assert_eq!(lines[1].text.len(), 10);
    assert!(lines[2].whole && lines[2].text.len() == 20);
    assert!(lines[3].whole);
    // Around an offset, the same rule.
    let around = doc
        .view()
        .lines_around_whole(70, 1, 2, WINDOW, whole)
        .unwrap();
    assert_eq!(around, lines[..3].to_vec());
}

#[test]
fn whole_lines_keep_invalid_bytes_one_replacement_each() {
    let mut bytes = b"ok\n".to_vec();
    bytes.extend_from_slice(b"bad \xFF\xFE and \xC3 there and more than the window\n");
    let (_d, doc) = doc_of(&bytes);
    let whole = Some(WholeLines {
        max_line: 1 << 20,
        max_total: 1 << 20,
    });
    let lines = doc.view().lines_whole(1, 1, WINDOW, whole).unwrap();
    assert!(lines[0].whole && lines[0].invalid);
    assert_eq!(
        lines[0].text,
        "bad \u{FFFD}\u{FFFD} and \u{FFFD} there and more than the window"
    );
}
