//! The clips a session keeps ([`tome_core::Clip`]): what `tome/clip` took, by id, for
//! `tome/paste`. An editor keeps only the id (Vim's register holds a placeholder), so a yank of
//! 500 MiB costs it nothing.
//!
//! Bounded: at most [`MAX_CLIPS`] are kept; taking one more forgets the oldest (its id then
//! gets `unknownClip`). A clip holds a snapshot of its document's buffers (O(1) memory of its
//! own, but the file it came from stays mapped while the clip lives), so the bound is also what
//! keeps a client that never drops its clips from pinning closed files forever.

use std::collections::VecDeque;
use std::sync::Mutex;

use tome_core::Clip;

/// Most clips one session keeps.
pub const MAX_CLIPS: usize = 64;

/// The session's clips, oldest first.
#[derive(Default)]
pub struct Clips {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    next: u64,
    clips: VecDeque<(u64, Clip)>,
}

impl Clips {
    /// Keeps `clip` under a new id (forgetting the oldest past [`MAX_CLIPS`]).
    pub fn keep(&self, clip: Clip) -> u64 {
        let mut kept = self.lock();
        kept.next += 1;
        let id = kept.next;
        kept.clips.push_back((id, clip));
        while kept.clips.len() > MAX_CLIPS {
            kept.clips.pop_front();
        }
        id
    }

    /// The clip `id` (a cheap clone), if kept.
    pub fn get(&self, id: u64) -> Option<Clip> {
        let kept = self.lock();
        kept.clips
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, c)| c.clone())
    }

    /// Forgets clip `id`; false if it was not kept.
    pub fn forget(&self, id: u64) -> bool {
        let mut kept = self.lock();
        let before = kept.clips.len();
        kept.clips.retain(|(i, _)| *i != id);
        kept.clips.len() != before
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // (a panic while holding the lock cannot leave the list inconsistent: every change is
        // one call on it)
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
