//! What the scripted benchmarks (`peers`, `file_safety`) share: sizes, medians, the open +
//! first 100 lines measurement.

use std::path::Path;
use std::time::{Duration, Instant};

use tome_core::{ColumnWindow, Document};

/// The middle value (the upper one of an even count).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Milliseconds with three decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// `4G`, `512M` or a number of bytes.
pub fn parse_size(s: &str) -> u64 {
    let (n, shift) = match s.chars().last() {
        Some('G') => (&s[..s.len() - 1], 30),
        Some('M') => (&s[..s.len() - 1], 20),
        _ => (s, 0),
    };
    n.parse::<u64>().expect("size like 4G, 512M or bytes") << shift
}

/// `4 GiB` or `512 MiB`.
pub fn human(size: u64) -> String {
    if size >= 1 << 30 {
        format!("{} GiB", size >> 30)
    } else {
        format!("{} MiB", size >> 20)
    }
}

/// Median over `runs` of opening `path` and reading its first 100 lines (200 columns each),
/// and whether the document was a reflink snapshot.
pub fn open_first_100(path: &Path, runs: usize) -> (Duration, bool) {
    let mut times = Vec::new();
    let mut snapshot = false;
    for _ in 0..runs {
        let t = Instant::now();
        let doc = Document::open(path).unwrap();
        let lines = doc
            .view()
            .lines(0, 100, Some(ColumnWindow { start: 0, len: 200 }))
            .unwrap();
        times.push(t.elapsed());
        assert_eq!(lines.len(), 100);
        snapshot = doc.is_snapshot();
    }
    (median(times), snapshot)
}
