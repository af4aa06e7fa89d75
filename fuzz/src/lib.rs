//! Helpers shared by the fuzz targets in `fuzz_targets/`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static SCRATCH: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

extern "C" fn remove_scratch() {
    if let Ok(dirs) = SCRATCH.lock() {
        for d in dirs.iter() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A new scratch directory for this process, on tmpfs when there is one (saves and journals
/// fsync), removed when the process exits normally (after a crash it stays, with what the
/// crashing input left in it). Call once per target, from a `OnceLock`.
pub fn scratch_dir(prefix: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(base)
        .or_else(|_| tempfile::Builder::new().prefix(prefix).tempdir())
        .expect("a scratch directory")
        .keep();
    let mut dirs = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
    if dirs.is_empty() {
        // SAFETY: registers a plain `extern "C"` function with no arguments.
        unsafe { libc::atexit(remove_scratch) };
    }
    dirs.push(dir.clone());
    dir
}
