//! A file owned by another user, saved by a server that is not root: a rename would hand the
//! file to the server's user (only root may give it back), so the save writes it in place and
//! the owner stays. Needs root to set the scene (a file of uid 1234, a server run as `nobody`
//! with `setpriv`); elsewhere it says it was skipped.

use std::os::unix::fs::{MetadataExt, PermissionsExt};

use serde_json::json;
use tome_e2e::Server;

#[test]
fn another_users_file_keeps_its_owner_when_saved() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    if !root || !std::path::Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let path = dir.path().join("shared.log");
    tome_gen::write_file(
        &tome_gen::GenConfig {
            size: 64 << 20,
            ..Default::default()
        },
        &path,
    )
    .unwrap();
    // Owned by uid 1234, writable by the group of `nobody` (65534).
    std::os::unix::fs::chown(&path, Some(1234), Some(65534)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let before = std::fs::metadata(&path).unwrap();
    let mut expected = b"edited by nobody\n".to_vec();
    expected.extend_from_slice(&std::fs::read(&path).unwrap());

    let mut s = Server::start_wrapped(
        &[
            "/usr/bin/setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
        &state,
    );
    s.request("initialize", json!({"capabilities": {}}))
        .unwrap();
    let doc = s.request("tome/open", json!({"path": path})).unwrap()["doc"]
        .as_u64()
        .unwrap();
    s.request("tome/edit", json!({"doc": doc, "version": 0, "edits": [{"offsets": {"start": 0, "end": 0}, "text": "edited by nobody\n"}]}))
        .unwrap();
    s.request("tome/save", json!({"doc": doc})).unwrap();
    let after = std::fs::metadata(&path).unwrap();
    assert_eq!((after.uid(), after.gid()), (1234, 65534), "owner kept");
    assert_eq!(after.ino(), before.ino(), "written in place");
    assert_eq!(after.mode() & 0o777, 0o664);
    assert!(std::fs::read(&path).unwrap() == expected);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tome-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(s.shutdown(), Some(0));
}
