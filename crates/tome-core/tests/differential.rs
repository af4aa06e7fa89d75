//! Differential property tests: random edit/undo/redo/save sequences applied to a `Document` and
//! to ropey (the reference model), compared after every step: content, line count, line <-> byte
//! offset, and positions in all three column encodings.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use ropey::Rope;
use tome_core::{Control, Document, Position, PositionEncoding};

/// Fragments chosen to stress multibyte characters and every kind of line break.
const FRAGMENTS: &[&str] = &[
    "a", "bc", "é", "漢字", "🦀", "\n", "\r\n", "\r", "\r\r\n", "line\n", "x\ry", " ", "\n\n",
];

#[derive(Clone, Debug)]
enum Op {
    Insert {
        at: f64,
        text: String,
    },
    Delete {
        at: f64,
        len: usize,
    },
    Undo,
    Redo,
    Save,
    Typing {
        at: f64,
        text: String,
    },
    /// Inserts and deletes joined into one undo step by the client (`join_undo_group`), as the
    /// Neovim plugin sends one Vim change made of several edits.
    Joined(Vec<(f64, usize, String)>),
    /// Takes `len` characters at `at` as a clip (kept for `Paste`, across saves and undos).
    Yank {
        at: f64,
        len: usize,
    },
    /// Pastes the clip `which` (modulo the clips taken) `count` times at `at`.
    Paste {
        which: usize,
        at: f64,
        count: usize,
    },
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..12).prop_map(|v| v.concat())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0.0..=1.0f64, text()).prop_map(|(at, text)| Op::Insert { at, text }),
        3 => (0.0..=1.0f64, 0..20usize).prop_map(|(at, len)| Op::Delete { at, len }),
        1 => Just(Op::Undo),
        1 => Just(Op::Redo),
        1 => Just(Op::Save),
        1 => (0.0..=1.0f64, text()).prop_map(|(at, text)| Op::Typing { at, text }),
        1 => prop::collection::vec((0.0..=1.0f64, 0..6usize, text()), 1..6).prop_map(Op::Joined),
        1 => (0.0..=1.0f64, 0..30usize).prop_map(|(at, len)| Op::Yank { at, len }),
        1 => (0..4usize, 0.0..=1.0f64, 0..4usize)
            .prop_map(|(which, at, count)| Op::Paste { which, at, count }),
    ]
}

/// The model: the current rope plus undo and redo stacks of whole texts.
struct Model {
    rope: Rope,
    undo: Vec<Rope>,
    redo: Vec<Rope>,
}

impl Model {
    fn char_at(&self, frac: f64) -> usize {
        ((self.rope.len_chars() as f64) * frac) as usize
    }

    fn change(&mut self, f: impl FnOnce(&mut Rope)) {
        self.undo.push(self.rope.clone());
        self.redo.clear();
        f(&mut self.rope);
    }
}

fn check(doc: &Document, model: &Rope, stride: usize) {
    let view = doc.view();
    let expect = model.to_string();
    assert_eq!(
        view.read(0, view.len()).unwrap(),
        expect.as_bytes(),
        "content"
    );
    let count = view.line_count();
    assert!(count.exact);
    assert_eq!(count.known, model.len_lines(), "line count");
    for line in (0..model.len_lines()).step_by(stride) {
        assert_eq!(
            view.line_start(line).unwrap(),
            model.line_to_byte(line),
            "line_start({line})"
        );
    }
    assert!(view.line_start(model.len_lines()).is_err());
    for ch in (0..=model.len_chars()).step_by(stride) {
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
            // A position between CR and LF is not addressable by column (it is the end of the
            // line's content plus one byte of its break); skip the reverse check there.
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

/// A scratch directory on tmpfs where there is one: these tests save hundreds of times, and
/// fsync on a real disk would dominate their run time.
fn scratch() -> tempfile::TempDir {
    match std::path::Path::new("/dev/shm") {
        shm if shm.is_dir() => {
            tempfile::tempdir_in(shm).unwrap_or_else(|_| tempfile::tempdir().unwrap())
        }
        _ => tempfile::tempdir().unwrap(),
    }
}

fn run(initial: String, ops: Vec<Op>, stride: usize) {
    let dir = scratch();
    let path = dir.path().join("doc.txt");
    std::fs::write(&path, &initial).unwrap();
    let mut doc = Document::open(&path).unwrap();
    let control = Control::new();
    let mut model = Model {
        rope: Rope::from_str(&initial),
        undo: Vec::new(),
        redo: Vec::new(),
    };
    doc.wait_for_index(&control).unwrap();
    check(&doc, &model.rope, stride);
    let mut clips: Vec<(tome_core::Clip, String)> = Vec::new();
    for op in ops {
        match op {
            Op::Insert { at, text } => {
                let ch = model.char_at(at);
                let byte = model.rope.char_to_byte(ch);
                doc.insert(byte, &text).unwrap();
                doc.break_undo_group();
                if !text.is_empty() {
                    model.change(|r| r.insert(ch, &text));
                }
            }
            Op::Typing { at, text } => {
                // Type character by character: one undo step for the whole run.
                let ch = model.char_at(at);
                let mut byte = model.rope.char_to_byte(ch);
                let mut typed = false;
                for c in text.chars().filter(|c| *c != '\n' && *c != '\r') {
                    let mut buf = [0; 4];
                    doc.insert(byte, c.encode_utf8(&mut buf).as_bytes())
                        .unwrap();
                    byte += c.len_utf8();
                    typed = true;
                }
                doc.break_undo_group();
                if typed {
                    let clean: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
                    model.change(|r| r.insert(ch, &clean));
                }
            }
            Op::Delete { at, len } => {
                let start = model.char_at(at);
                let end = (start + len).min(model.rope.len_chars());
                let (b0, b1) = (model.rope.char_to_byte(start), model.rope.char_to_byte(end));
                doc.delete(b0..b1).unwrap();
                doc.break_undo_group();
                if b0 < b1 {
                    model.change(|r| r.remove(start..end));
                }
            }
            Op::Joined(parts) => {
                // Each part deletes `len` characters at `at` and inserts `text` there; the
                // first that changes something starts a step, the others join it (a client
                // sends no change of nothing).
                let mut first = true;
                for (at, len, text) in parts {
                    let start = model.char_at(at);
                    let end = (start + len).min(model.rope.len_chars());
                    let (b0, b1) = (model.rope.char_to_byte(start), model.rope.char_to_byte(end));
                    if b0 == b1 && text.is_empty() {
                        continue;
                    }
                    if first {
                        doc.break_undo_group();
                        model.change(|_| {});
                        first = false;
                    } else {
                        doc.join_undo_group();
                    }
                    doc.replace(b0..b1, &text).unwrap();
                    model.rope.remove(start..end);
                    model.rope.insert(start, &text);
                }
                doc.break_undo_group();
            }
            Op::Yank { at, len } => {
                let start = model.char_at(at);
                let end = (start + len).min(model.rope.len_chars());
                let (b0, b1) = (model.rope.char_to_byte(start), model.rope.char_to_byte(end));
                let clip = doc.clip(b0..b1, false).unwrap();
                assert_eq!(clip.len(), b1 - b0);
                clips.push((clip, model.rope.slice(start..end).to_string()));
            }
            Op::Paste { which, at, count } => {
                let Some((clip, text)) = clips.get(which % clips.len().max(1)) else {
                    continue;
                };
                let ch = model.char_at(at);
                let byte = model.rope.char_to_byte(ch);
                let before = doc.version();
                doc.paste(byte, clip, count, &control).unwrap();
                doc.break_undo_group();
                assert_eq!(doc.version() != before, count > 0 && !text.is_empty());
                if count > 0 && !text.is_empty() {
                    model.change(|r| r.insert(ch, &text.repeat(count)));
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
            Op::Save => {
                doc.save(None, &control).unwrap();
                assert!(!doc.is_dirty());
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    model.rope.to_string().as_bytes()
                );
                doc.wait_for_index(&control).unwrap();
            }
        }
        check(&doc, &model.rope, stride);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn edits_undo_redo_save_match_ropey(initial in text(), ops in prop::collection::vec(op(), 1..40)) {
        run(initial, ops, 1);
    }
}

/// Many more steps on one document, so the tree grows several levels deep and rebalances.
#[test]
fn long_sequence_deep_tree() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..2 {
        let ops = prop::collection::vec(op(), 1500)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        // Without saves (which rebase the document onto one piece) the tree grows deep.
        let ops: Vec<Op> = ops.into_iter().filter(|o| !matches!(o, Op::Save)).collect();
        let initial = "start\r\nmiddle\rend\n".repeat(20);
        run(initial, ops, 1);
    }
}
