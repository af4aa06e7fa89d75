//! `tome demo`: a headless walk through what an editor does with a big file, with timings.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tome_core::{ColumnWindow, Control, Direction, Document, Matcher, Query};

const NEEDLE: &str = "#TOME-NEEDLE#";

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn show(lines: &[tome_core::Line]) {
    for l in lines {
        let n = l.number.map_or("?".to_string(), |n| (n + 1).to_string());
        let more = if l.cut_after { "…" } else { "" };
        println!("  {n:>10} │ {}{more}", l.text);
    }
}

pub fn run(size: u64, dir: Option<PathBuf>, engine: bool) -> Result<(), String> {
    let tmp;
    let dir = match dir {
        Some(d) => d,
        None => {
            tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
            tmp.path().to_path_buf()
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(format!("demo-{size}.log"));
    let err = |e: tome_core::Error| e.to_string();
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(size) {
        let t = Instant::now();
        let cfg = tome_gen::GenConfig {
            size,
            needle: Some(NEEDLE.into()),
            needle_every: 1_000_000,
            unicode: true,
            ..Default::default()
        };
        let stats = tome_gen::write_file(&cfg, &path).map_err(|e| e.to_string())?;
        println!(
            "generated {} ({} MiB, {} lines) in {}",
            path.display(),
            size >> 20,
            stats.lines,
            ms(t.elapsed())
        );
    }
    if !engine {
        return crate::demo_rpc::run(&path, NEEDLE);
    }
    println!("\n(engine only: no server, calling tome-core directly)");
    let window = Some(ColumnWindow { start: 0, len: 120 });

    let t = Instant::now();
    let mut doc = Document::open(&path).map_err(err)?;
    let first = doc.view().lines(0, 5, window).map_err(err)?;
    println!(
        "\nopen + first 5 lines: {} (index at {}%)",
        ms(t.elapsed()),
        doc.index_progress().percent()
    );
    show(&first);

    let t = Instant::now();
    let middle = doc
        .view()
        .lines_around(doc.len() / 2, 0, 3, window)
        .map_err(err)?;
    println!(
        "\nlines at 50% of the file (by byte offset, no index needed): {}",
        ms(t.elapsed())
    );
    show(&middle);

    let t = Instant::now();
    let end = doc
        .view()
        .lines_around(doc.len(), 2, 1, window)
        .map_err(err)?;
    println!("\nlast lines: {}", ms(t.elapsed()));
    show(&end);

    let control = Control::new();
    let t = Instant::now();
    doc.wait_for_index(&control).map_err(err)?;
    let count = doc.view().line_count();
    println!(
        "\nline index complete: {} lines, {} after open",
        count.known,
        ms(t.elapsed())
    );

    let target = count.known * 3 / 4;
    let t = Instant::now();
    let lines = doc.view().lines(target, 2, window).map_err(err)?;
    println!(
        "\ngo to line {} (by number): {}",
        target + 1,
        ms(t.elapsed())
    );
    show(&lines);

    let t = Instant::now();
    let edits = 10_000;
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..edits {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let at = (state % doc.len() as u64) as usize;
        let at = doc
            .view()
            .line_of(at)
            .and_then(|l| doc.view().line_start(l))
            .map_err(err)?;
        doc.insert(at, "EDIT ").map_err(err)?;
        doc.break_undo_group();
    }
    println!(
        "\n{edits} inserts at random line starts: {} ({:.2} µs each, {} pieces)",
        ms(t.elapsed()),
        t.elapsed().as_secs_f64() * 1e6 / edits as f64,
        doc.piece_count()
    );

    let t = Instant::now();
    let m = Matcher::new(&Query {
        pattern: NEEDLE.into(),
        regex: false,
        case_insensitive: false,
    })
    .map_err(err)?;
    let n = doc.view().count_matches(&m, &control).map_err(err)?;
    println!(
        "\ncount of {NEEDLE:?} over the whole file: {n} in {}",
        ms(t.elapsed())
    );
    let t = Instant::now();
    let last = doc
        .view()
        .find(&m, doc.len(), Direction::Backward, false, &control)
        .map_err(err)?;
    if let Some(r) = last {
        let line = doc.view().line_of(r.start).map_err(err)?;
        println!(
            "last match, searching backward from the end: line {} in {}",
            line + 1,
            ms(t.elapsed())
        );
    }

    let t = Instant::now();
    doc.undo().ok_or("nothing to undo")?;
    println!("\nundo of the last edit: {}", ms(t.elapsed()));

    let copy = dir.join("demo-saved.log");
    let t = Instant::now();
    let report = doc.save(Some(&copy), &control).map_err(err)?;
    println!(
        "\nsave-as {}: {} ({} MiB copied by the kernel, {} KiB written)",
        copy.display(),
        ms(t.elapsed()),
        report.copied_by_kernel >> 20,
        report.written >> 10
    );
    let _ = std::fs::remove_file(&copy);
    Ok(())
}
