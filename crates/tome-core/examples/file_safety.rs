//! Scripted benchmark of the file-safety paths, on one generated file in one directory (run it
//! on ext4 and on XFS to compare): open + first 100 lines (a reflink snapshot is taken at open
//! where the filesystem can), a rename save and an in-place save (the file has a second hard
//! link) with 1000 scattered edits, and `cp` of the same file as the peer.
//!
//! Usage: `cargo run --release -p tome-core --example file_safety -- <size> <dir>` (size like
//! 4G; `EDITS=n` changes the number of edits). Prints Markdown rows; `scripts/bench-peers.sh` does not run it (it needs two copies of
//! the file's size free on non-reflink filesystems).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tome_core::{Control, Document};

mod common;
use common::{human, median, ms, open_first_100, parse_size};

/// Opens `path`, makes 1000 scattered edits and times the save.
fn edit_count() -> usize {
    std::env::var("EDITS")
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(1000)
}

fn save_with_edits(path: &Path, seed: u64) -> Duration {
    let control = Control::new();
    let mut doc = Document::open(path).unwrap();
    doc.wait_for_index(&control).unwrap();
    let mut rng = tome_gen::Rng::new(seed);
    for i in 0..edit_count() {
        let at = rng.below(doc.len());
        doc.insert(at, format!("<edit {i}>")).unwrap();
    }
    let t = Instant::now();
    doc.save(None, &control).unwrap();
    t.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let size = parse_size(args.get(1).map_or("1G", String::as_str));
    let dir = Path::new(args.get(2).map_or("bench-data", String::as_str));
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("safety-{size}.log"));
    let link = dir.join(format!("safety-{size}.link"));
    let copy = dir.join(format!("safety-{size}.cp"));
    let _ = std::fs::remove_file(&link);
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size,
            ..Default::default()
        },
        &path,
    )
    .expect("generate");
    let (open, snapshot) = open_first_100(&path, 11);
    println!("| operation ({}) | Tome | peer | ratio |", human(size));
    println!("| --- | --- | --- | --- |");
    println!(
        "| open + first 100 lines (median of 11; snapshot: {snapshot}) | {} | | |",
        ms(open)
    );
    let (mut renames, mut in_place, mut cps) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..3 {
        let _ = std::fs::remove_file(&link);
        renames.push(save_with_edits(&path, round));
        std::fs::hard_link(&path, &link).unwrap();
        in_place.push(save_with_edits(&path, 100 + round));
        std::fs::remove_file(&link).unwrap();
        // The peer writes every byte and makes it durable, as a save does: no reflink, then
        // `sync FILE` (fsync).
        let t = Instant::now();
        let ok = Command::new("cp")
            .arg("--reflink=never")
            .arg(&path)
            .arg(&copy)
            .status()
            .unwrap()
            .success()
            && Command::new("sync").arg(&copy).status().unwrap().success();
        cps.push(t.elapsed());
        assert!(ok, "cp failed");
        let _ = std::fs::remove_file(&copy);
    }
    let (tr, ti, tc) = (median(renames), median(in_place), median(cps));
    let ratio = |a: Duration| a.as_secs_f64() / tc.as_secs_f64();
    println!(
        "| save by rename, {} edits, vs `cp --reflink=never` + `sync` (median of 3) | {} | {} | {:.2}x |",
        edit_count(),
        ms(tr),
        ms(tc),
        ratio(tr)
    );
    println!(
        "| save in place (hard link), {} edits, vs `cp --reflink=never` + `sync` (median of 3) | {} | {} | {:.2}x |",
        edit_count(),
        ms(ti),
        ms(tc),
        ratio(ti)
    );
    let _ = std::fs::remove_file(&path);
}
