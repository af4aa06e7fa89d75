//! UTF-16 documents (LE and BE, with and without a byte-order mark): random edits, undos,
//! redos and saves compared with a model string after every step: the bytes (the model
//! encoded), the line count and every line's text and start, read back through the view.
//! The text is full of the classic trap: characters whose code units hold 0x0A / 0x0D bytes
//! (U+0A0D is `0D 0A` in LE, U+010A is `0A 01`), which are not line breaks.

use proptest::prelude::*;
use tome_core::{Control, Document, Encoding, OnInterruptedSave};

const FRAGMENTS: &[&str] = &[
    "a", "bc", "é", "\u{A0D}", "\u{D0A}", "\u{10A}", "\u{A00}", "\u{A0A}", "🦀", "漢", "\n",
    "\r\n", "\r", "line\n", "x\ry", "\r\r\n",
];

fn encode(text: &str, be: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|u| if be { u.to_be_bytes() } else { u.to_le_bytes() })
        .collect()
}

/// The model's lines: (start in UTF-16 bytes, text), split at LF, CRLF and lone CR.
fn lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let (mut start, mut at, mut cur) = (0, 0, String::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        at += 2 * c.len_utf16();
        match c {
            '\r' if chars.peek() == Some(&'\n') => {
                chars.next();
                at += 2;
                out.push((start, std::mem::take(&mut cur)));
                start = at;
            }
            '\n' | '\r' => {
                out.push((start, std::mem::take(&mut cur)));
                start = at;
            }
            c => cur.push(c),
        }
    }
    out.push((start, cur));
    out
}

/// UTF-16 byte offset of char boundary `k` of `text` (clamped), and the UTF-8 one.
fn boundary(text: &str, k: usize) -> (usize, usize) {
    let mut wide = 0;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n == k {
            return (2 * wide, i);
        }
        wide += c.len_utf16();
    }
    (2 * wide, text.len())
}

fn check(doc: &mut Document, model: &str, be: bool) -> Result<(), TestCaseError> {
    let view = doc.view();
    prop_assert_eq!(view.read(0, doc.len()).unwrap(), encode(model, be));
    let want = lines(model);
    let count = view.line_count();
    prop_assert!(count.exact);
    prop_assert_eq!(count.known, want.len());
    let got = view.lines(0, want.len() + 1, None).unwrap();
    prop_assert_eq!(got.len(), want.len());
    for (k, (line, (start, text))) in got.iter().zip(&want).enumerate() {
        prop_assert_eq!(line.start, *start, "line {}", k);
        prop_assert_eq!(&line.text, text, "line {}", k);
        prop_assert_eq!(view.line_start(k).unwrap(), *start);
        prop_assert_eq!(view.line_of(*start).unwrap(), k);
    }
    Ok(())
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..10).prop_map(|v| v.concat())
}

#[derive(Clone, Debug)]
enum Op {
    Insert(usize, String),
    Delete(usize, usize),
    Undo,
    Redo,
    Save,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..200usize, text()).prop_map(|(at, t)| Op::Insert(at, t)),
        3 => (0..200usize, 0..8usize).prop_map(|(at, n)| Op::Delete(at, n)),
        1 => Just(Op::Undo),
        1 => Just(Op::Redo),
        1 => Just(Op::Save),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn utf16_documents_match_the_model(
        initial in prop::collection::vec(text(), 0..30).prop_map(|v| v.concat()),
        ops in prop::collection::vec(op(), 0..25),
        be in any::<bool>(),
        bom in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        let mut model = if bom { "\u{FEFF}".to_owned() } else { String::new() };
        model.push_str(&initial);
        let original = encode(&model, be);
        std::fs::write(&path, &original).unwrap();
        let encoding = if be { Encoding::Utf16Be } else { Encoding::Utf16Le };
        let mut doc = Document::open_cached_as(&path, OnInterruptedSave::Refuse, None, Some(encoding)).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        prop_assert_eq!(doc.encoding(), encoding);
        check(&mut doc, &model, be)?;
        // Models of the undo and redo stacks.
        let mut undo: Vec<String> = Vec::new();
        let mut redo: Vec<String> = Vec::new();
        let cs = encoding.charset();
        for op in ops {
            let chars = model.chars().count();
            match op {
                Op::Insert(at, t) => {
                    if t.is_empty() { continue; }
                    let (w, u) = boundary(&model, at % (chars + 1));
                    doc.apply(vec![tome_core::Edit::insert(w, cs.encode(&t).unwrap())]).unwrap();
                    doc.break_undo_group();
                    undo.push(model.clone());
                    redo.clear();
                    model.insert_str(u, &t);
                }
                Op::Delete(at, n) => {
                    let k = at % (chars + 1);
                    let (w0, u0) = boundary(&model, k);
                    let (w1, u1) = boundary(&model, k + n);
                    if w0 == w1 { continue; }
                    doc.delete(w0..w1).unwrap();
                    doc.break_undo_group();
                    undo.push(model.clone());
                    redo.clear();
                    model.replace_range(u0..u1, "");
                }
                Op::Undo => {
                    if let Some(m) = undo.pop() {
                        prop_assert!(doc.undo().is_some());
                        redo.push(std::mem::replace(&mut model, m));
                    }
                }
                Op::Redo => {
                    if let Some(m) = redo.pop() {
                        prop_assert!(doc.redo().is_some());
                        undo.push(std::mem::replace(&mut model, m));
                    }
                }
                Op::Save => {
                    doc.save(None, &Control::new()).unwrap();
                    doc.wait_for_index(&Control::new()).unwrap();
                    prop_assert_eq!(std::fs::read(&path).unwrap(), encode(&model, be));
                }
            }
            check(&mut doc, &model, be)?;
        }
        // Undo everything and save: the file as it was, byte for byte.
        while doc.undo().is_some() {}
        doc.save(None, &Control::new()).unwrap();
        prop_assert_eq!(std::fs::read(&path).unwrap(), original);
    }
}

/// Edits inside a character are refused: an odd offset, the middle of a surrogate pair, an
/// odd number of bytes.
#[test]
fn edits_inside_characters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.txt");
    std::fs::write(&path, encode("\u{FEFF}a🦀\nb", false)).unwrap();
    let mut doc = Document::open(&path).unwrap();
    assert_eq!(doc.encoding(), Encoding::Utf16Le);
    doc.wait_for_index(&Control::new()).unwrap();
    assert_eq!(doc.view().line_count().known, 2);
    assert!(doc.insert(3, b"x\0").is_err());
    assert!(doc.insert(6, b"x\0").is_err()); // between the halves of the crab
    assert!(doc.insert(4, b"x").is_err());
    assert!(doc.delete(4..6).is_err());
    doc.insert(4, b"x\0").unwrap();
    assert_eq!(
        doc.view().lines(0, 1, None).unwrap()[0].text,
        "\u{FEFF}ax🦀"
    );
}
