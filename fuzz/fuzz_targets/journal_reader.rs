//! The journal reader (`tome_core::journal::check`, what recovery reads) on hostile bytes: it
//! never panics, and never allocates what a length field claims (the script runs this target
//! with a small `-malloc_limit_mb`, so a huge allocation is reported as a crash).
//!
//! The first byte picks how the rest of the input is used:
//! * raw (0): the bytes are the journal file;
//! * built (1): a journal is encoded from the input following the layout documented in
//!   `crates/tome-core/src/journal.rs`, with correct checksums, so the fuzzer gets past them
//!   and into record decoding. Records built from valid encodings must all be counted up to the
//!   first one that is deliberately broken or made of free-form bytes;
//! * mutated (2): a real journal, written once by the library (a journaled `Document` with a
//!   few edits), damaged as the input says (bit flips, overwrites, truncation).

#![no_main]

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use tome_core::journal::check;
use tome_core::{Control, Document, Matcher, Query};

const MAGIC: &[u8; 8] = b"TOMEJRN1";

#[derive(Arbitrary, Debug)]
struct Header {
    version_ok: bool,
    salt: u64,
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    samples: Vec<(u64, u64)>,
    path: Vec<u8>,
    bad_crc: bool,
}

#[derive(Arbitrary, Debug)]
enum Part {
    Bytes(Vec<u8>),
    File { offset: u64, len: u64 },
}

#[derive(Arbitrary, Debug)]
enum Body {
    Splices(Vec<(u64, u64, Vec<Part>)>),
    Undo,
    Redo,
    ReplaceAll {
        pattern: String,
        flags: u8,
        replacement: Vec<u8>,
    },
    Appended(u64),
    /// Free-form: any kind byte, any payload (may or may not decode).
    Raw {
        kind: u8,
        payload: Vec<u8>,
    },
}

#[derive(Arbitrary, Debug)]
enum Damage {
    None,
    /// A wrong checksum.
    Crc,
    /// A sequence number out of order.
    Seq(u64),
    /// A length field bigger than what follows (a torn record), or absurdly big.
    Length(u32),
    /// The record cut short after this many bytes (only as the last one).
    Cut(u8),
}

#[derive(Arbitrary, Debug)]
struct Rec {
    body: Body,
    damage: Damage,
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

/// The record's kind and payload; `true` if the library must decode it.
fn encode(body: &Body) -> (u8, Vec<u8>, bool) {
    let mut p = Vec::new();
    let (kind, valid) = match body {
        Body::Splices(splices) => {
            p.extend_from_slice(&(splices.len() as u32).to_le_bytes());
            for (at, remove, parts) in splices {
                p.extend_from_slice(&at.to_le_bytes());
                p.extend_from_slice(&remove.to_le_bytes());
                p.extend_from_slice(&(parts.len() as u32).to_le_bytes());
                for part in parts {
                    match part {
                        Part::Bytes(b) => {
                            p.push(0);
                            put_bytes(&mut p, b);
                        }
                        Part::File { offset, len } => {
                            p.push(1);
                            p.extend_from_slice(&offset.to_le_bytes());
                            p.extend_from_slice(&len.to_le_bytes());
                        }
                    }
                }
            }
            (1, true)
        }
        Body::Undo => (2, true),
        Body::Redo => (3, true),
        Body::ReplaceAll {
            pattern,
            flags,
            replacement,
        } => {
            put_bytes(&mut p, pattern.as_bytes());
            p.push(*flags);
            put_bytes(&mut p, replacement);
            (4, true)
        }
        Body::Appended(upto) => {
            p.extend_from_slice(&upto.to_le_bytes());
            (5, true)
        }
        Body::Raw { kind, payload } => {
            p.extend_from_slice(payload);
            (*kind, false)
        }
    };
    (kind, p, valid)
}

fn record_crc(salt: u64, seq: u64, kind: u8, payload: &[u8]) -> u32 {
    let mut crc = crc32c::crc32c(&salt.to_le_bytes());
    crc = crc32c::crc32c_append(crc, &seq.to_le_bytes());
    crc = crc32c::crc32c_append(crc, &[kind]);
    crc32c::crc32c_append(crc, payload)
}

fn built(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let h: Header = u.arbitrary()?;
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(if h.version_ok { 1u32 } else { 2 }).to_le_bytes());
    out.extend_from_slice(&h.salt.to_le_bytes());
    out.extend_from_slice(&h.dev.to_le_bytes());
    out.extend_from_slice(&h.ino.to_le_bytes());
    out.extend_from_slice(&h.size.to_le_bytes());
    out.extend_from_slice(&h.mtime_ns.to_le_bytes());
    out.extend_from_slice(&(h.samples.len() as u32).to_le_bytes());
    for (off, hash) in &h.samples {
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&hash.to_le_bytes());
    }
    out.extend_from_slice(&(h.path.len() as u32).to_le_bytes());
    out.extend_from_slice(&h.path);
    let crc = crc32c::crc32c(&out) ^ u32::from(h.bad_crc);
    out.extend_from_slice(&crc.to_le_bytes());
    let header_ok = h.version_ok && !h.bad_crc && h.samples.len() <= 64;

    // Records: `good` counts those that must pass, up to the first that need not.
    let mut good = 0;
    let mut certain = true;
    let mut seq = 0u64;
    let records: Vec<Rec> = u.arbitrary()?;
    let n = records.len();
    for (i, rec) in records.into_iter().enumerate() {
        seq += 1;
        let (kind, payload, valid) = encode(&rec.body);
        let mut crc = record_crc(h.salt, seq, kind, &payload);
        let mut len = payload.len() as u32;
        let mut seq_written = seq;
        let mut cut = None;
        match rec.damage {
            Damage::None => {}
            Damage::Crc => crc ^= 1,
            Damage::Seq(s) => seq_written = s,
            Damage::Length(l) => len = l,
            Damage::Cut(c) if i + 1 == n => cut = Some(usize::from(c)),
            Damage::Cut(_) => {}
        }
        let intact = valid
            && seq_written == seq
            && len as usize == payload.len()
            && crc == record_crc(h.salt, seq, kind, &payload)
            && cut.is_none_or(|c| c >= 17 + payload.len());
        if certain && intact {
            good += 1;
        } else {
            certain = false;
        }
        let mut r = Vec::with_capacity(17 + payload.len());
        r.extend_from_slice(&len.to_le_bytes());
        r.extend_from_slice(&crc.to_le_bytes());
        r.extend_from_slice(&seq_written.to_le_bytes());
        r.push(kind);
        r.extend_from_slice(&payload);
        if let Some(c) = cut {
            r.truncate(c);
        }
        out.extend_from_slice(&r);
    }
    let got = check(&out);
    if !header_ok {
        assert_eq!(got, None, "a damaged header was accepted");
        return Ok(());
    }
    let got = got.expect("an intact header was refused");
    assert!(got <= n, "{got} records passed out of {n}");
    assert!(
        got >= good,
        "{got} records passed, {good} are intact before the first damaged one"
    );
    if certain {
        assert_eq!(got, good, "every record is intact");
    }
    Ok(())
}

/// A journal written by the library itself: a journaled document, edits of every kind, synced.
fn real_journal() -> &'static (Vec<u8>, usize) {
    static REAL: OnceLock<(Vec<u8>, usize)> = OnceLock::new();
    REAL.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("doc.txt");
        std::fs::write(&path, "one\ntwo\r\nthree\rfour é 🦀\n").unwrap();
        let jdir = dir.path().join("journal");
        let mut doc = Document::open(&path).unwrap();
        doc.enable_journal(&jdir).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        doc.insert(3, ", and\r\n").unwrap();
        doc.break_undo_group();
        doc.delete(0..2).unwrap();
        doc.break_undo_group();
        doc.replace(5..9, "FOUR").unwrap();
        let m = Matcher::new(&Query {
            pattern: "t(w|h)".into(),
            regex: true,
            case_insensitive: true,
        })
        .unwrap();
        doc.replace_all(&m, b"<$1>", &Control::new()).unwrap();
        doc.undo();
        doc.redo();
        doc.insert(0, "🦀").unwrap();
        doc.sync_journal();
        let file = std::fs::read_dir(&jdir)
            .unwrap()
            .next()
            .expect("a journal file")
            .unwrap()
            .path();
        let bytes = std::fs::read(file).unwrap();
        let records = check(&bytes).expect("the library's own journal");
        assert!(records >= 6, "{records} records");
        doc.simulate_crash();
        (bytes, records)
    })
}

fn mutated(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let (real, records) = real_journal();
    let mut bytes = real.clone();
    let changes: Vec<(u16, u8)> = u.arbitrary()?;
    for (at, x) in changes {
        if !bytes.is_empty() {
            let i = usize::from(at) % bytes.len();
            bytes[i] ^= x;
        }
    }
    let cut: u16 = u.arbitrary()?;
    if cut != 0 {
        bytes.truncate(usize::from(cut) % (real.len() + 1));
    }
    if let Some(n) = check(&bytes) {
        assert!(n <= *records, "{n} records out of a journal of {records}");
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut u = Unstructured::new(rest);
    match mode % 3 {
        0 => {
            check(rest);
        }
        1 => {
            let _ = built(&mut u);
        }
        _ => {
            let _ = mutated(&mut u);
        }
    }
});
