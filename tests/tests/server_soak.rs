//! Server soak (issue 12): 20 documents of mixed sizes, a client sending a seeded random mix of
//! viewports, edit batches, undo/redo, searches, replace-alls, saves, cancels and
//! closes/reopens, while a writer thread appends to, rewrites in place, replaces by rename and
//! truncates four other open files. Checked all along and at the end:
//!
//! * every request is answered, within [`LATENCY_BOUND`];
//! * every document the client alone changes equals a model (a `ropey::Rope` fed the same
//!   operations, with the server's undo grouping rule), in viewports, counts, undo/redo
//!   results, `dirty`, saved files and, at the end, its whole text;
//! * the followed log equals its file byte for byte once the writer stops;
//! * the server's descriptors, threads and anonymous memory, sampled every 10 s, stay within
//!   fixed bounds (see [`check_bounds`]);
//! * the server shuts down cleanly.
//!
//! Knobs: `TOME_SOAK_SECS` (length of the random phase, default 60: the CI run),
//! `TOME_SOAK_MAX_SIZE` (largest document, default 64M; suffixes K, M, G), `TOME_SOAK_SEED`
//! (replay a run: the seed is printed at the start and in every assertion message).
//! scripts/soak-server.sh runs the long version (30 min, 1 GiB); docs/benchmarks.md records
//! the figures.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ropey::Rope;
use serde_json::{json, Value};
use tome_e2e::Server;

/// Every request must be answered within this. Generous for a 2-core CI machine: the slowest
/// legitimate request is a save or a count over the biggest document (1 GiB in the long run:
/// a few seconds); a lost reply would otherwise only show as the harness's 60 s timeout.
const LATENCY_BOUND: Duration = Duration::from_secs(30);

/// Documents up to this size are also searched and replaced in the model (a scan of the
/// model's text per operation); bigger ones only need an answer.
const SCAN_LIMIT: usize = 8 << 20;

/// `tome/getText` answers at most 16 MiB per request.
const TEXT_PIECE: usize = 16 << 20;

/// A small deterministic generator (SplitMix64): no dependency, and a seed replays a run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// What the server's undo grouping remembers of the last edit (history.rs, `Group`).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Group {
    Typing { next: usize },
    Deleting { at: usize },
}

/// The model of a document only the client changes.
struct Model {
    text: Rope,
    /// Revision of `text` (a new one per change); `dirty` is `rev != saved_rev`, as in the
    /// server, so undoing back to the saved state is clean again.
    rev: u64,
    saved: Rope,
    saved_rev: u64,
    /// States before each undo step, and states an undo left (redo), with their revisions.
    undo: Vec<(Rope, u64)>,
    redo: Vec<(Rope, u64)>,
    group: Option<Group>,
}

impl Model {
    fn new(text: Rope, rev: u64) -> Model {
        Model {
            saved: text.clone(),
            text,
            rev,
            saved_rev: rev,
            undo: Vec::new(),
            redo: Vec::new(),
            group: None,
        }
    }
    fn dirty(&self) -> bool {
        self.rev != self.saved_rev
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Changed by the client alone; has a model.
    Model,
    /// Appended to by the writer every ~50 ms: the server follows it.
    Followed,
    /// Overwritten in place now and then (same size): `rewritten`, then reload.
    Rewritten,
    /// A new file renamed over it now and then: `replaced`, then reload.
    Renamed,
    /// Copied aside, truncated and written again (copytruncate): `truncated`, then reload.
    Truncated,
}

struct Doc {
    path: PathBuf,
    kind: Kind,
    id: u64,
    version: u64,
    model: Option<Model>,
    /// Replace-alls applied since the document was opened: each keeps the files it read open
    /// (the undo history keeps its whole trees), at most two (the newest and one a save is
    /// still moving off).
    replace_alls: usize,
    /// Bytes replace-alls since the open may keep in memory (see [`check_bounds`]).
    rewritten: usize,
}

#[derive(Debug, Clone, Copy)]
struct Sample {
    secs: u64,
    fds: usize,
    threads: usize,
    maps: usize,
    anon_kib: usize,
    rss_kib: usize,
    /// Descriptors of documents' files replaced since they were opened (`… (deleted)`).
    replaced_fds: usize,
    /// What the rules in [`check_bounds`] allow at this time, from what the client did.
    allowed_replaced_fds: usize,
    allowed_anon_kib: usize,
}

fn sample(pid: u32, secs: u64) -> Sample {
    let u = tome_e2e::process_use(pid);
    let replaced_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|t| t.display().to_string())
        .filter(|t| t.ends_with(".log (deleted)"))
        .count();
    Sample {
        secs,
        replaced_fds,
        allowed_replaced_fds: 0,
        allowed_anon_kib: 0,
        fds: u.fds,
        threads: u.threads,
        maps: u.maps,
        anon_kib: u.anon_kib,
        rss_kib: u.rss_kib,
    }
}

fn parse_size(v: &str) -> usize {
    let v = v.trim();
    let (num, mul) = match v.chars().last() {
        Some('K' | 'k') => (&v[..v.len() - 1], 1 << 10),
        Some('M' | 'm') => (&v[..v.len() - 1], 1 << 20),
        Some('G' | 'g') => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 1),
    };
    num.parse::<usize>()
        .expect("TOME_SOAK_MAX_SIZE: a size such as 64M")
        * mul
}

fn generate(path: &Path, size: usize, seed: u64) {
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: size as u64,
            seed,
            ..Default::default()
        },
        path,
    )
    .unwrap();
}

/// The line `i` of `r` without its line break (LF, CRLF or CR, as the server counts lines).
fn model_line(r: &Rope, i: usize) -> String {
    let mut s = r.line(i).to_string();
    if s.ends_with('\n') {
        s.pop();
    }
    if s.ends_with('\r') {
        s.pop();
    }
    s
}

/// Random ASCII text for insertions: mostly short, sometimes several lines; a rare lone CR so
/// CRLF pairs get made and split. No `$` (a replacement expands it in regex mode only, but
/// keep it out of the way) and nothing outside ASCII, so byte offsets are char offsets.
fn random_text(rng: &mut Rng) -> String {
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789 =-_.,:;/()[]";
    let len = match rng.below(10) {
        0 => 0,
        1..=6 => rng.range(1, 16),
        7 | 8 => rng.range(17, 80),
        _ => rng.range(80, 600),
    };
    (0..len)
        .map(|_| match rng.below(40) {
            0..=1 => '\n',
            2 if rng.chance(20) => '\r',
            _ => ALPHA[rng.below(ALPHA.len())] as char,
        })
        .collect()
}

/// What a one-edit batch is to the server's grouping (history.rs `classify`).
fn classify(start: usize, end: usize, text: &str) -> Option<Group> {
    if start == end && text.len() <= 16 && !text.contains(['\n', '\r']) {
        return Some(Group::Typing {
            next: start + text.len(),
        });
    }
    if text.is_empty() && end - start <= 4 {
        return Some(Group::Deleting { at: start });
    }
    None
}

/// Applies a batch (ranges on the text before it, sorted, not touching) to the model, with
/// the grouping rule of history.rs `record`.
fn apply_batch(m: &mut Model, edits: &[(usize, usize, String)], next_rev: &mut u64) {
    let before = m.text.clone();
    for (start, end, text) in edits.iter().rev() {
        m.text.remove(*start..*end);
        m.text.insert(*start, text);
    }
    let kind = match edits {
        [(s, e, t)] => classify(*s, *e, t),
        _ => None,
    };
    let continues = match (m.group, kind, edits) {
        (Some(Group::Typing { next }), Some(Group::Typing { .. }), [(s, ..)]) => next == *s,
        (Some(Group::Deleting { at }), Some(Group::Deleting { .. }), [(s, e, _)]) => {
            *e == at || *s == at
        }
        _ => false,
    };
    let joins = continues && m.redo.is_empty() && !m.undo.is_empty();
    if !joins {
        m.undo.push((before, m.rev));
    }
    m.redo.clear();
    m.group = kind;
    m.rev = *next_rev;
    *next_rev += 1;
}

/// A random batch of 2 to 4 edits (never joins a step), ranges sorted and at least one byte
/// apart: insertions, deletions (some spanning lines), replacements.
fn random_batch(rng: &mut Rng, len: usize) -> Vec<(usize, usize, String)> {
    loop {
        let n = rng.range(2, 4);
        let mut starts: Vec<usize> = (0..n).map(|_| rng.below(len + 1)).collect();
        starts.sort_unstable();
        starts.dedup();
        let mut edits = Vec::new();
        let mut floor = 0;
        for (i, &s) in starts.iter().enumerate() {
            if s < floor {
                continue;
            }
            let limit = starts
                .get(i + 1)
                .map_or(len, |&next| next.saturating_sub(1));
            let want = match rng.below(4) {
                0 => 0,
                1 => rng.range(1, 8),
                2 => rng.range(20, 400),
                _ => rng.range(1, 40),
            };
            let end = (s + want).min(limit).max(s);
            let text = random_text(rng);
            if end == s && text.is_empty() {
                continue;
            }
            edits.push((s, end, text));
            floor = end + 1;
        }
        if edits.len() >= 2 {
            return edits;
        }
        if len < 8 {
            // Too short for two separate edits: one insertion with a line break never joins.
            let at = rng.below(len + 1);
            return vec![(at, at, format!("line {}\nnext\n", rng.below(1000)))];
        }
    }
}

fn edits_json(edits: &[(usize, usize, String)]) -> Value {
    edits
        .iter()
        .map(|(s, e, t)| json!({"offsets": {"start": s, "end": e}, "text": t}))
        .collect()
}

/// A literal that occurs in `m` (from a random place), for searches and replace-alls.
fn literal_from(rng: &mut Rng, r: &Rope) -> String {
    let len = r.len_bytes();
    if len < 8 {
        return "INFO".into();
    }
    let at = rng.below(len - 6);
    let want = rng.range(4, 12).min(len - at);
    r.byte_slice(at..at + want).to_string()
}

/// Per-method latencies: count, total, max.
#[derive(Default)]
struct Latency(HashMap<String, (u64, Duration, Duration)>);

impl Latency {
    fn record(&mut self, method: &str, took: Duration, seed: u64) {
        let e = self.0.entry(method.to_string()).or_default();
        e.0 += 1;
        e.1 += took;
        e.2 = e.2.max(took);
        assert!(
            took <= LATENCY_BOUND,
            "seed {seed}: {method} took {took:?} (bound {LATENCY_BOUND:?})"
        );
    }
}

struct Client {
    s: Server,
    rng: Rng,
    seed: u64,
    lat: Latency,
    next_rev: u64,
    counts: HashMap<&'static str, u64>,
}

impl Client {
    fn call(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let t = Instant::now();
        let r = self.s.request(method, params);
        self.lat.record(method, t.elapsed(), self.seed);
        r
    }
    fn ok(&mut self, method: &str, params: Value) -> Value {
        let p = params.clone();
        self.call(method, params)
            .unwrap_or_else(|e| panic!("seed {}: {method} {p} failed: {e}", self.seed))
    }
    fn bump(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    fn open(&mut self, path: &Path) -> (u64, u64) {
        let r = self.ok("tome/open", json!({"path": path}));
        (r["doc"].as_u64().unwrap(), r["version"].as_u64().unwrap())
    }

    /// The document's whole text, read with `tome/getText` in pieces.
    fn text(&mut self, doc: u64, size: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(size);
        let mut at = 0;
        while at < size {
            let end = (at + TEXT_PIECE).min(size);
            let r = self.ok(
                "tome/getText",
                json!({"doc": doc, "offsets": {"start": at, "end": end}}),
            );
            out.extend_from_slice(r["text"].as_str().unwrap().as_bytes());
            at = end;
        }
        out
    }

    /// Compares a viewport with the model's lines.
    fn viewport(&mut self, d: &mut Doc) {
        let m = d.model.as_ref().unwrap();
        let lines = m.text.len_lines();
        let first = if self.rng.chance(10) {
            lines - 1
        } else {
            self.rng.below(lines)
        };
        let count = self.rng.range(1, 60);
        let r = self.ok(
            "tome/viewport",
            json!({"doc": d.id, "first": first, "count": count}),
        );
        let m = d.model.as_ref().unwrap();
        let seed = self.seed;
        assert_eq!(r["version"], d.version, "seed {seed}: viewport version");
        let got = r["lines"].as_array().unwrap();
        assert_eq!(
            got.len(),
            count.min(lines - first),
            "seed {seed}: viewport of {} from line {first}: line count",
            d.path.display()
        );
        for (k, l) in got.iter().enumerate() {
            let want = model_line(&m.text, first + k);
            let text = l["text"].as_str().unwrap();
            let ok = if l["cutAfter"] == true {
                want.starts_with(text)
            } else {
                text == want
            };
            assert!(
                ok,
                "seed {seed}: {} line {}: server {text:?}, model {want:?}",
                d.path.display(),
                first + k
            );
            assert_eq!(
                l["byteLength"],
                want.len(),
                "seed {seed}: byte length of line {}",
                first + k
            );
        }
    }

    fn edit(&mut self, d: &mut Doc) {
        if self.rng.chance(15) {
            return self.typing(d);
        }
        let len = d.model.as_ref().unwrap().text.len_bytes();
        let edits = random_batch(&mut self.rng, len);
        let r = self.ok(
            "tome/edit",
            json!({"doc": d.id, "version": d.version, "edits": edits_json(&edits)}),
        );
        let m = d.model.as_mut().unwrap();
        apply_batch(m, &edits, &mut self.next_rev);
        d.version += 1;
        assert_eq!(r["version"], d.version, "seed {}: edit version", self.seed);
        assert_eq!(
            r["undoSteps"],
            m.undo.len(),
            "seed {}: undo steps after an edit batch",
            self.seed
        );
    }

    /// A run of one-edit batches as typing makes them: short insertions each where the last
    /// ended, or Backspaces; they join one undo step (or the one before, by the grouping rule).
    fn typing(&mut self, d: &mut Doc) {
        let len = d.model.as_ref().unwrap().text.len_bytes();
        let mut at = self.rng.below(len + 1);
        let backspace = self.rng.chance(40) && at > 8;
        for _ in 0..self.rng.range(1, 6) {
            let edit = if backspace {
                if at == 0 {
                    break;
                }
                at -= 1;
                (at, at + 1, String::new())
            } else {
                let t: String = (0..self.rng.range(1, 4))
                    .map(|_| (b'a' + self.rng.below(26) as u8) as char)
                    .collect();
                let e = (at, at, t);
                at += e.2.len();
                e
            };
            let r = self.ok(
                "tome/edit",
                json!({"doc": d.id, "version": d.version, "edits": edits_json(std::slice::from_ref(&edit))}),
            );
            let m = d.model.as_mut().unwrap();
            apply_batch(m, std::slice::from_ref(&edit), &mut self.next_rev);
            d.version += 1;
            assert_eq!(
                r["version"], d.version,
                "seed {}: typing version",
                self.seed
            );
            assert_eq!(
                r["undoSteps"],
                m.undo.len(),
                "seed {}: undo steps while typing {edit:?}",
                self.seed
            );
        }
        self.bump("typing runs");
    }

    fn undo_redo(&mut self, d: &mut Doc, undo: bool) {
        let method = if undo { "tome/undo" } else { "tome/redo" };
        let r = self.ok(method, json!({"doc": d.id}));
        let m = d.model.as_mut().unwrap();
        let (from, to) = if undo {
            (&mut m.undo, &mut m.redo)
        } else {
            (&mut m.redo, &mut m.undo)
        };
        let changed = match from.pop() {
            Some((text, rev)) => {
                to.push((std::mem::replace(&mut m.text, text), m.rev));
                m.rev = rev;
                m.group = None;
                d.version += 1;
                true
            }
            None => false,
        };
        assert_eq!(
            r["changed"],
            changed,
            "seed {}: {method} changed (model undo {} redo {})",
            self.seed,
            m.undo.len(),
            m.redo.len()
        );
        assert_eq!(
            r["version"], d.version,
            "seed {}: {method} version",
            self.seed
        );
    }

    fn search(&mut self, d: &mut Doc) {
        let size = d.model.as_ref().map(|m| m.text.len_bytes());
        let pattern = match &d.model {
            Some(m) if self.rng.chance(80) => literal_from(&mut self.rng, &m.text),
            _ => ["INFO", "seq=1", "status=500", "zzqq", "\n2026"][self.rng.below(5)].into(),
        };
        let r = self.call(
            "tome/search",
            json!({"doc": d.id, "query": {"pattern": pattern, "regex": false, "caseSensitive": true}, "mode": "count"}),
        );
        let seed = self.seed;
        match (r, size) {
            (Ok(r), Some(size)) => {
                assert_eq!(r["version"], d.version, "seed {seed}: search version");
                if size <= SCAN_LIMIT {
                    let want = d
                        .model
                        .as_ref()
                        .unwrap()
                        .text
                        .to_string()
                        .matches(&pattern)
                        .count();
                    assert_eq!(
                        r["count"],
                        want,
                        "seed {seed}: count of {pattern:?} in {}",
                        d.path.display()
                    );
                } else {
                    assert!(r["count"].is_u64(), "seed {seed}: a count: {r}");
                }
            }
            (Ok(r), None) => assert!(r["count"].is_u64(), "seed {seed}: a count: {r}"),
            // An outside change may cut the file under an external document's mapping.
            (Err(e), None) if e["code"] == -33010 => self.bump("fileChanged answers"),
            (Err(e), _) => panic!(
                "seed {seed}: search {pattern:?} in {}: {e}",
                d.path.display()
            ),
        }
    }

    fn replace_all(&mut self, d: &mut Doc, cancel: bool) {
        let m = d.model.as_ref().unwrap();
        let pattern = literal_from(&mut self.rng, &m.text);
        let replacement: String = random_text(&mut self.rng).chars().take(12).collect();
        let whole = m.text.to_string();
        let want = whole.matches(&pattern).count();
        let params = json!({"doc": d.id, "version": d.version, "query": {"pattern": pattern, "regex": false, "caseSensitive": true}, "replacement": replacement});
        let t = Instant::now();
        let id = self.s.send("tome/replaceAll", params);
        if cancel {
            self.s.cancel(id);
        }
        let r = self.s.wait(id);
        self.lat.record("tome/replaceAll", t.elapsed(), self.seed);
        let seed = self.seed;
        let applied = match r {
            Ok(r) => {
                assert_eq!(
                    r["count"], want,
                    "seed {seed}: replace-all count of {pattern:?}"
                );
                want > 0
            }
            Err(e) if cancel && e["code"] == -32800 => {
                // Either not applied at all or fully applied: the version says which.
                self.bump("replace-alls cancelled");
                let v = self.ok("tome/info", json!({"doc": d.id}))["version"]
                    .as_u64()
                    .unwrap();
                assert!(
                    v == d.version || (want > 0 && v == d.version + 1),
                    "seed {seed}: a cancelled replace-all left version {v} (was {})",
                    d.version
                );
                v == d.version + 1
            }
            Err(e) => panic!("seed {seed}: replace-all {pattern:?}: {e}"),
        };
        if applied {
            let m = d.model.as_mut().unwrap();
            m.undo.push((m.text.clone(), m.rev));
            m.redo.clear();
            m.text = Rope::from_str(&whole.replace(&pattern, &replacement));
            d.rewritten += m.text.len_bytes().min(16 << 20);
            d.replace_alls += 1;
            m.rev = self.next_rev;
            self.next_rev += 1;
            d.version += 1;
        }
        // A replace-all is never typing: the group ends even when nothing matched.
        d.model.as_mut().unwrap().group = None;
    }

    fn save(&mut self, d: &mut Doc) {
        let r = self.ok("tome/save", json!({"doc": d.id}));
        let seed = self.seed;
        assert_eq!(r["version"], d.version, "seed {seed}: saved version");
        let m = d.model.as_mut().unwrap();
        m.saved = m.text.clone();
        m.saved_rev = m.rev;
        m.group = None;
        if m.text.len_bytes() <= SCAN_LIMIT {
            let disk = std::fs::read(&d.path).unwrap();
            assert!(
                m.text == std::str::from_utf8(&disk).unwrap(),
                "seed {seed}: {} on disk differs from the model after a save",
                d.path.display()
            );
        }
    }

    fn info_check(&mut self, d: &mut Doc) {
        let r = self.ok("tome/info", json!({"doc": d.id}));
        let m = d.model.as_ref().unwrap();
        let seed = self.seed;
        let path = d.path.display();
        assert_eq!(r["version"], d.version, "seed {seed}: {path} version");
        assert_eq!(r["size"], m.text.len_bytes(), "seed {seed}: {path} size");
        assert_eq!(r["dirty"], m.dirty(), "seed {seed}: {path} dirty");
        assert_eq!(
            r["undoSteps"],
            m.undo.len(),
            "seed {seed}: {path} undo steps"
        );
        assert_eq!(
            r["redoSteps"],
            m.redo.len(),
            "seed {seed}: {path} redo steps"
        );
    }

    /// Close (unsaved edits dropped: the model falls back to the saved text), then reopen.
    fn close_reopen(&mut self, d: &mut Doc) {
        let r = self.ok("tome/close", json!({"doc": d.id}));
        if let Some(m) = &d.model {
            assert_eq!(
                r["discarded"],
                m.dirty(),
                "seed {}: close of {} discarded",
                self.seed,
                d.path.display()
            );
        }
        let (id, version) = self.open(&d.path);
        d.id = id;
        d.version = version;
        d.replace_alls = 0;
        d.rewritten = 0;
        if let Some(m) = d.model.take() {
            d.model = Some(Model::new(m.saved, self.next_rev));
            self.next_rev += 1;
        }
    }

    /// A count over a big document, cancelled right after it is sent: answered either way.
    fn cancelled_search(&mut self, d: &Doc) {
        let t = Instant::now();
        let id = self.s.send(
            "tome/search",
            json!({"doc": d.id, "query": {"pattern": "no such text anywhere", "regex": false, "caseSensitive": true}, "mode": "count"}),
        );
        self.s.cancel(id);
        match self.s.wait(id) {
            Ok(r) => assert!(r["count"].is_u64(), "seed {}: {r}", self.seed),
            Err(e) => {
                assert_eq!(
                    e["code"], -32800,
                    "seed {}: cancelled search: {e}",
                    self.seed
                );
                self.bump("searches cancelled in time");
            }
        }
        self.lat
            .record("tome/search (cancelled)", t.elapsed(), self.seed);
    }

    /// An edit batch cancelled right after it is sent: applied anyway (it was queued in order).
    fn cancelled_edit(&mut self, d: &mut Doc) {
        let len = d.model.as_ref().unwrap().text.len_bytes();
        let edits = random_batch(&mut self.rng, len);
        let t = Instant::now();
        let id = self.s.send(
            "tome/edit",
            json!({"doc": d.id, "version": d.version, "edits": edits_json(&edits)}),
        );
        self.s.cancel(id);
        let r = self.s.wait(id);
        self.lat
            .record("tome/edit (cancelled)", t.elapsed(), self.seed);
        apply_batch(d.model.as_mut().unwrap(), &edits, &mut self.next_rev);
        d.version += 1;
        match r {
            Ok(r) => assert_eq!(r["version"], d.version, "seed {}", self.seed),
            Err(e) => {
                assert_eq!(e["code"], -32800, "seed {}: cancelled edit: {e}", self.seed);
                self.bump("edits cancelled in time");
            }
        }
    }

    /// Two edit batches and a viewport sent back to back: they apply in order, the viewport
    /// sees both.
    fn pipelined(&mut self, d: &mut Doc) {
        let t = Instant::now();
        let len = d.model.as_ref().unwrap().text.len_bytes();
        let a = random_batch(&mut self.rng, len);
        let ida = self.s.send(
            "tome/edit",
            json!({"doc": d.id, "version": d.version, "edits": edits_json(&a)}),
        );
        apply_batch(d.model.as_mut().unwrap(), &a, &mut self.next_rev);
        let len = d.model.as_ref().unwrap().text.len_bytes();
        let b = random_batch(&mut self.rng, len);
        let idb = self.s.send(
            "tome/edit",
            json!({"doc": d.id, "version": d.version + 1, "edits": edits_json(&b)}),
        );
        apply_batch(d.model.as_mut().unwrap(), &b, &mut self.next_rev);
        let m = d.model.as_ref().unwrap();
        let first = self.rng.below(m.text.len_lines());
        let idv = self.s.send(
            "tome/viewport",
            json!({"doc": d.id, "first": first, "count": 1}),
        );
        let seed = self.seed;
        let ra = self.s.wait(ida).expect("first pipelined edit");
        let rb = self.s.wait(idb).expect("second pipelined edit");
        let rv = self.s.wait(idv).expect("pipelined viewport");
        self.lat
            .record("pipelined edit+edit+viewport", t.elapsed(), seed);
        assert_eq!(ra["version"], d.version + 1, "seed {seed}");
        assert_eq!(rb["version"], d.version + 2, "seed {seed}");
        d.version += 2;
        assert_eq!(
            rv["version"], d.version,
            "seed {seed}: pipelined viewport version"
        );
        let l = &rv["lines"][0];
        let want = model_line(&m.text, first);
        if l["cutAfter"] != true {
            assert_eq!(
                l["text"], want,
                "seed {seed}: pipelined viewport line {first}"
            );
        }
    }

    /// Reads of a document another program changes: any answer, or -33010 when the file was
    /// cut under it.
    fn external_read(&mut self, d: &mut Doc) {
        let r = if self.rng.chance(50) {
            let fraction = self.rng.below(1001) as f64 / 1000.0;
            self.call(
                "tome/viewport",
                json!({"doc": d.id, "fraction": fraction, "count": 40}),
            )
        } else {
            self.call(
                "tome/viewport",
                json!({"doc": d.id, "first": 0, "count": 40}),
            )
        };
        match r {
            Ok(r) => assert!(r["lines"].is_array(), "seed {}: {r}", self.seed),
            Err(e) if e["code"] == -33010 => self.bump("fileChanged answers"),
            Err(e) => panic!("seed {}: viewport of {}: {e}", self.seed, d.path.display()),
        }
    }

    /// Handles the disk notices that arrived: the followed log may only be appended to; the
    /// other outside changes are reloaded, as a user who takes the other program's version.
    fn notices(&mut self, docs: &mut [Doc]) {
        let arrived: Vec<Value> = std::mem::take(&mut *self.s.notifications.lock().unwrap());
        for n in arrived {
            if n["method"] != "tome/didChangeOnDisk" {
                continue;
            }
            let p = &n["params"];
            let Some(d) = docs.iter_mut().find(|d| p["doc"] == d.id) else {
                continue; // a document closed since
            };
            let change = p["change"].as_str().unwrap_or("").to_string();
            let seed = self.seed;
            match d.kind {
                Kind::Model => panic!(
                    "seed {seed}: a notice for {}, which only the server writes: {p}",
                    d.path.display()
                ),
                Kind::Followed => {
                    assert_eq!(change, "appended", "seed {seed}: followed log: {p}");
                    self.bump("appends followed");
                }
                _ if change == "appended" => self.bump("appends followed"),
                _ => {
                    self.bump(match change.as_str() {
                        "rewritten" => "rewritten notices",
                        "replaced" => "replaced notices",
                        "truncated" => "truncated notices",
                        _ => "other notices",
                    });
                    match self.call("tome/reload", json!({"doc": d.id})) {
                        Ok(r) => d.version = r["version"].as_u64().unwrap(),
                        // The writer may be changing the file again during the reload.
                        Err(e) if e["code"] == -33010 || e["code"] == -33005 => {
                            self.bump("reloads refused (file changing)")
                        }
                        Err(e) => panic!("seed {seed}: reload of {}: {e}", d.path.display()),
                    }
                }
            }
        }
    }
}

/// The other program: appends to the followed log every ~50 ms, and now and then rewrites one
/// file in place, renames a new file over another, truncates and rewrites a third.
fn writer(paths: [PathBuf; 4], sizes: [usize; 4], stop: Arc<AtomicBool>, seed: u64) -> u64 {
    let [followed, rewritten, renamed, truncated] = paths;
    let mut rng = Rng(seed ^ 0x5EED);
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&followed)
        .unwrap();
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        writeln!(
            log,
            "2026-12-01T00:00:00Z INFO  [writer] seq={n} appended by the soak's writer"
        )
        .unwrap();
        n += 1;
        if n.is_multiple_of(140) {
            // ~7 s: overwrite 64 bytes in place, same size.
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&rewritten)
                .unwrap();
            let at = rng.below(sizes[1] - 64) as u64;
            std::os::unix::fs::FileExt::write_at(&f, &[b'W'; 64], at).unwrap();
        }
        if n.is_multiple_of(220) {
            // ~11 s: another program saves by rename.
            let tmp = renamed.with_extension("new");
            generate(&tmp, rng.range(sizes[2] / 2, sizes[2]), rng.next());
            std::fs::rename(&tmp, &renamed).unwrap();
        }
        if n.is_multiple_of(260) {
            // ~13 s: copytruncate rotation, then new lines (another seed: not an append).
            std::fs::copy(&truncated, truncated.with_extension("1")).unwrap();
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&truncated)
                .unwrap();
            f.set_len(0).unwrap();
            let size = rng.range(sizes[3] / 4, sizes[3] / 2);
            let fresh = tome_gen::generate_vec(&tome_gen::GenConfig {
                size: size as u64,
                seed: rng.next(),
                ..Default::default()
            });
            f.write_all(&fresh).unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    n
}

/// Streams a file and compares it with a rope.
fn file_equals(path: &Path, r: &Rope) -> bool {
    let mut f = std::fs::File::open(path).unwrap();
    if f.metadata().unwrap().len() != r.len_bytes() as u64 {
        return false;
    }
    let mut buf = vec![0; TEXT_PIECE];
    let mut at = 0;
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            return at == r.len_bytes();
        }
        if r.byte_slice(at..at + n) != std::str::from_utf8(&buf[..n]).unwrap() {
            return false;
        }
        at += n;
    }
}

/// What the server's descriptors point at, counted (for the message of a failed bound).
fn open_files(pid: u32) -> Vec<(String, usize)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let target = std::fs::read_link(e.path()).map_or("?".into(), |t| t.display().to_string());
        // Journal and spill names vary per document: count them by directory.
        let key = match target.rsplit_once('/') {
            Some((dir, _)) if dir.contains("state") => format!("{dir}/*"),
            _ => target,
        };
        *seen.entry(key).or_default() += 1;
    }
    let mut v: Vec<_> = seen.into_iter().collect();
    v.sort();
    v
}

/// Fills in what [`check_bounds`] allows, from what the client did to the open documents.
fn allowances(mut x: Sample, docs: &[Doc]) -> Sample {
    // The external documents replaced by rename and not reloaded yet: at most the two; and
    // documents just closed whose files a cancelled search's snapshot still holds for a
    // moment (+6: a 5-minute run once saw 24 against 22).
    // Per document, the file its last save replaced until the saved file is indexed, and those
    // its replace-alls keep.
    x.allowed_replaced_fds = docs.iter().map(|d| 1 + 2 * d.replace_alls).sum::<usize>() + 2 + 6;
    // 64 MiB, plus what the open documents' replace-alls rewrote (the process keeps at most
    // 32 MiB of such text in memory: `replace_alls_keep_private_memory_within_the_documents_budget`).
    let rewritten: usize = docs.iter().map(|d| d.rewritten).sum();
    x.allowed_anon_kib = 64 * 1024 + rewritten / 1024;
    x
}

/// Bounds on the server's resources at every sample, against the first one after warm-up
/// (documents open, first operations done):
///
/// * descriptors: each document holds its file and its journal, the watch thread its inotify
///   descriptor. What may come and go: a save's temporary file, a search's or save's
///   snapshot (+8), and one spill file per document once its inserted text passes 16 MiB
///   (+20). Apart from those, the files that saves replaced (`… (deleted)`): a save closes
///   the file it replaced once the saved file is indexed, unless the undo history of a
///   replace-all still reads it (see `saves_do_not_pile_up_descriptors_of_replaced_files`),
///   so they are allowed one per document plus two per replace-all since the open, plus the
///   two external files replaced by rename and not reloaded yet;
/// * threads: at most 64, and none gained in the second half of the run (see below);
/// * anonymous memory: the server keeps no document's content in memory, only inserted text
///   and pieces, so it should stay within 64 MiB (a few MiB measured without replace-alls)
///   plus what replace-alls rewrote (see [`allowances`]), given back when a document closes;
///   see the known issue below for what is checked meanwhile.
fn check_bounds(samples: &[Sample], seed: u64, pid: u32) {
    let base = samples[1.min(samples.len() - 1)];
    let others = |x: &Sample| x.fds - x.replaced_fds;
    let last_secs = samples[samples.len() - 1].secs;
    for x in &samples[1..] {
        assert!(
            others(x) <= others(&base) + 8 + 20,
            "seed {seed}: descriptors grew at {} s: {samples:?}; open now: {:#?}",
            x.secs,
            open_files(pid)
        );
        assert!(
            x.replaced_fds <= x.allowed_replaced_fds,
            "seed {seed}: more replaced files open than saves at {} s: {samples:?}",
            x.secs
        );
        // Requests run on the runtime's blocking pool, which grows to the concurrency it
        // meets (17 -> 28 threads at 30 s in a 5-minute run, then flat; 19 -> 24 at 70 s of a
        // 2-minute run on a loaded machine, then flat): no growth means the last quarter never
        // exceeds the peak of the first three quarters (+4). A thread per operation kept
        // would grow in every quarter.
        let early = samples[..(samples.len() * 3).div_ceil(4)]
            .iter()
            .map(|s| s.threads);
        let peak = early.max().unwrap_or(0);
        assert!(
            x.threads <= 64 && (x.secs * 4 < last_secs * 3 || x.threads <= peak + 4),
            "seed {seed}: threads grew at {} s: {samples:?}",
            x.secs
        );
        // The allowance (printed in the table): 64 MiB plus what the open documents'
        // replace-alls rewrote (at most the process's 32 MiB heap budget of it stays in memory). (Before
        // the process budget and `return_freed_memory`, RssAnon climbed to 200 MiB in this
        // run and 380 MiB in 5 minutes: each replace-all had its own 16 MiB budget, and glibc
        // kept the freed 4 MiB search windows.)
        assert!(
            x.anon_kib <= x.allowed_anon_kib,
            "seed {seed}: anonymous memory over its allowance at {} s: {samples:?}",
            x.secs
        );
    }
}

#[test]
fn twenty_documents_under_a_random_client_and_a_busy_disk_match_their_models() {
    let secs: u64 = std::env::var("TOME_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let max = std::env::var("TOME_SOAK_MAX_SIZE").map_or(64 << 20, |v| parse_size(&v));
    let seed: u64 = std::env::var("TOME_SOAK_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!(
        "server soak: seed {seed} (TOME_SOAK_SEED={seed} replays it), {secs} s, largest document {max} bytes"
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");

    // 16 model documents from 4 KiB doubling up to the largest, then the largest and its half
    // and quarter; 4 external ones.
    let mut model_sizes: Vec<usize> = (0..13).map(|i| (4usize << 10) << i).collect();
    model_sizes.extend([max / 4, max / 2, max]);
    let model_sizes: Vec<usize> = model_sizes.into_iter().map(|s| s.min(max)).collect();
    let ext_sizes = [
        64 << 10,
        1 << 20,
        256 << 10,
        (max / 4).clamp(1 << 20, 32 << 20),
    ];
    let t0 = Instant::now();
    let mut specs = Vec::new();
    for (i, &size) in model_sizes.iter().enumerate() {
        let path = dir.path().join(format!("model-{i:02}.log"));
        generate(&path, size, seed.wrapping_add(i as u64));
        specs.push((path, Kind::Model));
    }
    for (i, (kind, name)) in [
        (Kind::Followed, "followed.log"),
        (Kind::Rewritten, "rewritten.log"),
        (Kind::Renamed, "renamed.log"),
        (Kind::Truncated, "truncated.log"),
    ]
    .into_iter()
    .enumerate()
    {
        let path = dir.path().join(name);
        generate(&path, ext_sizes[i], seed.wrapping_add(100 + i as u64));
        specs.push((path, kind));
    }
    eprintln!("generated 20 files in {:?}", t0.elapsed());

    let mut s = Server::start_with_state(&state);
    s.request(
        "initialize",
        json!({"capabilities": {"general": {"positionEncodings": ["utf-8"]}}}),
    )
    .expect("initialize");
    s.notify("initialized", json!({}));
    let pid = s.pid();
    let mut c = Client {
        s,
        rng: Rng(seed),
        seed,
        lat: Latency::default(),
        next_rev: 1,
        counts: HashMap::new(),
    };
    let mut docs = Vec::new();
    for (path, kind) in specs {
        let (id, version) = c.open(&path);
        let model = (kind == Kind::Model).then(|| {
            let text = Rope::from_reader(std::fs::File::open(&path).unwrap()).unwrap();
            c.next_rev += 1;
            Model::new(text, c.next_rev - 1)
        });
        docs.push(Doc {
            path,
            kind,
            id,
            version,
            model,
            replace_alls: 0,
            rewritten: 0,
        });
    }
    let mut samples = vec![allowances(sample(pid, 0), &docs)];

    let stop = Arc::new(AtomicBool::new(false));
    let ext_paths: [PathBuf; 4] = std::array::from_fn(|i| docs[16 + i].path.clone());
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || writer(ext_paths, ext_sizes, stop, seed))
    };

    let start = Instant::now();
    let mut ops = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
        c.notices(&mut docs);
        let due = samples.len() as u64 * 10;
        if start.elapsed() >= Duration::from_secs(due) {
            samples.push(allowances(sample(pid, due), &docs));
        }
        let i = c.rng.below(docs.len());
        let d = &mut docs[i];
        ops += 1;
        if d.kind != Kind::Model {
            match c.rng.below(20) {
                0..=11 => c.external_read(d),
                12..=17 => c.search(d),
                18 if d.kind != Kind::Followed => c.close_reopen(d),
                _ => {
                    c.ok("tome/info", json!({"doc": d.id}));
                }
            }
            continue;
        }
        let size = d.model.as_ref().unwrap().text.len_bytes();
        let small = size <= SCAN_LIMIT;
        match c.rng.below(100) {
            0..=24 => c.viewport(d),
            25..=49 => c.edit(d),
            50..=57 => c.undo_redo(d, true),
            58..=63 => c.undo_redo(d, false),
            64..=71 => c.search(d),
            72..=75 if small => c.replace_all(d, false),
            76 if small => c.replace_all(d, true),
            // Saves of the big documents are rarer: each writes the whole file.
            77..=80 if small || c.rng.chance(25) => c.save(d),
            81..=83 if !small => c.cancelled_search(d),
            81..=83 => c.cancelled_edit(d),
            84..=86 => c.pipelined(d),
            87..=88 => c.close_reopen(d),
            _ => c.info_check(d),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let appended = writer.join().expect("the writer thread");
    eprintln!(
        "{ops} operations in {:?}; the writer appended {appended} lines",
        start.elapsed()
    );

    // The followed log: once the writer stopped and the last append is followed, the document
    // is the file, byte for byte.
    let followed = docs.iter().find(|d| d.kind == Kind::Followed).unwrap();
    let file = std::fs::read(&followed.path).unwrap();
    let t = Instant::now();
    loop {
        let info = c.ok("tome/info", json!({"doc": followed.id}));
        if info["size"] == file.len() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "seed {seed}: the followed log stays at {} bytes, the file has {}",
            info["size"],
            file.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = c.text(followed.id, file.len());
    assert!(
        got == file,
        "seed {seed}: the followed log's document differs from the file"
    );
    c.notices(&mut docs);

    // Every model document: its text is the model's, its state (version, dirty, steps) too,
    // and the file on disk is what was saved last.
    for d in &mut docs {
        let Some(m) = &d.model else { continue };
        let size = m.text.len_bytes();
        let got = c.text(d.id, size);
        let m = d.model.as_ref().unwrap();
        assert!(
            m.text == std::str::from_utf8(&got).unwrap(),
            "seed {seed}: {} differs from its model",
            d.path.display()
        );
        c.info_check(d);
        let m = d.model.as_ref().unwrap();
        assert!(
            file_equals(&d.path, &m.saved),
            "seed {seed}: {} on disk is not what was saved last",
            d.path.display()
        );
    }
    // Threads the runtime started for blocking work (the final reads above) end after 10 s
    // idle: give them that before the last sample, so it shows the threads that stay.
    let base_threads = samples[1.min(samples.len() - 1)].threads;
    let t = Instant::now();
    let mut last = sample(pid, start.elapsed().as_secs());
    while last.threads > base_threads + 12 && t.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_secs(1));
        last = sample(pid, start.elapsed().as_secs());
    }
    samples.push(allowances(last, &docs));

    eprintln!("\n| time | fds (of them replaced files / allowed) | threads | mappings | RssAnon (allowed) | VmRSS |");
    eprintln!("| --- | --- | --- | --- | --- | --- |");
    for x in &samples {
        eprintln!(
            "| {} s | {} ({} / {}) | {} | {} | {:.1} MiB ({:.0}) | {:.1} MiB |",
            x.secs,
            x.fds,
            x.replaced_fds,
            x.allowed_replaced_fds,
            x.threads,
            x.maps,
            x.anon_kib as f64 / 1024.0,
            x.allowed_anon_kib as f64 / 1024.0,
            x.rss_kib as f64 / 1024.0
        );
    }
    eprintln!("\n  method                              count    mean ms     max ms");
    let mut lat: Vec<_> = c.lat.0.iter().collect();
    lat.sort();
    for (method, (n, total, max)) in lat {
        eprintln!(
            "  {method:<34} {n:>6} {:>10.2} {:>10.1}",
            total.as_secs_f64() * 1000.0 / *n as f64,
            max.as_secs_f64() * 1000.0
        );
    }
    let mut counts: Vec<_> = c.counts.iter().collect();
    counts.sort();
    for (what, n) in counts {
        eprintln!("  {what}: {n}");
    }
    check_bounds(&samples, seed, pid);
    assert_eq!(c.s.shutdown(), Some(0), "seed {seed}: clean shutdown");
}

fn ready_server(state: &Path) -> Server {
    let mut s = Server::start_with_state(state);
    s.request("initialize", json!({"capabilities": {}}))
        .expect("initialize");
    s.notify("initialized", json!({}));
    s
}

/// Found by the soak: each replace-all was planned with a `BlockStore` of its own, so each got
/// a fresh 16 MiB heap budget before spilling, and twenty replace-alls on an 8 MiB log whose
/// matches are dense (every gap under `MERGE_GAP`, so the whole text is rewritten) kept ~20 × 8
/// MiB of private memory (180 MiB). Now the process has one budget over every store
/// (block.rs `PROCESS_HEAP_BUDGET`), and freed buffers go back to the system
/// (`tome_core::return_freed_memory`).
#[test]
fn replace_alls_keep_private_memory_within_the_documents_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    generate(&path, 8 << 20, 1);
    let mut s = ready_server(&dir.path().join("state"));
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    for i in 0..20 {
        let (from, to) = if i % 2 == 0 {
            ("seq=", "SEQ=")
        } else {
            ("SEQ=", "seq=")
        };
        let r = s
            .request(
                "tome/replaceAll",
                json!({"doc": doc, "query": {"pattern": from, "regex": false, "caseSensitive": true}, "replacement": to}),
            )
            .unwrap();
        assert!(r["count"].as_u64().unwrap() > 50_000, "{r}");
    }
    let anon = sample(s.pid(), 0).anon_kib;
    // 16 MiB budget + what the server needs besides (a few MiB) + the pieces' trees.
    assert!(
        anon <= 48 * 1024,
        "RssAnon {} MiB after 20 replace-alls of an 8 MiB document",
        anon / 1024
    );
}

/// Found by the `:%s` benchmark (docs/benchmarks.md): after one replace-all of a million
/// matches on 1 GiB the server's RssAnon stayed at 565 MiB until the document closed: the plan
/// and the trees it replaced were freed, but glibc's arenas kept the pages. Now the server
/// gives them back after every whole-document change (`tome_core::trim_freed_memory`); on
/// 256 MiB: 147 MiB before, 27 MiB after.
#[test]
fn a_big_replace_all_gives_its_memory_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    generate(&path, 256 << 20, 1);
    let mut s = ready_server(&dir.path().join("state"));
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let r = s
        .request(
            "tome/replaceAll",
            json!({"doc": doc, "query": {"pattern": "WARN", "regex": false, "caseSensitive": true}, "replacement": "WARNING"}),
        )
        .unwrap();
    assert!(r["count"].as_u64().unwrap() > 200_000, "{r}");
    let anon = sample(s.pid(), 0).anon_kib;
    assert!(
        anon <= 64 * 1024,
        "RssAnon {} MiB after a replace-all of {} matches on 256 MiB",
        anon / 1024,
        r["count"]
    );
}

/// Each save replaces the file (renamed over: deleted); the document used to keep every
/// replaced file open and mapped until it closed (fifty saves of a 1 GiB document: 50 GiB of
/// deleted files held). Now the tree and the undo history move onto the saved file once it is
/// indexed (tome-core `document/release.rs`) and the replaced file closes. Each edit replaces
/// bytes in the middle, so the history holds pieces of every older file and bytes none of the
/// saved files has.
#[test]
fn saves_do_not_pile_up_descriptors_of_replaced_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.log");
    generate(&path, 1 << 20, 2);
    let mut s = ready_server(&dir.path().join("state"));
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    let base = sample(s.pid(), 0).fds;
    let mut version = 0;
    for i in 0..50 {
        // Three bytes of the file replaced in the middle: the history holds what they were.
        let at = 1000 + i * 9973;
        let r = s
            .request(
                "tome/edit",
                json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": at, "end": at + 3}, "text": format!("{i}\n")}]}),
            )
            .unwrap();
        version = r["version"].as_u64().unwrap();
        s.request("tome/save", json!({"doc": doc})).unwrap();
    }
    let fds = sample(s.pid(), 0).fds;
    assert!(
        fds <= base + 4,
        "{base} descriptors before 50 saves, {fds} after: {:?}",
        open_files(s.pid())
    );
}
