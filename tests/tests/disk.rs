//! Changes made to open files by other programs: each kind is reported once with
//! `tome/didChangeOnDisk`, appends are followed, `tome/reload` reads the new file, the server's
//! own saves are not reported, and a truncated file does not kill the server. On the disk
//! filesystem and on tmpfs.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tome_e2e::Server;

fn wait_notice(s: &Server, doc: u64, count: usize) -> Value {
    let t = Instant::now();
    loop {
        let got = s.disk_notices(doc);
        if got.len() >= count {
            return got[count - 1].clone();
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no notice #{count} for doc {doc}: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn open(s: &mut Server, path: &std::path::Path) -> u64 {
    let r = s.request("tome/open", json!({"path": path})).expect("open");
    r["doc"].as_u64().unwrap()
}

fn texts(v: &Value) -> Vec<String> {
    v["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect()
}

/// Where to run: the disk, tmpfs, and a reflink filesystem where `TOME_REFLINK_DIR` names
/// one (the second value: documents there must be snapshots).
fn roots() -> Vec<(tempfile::TempDir, bool)> {
    let mut roots = vec![(tempfile::tempdir().unwrap(), false)];
    if std::path::Path::new("/dev/shm").is_dir() {
        roots.push((tempfile::tempdir_in("/dev/shm").unwrap(), false));
    }
    if let Some(reflink) = std::env::var_os("TOME_REFLINK_DIR") {
        roots.push((tempfile::tempdir_in(reflink).unwrap(), true));
    }
    roots
}

#[test]
fn outside_changes_are_reported_followed_and_reloadable() {
    for (root, reflink) in roots() {
        let mut s = Server::ready();
        let dir = root.path();
        let log = dir.join("app.log");
        std::fs::write(&log, "one\ntwo\n").unwrap();
        let doc = open(&mut s, &log);
        let other_path = dir.join("other.txt");
        std::fs::write(&other_path, "bystander\n").unwrap();
        let other = open(&mut s, &other_path);

        // Append (a log being written): followed, with the user's edit kept.
        s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "> "}]})).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&log)
            .unwrap()
            .write_all(b"three\n")
            .unwrap();
        let n = wait_notice(&s, doc, 1);
        assert_eq!(n["change"], "appended", "{n}");
        assert_eq!(n["dirty"], true);
        let v = s
            .request(
                "tome/viewport",
                json!({"doc": doc, "first": 0, "count": 10}),
            )
            .unwrap();
        assert_eq!(texts(&v), ["> one", "two", "three", ""]);
        // An edit made against the version before the append (the user typed while the log
        // grew) still applies: only new lines were added at the end.
        let r = s
            .request("tome/edit", json!({"doc": doc, "version": 1, "edits": [{"offsets": {"start": 2, "end": 2}, "text": "1"}]}))
            .unwrap();
        assert_eq!(r["version"], n["version"].as_u64().unwrap() + 1, "{r}");
        let v = s
            .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
            .unwrap();
        assert_eq!(texts(&v), ["> 1one"]);
        // One made before the user's own edit is refused as before.
        assert_eq!(
            s.error_code("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "?"}]})),
            -33003
        );

        // Rewritten in place: reported once; reload drops the edit and reads the new bytes.
        let f = std::fs::OpenOptions::new().write(true).open(&log).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, b"ONE", 0).unwrap();
        let n = wait_notice(&s, doc, 2);
        assert_eq!(n["change"], "rewritten", "{n}");
        let info = s.request("tome/reload", json!({"doc": doc})).unwrap();
        assert_eq!(info["dirty"], false);
        let v = s
            .request(
                "tome/viewport",
                json!({"doc": doc, "first": 0, "count": 10}),
            )
            .unwrap();
        assert_eq!(texts(&v), ["ONE", "two", "three", ""]);

        // Our own save is not reported.
        s.request("tome/edit", json!({"doc": doc, "version": info["version"], "edits": [{"offsets": {"start": 0, "end": 0}, "text": "saved "}]})).unwrap();
        s.request("tome/save", json!({"doc": doc})).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(s.disk_notices(doc).len(), 2, "{:?}", s.disk_notices(doc));

        // Replaced by rename (another editor's save), then deleted.
        let tmp = dir.join("app.log.new");
        std::fs::write(&tmp, "replacement\n").unwrap();
        std::fs::rename(&tmp, &log).unwrap();
        assert_eq!(wait_notice(&s, doc, 3)["change"], "replaced");
        std::fs::remove_file(&log).unwrap();
        assert_eq!(wait_notice(&s, doc, 4)["change"], "deleted");
        // The document still reads its old content; saving writes it back.
        let v = s
            .request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
            .unwrap();
        assert_eq!(texts(&v), ["saved ONE"]);
        s.request("tome/save", json!({"doc": doc})).unwrap();
        assert_eq!(std::fs::read(&log).unwrap(), b"saved ONE\ntwo\nthree\n");

        // Truncated under the mapping: the server lives, and says what happened.
        let big = dir.join("big.log");
        tome_gen::write_file(
            &tome_gen::GenConfig {
                size: 4 << 20,
                ..Default::default()
            },
            &big,
        )
        .unwrap();
        let info = s.request("tome/open", json!({"path": big})).unwrap();
        let bdoc = info["doc"].as_u64().unwrap();
        assert_eq!(info["snapshot"], reflink, "{info}");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&big)
            .unwrap()
            .set_len(0)
            .unwrap();
        assert_eq!(wait_notice(&s, bdoc, 1)["change"], "truncated");
        if reflink {
            // A snapshot keeps its content; "keep mine" writes it back.
            let v = s
                .request(
                    "tome/viewport",
                    json!({"doc": bdoc, "fraction": 0.9, "count": 5}),
                )
                .unwrap();
            assert_eq!(texts(&v).len(), 5);
            s.request("tome/save", json!({"doc": bdoc})).unwrap();
            assert_eq!(std::fs::metadata(&big).unwrap().len(), 4 << 20);
            assert_eq!(s.shutdown(), Some(0));
            continue;
        }
        let err = s
            .request(
                "tome/viewport",
                json!({"doc": bdoc, "fraction": 0.9, "count": 5}),
            )
            .unwrap_err();
        assert!(
            err["message"].as_str().unwrap().contains("truncated"),
            "{err}"
        );
        let v = s
            .request(
                "tome/viewport",
                json!({"doc": other, "first": 0, "count": 1}),
            )
            .unwrap();
        assert_eq!(texts(&v), ["bystander"]);
        assert!(s.disk_notices(other).is_empty());
        assert_eq!(s.shutdown(), Some(0));
    }
}

/// An append that cannot be read (here: the server is out of file descriptors) is reported as
/// `followFailed` with the reason, not as a rewrite; once descriptors are free again, the next
/// append is followed and the document holds every line.
#[test]
fn an_append_that_cannot_be_read_is_reported_and_the_next_one_follows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, "one\n").unwrap();
    let mut s = Server::ready();
    let doc = open(&mut s, &path);
    s.request("tome/viewport", json!({"doc": doc, "first": 0, "count": 1}))
        .unwrap();
    let pid = s.pid().to_string();
    let limit = |n: usize| {
        let ok = std::process::Command::new("prlimit")
            .args(["--pid", &pid, &format!("--nofile={n}:")])
            .status()
            .is_ok_and(|st| st.success());
        assert!(ok, "prlimit failed");
    };
    // No descriptor left for opening the file again (those open stay usable).
    limit(3);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"two\n").unwrap();
    drop(f);
    let notice = wait_notice(&s, doc, 1);
    assert_eq!(notice["change"], "followFailed", "{notice}");
    assert!(
        notice["message"].as_str().unwrap().contains("open files"),
        "{notice}"
    );
    limit(1024);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"three\n").unwrap();
    drop(f);
    let notice = wait_notice(&s, doc, 2);
    assert_eq!(notice["change"], "appended", "{notice}");
    let r = s
        .request(
            "tome/viewport",
            json!({"doc": doc, "first": 0, "count": 10}),
        )
        .unwrap();
    assert_eq!(texts(&r), ["one", "two", "three", ""]);
}
