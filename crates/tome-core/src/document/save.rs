//! Saving a document: a job prepared on the document (a snapshot and a target), run on any
//! thread ([`crate::save`] does the writing), and finished on the document.
//!
//! After a save the document is clean at the saved revision, its path is the target, its
//! journal restarts against the new file, and once the new file is indexed the document moves
//! onto it ([`Rebase`]): one piece over the saved file instead of the pieces of the old one
//! (edits made meanwhile keep reading the old buffers, which stay valid, until then), and the
//! undo history, which survives a save, is moved onto it too so that the old file can close
//! (`release.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use super::release::Relocation;
use super::{Document, Snapshot};
use crate::bookmarks::Bookmarks;
use crate::index_cache::IndexCache;
use crate::save::unchanged::Saved;
use crate::save::{self, SaveChoice, SaveReport};
use crate::source::Source;
use crate::tree::PieceTree;
use crate::{Control, Error, Result};

/// A save prepared by [`Document::begin_save`]: run it on any thread, then hand the outcome to
/// [`Document::finish_save`].
pub struct SaveJob {
    snapshot: Snapshot,
    target: PathBuf,
    /// The saved file, opened by [`SaveJob::run`] (on the save's thread: opening can clone the
    /// whole file on XFS and btrfs, which [`Document::finish_save`] must not do under the
    /// document's lock).
    opened: OnceLock<Arc<Source>>,
    /// The document's index cache: the saved file's index is stored there once built.
    cache: Option<IndexCache>,
    /// The bookmarks as they are in the saved version: offsets in the saved file.
    bookmarks: Bookmarks,
    /// By rename or in place.
    choice: SaveChoice,
    /// The last save's text while the document has not moved onto its file yet: what that
    /// file holds, so that this save writes only what changed since.
    saved: Option<Saved>,
}

impl SaveJob {
    /// Chooses how the file is written ([`SaveChoice::Auto`] unless set).
    pub fn set_choice(&mut self, choice: SaveChoice) {
        self.choice = choice;
    }

    /// Writes the snapshot to the target, then opens what it wrote. See [`crate::save`].
    pub fn run(&self, control: &Control) -> Result<SaveReport> {
        let report = save::save_file_after(
            self.snapshot.view(),
            &self.target,
            self.choice,
            control,
            self.saved.as_ref(),
        )?;
        if report.method == save::SaveMethod::InPlace {
            self.forget_cached_index(&report.path);
        }
        // The saved file is in the document's encoding: index it with its line-break rule
        // (not one detected again from its first bytes).
        let newlines = Some(self.snapshot.view().newlines());
        if let Ok(source) = Source::open_cached_as(&report.path, self.cache.as_ref(), newlines) {
            let _ = self.opened.set(source);
        }
        Ok(report)
    }

    /// Drops the index cache's entry of a file just written in place (same device and inode):
    /// the cache would take a grown file's old extent as unchanged on the strength of a few
    /// sampled blocks, and an in-place save may have changed lines in it between them.
    fn forget_cached_index(&self, path: &Path) {
        use std::os::unix::fs::MetadataExt;
        if let (Some(cache), Ok(meta)) = (&self.cache, std::fs::metadata(path)) {
            let _ = std::fs::remove_file(cache.entry_path(meta.dev(), meta.ino()));
        }
    }

    /// The path being written.
    pub fn target(&self) -> &Path {
        &self.target
    }
}

/// After a save, the document moves onto the saved file once its index is complete.
pub(super) struct Rebase {
    pub(super) source: u32,
    pub(super) revision: u64,
    /// Where the older files' bytes are in the saved file.
    pub(super) relocation: Relocation,
    /// The saved snapshot's tree: the saved file's text, piece by piece.
    pub(super) tree: PieceTree,
}

impl Document {
    /// Prepares a save of the current version to `target` (the document's own path when
    /// `None`). Run the job on any thread, then pass its outcome to [`Document::finish_save`].
    pub fn begin_save(&mut self, target: Option<&Path>) -> Result<SaveJob> {
        let target = match (target, &self.path) {
            (Some(t), _) => t.to_path_buf(),
            (None, Some(p)) => p.clone(),
            (None, None) => {
                return Err(Error::Io {
                    context: "save".into(),
                    source: std::io::Error::other("the document has no path: use save-as"),
                })
            }
        };
        Ok(SaveJob {
            snapshot: self.snapshot(),
            target,
            opened: OnceLock::new(),
            cache: self.index_cache(),
            bookmarks: self.bookmarks.clone(),
            choice: SaveChoice::default(),
            saved: self.rebase.as_ref().map(|r| Saved {
                tree: r.tree.clone(),
                source: r.source,
            }),
        })
    }

    /// Records a finished save: the saved version becomes clean, the document's path becomes the
    /// target, and the document moves onto the new file once it is indexed. The undo history
    /// survives. On error nothing changes (the document stays dirty) and the error is returned.
    pub fn finish_save(&mut self, job: SaveJob, outcome: Result<SaveReport>) -> Result<SaveReport> {
        let report = outcome?;
        self.saved_revision = job.snapshot.revision;
        self.history.group = None;
        self.path = Some(job.target);
        let opened = match job.opened.into_inner() {
            Some(source) => Ok(source),
            None => Source::open_cached_as(&report.path, job.cache.as_ref(), Some(self.newlines())),
        };
        if let Ok(source) = opened {
            if let (Some(store), Some(stamp)) = (&self.bookmark_store, source.stamp_if_unchanged())
            {
                store.store(&stamp, source.samples(), &job.bookmarks);
            }
            self.restart_journal(&source);
            // Edits made while the save was writing are not in the saved file.
            self.rejournal_since_save(&job.snapshot);
            self.sources.push(source);
            let saved = (self.sources.len() - 1) as u32;
            self.rebase = Some(Rebase {
                source: saved,
                revision: job.snapshot.revision,
                relocation: Relocation::of(&job.snapshot.tree, saved),
                tree: job.snapshot.tree.clone(),
            });
        }
        self.read_only = false;
        Ok(report)
    }

    /// Saves to the document's path (`None`) or to `target`, on this thread.
    pub fn save(&mut self, target: Option<&Path>, control: &Control) -> Result<SaveReport> {
        let job = self.begin_save(target)?;
        let outcome = job.run(control);
        self.finish_save(job, outcome)
    }
}
