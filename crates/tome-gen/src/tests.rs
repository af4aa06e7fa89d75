use super::*;

const ENDINGS: [LineEnding; 4] = [
    LineEnding::Lf,
    LineEnding::CrLf,
    LineEnding::Cr,
    LineEnding::Mixed,
];

fn cfg(size: u64) -> GenConfig {
    GenConfig {
        size,
        ..GenConfig::default()
    }
}

/// Splits into (content, terminator) pairs; the last pair may have an empty
/// terminator.
fn split_lines(b: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\n' => {
                out.push((&b[start..i], &b[i..i + 1]));
                i += 1;
                start = i;
            }
            b'\r' => {
                let end = if b.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                };
                out.push((&b[start..i], &b[i..end]));
                i = end;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < b.len() {
        out.push((&b[start..], &b[b.len()..]));
    }
    out
}

fn count_naive(hay: &[u8], needle: &[u8]) -> u64 {
    if needle.len() > hay.len() {
        return 0;
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .count() as u64
}

fn parse_seq(line: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(line).ok()?;
    let rest = &s[s.find(" seq=")? + 5..];
    let end = rest.find(' ').unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[test]
fn exact_size_for_many_sizes() {
    let sizes = [
        0u64,
        1,
        2,
        3,
        17,
        40,
        99,
        100,
        101,
        4095,
        4096,
        4097,
        65_537,
        1_000_000,
        1 << 20,
    ];
    for &size in &sizes {
        for &le in &ENDINGS {
            for unicode in [false, true] {
                let c = GenConfig {
                    size,
                    seed: size ^ 0xabc,
                    line_ending: le,
                    unicode,
                    needle: Some(DEFAULT_NEEDLE.into()),
                    needle_every: 7,
                };
                let v = generate_vec(&c);
                assert_eq!(v.len() as u64, size, "{c:?}");
                let mut w = Vec::new();
                let st = write(&c, &mut w).unwrap();
                assert_eq!(w, v, "write and generate_vec differ: {c:?}");
                assert_eq!(st.bytes, size);
                assert_eq!(st.lines, split_lines(&v).len() as u64, "{c:?}");
                assert_eq!(stats(&c).unwrap(), st);
                assert!(std::str::from_utf8(&v).is_ok(), "{c:?}");
            }
        }
    }
}

#[test]
fn exact_size_across_chunk_boundaries() {
    // Sizes around multiples of the 1 MiB flush threshold.
    for size in [
        CHUNK as u64 - 1,
        CHUNK as u64,
        CHUNK as u64 + 1,
        3 * CHUNK as u64 + 12_345,
    ] {
        let c = GenConfig {
            line_ending: LineEnding::Mixed,
            ..cfg(size)
        };
        let mut w = Vec::new();
        let st = write(&c, &mut w).unwrap();
        assert_eq!(w.len() as u64, size);
        assert_eq!(st.lines, split_lines(&w).len() as u64);
        assert_eq!(w, generate_vec(&c));
    }
}

#[test]
fn cut_rule_is_as_documented() {
    let full = generate_vec(&cfg(10_000));
    let lines = split_lines(&full);
    let (first, _) = lines[0];
    let c = first.len() as u64;
    // Room for content prefix + terminator.
    for size in 2..=c {
        let v = generate_vec(&cfg(size));
        assert_eq!(&v[..size as usize - 1], &first[..size as usize - 1]);
        assert_eq!(v[size as usize - 1], b'\n');
    }
    // size 1 <= t: one content byte, no terminator.
    assert_eq!(generate_vec(&cfg(1)), &first[..1]);
    // Exactly one full line.
    assert_eq!(generate_vec(&cfg(c + 1)), &full[..c as usize + 1]);
    // CrLf: r <= 2 gives content only.
    let crlf = |size| {
        generate_vec(&GenConfig {
            line_ending: LineEnding::CrLf,
            ..cfg(size)
        })
    };
    assert_eq!(crlf(2), &first[..2]);
    assert_eq!(crlf(3), [first[0], b'\r', b'\n']);
    let st = stats(&GenConfig {
        line_ending: LineEnding::CrLf,
        ..cfg(2)
    })
    .unwrap();
    assert_eq!(st.lines, 1);
    assert_eq!(stats(&cfg(0)).unwrap(), GenStats::default());
}

#[test]
fn deterministic_and_seed_dependent() {
    for &le in &ENDINGS {
        let a = GenConfig {
            seed: 42,
            line_ending: le,
            unicode: true,
            ..cfg(200_000)
        };
        assert_eq!(generate_vec(&a), generate_vec(&a.clone()));
        let b = GenConfig {
            seed: 43,
            ..a.clone()
        };
        assert_ne!(generate_vec(&a), generate_vec(&b));
        assert_ne!(generate_vec(&a)[..200], generate_vec(&b)[..200]);
    }
    // Pinned prefix: the output must not change silently across versions,
    // since benchmarks and tests may rely on it.
    let v = generate_vec(&cfg(4096));
    let first = std::str::from_utf8(split_lines(&v)[0].0).unwrap();
    assert!(first.starts_with("2026-11-27T00:00:00."), "{first}");
    assert!(first.contains(" seq=0 "), "{first}");
}

#[test]
fn prefix_stable_across_sizes() {
    let big = generate_vec(&GenConfig {
        unicode: true,
        line_ending: LineEnding::Mixed,
        ..cfg(300_000)
    });
    for size in [1u64, 500, 4096, 77_777, 299_999] {
        let small = generate_vec(&GenConfig {
            unicode: true,
            line_ending: LineEnding::Mixed,
            ..cfg(size)
        });
        let lines = split_lines(&small);
        let complete: usize = lines[..lines.len() - 1]
            .iter()
            .map(|(c, t)| c.len() + t.len())
            .sum();
        assert_eq!(&small[..complete], &big[..complete]);
    }
}

#[test]
fn line_endings_respected() {
    let get = |le| {
        generate_vec(&GenConfig {
            line_ending: le,
            unicode: true,
            ..cfg(500_000)
        })
    };
    let lf = get(LineEnding::Lf);
    assert!(!lf.contains(&b'\r'));
    assert!(lf.iter().filter(|&&b| b == b'\n').count() > 1000);

    let crlf = get(LineEnding::CrLf);
    for (i, &b) in crlf.iter().enumerate() {
        if b == b'\n' {
            assert!(i > 0 && crlf[i - 1] == b'\r', "bare \\n at {i}");
        }
        if b == b'\r' {
            assert_eq!(crlf.get(i + 1), Some(&b'\n'), "bare \\r at {i}");
        }
    }

    let cr = get(LineEnding::Cr);
    assert!(!cr.contains(&b'\n'));
    assert!(cr.iter().filter(|&&b| b == b'\r').count() > 1000);

    let mixed = get(LineEnding::Mixed);
    let lines = split_lines(&mixed);
    let count = |t: &[u8]| lines.iter().filter(|(_, x)| *x == t).count();
    let (n_lf, n_crlf, n_cr) = (count(b"\n"), count(b"\r\n"), count(b"\r"));
    let n = lines.len();
    assert!(
        n_lf > n * 2 / 5 && n_crlf > n / 5 && n_cr > n / 5,
        "{n_lf} {n_crlf} {n_cr}"
    );
    // A lone \r is never followed by \n (the next line starts with a digit).
    for w in lines.windows(2) {
        assert!(w[1].0[0].is_ascii_digit());
    }
}

#[test]
fn unicode_flag() {
    let ascii = generate_vec(&cfg(300_000));
    assert!(ascii.is_ascii());

    let v = generate_vec(&GenConfig {
        unicode: true,
        ..cfg(300_000)
    });
    let s = std::str::from_utf8(&v).expect("valid UTF-8");
    assert!(!s.is_ascii());
    for want in ["é", "漢字", "🦀"] {
        assert!(s.contains(want), "missing {want}");
    }
    for width in 2..=4 {
        assert!(
            s.chars().any(|c| c.len_utf8() == width),
            "no {width}-byte char"
        );
    }
    assert!(s.chars().any(|c| c.len_utf16() == 2));
    // About a quarter of the lines carry non-ASCII text.
    let lines = split_lines(&v);
    let non_ascii = lines.iter().filter(|(c, _)| !c.is_ascii()).count();
    assert!(non_ascii > lines.len() / 6 && non_ascii < lines.len() / 3);
}

#[test]
fn cut_inside_multibyte_char_stays_valid_utf8() {
    let base = GenConfig {
        unicode: true,
        ..cfg(50_000)
    };
    let full = generate_vec(&base);
    let s = std::str::from_utf8(&full).unwrap();
    let mut checked = 0;
    for (p, ch) in s.char_indices().filter(|(_, c)| c.len_utf8() > 1).take(60) {
        // With `\n`, size = keep + 1 keeps `keep` content bytes of the line.
        for k in 1..ch.len_utf8() {
            let size = (p + k + 1) as u64;
            let v = generate_vec(&GenConfig {
                size,
                ..base.clone()
            });
            assert_eq!(v.len() as u64, size);
            let vs = std::str::from_utf8(&v).expect("valid UTF-8 after cut");
            let content = vs.strip_suffix('\n').expect("terminated");
            assert!(content.ends_with(&".".repeat(k)));
            assert_eq!(&v[..p], &full[..p]);
            checked += 1;
        }
    }
    assert!(checked > 50);
}

#[test]
fn needle_count_matches_occurrences() {
    for (needle, every, unicode) in [
        (DEFAULT_NEEDLE, 1000, false),
        (DEFAULT_NEEDLE, 1, false),
        ("#", 13, true),
        ("#漢🦀#", 97, true),
        ("#a b#", 5, false),
    ] {
        for &le in &ENDINGS {
            let c = GenConfig {
                size: 2_000_000,
                seed: every,
                line_ending: le,
                unicode,
                needle: Some(needle.into()),
                needle_every: every,
            };
            let mut v = Vec::new();
            let st = write(&c, &mut v).unwrap();
            let found = count_naive(&v, needle.as_bytes());
            assert_eq!(st.needles, found, "{c:?}");
            // Complete lines hold exactly floor(lines / every) needles; the
            // cut last line may hold one more.
            let lines = split_lines(&v);
            assert_eq!(lines.len() as u64, st.lines);
            let complete = st.lines - 1;
            assert!(st.needles == complete / every || st.needles == st.lines / every);
            assert!(st.needles > 0);
            // Needles are in the right lines.
            for (n, (content, _)) in lines.iter().enumerate() {
                if count_naive(content, needle.as_bytes()) > 0 {
                    assert_eq!((n as u64 + 1) % every, 0);
                }
            }
        }
    }
}

#[test]
fn needle_cut_at_end_is_not_counted() {
    let c = GenConfig {
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 3,
        ..cfg(100_000)
    };
    let full = generate_vec(&c);
    let pos = count_until(&full, DEFAULT_NEEDLE.as_bytes(), 5);
    // Cut right inside the 5th needle, then right after it.
    let inside = GenConfig {
        size: (pos + 4 + 1) as u64,
        ..c.clone()
    };
    let st = stats(&inside).unwrap();
    assert_eq!(st.needles, 4);
    assert_eq!(
        count_naive(&generate_vec(&inside), DEFAULT_NEEDLE.as_bytes()),
        4
    );
    let after = GenConfig {
        size: (pos + DEFAULT_NEEDLE.len() + 1) as u64,
        ..c.clone()
    };
    assert_eq!(stats(&after).unwrap().needles, 5);
    assert_eq!(
        count_naive(&generate_vec(&after), DEFAULT_NEEDLE.as_bytes()),
        5
    );
}

/// Offset of the `nth` (1-based) occurrence.
fn count_until(hay: &[u8], needle: &[u8], nth: usize) -> usize {
    (0..=hay.len() - needle.len())
        .filter(|&i| &hay[i..i + needle.len()] == needle)
        .nth(nth - 1)
        .unwrap()
}

#[test]
fn needle_disabled_or_invalid() {
    let c = GenConfig {
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 0,
        ..cfg(100_000)
    };
    assert_eq!(stats(&c).unwrap().needles, 0);
    assert_eq!(generate_vec(&c), generate_vec(&cfg(100_000)));
    assert!(!generate_vec(&cfg(1 << 20)).contains(&b'#'));
    for bad in ["", "a\nb", "x\r"] {
        let c = GenConfig {
            needle: Some(bad.into()),
            ..cfg(1000)
        };
        let mut out = Vec::new();
        let e = write(&c, &mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(out.is_empty());
    }
}

#[test]
fn seq_increases_by_one_per_line() {
    for &le in &ENDINGS {
        let c = GenConfig {
            line_ending: le,
            unicode: true,
            needle: Some(DEFAULT_NEEDLE.into()),
            needle_every: 10,
            ..cfg(1_000_000)
        };
        let v = generate_vec(&c);
        let lines = split_lines(&v);
        let mut last_ts: &[u8] = b"";
        // The last line is cut: its seq may be cut too.
        for (n, (content, _)) in lines[..lines.len() - 1].iter().enumerate() {
            assert_eq!(parse_seq(content), Some(n as u64), "line {n}");
            let ts = &content[..24];
            assert!(ts >= last_ts, "timestamps must not decrease");
            last_ts = ts;
        }
    }
}

#[test]
fn line_shape() {
    let v = generate_vec(&cfg(5_000_000));
    let lines = split_lines(&v);
    let n = lines.len() - 1; // skip the cut line
    let lens: Vec<usize> = lines[..n].iter().map(|(c, _)| c.len()).collect();
    let avg = lens.iter().sum::<usize>() as f64 / n as f64;
    let (min, max) = (*lens.iter().min().unwrap(), *lens.iter().max().unwrap());
    assert!((85.0..=115.0).contains(&avg), "avg {avg}");
    assert!(min >= 40 && max <= 220, "min {min} max {max}");
    let s = std::str::from_utf8(&v).unwrap();
    for level in ["INFO  [", "DEBUG [", "WARN  [", "ERROR [", "TRACE ["] {
        assert!(s.contains(level), "{level}");
    }
    for kind in [
        " GET /api/v1/",
        " db query ",
        " cache ",
        " heartbeat ",
        " msg=\"",
    ] {
        assert!(s.contains(kind), "{kind}");
    }
    let first = lines[0].0;
    assert_eq!(first[4], b'-');
    assert_eq!(&first[10..11], b"T");
    assert_eq!(&first[23..25], b"Z ");
}

#[test]
fn calendar() {
    for day in -800_000..800_000i64 {
        let (y, m, d) = civil_from_days(day);
        assert_eq!(days_from_civil(y, m, d), day);
    }
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    let d = |y, m, dd| date_prefix(days_from_civil(y, m, dd));
    assert_eq!(&d(2026, 11, 27), b"2026-11-27T");
    assert_eq!(
        &date_prefix(days_from_civil(2026, 12, 31) + 1),
        b"2027-01-01T"
    );
    assert_eq!(
        &date_prefix(days_from_civil(2028, 2, 28) + 1),
        b"2028-02-29T"
    );
    assert_eq!(
        &date_prefix(days_from_civil(2027, 2, 28) + 1),
        b"2027-03-01T"
    );
}

#[test]
fn day_rollover_in_generator() {
    let c = cfg(0);
    let mut g = Generator::new(&c);
    g.ms_of_day = MS_PER_DAY - 1;
    let mut buf = vec![0u8; 100 * MAX_LINE];
    let mut pos = 0;
    for _ in 0..100 {
        g.line(&mut buf, &mut pos);
    }
    let s = std::str::from_utf8(&buf[..pos]).unwrap();
    assert!(s.contains("2026-11-28T00:00:00."));
    assert!(s
        .lines()
        .all(|l| l.as_bytes()[..23].iter().all(|b| b.is_ascii_graphic())));
}

#[test]
fn integer_formatting() {
    for n in [
        0u64,
        1,
        9,
        10,
        99,
        100,
        101,
        999,
        1000,
        123_456_789,
        u64::MAX,
    ] {
        let mut buf = [b'x'; 64];
        let mut out = Out {
            buf: &mut buf,
            pos: 3,
        };
        out.dec(n);
        let end = out.pos;
        assert_eq!(&buf[3..end], n.to_string().as_bytes());
        assert_eq!(buf[end], b'x');
    }
    let mut buf = [0u8; 16];
    let mut out = Out {
        buf: &mut buf,
        pos: 0,
    };
    out.hex8(0x09ab_cdef);
    assert_eq!(out.pos, 8);
    assert_eq!(&buf[..8], b"09abcdef");
}

#[test]
fn seq_counter_grows() {
    let c = cfg(0);
    let mut g = Generator::new(&c);
    for n in 0..100_500u64 {
        let text = format!("seq={n}");
        assert_eq!(&g.seq_text[..g.seq_len], text.as_bytes());
        assert_eq!(g.seq_text[g.seq_len], b' ');
        g.bump_seq();
    }
}

#[test]
fn write_file_works() {
    let path = std::env::temp_dir().join(format!("tome-gen-test-{}.log", std::process::id()));
    let c = GenConfig {
        line_ending: LineEnding::CrLf,
        needle: Some(DEFAULT_NEEDLE.into()),
        needle_every: 50,
        ..cfg(3_000_000)
    };
    let st = write_file(&c, &path).unwrap();
    let data = std::fs::read(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(data, generate_vec(&c));
    assert_eq!(st.bytes, 3_000_000);
    assert_eq!(st.needles, count_naive(&data, DEFAULT_NEEDLE.as_bytes()));
}

#[cfg(target_os = "linux")]
#[test]
fn write_file_reports_write_errors() {
    // Writes to /dev/full fail with ENOSPC; the pipeline must stop and report
    // the writer's error instead of hanging or reporting a broken pipe.
    if !Path::new("/dev/full").exists() {
        return;
    }
    let e = write_file(&cfg(10_000_000), "/dev/full").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28), "{e:?}");
    let e = write(&cfg(10_000_000), File::create("/dev/full").unwrap()).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(28), "{e:?}");
}

#[test]
fn write_file_rejects_bad_needle_before_creating() {
    let path = std::env::temp_dir().join(format!("tome-gen-bad-{}.log", std::process::id()));
    let c = GenConfig {
        needle: Some(String::new()),
        ..cfg(10)
    };
    let e = write_file(&c, &path).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    assert!(!path.exists());
}
