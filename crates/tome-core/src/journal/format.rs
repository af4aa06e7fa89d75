//! The journal's bytes: the header and the records as they are on disk (encoding, decoding,
//! checksums), and reading a journal back. Nothing here touches a file: the caller reads the
//! bytes (`mod.rs`), so that every byte sequence can be checked (the fuzz target
//! `journal_reader` feeds `check` random bytes). Layout: see the module doc of `journal`.

use super::{Part, Record, Splice, MAGIC, MAX_RECORD, VERSION};
use crate::lines::Scope;
use crate::search::Query;
use crate::source::{FileIdentity, Source};

pub(super) fn header(salt: u64, base: &Source) -> Vec<u8> {
    let id = base.identity();
    let mut h = Vec::with_capacity(128);
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&salt.to_le_bytes());
    h.extend_from_slice(&id.dev.to_le_bytes());
    h.extend_from_slice(&id.ino.to_le_bytes());
    h.extend_from_slice(&id.size.to_le_bytes());
    h.extend_from_slice(&id.mtime_ns.to_le_bytes());
    h.extend_from_slice(&(base.samples().len() as u32).to_le_bytes());
    for (off, hash) in base.samples() {
        h.extend_from_slice(&(*off as u64).to_le_bytes());
        h.extend_from_slice(&hash.to_le_bytes());
    }
    let path = base.path().as_os_str().as_encoded_bytes();
    h.extend_from_slice(&(path.len() as u32).to_le_bytes());
    h.extend_from_slice(path);
    let crc = crc32c::crc32c(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

pub(super) fn record_crc(salt: u64, seq: u64, kind: u8, payload: &[u8]) -> u32 {
    let mut crc = crc32c::crc32c(&salt.to_le_bytes());
    crc = crc32c::crc32c_append(crc, &seq.to_le_bytes());
    crc = crc32c::crc32c_append(crc, &[kind]);
    crc32c::crc32c_append(crc, payload)
}

pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(b);
}

pub(super) fn encode(record: &Record) -> (u8, Vec<u8>) {
    let mut p = Vec::new();
    let kind = match record {
        Record::Splices(splices) => {
            p.extend_from_slice(&(splices.len() as u32).to_le_bytes());
            for s in splices {
                p.extend_from_slice(&s.at.to_le_bytes());
                p.extend_from_slice(&s.remove.to_le_bytes());
                p.extend_from_slice(&(s.parts.len() as u32).to_le_bytes());
                for part in &s.parts {
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
            1
        }
        Record::Undo => 2,
        Record::Redo => 3,
        Record::ReplaceAll {
            query,
            replacement,
            scope,
        } => {
            put_query(&mut p, query, false);
            put_bytes(&mut p, replacement);
            // Kind 4 (the whole document) as before scopes existed; 6 with the scope after.
            if scope.is_whole() {
                4
            } else {
                put_scope(&mut p, scope);
                6
            }
        }
        Record::DeleteLines {
            query,
            scope,
            invert,
        } => {
            put_query(&mut p, query, *invert);
            put_scope(&mut p, scope);
            7
        }
        Record::Appended { upto } => {
            p.extend_from_slice(&upto.to_le_bytes());
            5
        }
    };
    (kind, p)
}

/// Writes a [`Query`]: the pattern, then flags (1: regex, 2: case-insensitive, 4: `extra`,
/// the deletion's inversion).
fn put_query(p: &mut Vec<u8>, query: &Query, extra: bool) {
    put_bytes(p, query.pattern.as_bytes());
    p.push(
        u8::from(query.regex) | (u8::from(query.case_insensitive) << 1) | (u8::from(extra) << 2),
    );
}

/// Writes a [`Scope`]: flags (1: a range follows, 2: first match per line), then the range.
fn put_scope(p: &mut Vec<u8>, scope: &Scope) {
    p.push(u8::from(scope.range.is_some()) | (u8::from(scope.first_per_line) << 1));
    if let Some(r) = &scope.range {
        p.extend_from_slice(&(r.start as u64).to_le_bytes());
        p.extend_from_slice(&(r.end as u64).to_le_bytes());
    }
}

/// A cursor over bytes that fails (returns `None`) instead of panicking on short input.
/// Little-endian, as every file Tome writes (journals, backup records).
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub(crate) fn i128(&mut self) -> Option<i128> {
        Some(i128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
    /// A [`Query`] and the extra flag as [`put_query`] writes them.
    fn query(&mut self) -> Option<(Query, bool)> {
        let pattern = String::from_utf8(self.bytes()?.to_vec()).ok()?;
        let flags = self.u8()?;
        let query = Query {
            pattern,
            regex: flags & 1 != 0,
            case_insensitive: flags & 2 != 0,
        };
        Some((query, flags & 4 != 0))
    }

    /// A [`Scope`] as [`put_scope`] writes it.
    fn scope(&mut self) -> Option<Scope> {
        let flags = self.u8()?;
        let range = if flags & 1 != 0 {
            let (start, end) = (self.u64()?, self.u64()?);
            let (start, end) = (usize::try_from(start).ok()?, usize::try_from(end).ok()?);
            if start > end {
                return None;
            }
            Some(start..end)
        } else {
            None
        };
        Some(Scope {
            range,
            first_per_line: flags & 2 != 0,
        })
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        self.take(n)
    }
}

pub(super) fn decode(kind: u8, payload: &[u8]) -> Option<Record> {
    let mut r = Reader(payload);
    let record = match kind {
        1 => {
            let n = r.u32()? as usize;
            let mut splices = Vec::with_capacity(n.min(1024));
            for _ in 0..n {
                let (at, remove) = (r.u64()?, r.u64()?);
                let parts_n = r.u32()? as usize;
                let mut parts = Vec::with_capacity(parts_n.min(1024));
                for _ in 0..parts_n {
                    parts.push(match r.u8()? {
                        0 => Part::Bytes(r.bytes()?.to_vec()),
                        1 => Part::File {
                            offset: r.u64()?,
                            len: r.u64()?,
                        },
                        _ => return None,
                    });
                }
                splices.push(Splice { at, remove, parts });
            }
            Record::Splices(splices)
        }
        2 => Record::Undo,
        3 => Record::Redo,
        4 | 6 => {
            let (query, _) = r.query()?;
            let replacement = r.bytes()?.to_vec();
            let scope = if kind == 6 {
                r.scope()?
            } else {
                Scope::whole()
            };
            Record::ReplaceAll {
                query,
                replacement,
                scope,
            }
        }
        5 => Record::Appended { upto: r.u64()? },
        7 => {
            let (query, invert) = r.query()?;
            Record::DeleteLines {
                query,
                invert,
                scope: r.scope()?,
            }
        }
        _ => return None,
    };
    r.0.is_empty().then_some(record)
}

/// A journal read back: the identity of its base and its good records.
pub(crate) struct Replay {
    pub identity: FileIdentity,
    pub samples: Vec<(usize, u64)>,
    pub records: Vec<Record>,
    /// Why reading stopped before the end of the file, if it did.
    pub stopped: Option<String>,
}

/// Reads a journal: the header must be intact; records are taken up to the first bad one.
/// Never panics, whatever the bytes.
pub(crate) fn read(bytes: &[u8]) -> Option<Replay> {
    let mut r = Reader(bytes);
    let start = r.0;
    if r.take(8)? != MAGIC || r.u32()? != VERSION {
        return None;
    }
    let salt = r.u64()?;
    let (dev, ino, size, mtime_ns) = (r.u64()?, r.u64()?, r.u64()?, r.i128()?);
    let n = r.u32()? as usize;
    if n > 64 {
        return None;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        samples.push((usize::try_from(r.u64()?).ok()?, r.u64()?));
    }
    let path_len = r.u32()? as usize;
    r.take(path_len)?;
    let header_len = start.len() - r.0.len();
    let crc = r.u32()?;
    if crc32c::crc32c(&start[..header_len]) != crc {
        return None;
    }
    let identity = FileIdentity {
        dev,
        ino,
        size,
        mtime_ns,
        mode: 0,
    };
    let mut records = Vec::new();
    let mut stopped = None;
    let mut expected_seq = 1u64;
    while !r.0.is_empty() {
        let Some((len, crc, seq, kind)) =
            (|| Some((r.u32()? as usize, r.u32()?, r.u64()?, r.u8()?)))()
        else {
            stopped = Some("torn record header".to_string());
            break;
        };
        if len > MAX_RECORD {
            stopped = Some("record length out of range".into());
            break;
        }
        let Some(payload) = r.take(len) else {
            stopped = Some("torn record".into());
            break;
        };
        if seq != expected_seq || record_crc(salt, seq, kind, payload) != crc {
            stopped = Some(format!("record {expected_seq} fails its check"));
            break;
        }
        match decode(kind, payload) {
            Some(rec) => records.push(rec),
            None => {
                stopped = Some(format!("record {expected_seq} does not decode"));
                break;
            }
        }
        expected_seq += 1;
    }
    Some(Replay {
        identity,
        samples,
        records,
        stopped,
    })
}

/// Checks the bytes of a journal file as recovery reads them, without applying anything:
/// `None` if the header is not intact (not a journal, another format version, a bad checksum),
/// else how many records pass their checks (replay would stop at the first one that does not).
/// Never panics, whatever the bytes, and allocates in proportion to the bytes present, never to
/// a length field. Exposed for the fuzz target `fuzz/fuzz_targets/journal_reader.rs`.
#[doc(hidden)]
pub fn check(bytes: &[u8]) -> Option<usize> {
    read(bytes).map(|replay| replay.records.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let records = vec![
            Record::Splices(vec![Splice {
                at: 5,
                remove: 2,
                parts: vec![
                    Part::Bytes(b"hi".to_vec()),
                    Part::File { offset: 9, len: 4 },
                ],
            }]),
            Record::Undo,
            Record::Redo,
            Record::ReplaceAll {
                query: Query {
                    pattern: "a+".into(),
                    regex: true,
                    case_insensitive: false,
                },
                replacement: b"b".to_vec(),
                scope: Scope::whole(),
            },
            Record::ReplaceAll {
                query: Query {
                    pattern: "a".into(),
                    regex: false,
                    case_insensitive: true,
                },
                replacement: b"$0".to_vec(),
                scope: Scope {
                    range: Some(10..2000),
                    first_per_line: true,
                },
            },
            Record::DeleteLines {
                query: Query {
                    pattern: "x".into(),
                    regex: true,
                    case_insensitive: false,
                },
                scope: Scope {
                    range: None,
                    first_per_line: false,
                },
                invert: true,
            },
            Record::Appended { upto: 77 },
        ];
        for r in records {
            let (kind, payload) = encode(&r);
            assert_eq!(decode(kind, &payload), Some(r));
        }
    }
}
