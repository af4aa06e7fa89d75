//! `tome cat`, `tome grep`, `tome replace` against their Unix oracles: `sed -n` and `tail -n`
//! (the same bytes), GNU `grep` (the same stdout and exit code) and Python's `re.sub` /
//! `bytes.replace` (the same saved bytes), on generated files (LF, CRLF with multibyte text,
//! needles) of a few MiB and one of 300 MiB; and their errors (exit code and message, the file
//! untouched).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tome_gen::{GenConfig, LineEnding};

struct Run {
    code: i32,
    out: Vec<u8>,
    err: String,
}

fn run(cmd: &mut Command) -> Run {
    let o: Output = cmd
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::null())
        .output()
        .expect("run a command");
    Run {
        code: o.status.code().unwrap_or(-1),
        out: o.stdout,
        err: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `tome ARGS` with its own state directory (journals, the index cache).
fn tome(state: &Path, args: &[&str]) -> Run {
    run(Command::new(tome_e2e::tome_bin())
        .args(args)
        .env("TOME_STATE_DIR", state))
}

fn gen(dir: &Path, name: &str, size: u64, crlf: bool, unicode: bool) -> (PathBuf, u64) {
    let path = dir.join(name);
    let cfg = GenConfig {
        size,
        seed: size ^ u64::from(crlf),
        line_ending: if crlf {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        },
        unicode,
        needle: Some("#NEEDLE#".into()),
        needle_every: 997,
    };
    let stats = tome_gen::write_file(&cfg, &path).unwrap();
    (path, stats.lines)
}

/// Lines as sed counts them (LF-terminated, plus an unterminated last one).
fn sed_lines(path: &Path) -> usize {
    let b = std::fs::read(path).unwrap();
    let n = memchr::memchr_iter(b'\n', &b).count();
    n + usize::from(!b.is_empty() && !b.ends_with(b"\n"))
}

fn check_cat(state: &Path, path: &Path) {
    let p = path.to_str().unwrap();
    let n = sed_lines(path);
    // (tome's range, sed's first and last line, or None: `tail -n`)
    type Case = (String, Option<(usize, Option<usize>)>);
    let mut cases: Vec<Case> = vec![];
    for (a, b) in [
        (1, Some(1)),
        (1, Some(5)),
        (17, Some(17)),
        ((n / 2).max(1), Some(n / 2 + 40)),
        ((n - 3).max(1), None),
        (n, Some(n)),
        ((n - 5).max(1), Some(n + 5)),
        (n + 1, Some(n + 9)),
        (n + 10, None),
        (1, None),
    ] {
        let r = match b {
            Some(b) if a == b => format!("{a}"),
            Some(b) => format!("{a}:{b}"),
            None => format!("{a}:"),
        };
        cases.push((r, Some((a, b))));
    }
    cases.push((":10".into(), Some((1, Some(10)))));
    for t in [1, 7, 1000, n + 5] {
        cases.push((format!("-{t}"), None));
    }
    for (range, sed) in cases {
        let got = tome(state, &["cat", p, "--lines", &range]);
        let want = match sed {
            Some((a, b)) => {
                let b = b.map_or("$".to_string(), |b| b.to_string());
                run(Command::new("sed").args(["-n", &format!("{a},{b}p"), p]))
            }
            None => run(Command::new("tail").args(["-n", &range[1..], p])),
        };
        assert_eq!(got.code, 0, "tome cat --lines {range}: {}", got.err);
        assert!(
            got.out == want.out,
            "tome cat {} --lines {range}: {} bytes, the oracle {} bytes",
            path.display(),
            got.out.len(),
            want.out.len()
        );
    }
}

#[test]
fn cat_prints_what_sed_and_tail_print() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (lf, _) = gen(dir.path(), "lf.log", 3 << 20, false, false);
    let (crlf, _) = gen(dir.path(), "crlf.log", 3 << 20, true, true);
    check_cat(&state, &lf);
    check_cat(&state, &crlf);
    // No final line break, invalid UTF-8 and a NUL byte: bytes as they are.
    let odd = dir.path().join("odd.bin");
    std::fs::write(&odd, b"one\r\ntw\xffo\x00\n\nthree\nlast \xc3").unwrap();
    check_cat(&state, &odd);
    // A second run takes the line index from the cache: the same bytes.
    check_cat(&state, &lf);
}

#[test]
fn cat_json_gives_numbers_offsets_and_exact_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let f = dir.path().join("f.txt");
    std::fs::write(&f, b"a\r\nb\xff\nc").unwrap();
    let p = f.to_str().unwrap();
    let r = tome(&state, &["cat", p, "--lines", "2:3", "--json"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let lines: Vec<serde_json::Value> = String::from_utf8(r.out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            serde_json::json!({"line": 2, "offset": 3, "text": "b\u{fffd}", "base64": "Yv8=", "eol": "\n"}),
            serde_json::json!({"line": 3, "offset": 6, "text": "c", "eol": ""}),
        ]
    );
    let r = tome(&state, &["cat", p, "--lines=-1", "--json"]);
    assert_eq!(
        String::from_utf8(r.out).unwrap(),
        "{\"eol\":\"\",\"line\":3,\"offset\":6,\"text\":\"c\"}\n"
    );
}

fn check_grep(state: &Path, path: &Path, needle_lines: bool) {
    let p = path.to_str().unwrap();
    let mut cases: Vec<Vec<&str>> = vec![
        vec!["#NEEDLE#"],
        vec!["-n", "#NEEDLE#"],
        vec!["-c", "#NEEDLE#"],
        vec!["-c", "GET"],
        vec!["-n", "-i", "status=50"],
        vec!["-n", "GET"],
        vec!["-v", "-E", "[0-9]"],
        vec!["-c", "-i", "delete"],
        vec!["-c", "-w", "GET"],
        vec!["-n", "-w", "seq"],
        vec!["-c", "-v", "INFO"],
        vec!["-n", "-m", "5", "ERROR"],
        vec!["-c", "-m", "3", "ERROR"],
        vec!["-n", "-E", "status=5[0-9][0-9] latency_ms=9[0-9]{2}"],
        vec!["-c", "-E", "^2026-[0-9]+-[0-9]+T00:00:0[0-4]"],
        vec!["-c", "-E", "(PUT|DELETE) /api/v1/carts"],
        vec!["-E", "-w", "-n", "user=u1[0-9]"],
        vec!["-F", "-c", "a.b"],
        vec!["-c", "no such text in the file"],
        vec!["no such text in the file"],
        vec!["-c", ""],
        vec!["-q", "GET"],
        vec!["-q", "nothing like this"],
    ];
    if needle_lines {
        cases.push(vec!["-n", "-v", "-E", "[a-z]"]);
    }
    for args in cases {
        let mut full = vec!["grep"];
        full.extend(&args);
        full.push(p);
        let got = tome(state, &full);
        let want = run(Command::new("grep").args(&full[1..]));
        assert_eq!(
            (got.code, got.out.len()),
            (want.code, want.out.len()),
            "tome {full:?}: {}",
            got.err
        );
        assert!(
            got.out == want.out,
            "tome {full:?}: other bytes than grep's"
        );
    }
}

#[test]
fn grep_prints_what_gnu_grep_prints() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (lf, _) = gen(dir.path(), "lf.log", 4 << 20, false, false);
    let (crlf, _) = gen(dir.path(), "crlf.log", 4 << 20, true, true);
    check_grep(&state, &lf, false);
    check_grep(&state, &crlf, false);
    // No final line break; empty lines; a last line that matches.
    let small = dir.path().join("small.txt");
    std::fs::write(&small, "alpha\n\nbeta GET\n\nGET gamma").unwrap();
    check_grep(&state, &small, true);
}

#[test]
fn grep_json_lines_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let f = dir.path().join("f.txt");
    std::fs::write(&f, "x\nab\r\nzab\n").unwrap();
    let p = f.to_str().unwrap();
    let r = tome(&state, &["grep", "--json", "ab", p]);
    assert_eq!(
        String::from_utf8(r.out).unwrap(),
        "{\"line\":2,\"offset\":2,\"text\":\"ab\"}\n{\"line\":3,\"offset\":6,\"text\":\"zab\"}\n"
    );
    let r = tome(&state, &["grep", "--json", "-c", "ab", p]);
    assert_eq!(String::from_utf8(r.out).unwrap(), "{\"count\":2}\n");
    assert_eq!(r.code, 0);
}

/// Python's replacement of `pattern` by `repl` over the whole file (`regex`: `re.sub` with
/// MULTILINE, else `bytes.replace`), written to `out`.
fn python_replace(src: &Path, out: &Path, pattern: &str, repl: &str, regex: bool) {
    let script = r#"
import re, sys
src, out, pat, repl, regex = sys.argv[1:6]
data = open(src, 'rb').read()
if regex == '1':
    data = re.sub(pat.encode(), repl.encode(), data, flags=re.M)
else:
    data = data.replace(pat.encode(), repl.encode())
open(out, 'wb').write(data)
"#;
    let r = run(Command::new("python3").args([
        "-c",
        script,
        src.to_str().unwrap(),
        out.to_str().unwrap(),
        pattern,
        repl,
        if regex { "1" } else { "0" },
    ]));
    assert_eq!(r.code, 0, "python3: {}", r.err);
}

fn check_replace(state: &Path, original: &Path, dir: &Path) {
    // (tome's arguments, Python's pattern and replacement, regex)
    let cases: Vec<(Vec<&str>, &str, &str, bool)> = vec![
        (vec!["#NEEDLE#", "[found]"], "#NEEDLE#", "[found]", false),
        (vec!["GET", ""], "GET", "", false),
        (vec!["a", "aa"], "a", "aa", false),
        (
            vec!["-E", r"seq=([0-9]+) (GET|PUT)", "${2}#${1}"],
            r"seq=([0-9]+) (GET|PUT)",
            r"\g<2>#\g<1>",
            true,
        ),
        (
            vec!["-E", "latency_ms=[0-9]+", "$$"],
            "latency_ms=[0-9]+",
            "$",
            true,
        ),
        (vec!["-E", "^2026-11-27T", "D"], "^2026-11-27T", "D", true),
    ];
    for (i, (args, pat, repl, regex)) in cases.into_iter().enumerate() {
        let work = dir.join(format!("work-{i}"));
        let want = dir.join(format!("want-{i}"));
        std::fs::copy(original, &work).unwrap();
        python_replace(original, &want, pat, repl, regex);
        let mut full = vec!["replace"];
        full.extend(&args);
        full.push(work.to_str().unwrap());
        let r = tome(state, &full);
        assert_eq!(r.code, 0, "tome {full:?}: {}", r.err);
        assert!(
            std::fs::read(&work).unwrap() == std::fs::read(&want).unwrap(),
            "tome {full:?} saved other bytes than Python"
        );
        std::fs::remove_file(&work).unwrap();
        std::fs::remove_file(&want).unwrap();
    }
}

#[test]
fn replace_saves_what_python_computes() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (lf, _) = gen(dir.path(), "lf.log", 3 << 20, false, false);
    let (crlf, _) = gen(dir.path(), "crlf.log", 3 << 20, true, true);
    check_replace(&state, &lf, dir.path());
    check_replace(&state, &crlf, dir.path());
    // No journal is left behind to offer at the next open.
    let journals = std::fs::read_dir(state.join("journal")).map_or(0, |d| d.count());
    assert_eq!(journals, 0, "journals left in the state directory");
}

#[test]
fn replace_dry_run_json_and_no_match() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let f = dir.path().join("f.txt");
    let text = "one two\r\ntwo three\ntwo";
    std::fs::write(&f, text).unwrap();
    let p = f.to_str().unwrap();
    let r = tome(&state, &["replace", "--dry-run", "two", "2", p]);
    assert_eq!((r.code, r.out.as_slice()), (0, &b"3\n"[..]));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
    let r = tome(&state, &["replace", "four", "4", p]);
    assert_eq!((r.code, r.out.len()), (1, 0), "no match: exit 1");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
    let r = tome(&state, &["replace", "--json", "-i", "TWO", "2", p]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_slice(&r.out).unwrap();
    assert_eq!(
        (&v["replacements"], &v["lines"], &v["saved"], &v["bytes"]),
        (
            &serde_json::json!(3),
            &serde_json::json!(3),
            &serde_json::json!(true),
            &serde_json::json!(text.len() - 6)
        ),
        "{v}"
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "one 2\r\n2 three\n2");
}

#[test]
fn errors_have_exit_codes_and_messages_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let f = dir.path().join("f.txt");
    std::fs::write(&f, "abc\ndef\n").unwrap();
    let p = f.to_str().unwrap();
    let missing = dir.path().join("missing.txt");
    let m = missing.to_str().unwrap();
    let d = dir.path().to_str().unwrap();
    let bin = dir.path().join("b.bin");
    std::fs::write(&bin, b"\x00\x01\x02abc\x00\n").unwrap();
    let b = bin.to_str().unwrap();
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["cat", m, "--lines", "1"], 2, "file not found"),
        (vec!["grep", "x", m], 2, "file not found"),
        (vec!["replace", "x", "y", m], 2, "file not found"),
        (vec!["cat", d, "--lines", "1"], 2, "is a directory"),
        (vec!["grep", "x", d], 2, "is a directory"),
        (vec!["replace", "x", "y", d], 2, "is a directory"),
        (vec!["grep", "abc", b], 2, "binary file"),
        (vec!["replace", "abc", "x", b], 2, "binary file"),
        (vec!["cat", p, "--lines", "0"], 2, "numbered from 1"),
        (vec!["cat", p, "--lines", "5:2"], 2, "after the last"),
        (vec!["cat", p, "--lines", "x"], 2, "bad range"),
        (vec!["grep", "-E", "a(", p], 2, "invalid regex"),
        (vec!["replace", "-E", "[z-a]", "y", p], 2, "invalid regex"),
        (vec!["replace", "", "y", p], 2, "empty"),
    ];
    for (args, code, msg) in cases {
        let r = tome(&state, &args);
        assert_eq!(r.code, code, "tome {args:?}: {}", r.err);
        assert!(
            r.err.starts_with("tome: ") && r.err.contains(msg),
            "tome {args:?}: {:?} does not say {msg:?}",
            r.err
        );
        assert!(r.out.is_empty(), "tome {args:?} printed {:?}", r.out);
    }
    // -a reads a binary file as text (grep -a).
    let r = tome(&state, &["grep", "-a", "-c", "abc", b]);
    assert_eq!((r.code, r.out.as_slice()), (0, &b"1\n"[..]));
    // A file that may not be written is refused before anything is done.
    let ro = dir.path().join("ro.txt");
    std::fs::write(&ro, "abc\n").unwrap();
    std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    let r = tome(&state, &["replace", "abc", "x", ro.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(r.err.contains("permission denied"), "{}", r.err);
    assert_eq!(std::fs::read_to_string(&ro).unwrap(), "abc\n");
    assert_eq!(std::fs::read(&f).unwrap(), b"abc\ndef\n");
}

#[test]
fn a_failed_save_leaves_the_file_as_it_was_exit_4() {
    tome_e2e::require_fault_injection();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (f, _) = gen(dir.path(), "f.log", 1 << 20, false, false);
    let before = std::fs::read(&f).unwrap();
    let r = run(Command::new(tome_e2e::tome_bin())
        .args(["replace", "GET", "got", f.to_str().unwrap()])
        .env("TOME_STATE_DIR", &state)
        .env("TOME_TEST_SAVE_FAULT", "fail-mid-write"));
    assert_eq!(r.code, 4, "{}", r.err);
    assert!(r.err.contains("the file is as it was"), "{}", r.err);
    assert!(std::fs::read(&f).unwrap() == before, "the file changed");
}

/// 300 MiB: line numbers near the end, a parallel count, a replace near the end saved in place.
#[test]
fn big_file_cat_grep_replace_near_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let (f, _) = gen(dir.path(), "big.log", 300 << 20, false, true);
    let p = f.to_str().unwrap();
    let n = sed_lines(&f);
    let range = format!("{}:{}", n - 20, n - 10);
    let got = tome(&state, &["cat", p, "--lines", &range]);
    let want = run(Command::new("sed").args(["-n", &format!("{},{}p", n - 20, n - 10), p]));
    assert_eq!(got.code, 0, "{}", got.err);
    assert!(got.out == want.out && !got.out.is_empty());
    for args in [
        vec!["-c", "#NEEDLE#"],
        vec!["-c", "-w", "-i", "put"],
        vec!["-n", "#NEEDLE#"],
    ] {
        let mut full = vec!["grep"];
        full.extend(&args);
        full.push(p);
        let got = tome(&state, &full);
        let want = run(Command::new("grep").args(&full[1..]));
        assert_eq!((got.code, &got.out), (want.code, &want.out), "{full:?}");
    }
    // A string only on the second to last line: replaced there, the rest untouched.
    let last = tome(&state, &["cat", p, "--lines", "-2"]);
    let marker = String::from_utf8(last.out)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let want = dir.path().join("want");
    python_replace(&f, &want, &marker, "REPLACED", false);
    let r = tome(&state, &["replace", "--json", &marker, "REPLACED", p]);
    assert_eq!(r.code, 0, "{}", r.err);
    let v: serde_json::Value = serde_json::from_slice(&r.out).unwrap();
    assert_eq!(v["method"], "inPlace", "{v}");
    assert!(v["written"].as_u64().unwrap() < 1 << 20, "{v}");
    assert!(std::fs::read(&f).unwrap() == std::fs::read(&want).unwrap());
}
