//! Server-side registers: `tome/clip` takes a range as a clip, `tome/paste` inserts one,
//! `tome/dropClip` forgets one (see `crate::clips`). Taking and pasting are queued on the
//! document's worker like edits, so they apply in arrival order with the edits around them.

use std::sync::Arc;

use tome_core::Control;
use tower_lsp_server::jsonrpc::Result;

use super::read::MAX_TEXT_BYTES;
use super::{blocking, check_version, outcome, Backend, CancelOnDrop};
use crate::convert::{byte_range, usize_of};
use crate::errors::{from_core, invalid_params, unknown_clip};
use crate::protocol::*;

/// A paste of a clip past this size gives freed memory back to the system after it.
const BIG_CLIP: usize = 16 << 20;

/// Most bytes of preview a `tome/clip` reply carries.
const MAX_PREVIEW: u64 = 4096;

impl Backend {
    /// `tome/clip`.
    pub async fn clip(&self, p: ClipParams) -> Result<ClipResult> {
        let handle = self.docs.get(p.doc)?;
        let enc = self.enc();
        let clips = Arc::clone(&self.clips);
        let rx = handle.submit(move |doc| {
            check_version(doc, p.version)?;
            let range = byte_range(&doc.view(), p.range, p.offsets, enc)?;
            let clip = doc.clip(range, p.whole_lines).map_err(from_core)?;
            let preview = match p.preview_bytes.min(MAX_PREVIEW) {
                0 => None,
                n => {
                    let head = clip.read(0, n as usize).map_err(from_core)?;
                    Some(doc.encoding().charset().decode_lossy_owned(head).0)
                }
            };
            Ok(ClipResult {
                bytes: clip.len() as u64,
                version: clip.version(),
                clip: clips.keep(clip),
                preview,
            })
        })?;
        outcome(rx).await
    }

    /// `tome/paste`.
    pub async fn paste(&self, p: PasteParams) -> Result<VersionResult> {
        let handle = self.docs.get(p.doc)?;
        let clip = self.clips.get(p.clip).ok_or_else(|| unknown_clip(p.clip))?;
        let enc = self.enc();
        let control = Arc::new(Control::new());
        let guard = CancelOnDrop(Arc::clone(&control));
        let rx = handle.submit(move |doc| {
            check_version(doc, Some(p.version))?;
            let at = match (p.at, p.offset) {
                (Some(at), None) => {
                    let r = Range { start: at, end: at };
                    byte_range(&doc.view(), Some(r), None, enc)?.start
                }
                (None, Some(o)) => usize_of(o),
                _ => return Err(invalid_params("give exactly one of `at` and `offset`")),
            };
            match p.undo {
                UndoGroup::Auto | UndoGroup::New => doc.break_undo_group(),
                UndoGroup::Join => doc.join_undo_group(),
            }
            let version = doc
                .paste(at, &clip, usize_of(p.count), &control)
                .map_err(from_core);
            if clip.len() > BIG_CLIP {
                // (a paste from another document copied the bytes, and its journal record held
                // them too: see `trim_freed_memory`)
                tome_core::trim_freed_memory();
            }
            let version = version?;
            Ok(VersionResult {
                version,
                undo_steps: doc.history_len().0 as u64,
            })
        })?;
        let result = outcome(rx).await;
        drop(guard);
        result
    }

    /// `tome/readClip`: bytes of a clip, as `tome/getText` reads a document's.
    pub async fn read_clip(&self, p: ReadClipParams) -> Result<GetTextResult> {
        let clip = self.clips.get(p.clip).ok_or_else(|| unknown_clip(p.clip))?;
        let backlog = Arc::clone(&self.backlog);
        let (text, _made) = blocking(move || {
            let (start, end) = match p.offsets {
                Some(o) => (usize_of(o.start), usize_of(o.end)),
                None => (0, clip.len()),
            };
            if start > end || end > clip.len() {
                return Err(from_core(tome_core::Error::OutOfBounds(format!(
                    "{start}..{end} is not inside the clip (length {})",
                    clip.len()
                ))));
            }
            let max = p.max_bytes.unwrap_or(MAX_TEXT_BYTES).min(MAX_TEXT_BYTES);
            let len = (end - start) as u64;
            if len > max {
                return Err(from_core(tome_core::Error::OutOfBounds(format!(
                    "the range holds {len} bytes, more than {max}: read it in parts"
                ))));
            }
            let bytes = clip.read(start, end).map_err(from_core)?;
            // Encoded only when the text is not the bytes (as `tome/getText`).
            let raw = p.raw_bytes.then(|| bytes.clone());
            let (text, invalid) = tome_core::decode_lossy_owned(bytes);
            let base64 = raw.filter(|_| invalid).map(|b| crate::base64::encode(&b));
            // Counted as output from now on (flow control): see `Backlog::reserve`.
            let made = backlog.reserve(text.len() + base64.as_ref().map_or(0, String::len));
            let text = GetTextResult {
                text,
                bytes: len,
                invalid,
                base64,
                version: clip.version(),
            };
            Ok((text, made))
        })
        .await?;
        Ok(text)
    }

    /// `tome/dropClip`: true if the clip was kept.
    pub async fn drop_clip(&self, p: DropClipParams) -> Result<bool> {
        Ok(self.clips.forget(p.clip))
    }
}
