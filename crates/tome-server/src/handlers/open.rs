//! A document's life: `tome/open` (with the journal and the file watch), `tome/info`,
//! `tome/reload`, `tome/close`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tome_core::{Document, Encoding, Error as CoreError, OnInterruptedSave};
use tower_lsp_server::jsonrpc::Result;

use super::save::wait_for_saves;
use super::{blocking, outcome, Backend};
use crate::convert::{bookmarks_out, info_of};
use crate::documents::DocHandle;
use crate::errors::{from_core, invalid_params};
use crate::progress;
use crate::protocol::*;

impl Backend {
    /// `tome/open`.
    pub async fn open(&self, p: OpenParams) -> Result<DocInfo> {
        if p.path.is_empty() {
            return Err(invalid_params("`path` is empty"));
        }
        // (checked before the file is opened: a bad one is refused with nothing left open)
        let first_viewport = match p.viewport {
            Some(mut v) => {
                v.insert("doc".into(), 0.into());
                let v = serde_json::from_value::<ViewportParams>(v.into())
                    .map_err(|e| invalid_params(format!("`viewport`: {e}")))?;
                self.viewport_request(&v)?;
                Some(v)
            }
            None => None,
        };
        let label = p.encoding.clone();
        if let Some(l) = &label {
            encoding_of(l, false)?;
        }
        let path = std::path::PathBuf::from(&p.path);
        // A gzip or zstd file (by its magic bytes, not its name) opens read-only; a file that
        // cannot be read is left to the plain open, which says why.
        let sniffed = path.clone();
        if let Ok(Some(_)) =
            blocking(move || Ok(tome_compressed::sniff(&sniffed).ok().flatten())).await
        {
            return self.open_compressed(path, first_viewport).await;
        }
        let opened = path.clone();
        let choice = match p.interrupted_save {
            None => OnInterruptedSave::Refuse,
            Some(InterruptedSaveChoice::Restore) => OnInterruptedSave::Restore,
            Some(InterruptedSaveChoice::Discard) => OnInterruptedSave::Discard,
            Some(InterruptedSaveChoice::Keep) => OnInterruptedSave::Keep,
        };
        let (doc, found, warnings, dropped) = blocking(move || {
            // The index cache is an optimisation: without it (turned off, a state directory
            // that is not safe to use) the file is indexed as usual.
            let cache = tome_core::journal::state_dir().and_then(|state| {
                tome_core::IndexCache::from_env(&state).unwrap_or_else(|e| {
                    tracing::warn!("no index cache: {e}");
                    None
                })
            });
            // A UTF-16 label is needed at open: its line breaks are other bytes, which the line
            // index counts from the start (other encodings are set after, knowing the BOM).
            let utf16 = match &label {
                Some(l) => Some(encoding_of(l, false)?).filter(|e| e.charset().is_utf16()),
                None => None,
            };
            let mut doc = Document::open_cached_as(&path, choice, cache.as_ref(), utf16)
                .map_err(from_core)?;
            match &label {
                Some(l) => {
                    let bom = doc.encoding() == Encoding::Utf8Bom;
                    doc.set_encoding(encoding_of(l, bom)?).map_err(from_core)?;
                }
                None if !doc.encoding().is_supported() => {
                    return Err(from_core(CoreError::UnsupportedEncoding(
                        doc.encoding().name().to_owned(),
                    )));
                }
                None => {}
            }
            // Bookmarks are best effort too: without a usable state directory there are none
            // to offer, and those set are kept only while the document is open.
            let dropped = tome_core::journal::state_dir()
                .and_then(|state| {
                    tome_core::BookmarkStore::in_state_dir(&state)
                        .map_err(|e| tracing::warn!("no bookmarks kept: {e}"))
                        .ok()
                })
                .map(|store| doc.enable_bookmarks(store).dropped)
                .unwrap_or(false);
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
            Ok((doc, found, warnings, dropped))
        })
        .await?;
        let handle = self.docs.insert(doc);
        let recovery = found.as_ref().map(|f| RecoveryInfo {
            changes: f.records as u64,
            fits: f.fits,
        });
        *handle.recoverable.lock().unwrap_or_else(|e| e.into_inner()) = found;
        self.watch(&handle, opened).await;
        let report = self.client_progress.load(Ordering::Relaxed);
        let h = Arc::clone(&handle);
        let enc = self.enc();
        let mut info = blocking(move || {
            let id = h.id;
            let mut doc = h.lock();
            let mut info = info_of(id, &mut doc, None);
            info.index_cache = Some(doc.index_cache_use().name());
            info.bookmarks = Some(bookmarks_out(&doc.view(), doc.bookmarks(), enc));
            info.bookmarks_dropped = Some(dropped);
            Ok(info)
        })
        .await?;
        info.recovery = recovery;
        info.warnings = warnings;
        if let Some(mut v) = first_viewport {
            v.doc = handle.id;
            info.viewport = Some(
                self.viewport(v)
                    .await
                    .map_err(|e| tracing::debug!("the open's viewport: {}", e.message))
                    .ok(),
            );
        }
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
    pub(super) async fn watch(&self, handle: &DocHandle, path: std::path::PathBuf) {
        self.watching.get_or_init(|| {
            let checker =
                Arc::clone(&self.watcher).run(self.client.clone(), Arc::clone(&self.docs));
            tokio::spawn(checker).abort_handle()
        });
        self.watcher.watch(path.clone()).await;
        let old = handle
            .watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(path);
        if let Some(old) = old {
            self.watcher.unwatch(old);
        }
    }

    /// `tome/reopenWithEncoding`: reads the document's bytes in another encoding (they do not
    /// change). Refused on a document with unsaved changes (`dirty`).
    pub async fn reopen_with_encoding(&self, p: ReopenWithEncodingParams) -> Result<DocInfo> {
        let handle = self.docs.get(p.doc)?;
        let id = handle.id;
        outcome(handle.submit(move |doc| {
            let bom =
                doc.view().read(0, 3.min(doc.len())).ok().as_deref() == Some(&b"\xEF\xBB\xBF"[..]);
            doc.set_encoding(encoding_of(&p.encoding, bom)?)
                .map_err(from_core)?;
            Ok(info_of(id, doc, None))
        })?)
        .await
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
        if self.docs.remove_compressed(p.doc).is_some() {
            return Ok(CloseResult { discarded: false });
        }
        let handle = self.docs.get(p.doc)?;
        let queued = handle.submit_unlocked(|h| {
            // A save sent before the close began in the queue and writes on its own thread:
            // wait for it, so that what it saved counts as saved.
            wait_for_saves(h);
            Ok(close_document(&mut h.lock()))
        });
        let handle = self.docs.remove(p.doc)?;
        self.highlights.forget(p.doc);
        let watched = handle
            .watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(path) = watched {
            self.watcher.unwatch(path);
        }
        match queued {
            Ok(rx) => outcome(rx).await,
            // No worker (it could not be started): nothing is queued, close at once.
            Err(_) => blocking(move || Ok(close_document(&mut handle.lock()))).await,
        }
    }

    /// `tome/info`.
    pub async fn info(&self, p: DocParams) -> Result<DocInfo> {
        if let Some(doc) = self.docs.compressed(p.doc) {
            return Ok(self.info_compressed(p.doc, &doc));
        }
        let handle = self.docs.get(p.doc)?;
        let id = handle.id;
        outcome(handle.submit(move |doc| Ok(info_of(id, doc, None)))?).await
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

/// The encoding a client's label names (`bom`: the file starts with a UTF-8 byte-order mark).
/// Errors: -32602 for a label that names no encoding.
fn encoding_of(label: &str, bom: bool) -> Result<Encoding> {
    Encoding::from_label(label, bom).ok_or_else(|| {
        invalid_params(format!(
            "`encoding`: {label:?} is not an encoding label (WHATWG labels: \"utf-8\", \
             \"windows-1252\", \"shift_jis\", \"gbk\", \"utf-16le\"…; or \"binary\")"
        ))
    })
}
