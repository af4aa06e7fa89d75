//! Killing the server at each step of a save: the target is always wholly the old file or
//! wholly the new one, and the temporary file left behind is removed by the next open.

use std::time::Duration;

use serde_json::json;
use tome_e2e::Server;

/// Names in `dir` containing `marker`.
fn named(dir: &std::path::Path, marker: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(marker))
        .collect()
}

fn temps(dir: &std::path::Path) -> Vec<String> {
    named(dir, ".tome-save.")
}

fn backups(dir: &std::path::Path) -> Vec<String> {
    named(dir, ".tome-backup.")
}

#[test]
fn a_save_killed_at_any_step_leaves_the_old_or_the_new_file() {
    for point in ["mid-write", "after-write", "after-sync", "after-rename"] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = dir.path().join("doc.log");
        tome_gen::write_file(
            &tome_gen::GenConfig {
                size: 4 << 20,
                ..Default::default()
            },
            &path,
        )
        .unwrap();
        let old = std::fs::read(&path).unwrap();
        let mut new = b"NEW ".to_vec();
        new.extend_from_slice(&old);

        let mut s = Server::start_with_env(&state, &[("TOME_TEST_SAVE_FAULT", point)]);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
            .as_u64()
            .unwrap();
        s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "NEW "}]})).unwrap();
        // Let the journal sync the edit (every 200 ms) before the save kills the server.
        std::thread::sleep(Duration::from_millis(400));
        s.send("tome/save", json!({"doc": doc}));
        // Killed by SIGABRT: no exit code.
        assert_eq!(s.wait_exit(), None, "{point}: the server aborted");
        let on_disk = std::fs::read(&path).unwrap();
        assert!(
            on_disk == old || on_disk == new,
            "{point}: the target is neither the old nor the new file"
        );
        if point == "after-rename" {
            assert!(on_disk == new, "after the rename the new file is in place");
        } else {
            assert!(
                on_disk == old,
                "{point}: before the rename the old file is in place"
            );
            assert_eq!(
                temps(dir.path()).len(),
                1,
                "{point}: the killed save's temporary file is there"
            );
        }

        // The next session cleans up, and the journal still has the unsaved edit.
        let mut s = Server::start_with_state(&state);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let info = s.request("tome/open", json!({"path": path})).unwrap();
        assert!(
            temps(dir.path()).is_empty(),
            "{point}: stale temporary files are removed at open"
        );
        if point != "after-rename" {
            assert_eq!(info["recovery"]["changes"], 1, "{point}: {info}");
        }
        assert_eq!(s.shutdown(), Some(0));
    }
}

/// A file with two hard links is saved in place. Killed at any step, the next open asks, and
/// "restore" puts the old file back (same inode, both names) and offers the unsaved edits,
/// which recover in full.
#[test]
fn an_in_place_save_killed_at_any_step_loses_nothing() {
    use std::os::unix::fs::MetadataExt;
    for point in ["after-backup", "mid-write", "after-write", "after-sync"] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = dir.path().join("doc.log");
        let link = dir.path().join("other-name.log");
        tome_gen::write_file(
            &tome_gen::GenConfig {
                size: 16 << 20,
                ..Default::default()
            },
            &path,
        )
        .unwrap();
        std::fs::hard_link(&path, &link).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let old = std::fs::read(&path).unwrap();
        let mut new = b"NEW ".to_vec();
        new.extend_from_slice(&old[..8 << 20]);
        new.extend_from_slice(&old[(12 << 20)..]);

        let mut s = Server::start_with_env(&state, &[("TOME_TEST_SAVE_FAULT", point)]);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
            .as_u64()
            .unwrap();
        let edits = json!([
            {"offsets": {"start": 0, "end": 0}, "text": "NEW "},
            {"offsets": {"start": 8 << 20, "end": 12 << 20}, "text": ""}
        ]);
        s.request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": edits}),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        s.send("tome/save", json!({"doc": doc}));
        assert_eq!(s.wait_exit(), None, "{point}: the server aborted");
        assert_eq!(backups(dir.path()).len(), 1, "{point}: the backup is there");
        if point == "mid-write" {
            let on_disk = std::fs::read(&link).unwrap();
            assert!(on_disk != old && on_disk != new, "{point}: half written");
        }

        let mut s = Server::start_with_state(&state);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        // The next open asks before putting anything back; the user says "restore".
        let err = s.request("tome/open", json!({"path": path})).unwrap_err();
        assert_eq!(err["code"], -33014, "{point}: {err}");
        assert_eq!(err["data"]["changedSince"], false, "{point}: {err}");
        let info = s
            .request(
                "tome/open",
                json!({"path": path, "interruptedSave": "restore"}),
            )
            .unwrap();
        assert!(std::fs::read(&link).unwrap() == old, "{point}: wholly old");
        assert!(backups(dir.path()).is_empty(), "{point}: backup used up");
        assert!(temps(dir.path()).is_empty(), "{point}");
        for name in [&path, &link] {
            assert_eq!(std::fs::metadata(name).unwrap().ino(), inode, "{point}");
        }
        assert_eq!(info["recovery"]["changes"], 1, "{point}: {info}");
        let doc = info["doc"].as_u64().unwrap();
        let r = s.request("tome/recover", json!({"doc": doc})).unwrap();
        assert_eq!(r["applied"], 1, "{point}: {r}");
        s.request("tome/save", json!({"doc": doc})).unwrap();
        assert!(std::fs::read(&path).unwrap() == new, "{point}: recovered");
        assert_eq!(std::fs::metadata(&link).unwrap().ino(), inode);
        assert_eq!(s.shutdown(), Some(0));
    }
}

/// Saves of one document run one at a time: a save sent while another runs (or right after
/// cancelling one) waits for it instead of failing busy; 256 MiB, so the first one is still
/// writing when the next arrives.
#[test]
fn saves_sent_together_or_after_a_cancel_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.log");
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: 256 << 20,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    let mut s = Server::ready();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "1 "}]})).unwrap();
    // Two saves in one write, then an edit and a third save.
    let (first, mut burst) = s.request_bytes("tome/save", json!({"doc": doc}));
    let (second, b) = s.request_bytes("tome/save", json!({"doc": doc}));
    burst.extend(b);
    let (edit, b) = s.request_bytes("tome/edit", json!({"doc": doc, "version": 1, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "2 "}]}));
    burst.extend(b);
    let (third, b) = s.request_bytes("tome/save", json!({"doc": doc}));
    burst.extend(b);
    s.write_raw(&burst);
    assert_eq!(s.wait(first).unwrap()["version"], 1);
    assert_eq!(s.wait(second).unwrap()["version"], 1);
    assert_eq!(s.wait(edit).unwrap()["version"], 2);
    assert_eq!(s.wait(third).unwrap()["version"], 2);
    assert!(std::fs::read(&path).unwrap().starts_with(b"2 1 "));

    // A save cancelled while it writes, and another sent right behind the cancel.
    s.request("tome/edit", json!({"doc": doc, "version": 2, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "3 "}]})).unwrap();
    let (cancelled, mut burst) = s.request_bytes("tome/save", json!({"doc": doc}));
    burst.extend(tome_e2e::frame(
        json!({"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": cancelled}})
            .to_string()
            .as_bytes(),
    ));
    let (next, b) = s.request_bytes("tome/save", json!({"doc": doc}));
    burst.extend(b);
    s.write_raw(&burst);
    let _ = s.wait(cancelled); // cancelled, or done if it finished first
    let r = s.wait(next).unwrap();
    assert_eq!(r["version"], 3, "{r}");
    assert!(std::fs::read(&path).unwrap().starts_with(b"3 2 1 "));
    let info = s.request("tome/info", json!({"doc": doc})).unwrap();
    assert_eq!(info["dirty"], false);
    assert!(temps(dir.path()).is_empty());
    assert_eq!(s.shutdown(), Some(0));
}

/// An edit near the end of a big file is saved in place by a plain `tome/save`, from the
/// first changed byte, behind a backup of the tail only. Killed at any step, the file holds
/// the old bytes or the new ones (or, mid-write, the old prefix and a part of the new tail);
/// the next open asks; "restore" copies the tail back and cuts the file to its old length
/// (wholly the old file, byte for byte, same inode) and the unsaved edits recover in full;
/// "discard" (after the write was synced) keeps the new file.
#[test]
fn a_tail_save_killed_at_any_step_loses_nothing() {
    use std::os::unix::fs::MetadataExt;
    for point in ["after-backup", "mid-write", "after-write", "after-sync"] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = dir.path().join("doc.log");
        let size = 32usize << 20;
        tome_gen::write_file(
            &tome_gen::GenConfig {
                size: size as u64,
                ..Default::default()
            },
            &path,
        )
        .unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let old = std::fs::read(&path).unwrap();
        // An insertion at 90 %, a deletion of 512 KiB at 95 % (offsets of one batch are in the
        // document before it): the file shrinks.
        let (at, cut) = (size * 90 / 100, size * 95 / 100);
        let mut new = old[..at].to_vec();
        new.extend_from_slice(b"NEW ");
        new.extend_from_slice(&old[at..cut]);
        new.extend_from_slice(&old[cut + (512 << 10)..]);

        let mut s = Server::start_with_env(&state, &[("TOME_TEST_SAVE_FAULT", point)]);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
            .as_u64()
            .unwrap();
        let edits = json!([
            {"offsets": {"start": at, "end": at}, "text": "NEW "},
            {"offsets": {"start": cut, "end": cut + (512 << 10)}, "text": ""}
        ]);
        s.request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": edits}),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        s.send("tome/save", json!({"doc": doc}));
        assert_eq!(s.wait_exit(), None, "{point}: the server aborted");
        let backup = backups(dir.path());
        assert_eq!(backup.len(), 1, "{point}: the backup is there");
        let backed_up = std::fs::metadata(dir.path().join(&backup[0]))
            .unwrap()
            .len();
        assert!(
            backed_up < (size as u64) / 8,
            "{point}: only the tail is backed up ({backed_up} bytes)"
        );
        let on_disk = std::fs::read(&path).unwrap();
        assert!(
            on_disk[..at] == old[..at],
            "{point}: the prefix is untouched"
        );
        match point {
            "after-backup" => assert!(on_disk == old, "{point}: not written yet"),
            "after-sync" => assert!(on_disk == new, "{point}: written and cut"),
            _ => assert!(on_disk != old && on_disk != new, "{point}: half written"),
        }

        let mut s = Server::start_with_state(&state);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let err = s.request("tome/open", json!({"path": path})).unwrap_err();
        assert_eq!(err["code"], -33014, "{point}: {err}");
        assert_eq!(err["data"]["changedSince"], false, "{point}: {err}");
        let start = err["data"]["backupStart"].as_u64().unwrap();
        assert!(start > 0 && start <= at as u64, "{point}: {err}");
        assert_eq!(
            start + backed_up,
            size as u64,
            "{point}: the tail from its start"
        );
        if point == "after-sync" {
            // Discard: the new file stays, the backup goes.
            let info = s
                .request(
                    "tome/open",
                    json!({"path": path, "interruptedSave": "discard"}),
                )
                .unwrap();
            assert!(
                std::fs::read(&path).unwrap() == new,
                "{point}: the new file"
            );
            assert!(backups(dir.path()).is_empty(), "{point}");
            assert!(info["doc"].as_u64().is_some(), "{info}");
            assert_eq!(s.shutdown(), Some(0));
            continue;
        }
        let info = s
            .request(
                "tome/open",
                json!({"path": path, "interruptedSave": "restore"}),
            )
            .unwrap();
        assert!(std::fs::read(&path).unwrap() == old, "{point}: wholly old");
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "{point}");
        assert!(backups(dir.path()).is_empty(), "{point}: backup used up");
        assert!(temps(dir.path()).is_empty(), "{point}");
        assert_eq!(info["recovery"]["changes"], 1, "{point}: {info}");
        let doc = info["doc"].as_u64().unwrap();
        let r = s.request("tome/recover", json!({"doc": doc})).unwrap();
        assert_eq!(r["applied"], 1, "{point}: {r}");
        let saved = s.request("tome/save", json!({"doc": doc})).unwrap();
        assert_eq!(saved["method"], "inPlace", "{point}: {saved}");
        assert!(std::fs::read(&path).unwrap() == new, "{point}: recovered");
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert_eq!(s.shutdown(), Some(0));
    }
}

/// An edit that keeps the length (three overwrites at 20 %, 50 % and 80 %) is saved in place by
/// a plain `tome/save` writing only the changed bytes, behind a backup of their three 64 KiB
/// blocks. Killed at any step, every byte outside those blocks is the old one and the file
/// holds the old bytes or the new ones (mid-write, some of each); the next open asks;
/// "restore" copies every block back (wholly the old file, byte for byte, same inode) and the
/// unsaved edits recover in full; "discard" (after the write was synced) keeps the new file.
#[test]
fn a_block_save_killed_at_any_step_loses_nothing() {
    use std::os::unix::fs::MetadataExt;
    const BLOCK: usize = 64 << 10;
    for point in ["after-backup", "mid-write", "after-write", "after-sync"] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let path = dir.path().join("doc.log");
        let size = 32usize << 20;
        tome_gen::write_file(
            &tome_gen::GenConfig {
                size: size as u64,
                ..Default::default()
            },
            &path,
        )
        .unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        let old = std::fs::read(&path).unwrap();
        let spots = [size * 20 / 100 + 5, size / 2 + 77, size * 80 / 100 + 1000];
        let mut new = old.clone();
        let mut edits = Vec::new();
        for (i, &at) in spots.iter().enumerate() {
            let text = format!("<{i}{i}{i}>");
            new[at..at + text.len()].copy_from_slice(text.as_bytes());
            edits.push(json!({"offsets": {"start": at, "end": at + text.len()}, "text": text}));
        }

        let mut s = Server::start_with_env(&state, &[("TOME_TEST_SAVE_FAULT", point)]);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
            .as_u64()
            .unwrap();
        s.request(
            "tome/edit",
            json!({"doc": doc, "version": 0, "edits": edits}),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(400));
        s.send("tome/save", json!({"doc": doc}));
        assert_eq!(s.wait_exit(), None, "{point}: the server aborted");
        let backup = backups(dir.path());
        assert_eq!(backup.len(), 1, "{point}: the backup is there");
        let backed_up = std::fs::metadata(dir.path().join(&backup[0]))
            .unwrap()
            .len();
        assert_eq!(backed_up, 3 * BLOCK as u64, "{point}: three blocks");
        let on_disk = std::fs::read(&path).unwrap();
        assert_eq!(on_disk.len(), old.len(), "{point}");
        let blocks: Vec<usize> = spots.iter().map(|at| at - at % BLOCK).collect();
        for (i, (a, b)) in on_disk.chunks(BLOCK).zip(old.chunks(BLOCK)).enumerate() {
            if !blocks.contains(&(i * BLOCK)) {
                assert!(a == b, "{point}: block {i} is untouched");
            }
        }
        match point {
            "after-backup" => assert!(on_disk == old, "{point}: not written yet"),
            "after-sync" | "after-write" => assert!(on_disk == new, "{point}: written"),
            _ => assert!(on_disk != old && on_disk != new, "{point}: half written"),
        }

        let mut s = Server::start_with_state(&state);
        s.request("initialize", json!({"capabilities": {}}))
            .unwrap();
        let err = s.request("tome/open", json!({"path": path})).unwrap_err();
        assert_eq!(err["code"], -33014, "{point}: {err}");
        assert_eq!(err["data"]["changedSince"], false, "{point}: {err}");
        assert_eq!(
            err["data"]["backupStart"], blocks[0] as u64,
            "{point}: {err}"
        );
        assert_eq!(err["data"]["backupRanges"], 3, "{point}: {err}");
        if point == "after-sync" {
            let info = s
                .request(
                    "tome/open",
                    json!({"path": path, "interruptedSave": "discard"}),
                )
                .unwrap();
            assert!(
                std::fs::read(&path).unwrap() == new,
                "{point}: the new file"
            );
            assert!(backups(dir.path()).is_empty(), "{point}");
            assert!(info["doc"].as_u64().is_some(), "{info}");
            assert_eq!(s.shutdown(), Some(0));
            continue;
        }
        let info = s
            .request(
                "tome/open",
                json!({"path": path, "interruptedSave": "restore"}),
            )
            .unwrap();
        assert!(std::fs::read(&path).unwrap() == old, "{point}: wholly old");
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode, "{point}");
        assert!(backups(dir.path()).is_empty(), "{point}: backup used up");
        assert!(temps(dir.path()).is_empty(), "{point}");
        assert_eq!(info["recovery"]["changes"], 1, "{point}: {info}");
        let doc = info["doc"].as_u64().unwrap();
        let r = s.request("tome/recover", json!({"doc": doc})).unwrap();
        assert_eq!(r["applied"], 1, "{point}: {r}");
        let saved = s.request("tome/save", json!({"doc": doc})).unwrap();
        assert_eq!(saved["method"], "inPlace", "{point}: {saved}");
        assert_eq!(saved["written"], 15, "{point}: {saved}");
        assert!(std::fs::read(&path).unwrap() == new, "{point}: recovered");
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert_eq!(s.shutdown(), Some(0));
    }
}
