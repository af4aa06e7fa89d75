//! Containment of SIGBUS on our file mappings.
//!
//! A mapping is not a snapshot: if another program truncates the file, the next read of a page
//! past the new end raises SIGBUS, whose default action kills the process. Tome registers every
//! mapping of an original file here; a SIGBUS handler checks whether the faulting address lies in
//! one of them and, if so, maps an anonymous zero page over the faulting page (`MAP_FIXED`, as
//! systemd's `sigbus.c` does) and marks that mapping damaged, so the read completes (with zeros)
//! and the engine, which checks [`Guard::is_damaged`] after reading, reports "file changed on
//! disk" instead of showing the zeros. Faults outside our mappings get the previous behaviour
//! (the default action: the process dies, as it would have without us).
//!
//! The handler only loads atomics and calls `mmap`, which is async-signal-safe. Slots are a fixed
//! array so that the handler never takes a lock or allocates.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

const SLOTS: usize = 4096;

struct Slot {
    start: AtomicUsize,
    end: AtomicUsize,
    damaged: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    damaged: AtomicBool::new(false),
};

static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(4096);
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// A registered mapping. Unregisters itself when dropped (before the mapping is unmapped: keep
/// it declared after the mapping in its owner, or drop it first).
#[derive(Debug)]
pub(crate) struct Guard {
    slot: usize,
}

impl Guard {
    /// Registers `[start, start + len)` and makes sure the handler is installed. `None` when the
    /// handler could not be installed or all slots are taken: the mapping then works unguarded.
    pub fn register(start: usize, len: usize) -> Option<Guard> {
        if !*INSTALLED.get_or_init(install) || len == 0 {
            return None;
        }
        for (i, slot) in REGISTRY.iter().enumerate() {
            if slot
                .start
                .compare_exchange(0, start, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                slot.damaged.store(false, Ordering::Release);
                slot.end.store(start + len, Ordering::Release);
                return Some(Guard { slot: i });
            }
        }
        None
    }

    /// True once a read of this mapping has faulted (the file shrank under it).
    pub fn is_damaged(&self) -> bool {
        REGISTRY[self.slot].damaged.load(Ordering::Acquire)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let slot = &REGISTRY[self.slot];
        slot.end.store(0, Ordering::Release);
        slot.damaged.store(false, Ordering::Release);
        slot.start.store(0, Ordering::Release);
    }
}

fn install() -> bool {
    // `page_size` answers 1 only where sysconf did not give a usable size: keep 4096 then.
    let page = crate::sys::page_size();
    if page > 1 {
        PAGE.store(page, Ordering::Release);
    }
    // SAFETY: we fill a zeroed sigaction with a valid handler of the SA_SIGINFO signature and an
    // empty mask, then install it; the previous action is not needed (see `on_sigbus`).
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
    }
}

extern "C" fn on_sigbus(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Acquire);
    for slot in REGISTRY.iter() {
        let start = slot.start.load(Ordering::Acquire);
        let end = slot.end.load(Ordering::Acquire);
        if start != 0 && addr >= start && addr < end {
            let base = addr & !(page - 1);
            // SAFETY: `base` is a page inside one of our registered read-only file mappings;
            // replacing that page with a private anonymous zero page (MAP_FIXED) keeps the
            // address range mapped, so the faulting read can complete. mmap is
            // async-signal-safe.
            let mapped = unsafe {
                libc::mmap(
                    base as *mut libc::c_void,
                    page,
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if mapped != libc::MAP_FAILED {
                slot.damaged.store(true, Ordering::Release);
                return;
            }
            break;
        }
    }
    // Not ours (or the page could not be replaced): restore the default action and return; the
    // faulting instruction runs again and the process dies of SIGBUS as it would have.
    // SAFETY: signal() with SIG_DFL is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}
