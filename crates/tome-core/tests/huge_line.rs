//! A line of a gigabyte (a minified dump, a sparse file): showing its start costs what is
//! shown, whether or not the line index has reached its end. Measured by the process's
//! resident memory, which grows by every page of the file that is read through the mapping
//! (the index itself releases what it scanned). One test per file: RSS is per process.

use tome_core::{ColumnWindow, Control, Document};

const GIB: u64 = 1 << 30;

fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb << 10
}

#[test]
fn a_viewport_on_a_gigabyte_line_reads_only_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-huge-line.bin");
    std::fs::write(&path, "first line\n").unwrap();
    // Sparse: a gigabyte of NULs after the first line, one line without a break.
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(11 + GIB)
        .unwrap();
    let window = Some(ColumnWindow { start: 0, len: 200 });

    let doc = Document::open(&path).unwrap();
    let before = rss();
    let lines = doc.view().lines(0, 3, window).unwrap();
    let grew = rss().saturating_sub(before);
    assert_eq!(lines[0].text, "first line");
    let huge = &lines[1];
    assert_eq!(huge.text.len(), 200);
    if huge.len_known {
        assert_eq!(huge.len as u64, GIB, "the index was quick: exact");
    } else {
        assert!(huge.len < 1 << 20, "scanned {} bytes", huge.len);
        assert!(huge.cut_after);
        assert_eq!(
            lines.len(),
            2,
            "nothing is returned after a line whose end is unknown"
        );
    }
    assert!(
        grew < 64 << 20,
        "reading the window grew RSS by {grew} bytes"
    );

    let mut doc = doc;
    doc.wait_for_index(&Control::new()).unwrap();
    let before = rss();
    let lines = doc.view().lines(1, 1, window).unwrap();
    let grew = rss().saturating_sub(before);
    assert!(lines[0].len_known);
    assert_eq!(lines[0].len as u64, GIB);
    assert_eq!(lines[0].text.len(), 200);
    assert!(
        grew < 64 << 20,
        "reading the window grew RSS by {grew} bytes"
    );
    // Around an offset in the middle of the line: the index says where the line starts.
    let before = rss();
    let mid = doc
        .view()
        .lines_around(11 + (GIB / 2) as usize, 0, 1, window)
        .unwrap();
    let grew = rss().saturating_sub(before);
    assert_eq!(mid[0].start, 11);
    assert!(
        grew < 64 << 20,
        "a jump to the middle grew RSS by {grew} bytes"
    );
}
