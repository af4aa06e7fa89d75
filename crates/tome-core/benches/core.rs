//! Criterion benchmarks of the engine's hot paths on a generated 256 MiB file (set
//! `TOME_BENCH_SIZE` in MiB for another size): open + first 100 lines, a 100-line viewport by
//! line number, line start lookup, and a random insert + delete pair on a document that already
//! carries 100 000 edits. The scripted comparison with real peers is `examples/peers.rs`.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use tome_core::{ColumnWindow, Control, Document};

fn file() -> (tempfile::TempDir, PathBuf) {
    let mib: u64 = std::env::var("TOME_BENCH_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.log");
    tome_gen::write_file(&tome_gen::GenConfig::sized(mib << 20), &path).unwrap();
    (dir, path)
}

fn benches(c: &mut Criterion) {
    let (_dir, path) = file();
    let window = Some(ColumnWindow { start: 0, len: 200 });
    c.bench_function("open + first 100 lines", |b| {
        b.iter(|| {
            let doc = Document::open(&path).unwrap();
            black_box(doc.view().lines(0, 100, window).unwrap());
        })
    });

    let mut doc = Document::open(&path).unwrap();
    doc.wait_for_index(&Control::new()).unwrap();
    let mut rng = tome_gen::Rng::new(0xDEAD_BEEF_1234_5678);
    for _ in 0..100_000 {
        let at = rng.below(doc.len());
        doc.insert(at, "x").unwrap();
        doc.break_undo_group();
    }
    let lines = doc.view().line_count().known;
    c.bench_function("viewport of 100 lines after 100k edits", |b| {
        b.iter(|| {
            black_box(
                doc.view()
                    .lines(rng.below(lines - 100), 100, window)
                    .unwrap(),
            )
        })
    });
    c.bench_function("line start lookup after 100k edits", |b| {
        b.iter(|| black_box(doc.view().line_start(rng.below(lines)).unwrap()))
    });
    c.bench_function("insert + delete at a random place after 100k edits", |b| {
        b.iter(|| {
            let at = rng.below(doc.len() - 1);
            doc.insert(at, "y").unwrap();
            doc.delete(at..at + 1).unwrap();
            doc.break_undo_group();
        })
    });
}

criterion_group! {
    name = core;
    config = Criterion::default().sample_size(30);
    targets = benches
}
criterion_main!(core);
