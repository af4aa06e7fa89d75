//! Times `tome/seekTime`'s engine right after opening a log: open, detect the timestamp layout,
//! one binary search before any other read of the file but the detection's sample (the index
//! thread is running meanwhile, as after `tome/open`), then searches for times spread over the
//! file (the pages their probes touch are warm by then). Prints each step's time and probes.
//! Usage: `cargo run --release -p tome-core --example seek_time -- FILE [SEEKS]`
use std::time::Instant;

use tome_core::timestamp::{detect_layout, format_utc, seek_time, stamped_lines};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: seek_time FILE [SEEKS]");
    let seeks: usize = args
        .next()
        .map_or(20, |s| s.parse().expect("a number of seeks"));
    let t = Instant::now();
    let doc = tome_core::Document::open(path.as_ref()).unwrap();
    let open = t.elapsed();
    let view = doc.view();
    let len = view.len();
    let t = Instant::now();
    let layout = detect_layout(&view, None, (2026, 11)).expect("a log with timestamps");
    let detect = t.elapsed();
    println!(
        "{} bytes; open {:.3} ms, detect {:.3} ms ({:?} at {:?})",
        view.len(),
        open.as_secs_f64() * 1e3,
        detect.as_secs_f64() * 1e3,
        layout.format,
        layout.location
    );
    // The first seek right after the open: an hour after the first line (only the detection's
    // sample has been read so far).
    let first = stamped_lines(view, &layout, 0, len.min(1 << 16))
        .next()
        .unwrap();
    let t = Instant::now();
    let found = seek_time(&view, &layout, first.ms + 3_600_000).unwrap();
    println!(
        "first seek {:.3} ms ({} probes) → offset {:?} for {}",
        t.elapsed().as_secs_f64() * 1e3,
        found.probes,
        found.line.map(|l| l.start),
        format_utc(first.ms + 3_600_000)
    );
    // Targets: the times of the first timestamped lines at 0.5/SEEKS, 1.5/SEEKS… of the file,
    // plus 1 ms (between lines), visited in a scattered order (no two neighbours in a row).
    let mut targets: Vec<i64> = (0..seeks)
        .filter_map(|i| {
            let at = (len as f64 * (i as f64 + 0.5) / seeks as f64) as usize;
            stamped_lines(view, &layout, at, len)
                .next()
                .map(|l| l.ms + 1)
        })
        .collect();
    let n = targets.len();
    targets = (0..n).map(|i| targets[(i * 7) % n]).collect();
    let mut times = Vec::new();
    for &target in &targets {
        let t = Instant::now();
        seek_time(&view, &layout, target).unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{} seeks: min {:.3} ms, median {:.3} ms, max {:.3} ms",
        times.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
