//! Fault injection for the crash, failure and slow-disk tests: compiled in only with the
//! `fault-injection` feature (the test suite builds `tome` with it; `cargo build` and
//! `cargo install` do not), so that no environment variable can make a user's server abort
//! or slow down.
//!
//! * `TOME_TEST_SAVE_FAULT=<point>` aborts the process at that point of a save
//!   (`mid-write`, `after-write`, `after-sync`, `after-rename`, `after-backup`);
//!   `TOME_TEST_SAVE_FAULT=fail-<point>` makes the write there fail with an I/O error.
//! * `TOME_TEST_JOURNAL_SYNC_DELAY_MS=<n>` makes every journal sync take `n` ms longer (a slow
//!   or network disk).
//! * `TOME_TEST_SLOW_INDEX=<file name>:<n>` makes the line index of files with that name take
//!   `n` ms more per MiB (a cold or slow disk: what clients do before the index completes).
//! * `TOME_TEST_SLOW_SEARCH=<pattern>:<n>` makes every search for exactly that pattern take
//!   `n` ms longer (cancellable): a search that outlasts what a client does meanwhile, whatever
//!   the machine's speed (the editors' tests type while one runs).
//! * `TOME_TEST_SEARCH_WINDOW=<window>:<overlap>` makes `tome/search` scan windows of
//!   `window` bytes overlapping by `overlap` ([`crate::Matcher::with_windows`]) instead of
//!   4 MiB and 64 KiB: small files cross window edges (the decoded search's tests).
//!
//! Without the feature every hook is an empty inline function.

/// Whether this build has the hooks (`tome --version` says so; the tests check it).
pub const ENABLED: bool = cfg!(feature = "fault-injection");

/// Aborts the process here if `TOME_TEST_SAVE_FAULT` names `point`.
#[inline]
pub(crate) fn abort_at(point: &str) {
    #[cfg(feature = "fault-injection")]
    if std::env::var_os("TOME_TEST_SAVE_FAULT").is_some_and(|v| v == point) {
        std::process::abort();
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = point;
}

/// An I/O error here if `TOME_TEST_SAVE_FAULT` is `fail-` and `point` (a disk filling up).
#[inline]
pub(crate) fn error_at(point: &str) -> std::io::Result<()> {
    #[cfg(feature = "fault-injection")]
    if let Ok(v) = std::env::var("TOME_TEST_SAVE_FAULT") {
        if v.strip_prefix("fail-") == Some(point) {
            return Err(std::io::Error::other(
                "injected fault (TOME_TEST_SAVE_FAULT)",
            ));
        }
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = point;
    Ok(())
}

/// Sleeps as long as `TOME_TEST_JOURNAL_SYNC_DELAY_MS` says, before a journal sync.
#[inline]
pub(crate) fn slow_journal_sync() {
    #[cfg(feature = "fault-injection")]
    {
        static DELAY: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        let ms = *DELAY.get_or_init(|| {
            std::env::var("TOME_TEST_JOURNAL_SYNC_DELAY_MS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        });
        if ms > 0 {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
}

/// Waits as long as `TOME_TEST_SLOW_SEARCH` (`pattern:ms`) says before a search for
/// `pattern`, in short steps, returning early when `control` is cancelled.
#[inline]
pub fn slow_search(pattern: &str, control: &crate::Control) {
    #[cfg(feature = "fault-injection")]
    {
        static SLOW: std::sync::OnceLock<Option<(String, u64)>> = std::sync::OnceLock::new();
        let slow = SLOW.get_or_init(|| {
            let v = std::env::var("TOME_TEST_SLOW_SEARCH").ok()?;
            let (pattern, ms) = v.rsplit_once(':')?;
            Some((pattern.into(), ms.parse().ok()?))
        });
        if let Some((slow_pattern, ms)) = slow {
            if slow_pattern == pattern {
                let until = std::time::Instant::now() + std::time::Duration::from_millis(*ms);
                while std::time::Instant::now() < until && !control.is_cancelled() {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
        }
    }
    #[cfg(not(feature = "fault-injection"))]
    let _ = (pattern, control);
}

/// `m` with the windows `TOME_TEST_SEARCH_WINDOW` (`window:overlap`) says, if set.
#[inline]
pub fn search_windows(m: crate::Matcher) -> crate::Matcher {
    #[cfg(feature = "fault-injection")]
    {
        static WINDOWS: std::sync::OnceLock<Option<(usize, usize)>> = std::sync::OnceLock::new();
        let w = WINDOWS.get_or_init(|| {
            let v = std::env::var("TOME_TEST_SEARCH_WINDOW").ok()?;
            let (window, overlap) = v.split_once(':')?;
            Some((window.parse().ok()?, overlap.parse().ok()?))
        });
        if let Some((window, overlap)) = *w {
            return m.with_windows(window, overlap);
        }
    }
    m
}

/// Sleeps after the line index of `path` counted `bytes` more bytes, as long as
/// `TOME_TEST_SLOW_INDEX` (`name:ms-per-MiB`) says for a file of that name. (Only in test
/// builds: the index builder calls it under the feature.)
#[cfg(feature = "fault-injection")]
pub(crate) fn slow_index(path: &std::path::Path, bytes: usize) {
    static SLOW: std::sync::OnceLock<Option<(std::ffi::OsString, u64)>> =
        std::sync::OnceLock::new();
    let slow = SLOW.get_or_init(|| {
        let v = std::env::var("TOME_TEST_SLOW_INDEX").ok()?;
        let (name, ms) = v.rsplit_once(':')?;
        Some((name.into(), ms.parse().ok()?))
    });
    if let Some((name, ms)) = slow {
        if path.file_name() == Some(name.as_os_str()) {
            let us = (bytes as u64).saturating_mul(*ms) * 1000 / (1 << 20);
            std::thread::sleep(std::time::Duration::from_micros(us));
        }
    }
}
