//! The piece tree against ropey: a sequence of inserts, deletes, typing runs, undo, redo and
//! saves, decoded from the input, applied to a `tome_core::Document` on a small file and to a
//! `ropey::Rope` (with undo and redo stacks of whole texts). After every step: same bytes, same
//! line count (ropey's `cr_lines`: LF, CRLF and a lone CR each end a line, as in Tome), and for
//! a sample of lines and characters (after the last step, every line and many characters) the
//! same line starts and the same line and columns (UTF-8, UTF-16, UTF-32) both ways.
//! The semantics are those of `crates/tome-core/tests/differential.rs` (the proptest); here
//! libFuzzer drives the sequences towards new code instead of random sampling.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use ropey::Rope;
use tome_core::{Control, Document, Position, PositionEncoding};

/// Fragments chosen to stress multibyte characters and every kind of line break (as in the
/// proptest).
const FRAGMENTS: &[&str] = &[
    "a", "bc", "é", "漢字", "🦀", "\n", "\r\n", "\r", "\r\r\n", "line\n", "x\ry", " ", "\n\n",
    "\u{2028}", "\u{85}", "\u{feff}", "\t",
];

/// At most this many steps per input, so that one run stays within a few milliseconds.
const MAX_STEPS: usize = 64;

#[derive(Debug)]
struct Text(String);

impl<'a> Arbitrary<'a> for Text {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let n = u.int_in_range(0..=8)?;
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(u.choose(FRAGMENTS)?);
        }
        Ok(Text(s))
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    /// Insert at character `at % (chars + 1)`, as one undo step.
    Insert {
        at: u16,
        text: Text,
    },
    /// Delete `len` characters from `at`, as one undo step.
    Delete {
        at: u16,
        len: u8,
    },
    /// Type `text` one character at a time (line breaks left out): one undo step in all.
    Typing {
        at: u16,
        text: Text,
    },
    Undo,
    Redo,
    /// Save to the file (the document is rebased onto it; the history stays).
    Save,
}

#[derive(Arbitrary, Debug)]
struct Input {
    initial: Text,
    ops: Vec<Op>,
}

/// The model: the current rope plus undo and redo stacks of whole texts.
struct Model {
    rope: Rope,
    undo: Vec<Rope>,
    redo: Vec<Rope>,
}

impl Model {
    fn char_at(&self, at: u16) -> usize {
        usize::from(at) % (self.rope.len_chars() + 1)
    }

    fn change(&mut self, f: impl FnOnce(&mut Rope)) {
        self.undo.push(self.rope.clone());
        self.redo.clear();
        f(&mut self.rope);
    }
}

/// Compares `doc` with `model`: content and line count, then the start of every line and the
/// line and columns of up to 256 characters when `full`, else of about 8 of each (these
/// queries, instrumented as they are, are most of a run's time).
fn check(doc: &Document, model: &Rope, full: bool) {
    let view = doc.view();
    let expect = model.to_string();
    assert_eq!(view.len(), expect.len(), "length");
    assert_eq!(
        view.read(0, view.len()).unwrap(),
        expect.as_bytes(),
        "content"
    );
    let count = view.line_count();
    assert!(count.exact);
    assert_eq!(count.known, model.len_lines(), "line count");
    let lines = model.len_lines();
    let stride = if full { 1 } else { (lines / 8).max(1) };
    for line in (0..lines).step_by(stride).chain([lines - 1]) {
        assert_eq!(
            view.line_start(line).unwrap(),
            model.line_to_byte(line),
            "line_start({line})"
        );
    }
    assert!(view.line_start(model.len_lines()).is_err());
    let chars = model.len_chars();
    // Columns cost O(line length) each: at most ~256 characters even at the end.
    let stride = (chars / if full { 256 } else { 8 }).max(1);
    for ch in (0..=chars).step_by(stride).chain([chars]) {
        let byte = model.char_to_byte(ch);
        let line = model.char_to_line(ch);
        assert_eq!(view.line_of(byte).unwrap(), line, "line_of({byte})");
        let line_char = model.line_to_char(line);
        let expected = [
            (PositionEncoding::Utf8, byte - model.line_to_byte(line)),
            (PositionEncoding::Utf32, ch - line_char),
            (
                PositionEncoding::Utf16,
                model.char_to_utf16_cu(ch) - model.char_to_utf16_cu(line_char),
            ),
        ];
        for (enc, column) in expected {
            let pos = Position { line, column };
            assert_eq!(
                view.position_of(byte, enc).unwrap(),
                pos,
                "position_of({byte}, {enc:?})"
            );
            // Between CR and LF is not addressable by column (see the proptest).
            let inside_crlf = byte > 0
                && model.byte(byte - 1) == b'\r'
                && byte < model.len_bytes()
                && model.byte(byte) == b'\n';
            if !inside_crlf {
                assert_eq!(
                    view.offset_of(pos, enc).unwrap(),
                    byte,
                    "offset_of({pos:?}, {enc:?})"
                );
            }
        }
    }
}

/// The file every run edits, in a scratch directory made once.
fn file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| tome_fuzz::scratch_dir("tome-fuzz-tree").join("doc.txt"))
}

fuzz_target!(|input: Input| {
    let path = file();
    let initial = input.initial.0;
    std::fs::write(path, &initial).unwrap();
    let mut doc = Document::open(path).unwrap();
    let control = Control::new();
    doc.wait_for_index(&control).unwrap();
    let mut model = Model {
        rope: Rope::from_str(&initial),
        undo: Vec::new(),
        redo: Vec::new(),
    };
    check(&doc, &model.rope, false);
    let mut saves = 0;
    for op in input.ops.into_iter().take(MAX_STEPS) {
        match op {
            Op::Insert { at, text } => {
                let text = text.0;
                let ch = model.char_at(at);
                let byte = model.rope.char_to_byte(ch);
                doc.insert(byte, &text).unwrap();
                doc.break_undo_group();
                if !text.is_empty() {
                    model.change(|r| r.insert(ch, &text));
                }
            }
            Op::Typing { at, text } => {
                let clean: String = text
                    .0
                    .chars()
                    .filter(|c| !matches!(c, '\n' | '\r'))
                    .collect();
                let ch = model.char_at(at);
                let mut byte = model.rope.char_to_byte(ch);
                for c in clean.chars() {
                    let mut buf = [0; 4];
                    doc.insert(byte, c.encode_utf8(&mut buf).as_bytes())
                        .unwrap();
                    byte += c.len_utf8();
                }
                doc.break_undo_group();
                if !clean.is_empty() {
                    model.change(|r| r.insert(ch, &clean));
                }
            }
            Op::Delete { at, len } => {
                let start = model.char_at(at);
                let end = (start + usize::from(len)).min(model.rope.len_chars());
                let (b0, b1) = (model.rope.char_to_byte(start), model.rope.char_to_byte(end));
                doc.delete(b0..b1).unwrap();
                doc.break_undo_group();
                if b0 < b1 {
                    model.change(|r| r.remove(start..end));
                }
            }
            Op::Undo => {
                let undone = doc.undo().is_some();
                assert_eq!(undone, !model.undo.is_empty(), "undo availability");
                if let Some(prev) = model.undo.pop() {
                    model.redo.push(std::mem::replace(&mut model.rope, prev));
                }
            }
            Op::Redo => {
                let redone = doc.redo().is_some();
                assert_eq!(redone, !model.redo.is_empty(), "redo availability");
                if let Some(next) = model.redo.pop() {
                    model.undo.push(std::mem::replace(&mut model.rope, next));
                }
            }
            // A save costs more than all the rest (a new file, fsyncs, a new index): at most
            // two per input.
            Op::Save if saves == 2 => {}
            Op::Save => {
                saves += 1;
                doc.save(None, &control).unwrap();
                assert!(!doc.is_dirty());
                assert_eq!(
                    std::fs::read(path).unwrap(),
                    model.rope.to_string().as_bytes()
                );
                doc.wait_for_index(&control).unwrap();
            }
        }
        check(&doc, &model.rope, false);
    }
    check(&doc, &model.rope, true);
});
