//! Tome's SIGBUS handler passes faults that are not in its own mappings to the handler that was
//! installed before it (a host process's, a runtime's), instead of replacing it. Its own process
//! (one test file): the handlers are process-wide.

use std::sync::atomic::{AtomicUsize, Ordering};

use tome_core::Document;

static FAULTS_SEEN: AtomicUsize = AtomicUsize::new(0);

/// The host's handler: counts the fault and maps a zero page over the faulting page, so the
/// read completes.
extern "C" fn host_handler(_sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to a SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let base = addr & !4095;
    // SAFETY: `base` is the page of the test's own mapping that faulted; a private anonymous
    // page over it (MAP_FIXED) keeps the range mapped so the read completes. mmap is
    // async-signal-safe.
    unsafe {
        libc::mmap(
            base as *mut libc::c_void,
            4096,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
            -1,
            0,
        );
    }
    FAULTS_SEEN.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_fault_outside_tome_mappings_reaches_the_previous_handler() {
    // SAFETY: a zeroed sigaction with a valid SA_SIGINFO handler and an empty mask.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = host_handler as *const () as usize;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut()),
            0
        );
    }
    let dir = tempfile::tempdir().unwrap();
    // Opening a document installs Tome's handler, on top of the host's.
    let doc_path = dir.path().join("doc.txt");
    std::fs::write(&doc_path, vec![b'x'; 1 << 16]).unwrap();
    let doc = Document::open(&doc_path).unwrap();
    assert_eq!(doc.view().read(0, 4).unwrap(), b"xxxx");

    // A mapping of the host's own, of a file then truncated: reading it faults.
    let other = dir.path().join("host.bin");
    std::fs::write(&other, vec![7u8; 1 << 16]).unwrap();
    let file = std::fs::File::open(&other).unwrap();
    // SAFETY: the test reads the mapping only through volatile reads below, and expects the
    // fault that the truncation causes.
    let map = unsafe { memmap2::Mmap::map(&file).unwrap() };
    assert_eq!(map[40_000], 7);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&other)
        .unwrap()
        .set_len(0)
        .unwrap();
    // SAFETY: the address is inside the live mapping; the page past the file's end faults and
    // the host's handler replaces it with zeros.
    let byte = unsafe { std::ptr::read_volatile(map.as_ptr().add(50_000)) };
    assert_eq!(byte, 0);
    assert_eq!(
        FAULTS_SEEN.load(Ordering::SeqCst),
        1,
        "the host's handler ran"
    );
    // Tome's own mapping is untouched by all this.
    assert_eq!(doc.view().read(0, 4).unwrap(), b"xxxx");
}
