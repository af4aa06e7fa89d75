//! Every call into the operating system that Rust's standard library does not wrap: file
//! mappings, extent sharing, kernel copies, file-system queries, process and user ids, file
//! times; and the small file-system helpers built on them.
//!
//! This module and [`crate::guard`] (the SIGBUS handler) are the only places with `unsafe`.
//! Every function here has a safe signature: it takes open descriptors (`&File`, `&Mmap`) or
//! paths, and returns plain values or `io::Result`. It knows nothing of documents, pieces or
//! the engine's [`Error`](crate::Error); callers turn its answers into those.
//!
//! # Safety
//!
//! The unsafe blocks fall into three kinds, each justified where it stands:
//!
//! * **Mappings** ([`map_read_only`], [`remap_fixed`], [`release_pages`]). The engine maps
//!   original files read-only and shared and never writes through the mapping. Another process
//!   may still change the file underneath: an in-place write changes the bytes seen (noticed by
//!   [`Source::disk_change`](crate::Source::disk_change)), and a truncation makes reads of lost
//!   pages fault with SIGBUS, which [`crate::guard`] contains. Slices borrowed from a mapping stay
//!   valid as long as the mapping lives: [`remap_fixed`] replaces pages by pages holding the
//!   same bytes, and [`release_pages`] only drops page-table entries.
//! * **Calls that fill a struct** (`fstatfs`, `statvfs`): the struct is read only when the call
//!   succeeded.
//! * **Calls on descriptors and paths** (`ioctl(FICLONE)`, `copy_file_range`, `futimens`,
//!   `faccessat`, `geteuid`, `sysconf`): the descriptors are borrowed for the duration of the
//!   call; paths are NUL-terminated copies.
//!
//! Costs: each function is one or two system calls, apart from [`kernel_copy`] (in proportion
//! to the bytes copied, done by the kernel) and [`read_fully_at`] (the bytes read).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// Makes the C allocator give freed memory back to the system: with glibc, allocations of
/// 256 KiB and more always come from their own mapping (unmapped when freed) and at most four
/// arenas hold the small ones. Without it, glibc raises its mapping threshold each time such a
/// buffer is freed, after which the search windows (4 MiB) and plan buffers of every
/// whole-document scan come from arenas that keep them: a server open for hours, running
/// scans on many threads, kept hundreds of MiB it no longer used (the server soak measured
/// RssAnon growing steadily). Call once, first thing in `main`, before other threads start.
/// No effect with other C libraries.
pub fn return_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters (plain integers, valid values); called
    // before any other thread exists, as glibc's manual asks.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// Gives the memory the C allocator holds free back to the system, now: for after a
/// whole-document change (a replace-all of a million matches on 1 GiB frees ~500 MiB of plan
/// and tree buffers, which glibc's arenas kept: RssAnon stayed at 565 MiB; after this, 54 MiB).
/// Cost: a walk of the arenas' free lists, about a millisecond; not for every edit. No effect
/// with other C libraries.
pub fn trim_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of the allocator's own arenas to the kernel;
    // it takes the arenas' locks itself and leaves every live allocation where it is.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Maps `len` bytes of `file` from `offset` (a multiple of the page size) read-only and shared.
pub(crate) fn map_read_only(file: &File, offset: usize, len: usize) -> io::Result<Mmap> {
    // SAFETY: the mapping is read-only (PROT_READ) and shared; the engine never writes through
    // it. Another process may still change the file underneath: an in-place write changes the
    // bytes we see (detected by `disk_change`), and a truncation makes reads of lost pages fault
    // (SIGBUS), which `guard.rs` contains. All reads go through `source.rs` and `block.rs`.
    unsafe {
        memmap2::MmapOptions::new()
            .offset(offset as u64)
            .len(len)
            .map(file)
    }
}

/// Replaces `len` bytes of `map` from `at` (both multiples of the page size) by a read-only
/// shared mapping of `file` from `offset` (a multiple of the page size), at the same addresses.
/// The caller guarantees that `file` holds there the same bytes as the file `map` was made of
/// (a copy of that range).
pub(crate) fn remap_fixed(
    map: &Mmap,
    at: usize,
    len: usize,
    file: &File,
    offset: u64,
) -> io::Result<()> {
    let page = page_size();
    if !at.is_multiple_of(page)
        || !offset.is_multiple_of(page as u64)
        || at.checked_add(len).is_none_or(|e| e > map.len())
    {
        return Err(io::Error::other(
            "remap outside the mapping or not page aligned",
        ));
    }
    let offset = libc::off_t::try_from(offset).map_err(io::Error::other)?;
    // SAFETY: `map` is a live mapping we own, from `as_ptr()` for `len()` bytes (page aligned:
    // it was made at a page-aligned offset); `[at, at + len)` lies inside it (checked above)
    // and starts at a page boundary. MAP_FIXED replaces exactly those pages with a read-only
    // shared mapping of `file`, whose bytes there equal the old ones (the caller copied them),
    // so slices borrowed from the range keep reading the same content and memmap2's later
    // munmap of the whole range unmaps the new pages too. `file` stays open in the source for
    // as long as the mapping lives (not required by mmap, but keeps the intent clear).
    let p = unsafe {
        libc::mmap(
            map.as_ptr().add(at) as *mut libc::c_void,
            len,
            libc::PROT_READ,
            libc::MAP_SHARED | libc::MAP_FIXED,
            file.as_raw_fd(),
            offset,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// What [`release_pages`] aligns its ranges to: the size a page-table entry one level up maps
/// (2 MiB on x86-64 and arm64 with 4 KiB pages).
const RELEASE_ALIGN: usize = 2 << 20;

/// Tells the kernel we are done with `len` bytes of `map` from `offset` for now
/// (`MADV_DONTNEED`): it drops the page-table entries, the pages stay in the page cache.
/// Best effort.
///
/// The range is moved down to [`RELEASE_ALIGN`] boundaries of the address space (its end stays
/// where it is only at the mapping's end): the kernel maps large page-cache folios of a big
/// file with one entry per 2 MiB, and dropping part of such an entry splits it into 512 (with a
/// TLB shootdown on every core), which made the drops a fifth of a whole-file count's time.
/// Scans release behind them in order, so the few pages before an unaligned end are dropped
/// by the next call, whose start moves down over them; dropping pages that someone still reads
/// only costs that reader a minor fault.
pub(crate) fn release_pages(map: &Mmap, offset: usize, len: usize) {
    let base = map.as_ptr() as usize;
    let down = |at: usize| (((base + at) & !(RELEASE_ALIGN - 1)).max(base) - base).min(map.len());
    let start = down(offset);
    let end = if offset.saturating_add(len) >= map.len() {
        map.len()
    } else {
        down(offset + len)
    };
    if end <= start {
        return;
    }
    // SAFETY: the mapping is a read-only, shared mapping of a file. MADV_DONTNEED on it
    // only drops page-table entries; the next access faults the same bytes back in from
    // the page cache, so slices borrowed elsewhere keep reading the file's contents (the
    // hazard memmap2 warns of concerns private or anonymous mappings, which lose data).
    let _ = unsafe {
        map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, end - start)
    };
}

/// Asks the kernel to start reading `len` bytes of `map` from `offset` into the page cache now
/// (`MADV_WILLNEED`: asynchronous read-ahead), so that a sequential scan arriving there later
/// finds them in memory instead of waiting for each fault's read-ahead window. Best effort; no
/// effect on what the mapping shows.
pub(crate) fn prefetch_pages(map: &Mmap, offset: usize, len: usize) {
    let len = len.min(map.len().saturating_sub(offset));
    if len > 0 {
        let _ = map.advise_range(memmap2::Advice::WillNeed, offset, len);
    }
}

/// Marks the calling thread as background bulk work: `SCHED_BATCH`, its nice value kept. The
/// scheduler then never lets it preempt a thread that wakes up (the editor's, the server's
/// requests), though over time it gets its fair share of a core, as before. It also leaves a
/// realtime policy inherited from the process (`chrt -f`, which every thread inherits): a
/// CPU-bound loop at realtime priority never gives its core to threads of the same priority,
/// and on two cores the line index's scan starved the editor's first screen that way (it came
/// up to ~900 ms late in `scripts/bench-nvim-first-screen.py --rt`). Best effort: a failure
/// leaves the thread as it was. Cost: one system call. No effect outside Linux.
pub(crate) fn mark_background_thread() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: with pid 0, sched_setscheduler changes only the calling thread's policy;
        // `param` is a valid, initialised struct that the call only reads.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    }
}

/// The size of a memory page.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).unwrap_or(4096).max(1)
}

/// The type of the file system `file` lives on (`f_type` of `fstatfs`), or `None` if the call
/// fails.
fn file_system_type(file: &File) -> Option<u64> {
    let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: the descriptor is open and `st` points to writable memory of the right type;
    // fstatfs only writes into it, and we read it only when it succeeded.
    if unsafe { libc::fstatfs(file.as_raw_fd(), st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstatfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    // The field's type differs between platforms (signed on some).
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_type as u64)
}

/// Filesystems that can share extents between files (`FICLONE`): XFS (with reflink, the
/// default since 2019), btrfs, bcachefs.
pub(crate) fn can_reflink(file: &File) -> bool {
    const BCACHEFS_SUPER_MAGIC: u64 = 0xca45_1a4e;
    let Some(kind) = file_system_type(file) else {
        return false;
    };
    kind == libc::XFS_SUPER_MAGIC as u64
        || kind == libc::BTRFS_SUPER_MAGIC as u64
        || kind == BCACHEFS_SUPER_MAGIC
}

/// True for a file of procfs, sysfs and the other kernel interfaces, whose files report a
/// size of 0 (or a meaningless one) and produce their content when read.
pub(crate) fn on_kernel_file_system(file: &File) -> bool {
    const KERNEL_FS: [i64; 11] = [
        0x9fa0,      // proc
        0x6265_6572, // sysfs
        0x6462_6720, // debugfs
        0x7472_6163, // tracefs
        0x7363_6673, // securityfs
        0x6265_6570, // configfs
        0xde5e_81e4, // efivarfs
        0x0027_e0eb, // cgroup
        0x6367_7270, // cgroup2
        0xcafe_4a11, // bpf
        0x6165_676c, // pstore
    ];
    file_system_type(file).is_some_and(|kind| KERNEL_FS.contains(&(kind as i64)))
}

/// Makes `to` share `from`'s extents (`FICLONE`: an instant whole-file copy on XFS, btrfs,
/// bcachefs). False where the filesystem cannot.
pub(crate) fn reflink(from: &File, to: &File) -> bool {
    // SAFETY: FICLONE takes the source descriptor as its argument; both descriptors are open
    // for the duration of the call.
    unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) == 0 }
}

/// Copies with `copy_file_range`; returns how much it copied (the caller writes the rest from
/// memory), 0 where the kernel or filesystem cannot do it.
pub(crate) fn kernel_copy(src: &File, from: u64, dst: &File, to: u64, len: u64) -> io::Result<u64> {
    let mut done = 0u64;
    while done < len {
        let mut off_in = (from + done) as libc::loff_t;
        let mut off_out = (to + done) as libc::loff_t;
        let chunk = (len - done).min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the duration of the call, and the offsets are
        // passed by pointer to locals, so the files' own positions are not used or changed.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                dst.as_raw_fd(),
                &mut off_out,
                chunk,
                0,
            )
        };
        if n > 0 {
            done += n as u64;
            continue;
        }
        if n == 0 {
            break; // The source is shorter than expected: let the caller's write report it.
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP | libc::EPERM) => {
                break
            }
            _ => return Err(err),
        }
    }
    Ok(done)
}

/// Reads into `buf` from `offset` until it is full or the file ends; returns the bytes read.
pub(crate) fn read_fully_at(file: &File, buf: &mut [u8], offset: usize) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], (offset + done) as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Gives `file` the access and modification times of `meta`, to the nanosecond.
pub(crate) fn set_times(file: &File, meta: &std::fs::Metadata) -> io::Result<()> {
    let times = [
        libc::timespec {
            tv_sec: meta.atime(),
            tv_nsec: meta.atime_nsec(),
        },
        libc::timespec {
            tv_sec: meta.mtime(),
            tv_nsec: meta.mtime_nsec(),
        },
    ];
    // SAFETY: the descriptor is open and `times` is an array of two valid timespecs.
    if unsafe { libc::futimens(file.as_raw_fd(), times.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Bytes available to this user on the file system holding `dir` (`statvfs`), or `None` where
/// that cannot be told: the call failed, or the file system reports no blocks at all (kernel
/// file systems such as /proc and /sys: they are not full, writing there is refused for other
/// reasons, which the write itself reports).
pub(crate) fn free_space(dir: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the
    // right type; statvfs only writes into it and we read it only when it succeeded.
    let ok = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } == 0;
    if !ok {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    if st.f_blocks == 0 {
        return None;
    }
    // The field types differ between platforms (u32 on some 32-bit targets).
    #[allow(clippy::unnecessary_cast)]
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// True if this process may write the file at `path`, as `vim` decides `[RO]`: the OS grants
/// write access to our effective user (`faccessat(W_OK, AT_EACCESS)`; so a root-owned 0644
/// file opened by another user is read-only) and some write bit is set (root may write
/// anything, but a 0444 file is still shown read-only).
pub(crate) fn writable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated path; faccessat only reads it.
    let granted =
        unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) } == 0;
    granted && std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o222 != 0)
}

/// The effective user id of this process (whose files it creates, and as whom it is allowed).
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// True if process `pid` may still be using files named after it: it is us, or it exists.
pub(crate) fn process_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Makes a name change in `dir` durable (fsync of the directory). Best effort: a failure does
/// not undo the change.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The directory `target` lives in (`.` for a bare file name).
pub(crate) fn directory_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
