//! Times the background line index against `wc -l` on one file (median of 7 each, interleaved).
//! Usage: `cargo run --release -p tome-core --example index_speed -- FILE`
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: index_speed FILE [once]");
    let control = tome_core::Control::new();
    if std::env::args().nth(2).as_deref() == Some("once") {
        // One index, its time in seconds (scripts/bench-cold.sh evicts the file before each).
        let t = Instant::now();
        let mut doc = tome_core::Document::open(path.as_ref()).unwrap();
        doc.wait_for_index(&control).unwrap();
        println!("{:.4}", t.elapsed().as_secs_f64());
        return;
    }
    let (mut ours, mut wc) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        let mut doc = tome_core::Document::open(path.as_ref()).unwrap();
        doc.wait_for_index(&control).unwrap();
        ours.push(t.elapsed());
        let t = Instant::now();
        std::process::Command::new("wc")
            .args(["-l", &path])
            .output()
            .unwrap();
        wc.push(t.elapsed());
    }
    let med = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (o, w) = (med(ours), med(wc));
    println!(
        "index {:?}  wc -l {:?}  ratio {:.2}",
        o,
        w,
        o.as_secs_f64() / w.as_secs_f64()
    );
}
