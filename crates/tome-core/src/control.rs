//! Progress and cancellation for long operations (index waits, search, replace-all, save).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Shared between the thread doing a long operation and whoever watches it: the worker reports
/// progress, the watcher may cancel. Cheap to check (one atomic load).
///
/// ```
/// let control = tome_core::Control::new();
/// control.set_progress(50, 200);
/// assert_eq!(control.progress(), (50, 200));
/// control.cancel();
/// assert!(control.is_cancelled());
/// ```
#[derive(Debug, Default)]
pub struct Control {
    cancelled: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
}

impl Control {
    /// A fresh control: not cancelled, no progress.
    pub fn new() -> Control {
        Control::default()
    }

    /// Asks the operation to stop; it returns [`crate::Error::Cancelled`] at its next check.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
    }

    /// True once [`Control::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// Records that `done` of `total` units (bytes) are processed.
    pub fn set_progress(&self, done: u64, total: u64) {
        self.total.store(total, Ordering::Release);
        self.done.store(done, Ordering::Release);
    }

    /// `(done, total)` as last reported.
    pub fn progress(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Acquire),
            self.total.load(Ordering::Acquire),
        )
    }

    /// `Err(Cancelled)` if cancelled: for use with `?` inside loops.
    pub fn check(&self) -> crate::Result<()> {
        if self.is_cancelled() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
