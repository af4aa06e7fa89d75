//! The request handlers: lifecycle (`initialize`, `shutdown`) and every `tome/*` method.
//!
//! Rules every handler follows:
//! * Nothing slow runs on the dispatching thread: documents are locked, read and changed on
//!   blocking threads or on the document's worker (see `documents.rs`).
//! * Changes are queued on the document's worker **before the handler's first `.await`**. The
//!   session polls each new handler once, in arrival order, before reading the next message,
//!   so queue order is arrival order (see `session.rs`).
//! * Long work holds a [`Control`] that a drop guard cancels: `$/cancelRequest` drops the
//!   handler future, and the blocking work then stops at its next check.
//! * Client data is never trusted: no `unwrap` on it, numbers are clamped or refused.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use serde_json::json;
use tome_core::{
    decode_lossy, decode_lossy_owned, ColumnWindow, Control, Direction, Document, Edit,
    Error as CoreError, Matcher, OnInterruptedSave, PositionEncoding, Query, Snapshot, View,
};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::{
    InitializeParams, InitializeResult, InitializedParams, PositionEncodingKind,
    ServerCapabilities, ServerInfo,
};
use tower_lsp_server::{Client, LanguageServer};

use crate::columns;
use crate::documents::{DocHandle, Registry};
use crate::errors::{self, from_core, internal, invalid_params};
use crate::progress::{self, RequestProgress};
use crate::protocol::*;
use crate::session::Lifecycle;
use crate::transport::Backlog;
use crate::watch::Watcher;

/// How often a viewport waiting for the index looks again.
const INDEX_POLL: std::time::Duration = std::time::Duration::from_millis(10);
/// Lines longer than this (in bytes) get no `length` in UTF-16/UTF-32 units: computing it
/// would read the whole line for every viewport.
const MAX_COUNTED_LINE: usize = 1 << 20;

/// The server's state, shared by all handlers.
pub struct Backend {
    client: Client,
    docs: Arc<Registry>,
    watcher: Arc<Watcher>,
    /// The task that checks documents after watch events, started with the first watch.
    /// Aborted when the backend is dropped: it holds the registry, so a session that ended
    /// would otherwise keep every document (fds, mappings, journals) alive in an embedding
    /// process (the fuzz target runs thousands of sessions in one).
    watching: OnceLock<tokio::task::AbortHandle>,
    encoding: OnceLock<PositionEncoding>,
    client_progress: AtomicBool,
    lifecycle: Arc<Lifecycle>,
    backlog: Arc<Backlog>,
}

/// Cancels a [`Control`] when dropped: lives in the handler future, so `$/cancelRequest`
/// (which drops that future) stops the blocking work too.
struct CancelOnDrop(Arc<Control>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(checker) = self.watching.get() {
            checker.abort();
        }
    }
}

fn usize_of(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Runs `f` on a blocking thread; a panic there becomes a -32803 error.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(internal(format!("internal error: {e}"))))
}

/// Awaits the outcome of a queued change.
async fn outcome<T>(rx: tokio::sync::oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await
        .unwrap_or_else(|_| Err(internal("the document's worker stopped")))
}

/// Refuses a request made against another version than the current one, unless every version
/// since only appended a followed log's new lines at the end (positions are unchanged then).
fn check_version(doc: &Document, given: Option<u64>) -> Result<()> {
    match given {
        Some(v) if !doc.positions_valid_since(v) => Err(errors::stale_version(v, doc.version())),
        _ => Ok(()),
    }
}

fn query(q: &QueryIn) -> Query {
    Query {
        pattern: q.pattern.clone(),
        regex: q.regex,
        case_insensitive: !q.case_sensitive,
    }
}

fn line_count(view: &View<'_>) -> LineCount {
    let c = view.line_count();
    LineCount {
        known: c.known as u64,
        estimate: c.estimate as u64,
        exact: c.exact,
    }
}

fn info_of(id: u64, doc: &mut Document, token: Option<String>) -> DocInfo {
    doc.poll_index();
    let progress = doc.index_progress();
    let (undo, redo) = doc.history_len();
    DocInfo {
        doc: id,
        path: doc
            .path()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        size: doc.len() as u64,
        line_count: line_count(&doc.view()),
        index_complete: progress.complete,
        index_percent: progress.percent(),
        line_ending: doc.line_ending().name(),
        encoding: doc.encoding().name(),
        read_only: doc.is_read_only(),
        snapshot: doc.is_snapshot(),
        version: doc.version(),
        dirty: doc.is_dirty(),
        undo_steps: undo as u64,
        redo_steps: redo as u64,
        index_progress_token: token,
        recovery: None,
        warnings: Vec::new(),
    }
}

/// What a viewport asks for, validated.
#[derive(Clone, Copy)]
struct ViewportRequest {
    start: Start,
    count: usize,
    before: usize,
    window_start: usize,
    width: usize,
    enc: PositionEncoding,
}

#[derive(Clone, Copy)]
enum Start {
    Line(usize),
    Offset(usize),
    Fraction(f64),
}

/// About how many bytes of JSON a match takes in a reply (for flow control).
const MATCH_BYTES: usize = 160;

/// About how many bytes of JSON a viewport reply takes (for flow control).
fn viewport_bytes(v: &ViewportResult) -> usize {
    v.lines.iter().map(|l| l.text.len() + 200).sum::<usize>() + 200
}

fn read_viewport(doc: &mut Document, r: &ViewportRequest) -> Result<ViewportResult> {
    doc.poll_index();
    let view = doc.view();
    // A zero-width window: the engine finds each line's bounds without copying its text. It
    // starts where the requested window ends at the latest (a column is at most 4 bytes), so
    // that a line longer than that is not read further while the index has not found its end.
    let need = r.window_start.saturating_add(r.width).saturating_mul(4);
    let probe = Some(ColumnWindow {
        start: need,
        len: 0,
    });
    let lines = match r.start {
        Start::Line(first) => view.lines(first, r.count, probe),
        Start::Offset(at) => view.lines_around(at, r.before, r.count, probe),
        Start::Fraction(f) => {
            let at = ((view.len() as f64) * f).floor() as usize;
            view.lines_around(at.min(view.len()), r.before, r.count, probe)
        }
    }
    .map_err(from_core)?;
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        out.push(window_of(&view, &line, r));
    }
    Ok(ViewportResult {
        version: doc.version(),
        lines: out,
        width: r.width as u64,
        line_count: line_count(&view),
    })
}

/// Cuts `line` to the request's column window and decodes it.
fn window_of(view: &View<'_>, line: &tome_core::Line, r: &ViewportRequest) -> LineOut {
    let (start, len) = (line.start, line.len);
    let fetch = |from: usize| {
        move |s: usize, e: usize| {
            view.read(start + from + s, start + from + e)
                .unwrap_or_default()
        }
    };
    let (from, start_column) = columns::walk(fetch(0), len, r.window_start, r.enc);
    let (shown, _) = columns::walk(fetch(from), len - from, r.width, r.enc);
    let to = from + shown;
    let bytes = view.read(start + from, start + to).unwrap_or_default();
    let (text, invalid) = decode_lossy(&bytes);
    let length = match r.enc {
        PositionEncoding::Utf8 => len,
        // Not read to its end yet: a lower bound (documented).
        _ if !line.len_known => {
            start_column + columns::count(|s, e| bytes[s..e].to_vec(), bytes.len(), r.enc)
        }
        _ if from == 0 && to == len => {
            start_column + columns::count(|s, e| bytes[s..e].to_vec(), bytes.len(), r.enc)
        }
        _ if len <= MAX_COUNTED_LINE => columns::count(fetch(0), len, r.enc),
        _ => len, // documented: an upper bound for very long lines
    };
    LineOut {
        number: line.number.map(|n| n as u64),
        offset: start as u64,
        text,
        start_column: start_column as u64,
        length: length as u64,
        byte_length: len as u64,
        break_length: line.break_len as u8,
        cut_before: from > 0,
        cut_after: to < len || !line.len_known,
        invalid,
        length_known: line.len_known,
    }
}

/// Converts one edit to byte offsets on the current version.
fn edit_offsets(view: &View<'_>, e: EditIn, enc: PositionEncoding) -> Result<Edit> {
    Ok(Edit {
        range: byte_range(view, e.range, e.offsets, enc)?,
        text: e.text.into_bytes(),
    })
}

/// The byte range a request names by `range` (positions) or `offsets`, exactly one of them.
fn byte_range(
    view: &View<'_>,
    range: Option<Range>,
    offsets: Option<Offsets>,
    enc: PositionEncoding,
) -> Result<std::ops::Range<usize>> {
    let range = match (range, offsets) {
        (Some(r), None) => {
            let at = |p: Position| {
                view.offset_of(
                    tome_core::Position {
                        line: usize_of(p.line),
                        column: usize_of(p.character),
                    },
                    enc,
                )
                .map_err(from_core)
            };
            at(r.start)?..at(r.end)?
        }
        (None, Some(o)) => usize_of(o.start)..usize_of(o.end),
        _ => return Err(invalid_params("give exactly one of `range` and `offsets`")),
    };
    if range.start > range.end {
        return Err(errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            format!(
                "the range ends ({}) before it starts ({})",
                range.end, range.start
            ),
        ));
    }
    Ok(range)
}

/// The most `tome/getText` returns at once.
const MAX_TEXT_BYTES: u64 = 16 << 20;

fn read_text(doc: &Document, p: GetTextParams, enc: PositionEncoding) -> Result<GetTextResult> {
    check_version(doc, p.version)?;
    let view = doc.view();
    let range = byte_range(&view, p.range, p.offsets, enc)?;
    let max = p.max_bytes.unwrap_or(MAX_TEXT_BYTES).min(MAX_TEXT_BYTES);
    let len = (range.end - range.start) as u64;
    if len > max {
        return Err(errors::error(
            errors::OUT_OF_BOUNDS,
            "outOfBounds",
            format!("the range holds {len} bytes, more than {max}: read it in parts"),
        ));
    }
    let bytes = view.read(range.start, range.end).map_err(from_core)?;
    // The viewport's rule (one U+FFFD per invalid byte), so a copy is what the user sees.
    let (text, invalid) = decode_lossy_owned(bytes);
    Ok(GetTextResult {
        text,
        bytes: len,
        invalid,
        version: doc.version(),
    })
}

fn match_out(view: &View<'_>, r: std::ops::Range<usize>, enc: PositionEncoding) -> MatchOut {
    let pos = |at: usize| {
        view.position_of(at, enc).ok().map(|p| Position {
            line: p.line as u64,
            character: p.column as u64,
        })
    };
    let range = match (pos(r.start), pos(r.end)) {
        (Some(start), Some(end)) => Some(Range { start, end }),
        _ => None,
    };
    MatchOut {
        offsets: Offsets {
            start: r.start as u64,
            end: r.end as u64,
        },
        range,
    }
}

fn run_search(
    snapshot: &Snapshot,
    p: &SearchParams,
    from: usize,
    enc: PositionEncoding,
    control: &Control,
) -> Result<SearchResult> {
    let matcher = Matcher::new(&query(&p.query)).map_err(from_core)?;
    let view = snapshot.view();
    let mut result = SearchResult {
        version: snapshot.version(),
        found: None,
        matches: None,
        resume_at: None,
        count: None,
    };
    match p.mode {
        SearchMode::Next => {
            let direction = match p.direction {
                DirectionIn::Forward => Direction::Forward,
                DirectionIn::Backward => Direction::Backward,
            };
            let hit = view
                .find(&matcher, from, direction, p.wrap, control)
                .map_err(from_core)?;
            result.found = Some(hit.map(|r| match_out(&view, r, enc)));
        }
        SearchMode::All => {
            let range = match p.offsets {
                Some(o) => usize_of(o.start)..usize_of(o.end),
                None => from..view.len(),
            };
            let limit = usize_of(p.limit.unwrap_or(1000)).clamp(1, MAX_MATCHES);
            let page = view
                .find_all(&matcher, range, limit, control)
                .map_err(from_core)?;
            result.matches = Some(
                page.matches
                    .into_iter()
                    .map(|r| match_out(&view, r, enc))
                    .collect(),
            );
            result.resume_at = Some(page.resume_at.map(|r| r as u64));
        }
        SearchMode::Count => {
            let n = view.count_matches(&matcher, control).map_err(from_core)?;
            result.count = Some(n as u64);
        }
    }
    Ok(result)
}

impl Backend {
    /// A backend talking to `client`, recording `initialize` and `shutdown` in `lifecycle`,
    /// making replies only while `backlog` (the output not yet written) has room.
    pub fn new(client: Client, lifecycle: Arc<Lifecycle>, backlog: Arc<Backlog>) -> Backend {
        Backend {
            client,
            docs: Arc::new(Registry::new(Arc::clone(&backlog))),
            watcher: Arc::new(Watcher::new()),
            watching: OnceLock::new(),
            encoding: OnceLock::new(),
            client_progress: AtomicBool::new(false),
            lifecycle,
            backlog,
        }
    }

    fn enc(&self) -> PositionEncoding {
        self.encoding.get().copied().unwrap_or_default()
    }

    /// `tome/open`.
    pub async fn open(&self, p: OpenParams) -> Result<DocInfo> {
        if p.path.is_empty() {
            return Err(invalid_params("`path` is empty"));
        }
        let path = std::path::PathBuf::from(&p.path);
        let opened = path.clone();
        let choice = match p.interrupted_save {
            None => OnInterruptedSave::Refuse,
            Some(InterruptedSaveChoice::Restore) => OnInterruptedSave::Restore,
            Some(InterruptedSaveChoice::Discard) => OnInterruptedSave::Discard,
            Some(InterruptedSaveChoice::Keep) => OnInterruptedSave::Keep,
        };
        let (doc, found, warnings) = blocking(move || {
            let mut doc = Document::open_with(&path, choice).map_err(from_core)?;
            let mut warnings: Vec<Warning> = doc
                .ignored_backups()
                .iter()
                .map(|b| {
                    tracing::warn!("not trusted: {}: {}", b.path.display(), b.reason);
                    Warning {
                        kind: "ignoredBackup",
                        message: format!(
                            "{} looks like a backup of this file left by an interrupted save, \
                             but was not used: {}",
                            b.path.display(),
                            b.reason
                        ),
                        path: Some(b.path.to_string_lossy().into_owned()),
                    }
                })
                .collect();
            // Journaling is best effort: a document without a state directory still opens,
            // and the user is told that a crash would lose its unsaved changes.
            let found = match tome_core::journal::default_dir() {
                Some(dir) => doc.enable_journal(&dir).unwrap_or_else(|e| {
                    tracing::warn!("no journal for {}: {e}", path.display());
                    warnings.push(Warning {
                        kind: "noJournal",
                        message: format!(
                            "unsaved changes to this file are not journaled ({e}): a crash \
                             would lose them"
                        ),
                        path: None,
                    });
                    None
                }),
                None => {
                    warnings.push(Warning {
                        kind: "noJournal",
                        message: "unsaved changes to this file are not journaled (no state \
                                  directory: set TOME_STATE_DIR or HOME): a crash would lose them"
                            .into(),
                        path: None,
                    });
                    None
                }
            };
            if !doc.is_journaled() && warnings.iter().all(|w| w.kind != "noJournal") {
                warnings.push(Warning {
                    kind: "journalInUse",
                    message: "this file is open in another Tome session, which journals it: \
                              unsaved changes made here are not protected against a crash \
                              (only those of the other session are)"
                        .into(),
                    path: None,
                });
            }
            Ok((doc, found, warnings))
        })
        .await?;
        let handle = self.docs.insert(doc);
        let recovery = found.as_ref().map(|f| RecoveryInfo {
            changes: f.records as u64,
            fits: f.fits,
        });
        *handle.recoverable.lock().unwrap_or_else(|e| e.into_inner()) = found;
        self.watch(&handle, opened);
        let report = self.client_progress.load(Ordering::Relaxed);
        let h = Arc::clone(&handle);
        let mut info = blocking(move || {
            let id = h.id;
            Ok(info_of(id, &mut h.lock(), None))
        })
        .await?;
        info.recovery = recovery;
        info.warnings = warnings;
        if report && !info.index_complete {
            let token = progress::index_token(handle.id);
            info.index_progress_token = Some(token.clone());
            tokio::spawn(progress::report_indexing(
                self.client.clone(),
                handle,
                token,
            ));
        }
        Ok(info)
    }

    /// Watches `path` for outside changes on behalf of `handle` (replacing what it watched).
    fn watch(&self, handle: &DocHandle, path: std::path::PathBuf) {
        self.watching.get_or_init(|| {
            let checker =
                Arc::clone(&self.watcher).run(self.client.clone(), Arc::clone(&self.docs));
            tokio::spawn(checker).abort_handle()
        });
        self.watcher.watch(&path);
        let old = handle
            .watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(path);
        if let Some(old) = old {
            self.watcher.unwatch(&old);
        }
    }

    /// `tome/recover`: replays the journal of an earlier session found at open.
    pub async fn recover(&self, p: DocParams) -> Result<RecoverResult> {
        let handle = self.docs.get(p.doc)?;
        let found = {
            let slot = handle.recoverable.lock().unwrap_or_else(|e| e.into_inner());
            if slot.as_ref().is_some_and(|f| !f.fits) {
                return Err(errors::error(
                    errors::FILE_CHANGED,
                    "fileChanged",
                    "the file changed since these changes were journaled: they can only be \
                     recovered into a new document (tome/recoverAsNew)",
                ));
            }
            slot.clone()
                .ok_or_else(|| invalid_params("this document has nothing to recover"))?
        };
        // The journal stays on offer until it is applied: a refusal (edited first) keeps it.
        let h = Arc::clone(&handle);
        outcome(handle.submit(move |doc| {
            let (applied, stopped_early) = doc.recover(found).map_err(from_core)?;
            *h.recoverable.lock().unwrap_or_else(|e| e.into_inner()) = None;
            Ok(RecoverResult {
                applied: applied as u64,
                stopped_early,
                version: doc.version(),
            })
        })?)
        .await
    }

    /// `tome/recoverAsNew`: replays the journal found at open into a new untitled document
    /// (the file as it is now, with the journal's changes). The journal stays until
    /// `tome/discardRecovery`.
    pub async fn recover_as_new(&self, p: DocParams) -> Result<RecoverAsNewResult> {
        let handle = self.docs.get(p.doc)?;
        let found = handle
            .recoverable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| invalid_params("this document has nothing to recover"))?;
        let (new, applied, stopped_early) =
            outcome(handle.submit(move |doc| doc.recover_as_new(&found).map_err(from_core))?)
                .await?;
        let new = self.docs.insert(new);
        let h = Arc::clone(&new);
        let mut document = blocking(move || Ok(info_of(h.id, &mut h.lock(), None))).await?;
        if self.client_progress.load(Ordering::Relaxed) && !document.index_complete {
            let token = progress::index_token(new.id);
            document.index_progress_token = Some(token.clone());
            tokio::spawn(progress::report_indexing(self.client.clone(), new, token));
        }
        Ok(RecoverAsNewResult {
            document,
            applied: applied as u64,
            stopped_early,
        })
    }

    /// `tome/discardRecovery`: deletes the journal of an earlier session found at open.
    pub async fn discard_recovery(&self, p: DocParams) -> Result<serde_json::Value> {
        let handle = self.docs.get(p.doc)?;
        let found = handle
            .recoverable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let discarded = found.is_some();
        if let Some(found) = found {
            blocking(move || {
                Document::discard_recovery(found);
                Ok(())
            })
            .await?;
        }
        Ok(json!({ "discarded": discarded }))
    }

    /// `tome/reload`: reads the file again, dropping unsaved edits and the undo history.
    pub async fn reload(&self, p: DocParams) -> Result<DocInfo> {
        let handle = self.docs.get(p.doc)?;
        let h = Arc::clone(&handle);
        let id = handle.id;
        let mut info = outcome(handle.submit(move |doc| {
            doc.reload().map_err(from_core)?;
            *h.disk_state.lock().unwrap_or_else(|e| e.into_inner()) = None;
            Ok(info_of(id, doc, None))
        })?)
        .await?;
        if self.client_progress.load(Ordering::Relaxed) && !info.index_complete {
            let token = progress::reindex_token(id, info.version);
            info.index_progress_token = Some(token.clone());
            tokio::spawn(progress::report_indexing(
                self.client.clone(),
                handle,
                token,
            ));
        }
        Ok(info)
    }

    /// `tome/close`: queued behind everything sent before it (changes, reads, saves), then the
    /// document leaves the registry, both before the first `.await`: requests sent after the
    /// close find no document, and the close sees the outcome of every save sent before it.
    pub async fn close(&self, p: DocParams) -> Result<CloseResult> {
        let handle = self.docs.get(p.doc)?;
        let queued = handle.submit_unlocked(|h| {
            // A save sent before the close began in the queue and writes on its own thread:
            // wait for it, so that what it saved counts as saved.
            wait_for_saves(h);
            Ok(close_document(&mut h.lock()))
        });
        let handle = self.docs.remove(p.doc)?;
        let watched = handle
            .watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(path) = watched {
            self.watcher.unwatch(&path);
        }
        match queued {
            Ok(rx) => outcome(rx).await,
            // No worker (it could not be started): nothing is queued, close at once.
            Err(_) => blocking(move || Ok(close_document(&mut handle.lock()))).await,
        }
    }

    /// `tome/info`.
    pub async fn info(&self, p: DocParams) -> Result<DocInfo> {
        let handle = self.docs.get(p.doc)?;
        let id = handle.id;
        outcome(handle.submit(move |doc| Ok(info_of(id, doc, None)))?).await
    }

    /// `tome/getText`: the text of a range, in queue order (it sees every change sent before).
    pub async fn get_text(&self, p: GetTextParams) -> Result<GetTextResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let backlog = Arc::clone(&self.backlog);
        let (text, _made) = outcome(handle.submit(move |doc| {
            let text = read_text(doc, p, enc)?;
            // Counted as output from now on (flow control): see `Backlog::reserve`.
            let made = backlog.reserve(text.text.len());
            Ok((text, made))
        })?)
        .await?;
        Ok(text)
    }

    /// `tome/viewport`.
    pub async fn viewport(&self, p: ViewportParams) -> Result<ViewportResult> {
        let handle = self.docs.get(p.doc)?;
        let start = match (p.first, p.around, p.fraction) {
            (Some(l), None, None) => Start::Line(usize_of(l)),
            (None, Some(o), None) => Start::Offset(usize_of(o)),
            (None, None, Some(f)) if (0.0..=1.0).contains(&f) => Start::Fraction(f),
            (None, None, Some(f)) => {
                return Err(invalid_params(format!("`fraction` {f} is not in [0, 1]")))
            }
            _ => {
                return Err(invalid_params(
                    "give exactly one of `first`, `around` and `fraction`",
                ))
            }
        };
        let count = usize_of(p.count).min(MAX_VIEWPORT_LINES);
        let before = match start {
            Start::Line(_) => 0,
            _ => usize_of(p.before).min(MAX_VIEWPORT_LINES - count),
        };
        let max_width = MAX_WINDOW_WIDTH.min(MAX_VIEWPORT_CELLS / (count + before).max(1));
        let window = p.window.unwrap_or(Window {
            start: 0,
            width: None,
            unit: Unit::Encoding,
        });
        let req = ViewportRequest {
            start,
            count,
            before,
            window_start: usize_of(window.start),
            width: window
                .width
                .map_or(max_width, |w| usize_of(w).min(max_width)),
            enc: match window.unit {
                Unit::Bytes => PositionEncoding::Utf8,
                Unit::Encoding => self.enc(),
            },
        };
        // First try in queue order, so the lines reflect every change sent before. The lines
        // count as output from when they are read (flow control: see `Backlog::reserve`).
        let backlog = Arc::clone(&self.backlog);
        let first_try = outcome(handle.submit(move |doc| {
            Ok(read_viewport(doc, &req).map(|v| {
                let made = backlog.reserve(viewport_bytes(&v));
                (v, made)
            }))
        })?)
        .await?;
        let wait = p.wait && matches!(start, Start::Line(_));
        match first_try {
            Ok((lines, _made)) => return Ok(lines),
            Err(e) if wait && e.code.code() == errors::NOT_INDEXED_YET => {}
            Err(e) => return Err(e),
        }
        // The line lies beyond the index: wait for it, without blocking the document's queue.
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let backlog = Arc::clone(&self.backlog);
        blocking(move || loop {
            if handle.closed.load(Ordering::Acquire) {
                return Err(errors::unknown_document(handle.id));
            }
            // Flow control, as on the document's worker.
            backlog.wait_for_room_blocking();
            match read_viewport(&mut handle.lock(), &req) {
                Err(e) if e.code.code() == errors::NOT_INDEXED_YET => {}
                Err(e) => return Err(e),
                Ok(v) => {
                    let made = backlog.reserve(viewport_bytes(&v));
                    return Ok((v, made));
                }
            }
            if control.is_cancelled() {
                return Err(from_core(CoreError::Cancelled));
            }
            std::thread::sleep(INDEX_POLL);
        })
        .await
        .map(|(lines, _made)| lines)
    }

    /// `tome/edit`. Queued before the first `.await`: see the module doc.
    pub async fn edit(&self, p: EditParams) -> Result<VersionResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let rx = handle.submit(move |doc| {
            check_version(doc, Some(p.version))?;
            let view = doc.view();
            let edits = p
                .edits
                .into_iter()
                .map(|e| edit_offsets(&view, e, enc))
                .collect::<Result<Vec<_>>>()?;
            let version = doc.apply(edits).map_err(from_core)?;
            Ok(VersionResult {
                version,
                undo_steps: doc.history_len().0 as u64,
            })
        })?;
        outcome(rx).await
    }

    async fn restore(&self, p: UndoParams, redo: bool) -> Result<UndoResult> {
        let handle = self.docs.get(p.doc)?;
        let rx = handle.submit(move |doc| {
            check_version(doc, p.version)?;
            let restored = if redo { doc.redo() } else { doc.undo() };
            Ok(UndoResult {
                changed: restored.is_some(),
                version: doc.version(),
                offset: restored.map(|r| r.at as u64),
            })
        })?;
        outcome(rx).await
    }

    /// `tome/undo`.
    pub async fn undo(&self, p: UndoParams) -> Result<UndoResult> {
        self.restore(p, false).await
    }

    /// `tome/redo`.
    pub async fn redo(&self, p: UndoParams) -> Result<UndoResult> {
        self.restore(p, true).await
    }

    /// `tome/search`: the snapshot is taken in queue order, the search runs on a blocking
    /// thread, so viewports and edits go on meanwhile.
    pub async fn search(&self, mut p: SearchParams) -> Result<SearchResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let from = p.from.take();
        let backward = p.direction == DirectionIn::Backward;
        let (snapshot, from) = outcome(handle.submit(move |doc| {
            let at = match from {
                // Without a start, search from the start (forward) or the end (backward).
                None if backward => doc.len(),
                None => 0,
                Some(f) => start_offset(&doc.view(), f, enc)?,
            };
            Ok((doc.snapshot(), at))
        })?)
        .await?;
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let progress =
            RequestProgress::begin(&self.client, p.work_done_token.take(), "Searching").await;
        let c = Arc::clone(&control);
        let backlog = Arc::clone(&self.backlog);
        let work = blocking(move || {
            // Flow control, as on the document's worker (a page of matches is up to ~2 MB).
            backlog.wait_for_room_blocking();
            let found = run_search(&snapshot, &p, from, enc, &c)?;
            let n = found.matches.as_ref().map_or(1, Vec::len);
            let made = backlog.reserve(n * MATCH_BYTES);
            Ok((found, made))
        });
        let (found, _made) = progress.track(&control, work).await?;
        Ok(found)
    }

    /// `tome/replaceAll`: a change, so it runs in queue order on the document's worker.
    pub async fn replace_all(&self, mut p: ReplaceAllParams) -> Result<ReplaceAllResult> {
        let handle = self.docs.get(p.doc)?;
        let control = Arc::new(Control::new());
        let guard = CancelOnDrop(Arc::clone(&control));
        let c = Arc::clone(&control);
        let token = p.work_done_token.take();
        // The scan runs on a snapshot without the document's lock (viewports of the document go
        // on), but inside the queue job, so changes sent after this request still apply after it.
        let rx = handle.submit_unlocked(move |h| {
            let matcher = Matcher::new(&query(&p.query)).map_err(from_core)?;
            let snapshot = {
                let mut doc = h.lock();
                check_version(&doc, p.version)?;
                doc.snapshot()
            };
            let replacement = p.replacement.as_bytes();
            let plan = snapshot
                .plan_replace_all(&matcher, replacement, &c)
                .map_err(from_core)?;
            let mut doc = h.lock();
            // Only this queue changes content, but a followed append may have come in between:
            // then scan again, holding the document.
            let count = match doc.apply_replace_all(plan) {
                Err(tome_core::Error::Stale(_)) => doc.replace_all(&matcher, replacement, &c),
                other => other,
            }
            .map_err(from_core)?;
            Ok(ReplaceAllResult {
                count: count as u64,
                version: doc.version(),
            })
        })?;
        let progress = RequestProgress::begin(&self.client, token, "Replacing").await;
        let out = progress.track(&control, outcome(rx)).await;
        drop(guard);
        out
    }

    /// `tome/save`.
    pub async fn save(&self, p: SaveParams) -> Result<SaveResult> {
        self.save_to(p, false).await
    }

    /// `tome/saveAs`.
    pub async fn save_as(&self, p: SaveParams) -> Result<SaveResult> {
        self.save_to(p, true).await
    }

    async fn save_to(&self, mut p: SaveParams, as_new: bool) -> Result<SaveResult> {
        let target = match (as_new, p.path.take()) {
            (true, Some(path)) if !path.is_empty() => Some(std::path::PathBuf::from(path)),
            (true, _) => return Err(invalid_params("`tome/saveAs` needs a non-empty `path`")),
            (false, _) => None,
        };
        let handle = self.docs.get(p.doc)?;
        let control = Arc::new(Control::new());
        let _guard = CancelOnDrop(Arc::clone(&control));
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let writer = SaveWriter {
            handle: Arc::clone(&handle),
            control: Arc::clone(&control),
            done: done_tx,
        };
        // Started in queue order, so the save holds every change sent before it. Saves of one
        // document run one at a time: this one waits (holding its place in the queue, not the
        // document's lock) for an earlier one to finish, which a cancelled one does quickly.
        // From then on the save belongs to its own thread: a cancelled request stops it through
        // `control`, and the document always learns how it ended.
        outcome(handle.submit_unlocked(move |h| {
            wait_for_earlier_save(h)?;
            let begun = {
                let mut doc = h.lock();
                let version = doc.version();
                doc.begin_save(target.as_deref()).map(|job| (job, version))
            };
            match begun {
                Ok((job, version)) => writer.spawn(job, version),
                Err(e) => {
                    h.saving.store(false, Ordering::Release);
                    Err(from_core(e))
                }
            }
        })?)
        .await?;
        let progress =
            RequestProgress::begin(&self.client, p.work_done_token.take(), "Saving").await;
        let finished = async {
            done_rx
                .await
                .unwrap_or_else(|_| Err(errors::internal("the save stopped without an answer")))
        };
        let out = progress.track(&control, finished).await;
        if let Ok(done) = &out {
            // Watch where the document now lives (unless a close sent meanwhile has stopped
            // watching it); look again for changes made during the save.
            if !handle.closed.load(Ordering::Acquire) {
                self.watch(&handle, std::path::PathBuf::from(&done.path));
            }
            self.watcher.poke();
        }
        out
    }
}

/// The writing part of a save, on a thread of its own: writes, records the outcome in the
/// document, clears `saving`, answers through `done` (if the request still waits).
struct SaveWriter {
    handle: Arc<DocHandle>,
    control: Arc<Control>,
    done: tokio::sync::oneshot::Sender<Result<SaveResult>>,
}

impl SaveWriter {
    fn spawn(self, job: tome_core::SaveJob, version: u64) -> Result<()> {
        let handle = Arc::clone(&self.handle);
        let spawned = std::thread::Builder::new()
            .name(format!("tome-save-{}", handle.id))
            .spawn(move || self.run(job, version));
        spawned.map(|_| ()).map_err(|e| {
            handle.saving.store(false, Ordering::Release);
            errors::internal(format!("cannot start the save: {e}"))
        })
    }

    fn run(self, job: tome_core::SaveJob, version: u64) {
        let ran = job.run(&self.control);
        let finished = self.handle.lock().finish_save(job, ran);
        self.handle.saving.store(false, Ordering::Release);
        let answer = finished.map_err(from_core).map(|report| SaveResult {
            path: report.path.display().to_string(),
            bytes: report.bytes,
            version,
            elapsed_ms: report.elapsed.as_millis() as u64,
        });
        let _ = self.done.send(answer);
    }
}

/// Closes `doc` on purpose (its journal is not needed any more); says whether unsaved
/// changes were dropped.
fn close_document(doc: &mut Document) -> CloseResult {
    doc.close_journal();
    CloseResult {
        discarded: doc.is_dirty(),
    }
}

/// Waits (on the document's worker) until no save of `h` is running. A save always ends: it
/// finishes, fails, or stops at once when cancelled.
fn wait_for_saves(h: &DocHandle) {
    while h.saving.load(Ordering::Acquire) {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// How long a save waits for an earlier save of the same document before answering busy.
const SAVE_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Marks a save of `h` as running, after waiting for an earlier one to finish (on the
/// document's worker thread: later changes keep waiting behind this save). A close sent after
/// this save does not cut the wait short: it is queued behind it.
fn wait_for_earlier_save(h: &DocHandle) -> Result<()> {
    let started = std::time::Instant::now();
    while h.saving.swap(true, Ordering::AcqRel) {
        if started.elapsed() > SAVE_WAIT {
            return Err(errors::error(
                errors::BUSY,
                "busy",
                "a save of this document is still running",
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(())
}

fn start_offset(view: &View<'_>, f: From, enc: PositionEncoding) -> Result<usize> {
    match f {
        From {
            position: Some(pos),
            offset: None,
        } => view
            .offset_of(
                tome_core::Position {
                    line: usize_of(pos.line),
                    column: usize_of(pos.character),
                },
                enc,
            )
            .map_err(from_core),
        From {
            position: None,
            offset: Some(o),
        } => Ok(usize_of(o)),
        _ => Err(invalid_params(
            "`from` needs exactly one of `position` and `offset`",
        )),
    }
}

fn negotiate(params: &InitializeParams) -> PositionEncoding {
    // The client lists what it supports, most preferred first; without a list it speaks
    // UTF-16 only (LSP 3.17).
    params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .and_then(|list| {
            list.iter()
                .find_map(|k| PositionEncoding::from_name(k.as_str()))
        })
        .unwrap_or(PositionEncoding::Utf16)
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let enc = negotiate(&params);
        let _ = self.encoding.set(enc);
        let progress = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        self.client_progress.store(progress, Ordering::Relaxed);
        // Requests are admitted from now on (the reply is made in this same poll).
        self.lifecycle.set_initialized();
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(PositionEncodingKind::new(enc.name())),
                experimental: Some(json!({
                    "tome": {
                        "protocolVersion": 1,
                        "methods": crate::METHODS,
                        "limits": {
                            "maxMessageBytes": crate::transport::MAX_BODY,
                            "maxViewportLines": MAX_VIEWPORT_LINES,
                            "maxWindowWidth": MAX_WINDOW_WIDTH,
                            "maxViewportCells": MAX_VIEWPORT_CELLS,
                            "maxMatches": MAX_MATCHES,
                            "maxLiteralBytes": tome_core::search::MAX_LITERAL,
                            "maxRegexBytes": tome_core::search::MAX_REGEX_PATTERN,
                        }
                    }
                })),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "tome".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {}

    async fn shutdown(&self) -> Result<()> {
        self.lifecycle.set_shut_down();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `tome/getText` returns for a copy is what `tome/viewport` shows: one U+FFFD per
    /// invalid byte (`a\xE2\x82b` is four columns on screen, so four characters copied).
    #[test]
    fn get_text_shows_invalid_bytes_as_the_viewport_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.txt");
        let bytes = b"a\xE2\x82b \xF0\x9F\x98 \xFF\xFE end\n";
        std::fs::write(&path, bytes).unwrap();
        let mut doc = Document::open(&path).unwrap();
        doc.wait_for_index(&Control::new()).unwrap();
        let line_len = bytes.len() - 1;
        let got = read_text(
            &doc,
            GetTextParams {
                doc: 1,
                version: None,
                range: None,
                offsets: Some(Offsets {
                    start: 0,
                    end: line_len as u64,
                }),
                max_bytes: None,
            },
            PositionEncoding::Utf16,
        )
        .unwrap();
        let shown = &doc.view().lines(0, 1, None).unwrap()[0];
        assert_eq!(got.text, shown.text);
        assert_eq!(
            got.text,
            "a\u{FFFD}\u{FFFD}b \u{FFFD}\u{FFFD}\u{FFFD} \u{FFFD}\u{FFFD} end"
        );
        assert!(got.invalid && shown.invalid);
        assert_eq!(got.bytes, line_len as u64);
    }
}
