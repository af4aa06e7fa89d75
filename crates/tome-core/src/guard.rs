//! Containment of SIGBUS on our file mappings.
//!
//! A mapping is not a snapshot: if another program truncates the file, the next read of a page
//! past the new end raises SIGBUS, whose default action kills the process. Tome registers every
//! mapping of an original file here; a SIGBUS handler checks whether the faulting address lies in
//! one of them and, if so, maps an anonymous zero page over the faulting page (`MAP_FIXED`, as
//! systemd's `sigbus.c` does) and marks that mapping damaged, so the read completes (with zeros)
//! and the engine, which checks [`Guard::is_damaged`] after reading, reports "file changed on
//! disk" instead of showing the zeros. Faults outside our mappings go to the SIGBUS action that
//! was installed before ours (a host process's handler, a runtime's, a sanitizer's), called as
//! it asked to be called (`SA_SIGINFO` or not); if there was none, the default action is
//! restored and the faulting read runs again, so the process dies of SIGBUS as it would have
//! without us. Install any handler of your own before opening the first document, or chain to
//! ours the same way.
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

/// The SIGBUS action installed before ours, read by the handler for faults that are not ours.
/// Set once, before our handler is installed, and never changed after.
static PREVIOUS: OnceLock<Previous> = OnceLock::new();

/// A copy of a `sigaction`; only its handler address and flags are used.
struct Previous {
    handler: usize,
    flags: libc::c_int,
}

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
    // SAFETY: sigaction with a null new action only writes the current one into `old`, a
    // zeroed sigaction we own.
    let previous = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) != 0 {
            return false;
        }
        old
    };
    let _ = PREVIOUS.set(Previous {
        handler: previous.sa_sigaction,
        flags: previous.sa_flags,
    });
    // SAFETY: we fill a zeroed sigaction with a valid handler of the SA_SIGINFO signature and an
    // empty mask, then install it. The previous action was saved above, for `on_sigbus`.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigbus as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()) == 0
    }
}

/// Passes a fault that is not ours to the previous action; returns false if there is none to
/// call (it was the default, or ignored).
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) -> bool {
    let Some(previous) = PREVIOUS.get() else {
        return false;
    };
    if previous.handler == libc::SIG_DFL || previous.handler == libc::SIG_IGN {
        return false;
    }
    if previous.flags & libc::SA_SIGINFO != 0 {
        // SAFETY: with SA_SIGINFO, the previous action's handler was installed as a function
        // of this signature; we call it with the arguments the kernel gave us.
        let handler: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
            unsafe { std::mem::transmute(previous.handler) };
        handler(sig, info, ctx);
    } else {
        // SAFETY: without SA_SIGINFO, the previous action's handler was installed as a function
        // taking the signal number.
        let handler: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(previous.handler) };
        handler(sig);
    }
    true
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
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
    // Not ours (or the page could not be replaced): the previous action's, if there was one.
    if chain(sig, info, ctx) {
        return;
    }
    // None: restore the default action and return; the faulting instruction runs again and
    // the process dies of SIGBUS as it would have.
    // SAFETY: signal() with SIG_DFL is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGBUS, libc::SIG_DFL);
    }
}
