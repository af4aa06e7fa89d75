//! Every feature on a generated file of a few hundred MiB: reading before the index is done,
//! line numbers that match the generator's `seq=N`, edits while indexing, search, replace-all,
//! undo, and save, checked against a byte model. One test, so the file is generated once.

use std::io::Read;

use tome_core::{ColumnWindow, Control, Direction, Document, Edit, Error, Matcher, Query};
use tome_gen::GenConfig;

const SIZE: u64 = 256 << 20;
const NEEDLE: &str = "#TOME-NEEDLE#";

fn seq_of(text: &str) -> usize {
    let at = text.find("seq=").expect("a generated line has seq=") + 4;
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// `RssFile` of this process, in KiB.
fn file_backed_resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("RssFile:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

fn matcher(pattern: &str) -> Matcher {
    Matcher::new(&Query {
        pattern: pattern.into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap()
}

#[test]
fn a_256_mib_file_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let cfg = GenConfig {
        needle: Some(NEEDLE.into()),
        needle_every: 10_000,
        unicode: true,
        ..GenConfig::sized(SIZE)
    };
    let stats = tome_gen::write_file(&cfg, &path).unwrap();
    let control = Control::new();

    // Open and read at once: the first lines, the middle by offset, the end by offset.
    let mut doc = Document::open(&path).unwrap();
    let first = doc.view().lines(0, 100, None).unwrap();
    assert_eq!(first.len(), 100);
    for (i, line) in first.iter().enumerate() {
        assert_eq!(line.number, Some(i));
        assert_eq!(seq_of(&line.text), i);
    }
    let middle = doc.view().lines_around(doc.len() / 2, 0, 3, None).unwrap();
    let m0 = seq_of(&middle[0].text);
    assert_eq!(seq_of(&middle[1].text), m0 + 1);
    let end = doc.view().lines_around(doc.len(), 1, 1, None).unwrap();
    assert!(!end.is_empty());

    // Edits while the index may still be running, near both ends.
    let edit_start = "EDIT AT START\n";
    doc.insert(0, edit_start).unwrap();
    let tail_at = doc.len() - 10;
    doc.insert(tail_at, "\nTAIL\n").unwrap();

    doc.wait_for_index(&control).unwrap();
    let count = doc.view().line_count();
    assert!(count.exact);
    // The generator counts a last line only if it is not empty; we count the empty line after a
    // final break too (as ropey and editors do).
    let ends_with_break = std::fs::read(&path).unwrap().last() == Some(&b'\n');
    let breaks = stats.lines - u64::from(!ends_with_break);
    assert_eq!(
        count.known as u64,
        breaks + 1 + 3,
        "generator's lines + 3 inserted breaks"
    );

    // Line numbers match the generator's seq=N everywhere (shifted by the inserted line).
    for frac in [0.0, 0.25, 0.5, 0.75, 0.999] {
        let n = ((stats.lines - 10) as f64 * frac) as usize + 1;
        let lines = doc
            .view()
            .lines(n, 2, Some(ColumnWindow { start: 0, len: 200 }))
            .unwrap();
        assert_eq!(seq_of(&lines[0].text), n - 1, "line {n}");
        assert_eq!(lines[0].number, Some(n));
        let start = doc.view().line_start(n).unwrap();
        assert_eq!(doc.view().line_of(start).unwrap(), n);
        assert_eq!(lines[0].start, start);
    }

    // Search: the exact number of needles, forward and backward from the middle.
    let m = matcher(NEEDLE);
    assert_eq!(
        doc.view().count_matches(&m, &control).unwrap() as u64,
        stats.needles
    );
    // The scan gave back the file's pages it read: they are in the page cache, not in this
    // process's resident set (the index does the same behind it). The bound leaves room for the
    // other tests of this file, which run alongside with files of 64 and 24 MiB.
    let resident = file_backed_resident_kib();
    assert!(
        resident < (SIZE >> 10) / 2,
        "{resident} KiB of file pages resident after a scan of {} MiB",
        SIZE >> 20
    );
    let mid = doc.len() / 2;
    let next = doc
        .view()
        .find(&m, mid, Direction::Forward, false, &control)
        .unwrap()
        .unwrap();
    let prev = doc
        .view()
        .find(&m, mid, Direction::Backward, false, &control)
        .unwrap()
        .unwrap();
    assert!(prev.start < mid && next.start >= mid);
    let between = doc
        .view()
        .find_all(&m, prev.end..next.start, 10, &control)
        .unwrap();
    assert!(
        between.matches.is_empty(),
        "nothing between the previous and the next match"
    );

    // Replace-all is one undoable step.
    let pieces_before = doc.piece_count();
    let n = doc.replace_all(&m, b"[needle]", &control).unwrap();
    assert_eq!(n as u64, stats.needles);
    assert_eq!(doc.view().count_matches(&m, &control).unwrap(), 0);
    assert_eq!(
        doc.view()
            .count_matches(&matcher("[needle]"), &control)
            .unwrap() as u64,
        stats.needles
    );
    doc.undo().unwrap();
    assert_eq!(doc.piece_count(), pieces_before);
    assert_eq!(
        doc.view().count_matches(&m, &control).unwrap() as u64,
        stats.needles
    );

    // Scattered edits in one batch, then save-as; compare with a byte model.
    let mut model = std::fs::read(&path).unwrap();
    model.splice(0..0, edit_start.bytes());
    model.splice(tail_at..tail_at, b"\nTAIL\n".iter().copied());
    let step = model.len() / 64;
    let mut edits = Vec::new();
    for i in 1..64 {
        let at = i * step;
        edits.push(if i % 2 == 0 {
            Edit::insert(at, format!("<{i}>"))
        } else {
            Edit::delete(at..at + 3)
        });
    }
    doc.apply(edits.clone()).unwrap();
    for e in edits.iter().rev() {
        model.splice(e.range.clone(), e.text.iter().copied());
    }
    let out = dir.path().join("saved.log");
    let report = doc.save(Some(&out), &control).unwrap();
    assert_eq!(report.bytes as usize, model.len());
    let mut saved = Vec::with_capacity(model.len());
    std::fs::File::open(&out)
        .unwrap()
        .read_to_end(&mut saved)
        .unwrap();
    assert!(saved == model, "the saved file differs from the model");
    drop(saved);
    assert!(!doc.is_dirty());
    assert_eq!(doc.path(), Some(out.as_path()));

    // After the save the document reads from the new file, and undo still works.
    doc.wait_for_index(&control).unwrap();
    assert_eq!(doc.view().read(0, 200).unwrap(), model[..200]);
    doc.undo().unwrap();
    assert!(doc.is_dirty());
    let at = 5 * step;
    assert_eq!(
        doc.view().read(at - 2, at + 5).unwrap(),
        std::fs::read(&path).unwrap()[at - 2 - edit_start.len()..at + 5 - edit_start.len()]
    );
}

#[test]
fn waiting_for_a_line_can_be_cancelled_and_reports_past_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.log");
    let stats = tome_gen::write_file(&GenConfig::sized(64 << 20), &path).unwrap();
    let mut doc = Document::open(&path).unwrap();
    let cancelled = Control::new();
    cancelled.cancel();
    match doc.wait_for_line(stats.lines as usize - 1, &cancelled) {
        // Either indexing already reached it (fast machine), or the wait was cancelled.
        Ok(_) | Err(Error::Cancelled) => {}
        Err(e) => panic!("unexpected {e}"),
    }
    let control = Control::new();
    let last = doc
        .wait_for_line(stats.lines as usize - 1, &control)
        .unwrap();
    assert!(last < doc.len());
    assert!(matches!(
        doc.wait_for_line(stats.lines as usize + 5, &control),
        Err(Error::OutOfBounds(_))
    ));
}

/// CRLF, lone CR and LF mixed over many index blocks: the index's sub-block counts, its CR
/// handling across block and read boundaries, and edits that split CRLFs, against ropey.
#[test]
fn mixed_line_endings_over_many_blocks_match_ropey() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.log");
    let cfg = GenConfig {
        line_ending: tome_gen::LineEnding::Mixed,
        unicode: true,
        seed: 7,
        ..GenConfig::sized(24 << 20)
    };
    tome_gen::write_file(&cfg, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let mut rope = ropey::Rope::from_str(std::str::from_utf8(&bytes).unwrap());
    let mut doc = Document::open(&path).unwrap();
    let control = Control::new();
    doc.wait_for_index(&control).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut rand = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for round in 0..4 {
        let view = doc.view();
        assert_eq!(view.line_count().known, rope.len_lines(), "round {round}");
        for _ in 0..2000 {
            let line = rand(rope.len_lines());
            assert_eq!(
                view.line_start(line).unwrap(),
                rope.line_to_byte(line),
                "line {line}"
            );
            let ch = rand(rope.len_chars());
            let byte = rope.char_to_byte(ch);
            assert_eq!(
                view.line_of(byte).unwrap(),
                rope.char_to_line(ch),
                "offset {byte}"
            );
        }
        // Edits that land between CR and LF, at line starts and anywhere.
        for _ in 0..200 {
            let ch = rand(rope.len_chars());
            let byte = rope.char_to_byte(ch);
            let text = ["\n", "x", "\r", "é\r\n"][rand(4)];
            doc.insert(byte, text).unwrap();
            rope.insert(ch, text);
            let ch = rand(rope.len_chars() - 3);
            let (b0, b1) = (rope.char_to_byte(ch), rope.char_to_byte(ch + 2));
            doc.delete(b0..b1).unwrap();
            rope.remove(ch..ch + 2);
        }
    }
}
