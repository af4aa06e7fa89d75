//! Scripted benchmark against real peers, all measured in one run on the same file:
//! open + first 100 lines, full line index vs `wc -l`, literal search vs `rg -c`, save with
//! scattered edits vs `cp`, edit latency percentiles over 1 million edits, viewport after them,
//! private memory, and ropey loading the same file.
//!
//! Usage: `cargo run --release -p tome-core --example peers -- <size> <dir>` (size like 4G).
//! Prints a Markdown report; `scripts/bench-peers.sh` wraps it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use tome_core::{ColumnWindow, Control, Document, Edit, Matcher, Query};

mod common;
use common::{human, median, ms, open_first_100, parse_size};

const NEEDLE: &str = "#TOME-NEEDLE#";

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p) as usize]
}

fn us(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn run_peer(cmd: &str, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(cmd).args(args).output().expect("peer runs");
    let d = t.elapsed();
    assert!(out.status.success() || cmd == "rg", "{cmd} failed");
    d
}

fn anon_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("Anonymous:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn rss_kib() -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn ensure_file(path: &Path, size: u64) {
    if std::fs::metadata(path).map(|m| m.len()).ok() == Some(size) {
        return;
    }
    let cfg = tome_gen::GenConfig {
        size,
        needle: Some(NEEDLE.into()),
        needle_every: 1_000_000,
        ..Default::default()
    };
    tome_gen::write_file(&cfg, path).expect("generate");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--ropey") {
        return ropey_load(&args[2]);
    }
    let size = parse_size(args.get(1).map_or("1G", |s| s.as_str()));
    let dir = PathBuf::from(args.get(2).map_or("bench-data", |s| s.as_str()));
    std::fs::create_dir_all(&dir).unwrap();
    let big = dir.join(format!("bench-{}.log", size));
    let small = dir.join("bench-100M.log");
    ensure_file(&big, size);
    ensure_file(&small, 100 << 20);
    let big_s = big.to_str().unwrap();
    // Warm the page cache for everyone alike.
    run_peer("cat", &[big_s, "/dev/null"]);
    let _ = Command::new("sh")
        .arg("-c")
        .arg(format!("cat {big_s} > /dev/null"))
        .status();
    let control = Control::new();

    println!("| measure | Tome | peer | ratio |\n| --- | --- | --- | --- |");
    let (o_small, o_big) = (open_first_100(&small, 21).0, open_first_100(&big, 21).0);
    println!(
        "| open + first 100 lines, 100 MiB / {} (median of 21) | {} / {} | | |",
        human(size),
        ms(o_small),
        ms(o_big)
    );

    let mut index = Vec::new();
    let mut wc = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut doc = Document::open(&big).unwrap();
        doc.wait_for_index(&control).unwrap();
        index.push(t.elapsed());
        wc.push(run_peer("wc", &["-l", big_s]));
    }
    let (ti, tw) = (median(index), median(wc));
    println!(
        "| full line index vs `wc -l` (median of 5) | {} | {} | {:.2}x |",
        ms(ti),
        ms(tw),
        ti.as_secs_f64() / tw.as_secs_f64()
    );

    let mut doc = Document::open(&big).unwrap();
    doc.wait_for_index(&control).unwrap();
    let m = Matcher::new(&Query {
        pattern: NEEDLE.into(),
        regex: false,
        case_insensitive: false,
    })
    .unwrap();
    let mut ours = Vec::new();
    let mut rg = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let n = doc.view().count_matches(&m, &control).unwrap();
        ours.push(t.elapsed());
        assert!(n > 0);
        rg.push(run_peer("rg", &["-c", "--no-mmap", NEEDLE, big_s]));
    }
    let (ts, tr) = (median(ours), median(rg));
    println!(
        "| literal search for a rare string vs `rg -c` (median of 5) | {} | {} | {:.2}x |",
        ms(ts),
        ms(tr),
        ts.as_secs_f64() / tr.as_secs_f64()
    );

    // Save with scattered edits vs cp, same filesystem.
    let mut rng = tome_gen::Rng::new(0x1234_5678_9ABC_DEF1);
    let edits: Vec<Edit> = {
        let mut offs: Vec<usize> = (0..1000).map(|_| rng.below(doc.len())).collect();
        offs.sort();
        offs.dedup();
        offs.into_iter().map(|o| Edit::insert(o, "edit")).collect()
    };
    doc.apply(edits).unwrap();
    let out = dir.join("bench-saved.log");
    let copy = dir.join("bench-copy.log");
    let mut saves = Vec::new();
    let mut cps = Vec::new();
    for _ in 0..3 {
        let _ = std::fs::remove_file(&out);
        let _ = std::fs::remove_file(&copy);
        let job = doc.begin_save(Some(&out)).unwrap();
        let t = Instant::now();
        job.run(&control).unwrap();
        saves.push(t.elapsed());
        cps.push(run_peer("cp", &[big_s, copy.to_str().unwrap()]));
    }
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&copy);
    let (tsv, tcp) = (median(saves), median(cps));
    println!(
        "| save with 1000 scattered edits vs `cp` (median of 3) | {} | {} | {:.2}x |",
        ms(tsv),
        ms(tcp),
        tsv.as_secs_f64() / tcp.as_secs_f64()
    );
    drop(doc);

    // Edits: 1 million random inserts and deletes; latency percentiles; memory after 100 000.
    let anon_before = anon_kib();
    let mut doc = Document::open(&big).unwrap();
    doc.wait_for_index(&control).unwrap();
    let mut lat = Vec::with_capacity(1_000_000);
    let mut mem_100k = 0;
    for i in 0..1_000_000 {
        let at = rng.below(doc.len());
        let t = Instant::now();
        if i % 3 == 2 {
            doc.delete(at..(at + 1 + rng.below(8)).min(doc.len()))
                .unwrap();
        } else {
            doc.insert(at, "x").unwrap();
        }
        lat.push(t.elapsed());
        if i % 64 == 0 {
            doc.break_undo_group();
        }
        if i == 99_999 {
            mem_100k = anon_kib().saturating_sub(anon_before);
        }
    }
    let mut last = lat[900_000..].to_vec();
    println!(
        "| insert/delete at random places: p50 / p99 (all 1M) / p99 (last 100k) | {} / {} / {} | | |",
        us(pct(&mut lat, 0.5)),
        us(pct(&mut lat, 0.99)),
        us(pct(&mut last, 0.99))
    );
    let lines = doc.view().line_count().known;
    let mut vp = Vec::new();
    for _ in 0..1000 {
        let first = rng.below(lines - 100);
        let t = Instant::now();
        let v = doc
            .view()
            .lines(first, 100, Some(ColumnWindow { start: 0, len: 200 }))
            .unwrap();
        vp.push(t.elapsed());
        assert_eq!(v.len(), 100);
    }
    println!(
        "| 100-line viewport after 1M edits: p50 / p99 ({} pieces, depth {}) | {} / {} | | |",
        doc.piece_count(),
        doc.tree_depth(),
        us(pct(&mut vp, 0.5)),
        us(pct(&mut vp, 0.99))
    );
    println!(
        "| private (anonymous) memory after 100 000 edits on {} | {} MiB | | |",
        human(size),
        mem_100k / 1024
    );
    println!(
        "| private (anonymous) memory after 1 000 000 edits (history kept) | {} MiB | | |",
        anon_kib().saturating_sub(anon_before) / 1024
    );
    drop(doc);

    // ropey loading the same file, in a fresh process so that its memory is measured alone.
    let exe = std::env::current_exe().unwrap();
    let out = Command::new(exe)
        .args(["--ropey", big.to_str().unwrap()])
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
}

/// `--ropey FILE`: load FILE into a ropey Rope and report time and memory growth.
fn ropey_load(path: &str) {
    let rss0 = rss_kib();
    let t = Instant::now();
    let rope =
        ropey::Rope::from_reader(std::io::BufReader::new(std::fs::File::open(path).unwrap()))
            .unwrap();
    let tr = t.elapsed();
    let grown = rss_kib().saturating_sub(rss0);
    println!(
        "| ropey (the peer): load the same file into memory | {} | {} MiB resident, {} lines | |",
        ms(tr),
        grown / 1024,
        rope.len_lines()
    );
}
