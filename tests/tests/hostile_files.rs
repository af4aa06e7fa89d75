//! What a hostile local user can plant or arrange around a file, and the odd files a path may
//! name: the server must neither act on what it did not write nor block, and must say what it
//! found. Cases that need two users run only as root (they set the scene with `chown` and run
//! the server as `nobody` with `setpriv`); elsewhere they say they were skipped.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use serde_json::{json, Value};
use tome_e2e::Server;

const NOBODY: u32 = 65534;

fn as_root_with_setpriv() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return false;
    }
    true
}

fn nobody_server(state: &Path) -> Server {
    let mut s = Server::start_wrapped(
        &[
            "/usr/bin/setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
        state,
    );
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s
}

fn root_server(state: &Path) -> Server {
    let mut s = Server::start_with_state(state);
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    s
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn names_with(dir: &Path, marker: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(marker))
        .collect()
}

fn warnings_of_kind<'a>(info: &'a Value, kind: &str) -> Vec<&'a Value> {
    info["warnings"]
        .as_array()
        .map(|w| w.iter().filter(|w| w["kind"] == kind).collect())
        .unwrap_or_default()
}

/// The probe's case: in a world-writable sticky directory, `nobody` plants
/// `.rootfile.conf.tome-backup.4000000` (a dead pid); a server run by root opens
/// `rootfile.conf`. The file must keep its content and the plant must be reported, not used.
#[test]
fn a_planted_backup_is_reported_and_never_restored() {
    if !as_root_with_setpriv() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o1777);
    let state = tempfile::tempdir().unwrap();
    let path = dir.path().join("rootfile.conf");
    std::fs::write(&path, "root's real content\n").unwrap();
    set_mode(&path, 0o644);
    let planted = dir.path().join(".rootfile.conf.tome-backup.4000000");
    std::fs::write(&planted, "EVIL CONTENT").unwrap();
    std::os::unix::fs::chown(&planted, Some(NOBODY), Some(NOBODY)).unwrap();
    set_mode(&planted, 0o600);

    let mut s = root_server(state.path());
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"root's real content\n",
        "the planted backup overwrote the file"
    );
    assert!(planted.exists(), "what we did not write is not removed");
    let ignored = warnings_of_kind(&info, "ignoredBackup");
    assert_eq!(ignored.len(), 1, "{info}");
    assert_eq!(ignored[0]["path"], json!(planted));
    assert!(
        ignored[0]["message"]
            .as_str()
            .unwrap()
            .contains("another user"),
        "{info}"
    );
    // The same plant owned by root itself (say, a copy root made) still has no record.
    std::os::unix::fs::chown(&planted, Some(0), Some(0)).unwrap();
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"root's real content\n");
    assert_eq!(warnings_of_kind(&info, "ignoredBackup").len(), 1, "{info}");
    assert_eq!(s.shutdown(), Some(0));
}

/// The probe's second case: a server run as `nobody` saves a root-owned 0644 file in a 0777
/// directory. The answer is "permission denied", nothing is left behind, and after root
/// writes new content, no later open puts the old content back.
#[test]
fn a_save_that_may_not_write_is_refused_before_any_backup() {
    if !as_root_with_setpriv() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o777);
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    set_mode(&state, 0o777);
    let path = dir.path().join("config.txt");
    std::fs::write(&path, "version 1\n").unwrap();
    set_mode(&path, 0o644);

    let mut s = nobody_server(&state);
    let info = s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(
        info["readOnly"], true,
        "root's 0644 file is read-only to nobody"
    );
    let doc = info["doc"].as_u64().unwrap();
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "nobody was here\n"}]}))
        .unwrap();
    let err = s.request("tome/save", json!({"doc": doc})).unwrap_err();
    assert_eq!(err["code"], -33006, "{err}");
    assert_eq!(err["data"]["kind"], "permissionDenied", "{err}");
    assert!(names_with(dir.path(), ".tome-").is_empty(), "nothing left");
    assert_eq!(std::fs::read(&path).unwrap(), b"version 1\n");
    assert_eq!(s.shutdown(), Some(0));

    std::fs::write(&path, "version 2 by root\n").unwrap();
    let mut s = nobody_server(&state);
    s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(s.shutdown(), Some(0));
    let mut s = root_server(&state);
    s.request("tome/open", json!({"path": path})).unwrap();
    assert_eq!(s.shutdown(), Some(0));
    assert_eq!(std::fs::read(&path).unwrap(), b"version 2 by root\n");
}

/// `readOnly` comes from what the OS grants the server's user, not from the mode bits alone.
#[test]
fn read_only_is_what_the_server_may_do() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let mine = dir.path().join("mine.txt");
    std::fs::write(&mine, "x\n").unwrap();
    let mut s = root_server(&state);
    let info = s.request("tome/open", json!({"path": mine})).unwrap();
    assert_eq!(info["readOnly"], false);
    set_mode(&mine, 0o444);
    let info = s.request("tome/open", json!({"path": mine})).unwrap();
    assert_eq!(
        info["readOnly"], true,
        "no write bit: read-only, even for root"
    );
    assert_eq!(s.shutdown(), Some(0));
}

/// A FIFO, a device, a directory and kernel files are refused at once with -33007; the server
/// never blocks waiting for a FIFO's writer and never shows a /proc file as empty.
#[test]
fn odd_files_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let mut s = Server::start();
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    for path in [
        fifo.to_str().unwrap(),
        "/dev/null",
        "/dev/zero",
        dir.path().to_str().unwrap(),
        "/proc/self/status",
        "/proc/version",
        "/sys/kernel/mm/transparent_hugepage/enabled",
    ] {
        if !Path::new(path).exists() {
            continue;
        }
        let err = s.request("tome/open", json!({"path": path})).unwrap_err();
        assert_eq!(err["code"], -33007, "{path}: {err}");
        assert_eq!(err["data"]["kind"], "notRegularFile", "{path}: {err}");
    }
    // A symbolic link to a FIFO is the FIFO.
    let link = dir.path().join("link-to-pipe");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    assert_eq!(s.error_code("tome/open", json!({"path": link})), -33007);
    // Saving into /proc is refused as such, not as a full disk.
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "a\n").unwrap();
    let doc = s.request("tome/open", json!({"path": file})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    for target in [
        "/proc/self/comm",
        "/proc/tome-test-new-file",
        "/sys/tome-test",
    ] {
        let err = s
            .request("tome/saveAs", json!({"doc": doc, "path": target}))
            .unwrap_err();
        assert_ne!(err["code"], -33011, "{target}: not a full disk: {err}");
        assert!(
            [-33006, -33007, -33005].contains(&err["code"].as_i64().unwrap()),
            "{target}: {err}"
        );
    }
    assert_eq!(s.shutdown(), Some(0));
}

/// Two servers with the same state directory open the same file: the second cannot journal
/// it, and says so.
#[test]
fn a_second_session_of_a_file_is_told_it_is_not_journaled() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = dir.path().join("shared.log");
    std::fs::write(&path, "one\ntwo\n").unwrap();
    let mut first = root_server(&state);
    let info = first.request("tome/open", json!({"path": path})).unwrap();
    assert!(warnings_of_kind(&info, "journalInUse").is_empty(), "{info}");
    let mut second = root_server(&state);
    let info = second.request("tome/open", json!({"path": path})).unwrap();
    let w = warnings_of_kind(&info, "journalInUse");
    assert_eq!(w.len(), 1, "{info}");
    assert!(w[0]["message"]
        .as_str()
        .unwrap()
        .contains("another Tome session"));
    assert_eq!(second.shutdown(), Some(0));
    assert_eq!(first.shutdown(), Some(0));
}

/// A file with two names is saved in place; the server is killed in the middle of writing.
/// The next open asks (-33014, with what it found) instead of restoring by itself; "restore"
/// puts the old file back and offers the journaled edit; a file another program wrote since
/// is flagged `changedSince`, and "discard" keeps it.
#[test]
fn an_interrupted_in_place_save_is_offered_never_applied_silently() {
    for changed_by_another_program in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = dir.path().join("doc.log");
        let link = dir.path().join("second-name.log");
        tome_gen::write_file(
            &tome_gen::GenConfig {
                size: 8 << 20,
                ..Default::default()
            },
            &path,
        )
        .unwrap();
        std::fs::hard_link(&path, &link).unwrap();
        let old = std::fs::read(&path).unwrap();
        let old_mtime = std::fs::metadata(&path).unwrap().mtime();

        let mut s = Server::start_with_env(&state, &[("TOME_TEST_SAVE_FAULT", "mid-write")]);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
            .as_u64()
            .unwrap();
        s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "NEW "}]}))
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(400));
        s.send("tome/save", json!({"doc": doc}));
        assert_eq!(s.wait_exit(), None, "the server aborted mid-write");
        let half = std::fs::read(&path).unwrap();
        assert!(half != old, "half written");
        if changed_by_another_program {
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::write(&link, "rewritten by another program\n").unwrap();
        }
        let now = std::fs::read(&path).unwrap();

        let mut s = root_server(&state);
        let err = s.request("tome/open", json!({"path": link})).unwrap_err();
        assert_eq!(err["code"], -33014, "{err}");
        assert_eq!(err["data"]["kind"], "interruptedSave");
        assert_eq!(
            err["data"]["changedSince"], changed_by_another_program,
            "{err}"
        );
        assert_eq!(
            err["data"]["savedMtimeMs"].as_i64().unwrap() / 1000,
            old_mtime
        );
        let backup = err["data"]["backup"].as_str().unwrap().to_string();
        assert!(Path::new(&backup).exists());
        assert!(
            std::fs::read(&path).unwrap() == now,
            "asking changes nothing"
        );
        // Asked again: same answer (nothing was decided).
        assert_eq!(s.error_code("tome/open", json!({"path": path})), -33014);
        // "keep": opens the file as it is and asks again next time.
        let kept = s
            .request(
                "tome/open",
                json!({"path": path, "interruptedSave": "keep"}),
            )
            .unwrap();
        assert_eq!(kept["size"].as_u64().unwrap(), now.len() as u64);
        s.request("tome/close", json!({"doc": kept["doc"]}))
            .unwrap();
        assert!(Path::new(&backup).exists());

        if changed_by_another_program {
            let info = s
                .request(
                    "tome/open",
                    json!({"path": path, "interruptedSave": "discard"}),
                )
                .unwrap();
            assert!(
                std::fs::read(&path).unwrap() == now,
                "the other program's file stays"
            );
            assert!(!Path::new(&backup).exists(), "backup discarded");
            assert!(
                info["recovery"].is_object(),
                "the journal is still offered: {info}"
            );
            assert_eq!(info["recovery"]["fits"], false, "{info}");
        } else {
            let info = s
                .request(
                    "tome/open",
                    json!({"path": path, "interruptedSave": "restore"}),
                )
                .unwrap();
            assert!(std::fs::read(&link).unwrap() == old, "wholly the old file");
            assert!(!Path::new(&backup).exists(), "backup used up");
            assert_eq!(info["recovery"]["changes"], 1, "{info}");
            assert_eq!(info["recovery"]["fits"], true, "{info}");
            let doc = info["doc"].as_u64().unwrap();
            s.request("tome/recover", json!({"doc": doc})).unwrap();
            s.request("tome/save", json!({"doc": doc})).unwrap();
            let mut new = b"NEW ".to_vec();
            new.extend_from_slice(&old);
            assert!(std::fs::read(&link).unwrap() == new, "recovered and saved");
        }
        // Nothing more to ask about.
        s.request("tome/open", json!({"path": path})).unwrap();
        assert!(names_with(dir.path(), ".tome-backup.").is_empty());
        assert!(names_with(&state.join("backups"), ".record").is_empty());
        assert_eq!(s.shutdown(), Some(0));
    }
}
