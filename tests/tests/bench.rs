//! Round-trip latency of a 60-line `tome/viewport` over stdio, at the start, middle and end
//! of a big generated file, before and after 100 000 edits. Not part of the suite (ignored);
//! run it with
//!
//! ```text
//! cargo build --release -p tome
//! TOME_BENCH_SIZE=4G cargo test --release -p tome-e2e --test bench -- --ignored --nocapture
//! ```

use std::time::{Duration, Instant};

use serde_json::json;
use tome_e2e::Server;

fn size_from_env() -> u64 {
    let s = std::env::var("TOME_BENCH_SIZE").unwrap_or_else(|_| "4G".into());
    let (num, mult) = match s.chars().last() {
        Some('G') => (&s[..s.len() - 1], 1u64 << 30),
        Some('M') => (&s[..s.len() - 1], 1 << 20),
        _ => (&s[..], 1),
    };
    num.parse::<u64>().expect("TOME_BENCH_SIZE like 4G, 512M") * mult
}

fn percentiles(mut d: Vec<Duration>) -> (Duration, Duration) {
    d.sort();
    (d[d.len() / 2], d[d.len() * 99 / 100])
}

fn measure(s: &mut Server, doc: u64, first: u64, label: &str) {
    let mut times = Vec::new();
    for i in 0..1000 {
        let t = Instant::now();
        let v = s
            .request(
                "tome/viewport",
                json!({"doc": doc, "first": first + (i % 7), "count": 60}),
            )
            .unwrap();
        times.push(t.elapsed());
        assert!(!v["lines"].as_array().unwrap().is_empty());
    }
    let (p50, p99) = percentiles(times);
    println!(
        "{label:<28} p50 {:>7.1} µs   p99 {:>7.1} µs",
        p50.as_secs_f64() * 1e6,
        p99.as_secs_f64() * 1e6
    );
}

#[test]
#[ignore]
fn bench_viewport_round_trip() {
    let size = size_from_env();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.log");
    let t = Instant::now();
    let stats = tome_gen::write_file(
        &tome_gen::GenConfig {
            size,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    println!(
        "generated {} bytes, {} lines in {:?}",
        stats.bytes,
        stats.lines,
        t.elapsed()
    );
    let mut s = Server::ready();
    let t = Instant::now();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    println!("open answered in {:?}", t.elapsed());
    let last = stats.lines - 1;
    s.request(
        "tome/viewport",
        json!({"doc": doc, "first": last, "count": 1}),
    )
    .unwrap();
    println!(
        "viewport at the last line answered after {:?} (index wait)",
        t.elapsed()
    );
    let lines = stats.lines - 70;
    measure(&mut s, doc, 0, "start");
    measure(&mut s, doc, lines / 2, "middle");
    measure(&mut s, doc, lines - 10, "end");
    // 100 000 single-character edits spread over the file, pipelined.
    let t = Instant::now();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut batch = Vec::new();
    let mut ids = Vec::new();
    for version in 0..100_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let at = x % stats.bytes;
        let (id, b) = s.request_bytes(
            "tome/edit",
            json!({"doc": doc, "version": version, "edits": [{"offsets": {"start": at, "end": at}, "text": "#"}]}),
        );
        ids.push(id);
        batch.extend(b);
        if batch.len() > 1 << 20 {
            s.write_raw(&batch);
            batch.clear();
        }
    }
    s.write_raw(&batch);
    for id in ids {
        s.wait(id).unwrap();
    }
    println!("100000 pipelined edits applied in {:?}", t.elapsed());
    measure(&mut s, doc, 0, "start, after 100k edits");
    measure(&mut s, doc, lines / 2, "middle, after 100k edits");
    measure(&mut s, doc, lines - 10, "end, after 100k edits");
    assert_eq!(s.shutdown(), Some(0));
}
