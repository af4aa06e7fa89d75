//! A small synchronous JSON-RPC client for the end-to-end tests: it starts the real `tome`
//! binary with `serve`, frames messages, matches replies to requests by id, answers the
//! server's own requests (`window/workDoneProgress/create`) and records notifications.
//!
//! The binary is `$TOME_BIN` if set (CI and the editor scripts point it at a release build);
//! otherwise [`tome_bin`] builds it first, with the profile of these tests, so a plain
//! `cargo test` (or `cargo test --release`) in a fresh clone tests the current sources.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long a reply may take before a test fails (generous: CI machines are slow).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The `tome` binary under test: `$TOME_BIN` if set, else the one [`build_tome`] makes.
pub fn tome_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("TOME_BIN") {
        return PathBuf::from(p);
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT.get_or_init(build_tome).clone()
}

/// Runs `cargo build -p tome` once per test process, with the profile these tests were built
/// with and into their target directory, and returns the binary. Always run, not only when the
/// binary is missing: cargo's own freshness check (a no-op when nothing changed) is what keeps
/// a stale binary from being tested. Test processes building at once are serialised by cargo's
/// lock on the target directory.
///
/// The profile and target directory come from this test executable's path
/// (`<target>/<profile dir>/deps/<test>`), which also covers `--target-dir` and
/// `CARGO_TARGET_DIR`. A debug test run builds with the `test` profile (optimised, see the
/// workspace's Cargo.toml): an unoptimised server would be far too slow for the big files.
pub fn build_tome() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let profile_dir = exe
        .parent()
        .filter(|deps| deps.ends_with("deps"))
        .and_then(|deps| deps.parent())
        .expect("a test executable in <target>/<profile>/deps: else set TOME_BIN");
    let target = profile_dir.parent().expect("a target directory");
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "test",
        Some("release") => "release",
        Some(other) => other,
        None => panic!("no profile in {}: set TOME_BIN", profile_dir.display()),
    };
    // The cargo running these tests (it sets CARGO), else the one that built them.
    let cargo = std::env::var_os("CARGO")
        .or_else(|| option_env!("CARGO").map(Into::into))
        .unwrap_or_else(|| "cargo".into());
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    eprintln!(
        "tome-e2e: cargo build -p tome --features fault-injection --profile {profile} (set TOME_BIN to test another binary)"
    );
    let status = Command::new(&cargo)
        .args([
            "build",
            "-p",
            "tome",
            "--features",
            "fault-injection",
            "--profile",
            profile,
            "--manifest-path",
        ])
        .arg(&manifest)
        .arg("--target-dir")
        .arg(target)
        .stdout(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run {cargo:?} to build tome ({e}): set TOME_BIN"));
    assert!(
        status.success(),
        "building tome failed ({status}): see above"
    );
    let bin = profile_dir.join(format!("tome{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "cargo built tome, but not at {}",
        bin.display()
    );
    bin
}

/// Fails the test unless the binary under test has the fault hooks (`tome --version` of a
/// build with `--features fault-injection` says so): without them a `TOME_TEST_*` variable is
/// ignored and the test would fail for the wrong reason.
pub fn require_fault_injection() {
    // Asked once per test process: the crash tests start servers in loops.
    static VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let version = VERSION.get_or_init(|| {
        let out = Command::new(tome_bin())
            .arg("--version")
            .output()
            .expect("tome --version runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    });
    assert!(
        version.contains("fault injection"),
        "{} is not a test build (`tome --version`: {version:?}): build it with \
         `cargo build -p tome --features fault-injection`, or unset TOME_BIN",
        tome_bin().display()
    );
}

/// What a process holds, read from `/proc` (the soak tests sample the server with it).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessUse {
    /// Open file descriptors.
    pub fds: usize,
    /// Threads.
    pub threads: usize,
    /// Mappings (lines of `/proc/PID/maps`).
    pub maps: usize,
    /// Anonymous resident memory (`RssAnon`), KiB.
    pub anon_kib: usize,
    /// Resident memory (`VmRSS`), KiB.
    pub rss_kib: usize,
}

/// Samples process `pid` (zeros for what cannot be read: the process ended).
pub fn process_use(pid: u32) -> ProcessUse {
    let count = |dir: String| std::fs::read_dir(dir).map_or(0, |d| d.count());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    ProcessUse {
        fds: count(format!("/proc/{pid}/fd")),
        threads: count(format!("/proc/{pid}/task")),
        maps: std::fs::read_to_string(format!("/proc/{pid}/maps")).map_or(0, |m| m.lines().count()),
        anon_kib: field("RssAnon:"),
        rss_kib: field("VmRSS:"),
    }
}

/// Frames one body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Reads one frame; `None` at the end of the stream (or on a frame that is not JSON).
pub fn read_frame(r: &mut impl BufRead) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse::<usize>().ok();
            }
        }
    }
    let mut body = vec![0; len?];
    r.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A running `tome serve` and the client side of its stdio.
pub struct Server {
    child: Child,
    stdin: Arc<Mutex<Option<ChildStdin>>>,
    replies: Receiver<Value>,
    /// Replies read but not yet asked for, by id (`null` ids under "null").
    pending: HashMap<String, Vec<Value>>,
    /// Notifications from the server, in arrival order.
    pub notifications: Arc<Mutex<Vec<Value>>>,
    next_id: i64,
}

fn id_key(id: &Value) -> String {
    id.to_string()
}

impl Server {
    /// Starts `tome serve` (stderr goes to the test's stderr), with its journals in a state
    /// directory of this test process (never the user's).
    pub fn start() -> Server {
        static STATE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        let state = STATE.get_or_init(|| tempfile::tempdir().expect("a temporary state directory"));
        Server::start_with_state(state.path())
    }

    /// Starts `tome serve` keeping its journals under `state`.
    pub fn start_with_state(state: &std::path::Path) -> Server {
        Server::start_with_env(state, &[])
    }

    /// Starts `tome serve` keeping its journals under `state`, with extra environment.
    /// A `TOME_TEST_*` variable needs a test build: this fails clearly if the binary is not one.
    pub fn start_with_env(state: &std::path::Path, env: &[(&str, &str)]) -> Server {
        if env.iter().any(|(k, _)| k.starts_with("TOME_TEST_")) {
            require_fault_injection();
        }
        Server::spawn(Command::new(tome_bin()), state, env)
    }

    /// Starts `tome serve` through `wrapper` (a command and its arguments, to which the tome
    /// binary and `serve` are appended: `setpriv --reuid=…` to run as another user, say).
    pub fn start_wrapped(wrapper: &[&str], state: &std::path::Path) -> Server {
        let mut command = Command::new(wrapper[0]);
        command.args(&wrapper[1..]).arg(tome_bin());
        Server::spawn(command, state, &[])
    }

    fn spawn(mut command: Command, state: &std::path::Path, env: &[(&str, &str)]) -> Server {
        let mut child = command
            .arg("serve")
            .env("TOME_STATE_DIR", state)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start tome serve");
        let stdin = Arc::new(Mutex::new(child.stdin.take()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, replies) = mpsc::channel();
        let notifications = Arc::new(Mutex::new(Vec::new()));
        let (notes, answer) = (Arc::clone(&notifications), Arc::clone(&stdin));
        std::thread::spawn(move || {
            let mut r = BufReader::with_capacity(1 << 20, stdout);
            while let Some(msg) = read_frame(&mut r) {
                match (msg.get("method"), msg.get("id")) {
                    (Some(_), Some(id)) => {
                        // A request from the server: accept it (progress token creation).
                        let reply = json!({"jsonrpc": "2.0", "id": id, "result": null});
                        if let Some(w) = answer.lock().unwrap().as_mut() {
                            let _ = w.write_all(&frame(reply.to_string().as_bytes()));
                            let _ = w.flush();
                        }
                        notes.lock().unwrap().push(msg);
                    }
                    (Some(_), None) => notes.lock().unwrap().push(msg),
                    _ => {
                        if tx.send(msg).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Server {
            child,
            stdin,
            replies,
            pending: HashMap::new(),
            notifications,
            next_id: 1,
        }
    }

    /// Starts a server and initializes it with `capabilities`; returns it and the reply.
    pub fn initialized(capabilities: Value) -> (Server, Value) {
        let mut s = Server::start();
        let reply = s
            .request("initialize", json!({ "capabilities": capabilities }))
            .expect("initialize");
        s.notify("initialized", json!({}));
        (s, reply)
    }

    /// A server initialized with UTF-16 positions and progress support.
    pub fn ready() -> Server {
        Server::initialized(json!({"window": {"workDoneProgress": true}})).0
    }

    /// Writes raw bytes to the server's stdin.
    pub fn write_raw(&mut self, bytes: &[u8]) {
        let mut guard = self.stdin.lock().unwrap();
        let w = guard.as_mut().expect("stdin is closed");
        w.write_all(bytes).expect("write to server");
        w.flush().expect("flush");
    }

    /// Sends a JSON value as one frame.
    pub fn send_value(&mut self, v: &Value) {
        self.write_raw(&frame(v.to_string().as_bytes()));
    }

    /// Sends a request without waiting; returns its id.
    pub fn send(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send_value(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The request message [`Server::send`] would send, and its id (to batch writes).
    pub fn request_bytes(&mut self, method: &str, params: Value) -> (i64, Vec<u8>) {
        let id = self.next_id;
        self.next_id += 1;
        let v = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        (id, frame(v.to_string().as_bytes()))
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send_value(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends `$/cancelRequest` for `id`.
    pub fn cancel(&mut self, id: i64) {
        self.notify("$/cancelRequest", json!({ "id": id }));
    }

    /// Waits for the reply with this id (a number, or `Value::Null` for parse errors).
    pub fn reply_to(&mut self, id: &Value) -> Value {
        let key = id_key(id);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(list) = self.pending.get_mut(&key) {
                if !list.is_empty() {
                    return list.remove(0);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.replies.recv_timeout(left) {
                Ok(msg) => {
                    let k = id_key(msg.get("id").unwrap_or(&Value::Null));
                    self.pending.entry(k).or_default().push(msg);
                }
                Err(RecvTimeoutError::Timeout) => panic!("no reply to {id} within {TIMEOUT:?}"),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the server closed its output before answering {id}")
                }
            }
        }
    }

    /// Moves the replies that have arrived into `pending` (without waiting).
    fn collect_arrived(&mut self) {
        while let Ok(msg) = self.replies.try_recv() {
            let k = id_key(msg.get("id").unwrap_or(&Value::Null));
            self.pending.entry(k).or_default().push(msg);
        }
    }

    /// True if the reply to `id` has arrived (without waiting).
    pub fn has_reply(&mut self, id: i64) -> bool {
        self.collect_arrived();
        self.pending
            .get(&id_key(&json!(id)))
            .is_some_and(|l| !l.is_empty())
    }

    /// The oldest reply with this id (a number, a string, `Value::Null`…) that has already
    /// arrived, without waiting; `None` if there is none.
    pub fn reply_now(&mut self, id: &Value) -> Option<Value> {
        self.collect_arrived();
        let list = self.pending.get_mut(&id_key(id))?;
        (!list.is_empty()).then(|| list.remove(0))
    }

    /// Waits for the reply to request `id`: `Ok(result)` or `Err(error)`.
    pub fn wait(&mut self, id: i64) -> Result<Value, Value> {
        let reply = self.reply_to(&json!(id));
        match (reply.get("result"), reply.get("error")) {
            (_, Some(e)) => Err(e.clone()),
            (Some(r), None) => Ok(r.clone()),
            _ => panic!("malformed reply {reply}"),
        }
    }

    /// Sends a request and waits for its reply.
    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        let id = self.send(method, params);
        self.wait(id)
    }

    /// Sends a request that must fail; returns the error's code.
    pub fn error_code(&mut self, method: &str, params: Value) -> i64 {
        match self.request(method, params.clone()) {
            Ok(r) => panic!("{method} {params} should fail, got {r}"),
            Err(e) => e["code"].as_i64().expect("numeric code"),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin.lock().unwrap().take();
    }

    /// Waits for the process to end and returns its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// `shutdown` then `exit`; returns the exit code.
    pub fn shutdown(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null).expect("shutdown");
        self.notify("exit", Value::Null);
        self.wait_exit()
    }

    /// Kills the server with SIGKILL: no chance to flush or clean up, as in a crash.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// `$/progress` notifications so far with this token.
    pub fn progress(&self, token: &str) -> Vec<Value> {
        self.notifications
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n["method"] == "$/progress" && n["params"]["token"] == token)
            .map(|n| n["params"]["value"].clone())
            .collect()
    }

    /// The params of the `tome/didChangeOnDisk` notifications so far for document `doc`.
    pub fn disk_notices(&self, doc: u64) -> Vec<Value> {
        self.notifications
            .lock()
            .unwrap()
            .iter()
            .filter(|n| n["method"] == "tome/didChangeOnDisk" && n["params"]["doc"] == doc)
            .map(|n| n["params"].clone())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
