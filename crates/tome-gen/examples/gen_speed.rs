//! Measures `tome_gen` throughput: generation alone (into `io::sink`) and
//! writing a file (default: 2 GiB to `/tmp`), which is deleted afterwards.
//!
//! ```text
//! cargo run -p tome-gen --release --example gen_speed [GiB] [path]
//! ```

use std::time::Instant;
use tome_gen::{stats, write_file, GenConfig, DEFAULT_NEEDLE};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let gib: f64 = args.next().map_or(2.0, |s| s.parse().expect("size in GiB"));
    let path = args
        .next()
        .unwrap_or_else(|| "/tmp/tome-gen-speed.log".to_string());
    let cfg = GenConfig {
        size: (gib * (1u64 << 30) as f64) as u64,
        seed: 1,
        needle: Some(DEFAULT_NEEDLE.to_string()),
        needle_every: 100_000,
        ..GenConfig::default()
    };
    let gb = cfg.size as f64 / 1e9;

    let t = Instant::now();
    let s = stats(&cfg)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "generate only: {gb:.2} GB in {secs:.2} s = {:.2} GB/s ({} lines, {} needles)",
        gb / secs,
        s.lines,
        s.needles
    );

    let t = Instant::now();
    let result = write_file(&cfg, &path);
    let secs = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    let s2 = result?;
    assert_eq!(s, s2);
    println!(
        "write_file {path}: {gb:.2} GB in {secs:.2} s = {:.2} GB/s (file deleted)",
        gb / secs
    );
    Ok(())
}
