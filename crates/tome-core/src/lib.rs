//! # tome-core: the editing engine of Tome
//!
//! Tome edits text files of many gigabytes as if they were small. This crate is the engine: no
//! async, no protocol, just a document you open, read, edit, search and save.
//!
//! * The file is **mapped read-only** ([`Source`]); opening costs O(1) in its size.
//! * A **line index** ([`LineIndex`]) counts line breaks in the background, block by block, at
//!   memory speed; line queries on the indexed part are answered at once.
//! * The text is a **persistent piece tree**: pieces point into the mapping or into an
//!   append-only add buffer; nodes carry byte and line-break summaries; nodes are shared with
//!   `Arc`, so a [`Snapshot`] (for undo, search, save on another thread) is O(1).
//! * Reading goes through a [`View`]: line ranges with a column window, byte ranges, chunks, and
//!   conversions between offsets and (line, column) in UTF-8, UTF-16 or UTF-32 columns.
//! * [`Document`] holds edits (single or atomic batches), undo/redo with typing grouped,
//!   replace-all, and atomic save (with kernel copies of unchanged spans).
//!
//! ```
//! # fn main() -> tome_core::Result<()> {
//! use tome_core::{Control, Document, Matcher, Query, Direction};
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("log.txt");
//! std::fs::write(&path, "one\ntwo\nthree\n").unwrap();
//!
//! let mut doc = Document::open(&path)?;
//! let control = Control::new();
//! doc.wait_for_index(&control)?;
//! doc.replace(4..7, "TWO")?;
//! let m = Matcher::new(&Query { pattern: "t.+e".into(), regex: true, case_insensitive: false })?;
//! assert_eq!(doc.view().find(&m, 0, Direction::Forward, false, &control)?, Some(8..13));
//! doc.save(None, &control)?;
//! assert_eq!(std::fs::read(&path).unwrap(), b"one\nTWO\nthree\n");
//! # Ok(()) }
//! ```
//!
//! Offsets are byte offsets (`usize`). Line numbers are zero-based; LF, CRLF and a lone CR each
//! end a line, so a document with `n` line breaks has `n + 1` lines (the last may be empty).

#![warn(missing_docs)]

mod add_buffer;
mod backup_record;
mod block;
pub mod bookmarks;
mod breaks;
pub mod charset;
mod control;
mod decoded;
mod document;
mod error;
pub mod fault;
mod guard;
pub mod index_cache;
pub mod journal;
pub mod line_index;
mod lines;
mod plan;
pub mod save;
pub use save::in_place;
pub mod filter;
pub mod highlight;
pub mod search;
mod source;
mod sys;
mod text;
pub mod timestamp;
mod tree;
mod units;
mod view;
pub mod words;

pub use bookmarks::{BookmarkStore, Bookmarks};
pub use breaks::Newlines;
pub use charset::{Charset, Encoding};
pub use control::Control;
pub use document::{
    Changed, Clip, Document, Edit, OnInterruptedSave, PlannedChange, Restored, SaveJob, Snapshot,
    MAX_PASTED_PIECES,
};
pub use error::{Error, Result};
pub use index_cache::{CacheUse, IndexCache};
pub use line_index::{IndexProgress, LineIndex};
pub use lines::Scope;
pub use save::{SaveChoice, SaveMethod, SaveReport};
pub use search::{Direction, MatchPage, Matcher, Query};
pub use source::{DiskChange, FileIdentity, LineEnding, Source};
pub use sys::{return_freed_memory, trim_freed_memory};
pub use text::{count_columns, decode_lossy, decode_lossy_owned, unit_at, PositionEncoding, Unit};
pub use view::{Chunks, ColumnWindow, Line, LineCount, Position, View, WholeLines};
pub use words::WordSeparators;
