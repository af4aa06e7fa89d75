//! The whole server in-process: `tome_server::serve` on in-memory pipes, driven by a client
//! that sends `initialize`, opens a small file (`doc: 1`), then the messages decoded from the
//! input, then ends the session in one of four ways (shutdown and exit after every reply;
//! shutdown and exit pipelined; exit without shutdown; end of input).
//!
//! Checked: the server never panics (libFuzzer's panic hook aborts on any panic, even one the
//! server catches and answers with -32803), never writes a bad frame or invalid JSON, answers
//! every request that has an id exactly once and nothing else, uses only the documented error
//! codes, never hangs (each wait has a deadline), and ends with the documented exit code.
//!
//! Messages: well-formed requests for each `tome/*` method with numbers and strings from the
//! input; requests with free-form JSON params (objects whose keys come mostly from the
//! protocol's field names); params and whole bodies parsed from raw bytes; notifications;
//! `$/cancelRequest` for an earlier request; and waits for every reply so far (so that later
//! requests see the document after earlier ones). Before the server starts, the input may
//! leave a journal of a crashed session for the file (one that fits, or an orphan), so that
//! `tome/recover` and `tome/recoverAsNew` have something to do.
//!
//! Every path the server is given is one of a few inside a temporary directory (regular file,
//! read-only file, directory, FIFO, symbolic link, missing file, missing directory): strings in
//! the params of `tome/open` and `tome/saveAs` are mapped onto them, so that nothing outside is
//! ever opened or written. `TOME_STATE_DIR` points into the same directory; both are reset
//! before each input.

#![no_main]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncWriteExt, DuplexStream};
use tome_server::transport::{encode, Frame, FrameReader};

/// The file opened as `doc: 1`: several line endings, multibyte characters, invalid UTF-8.
const CONTENT: &[u8] = b"hello\r\nw\xc3\xb6rld \xf0\x9f\xa6\x80\rthird line\n\xff\xfe bad\n\nlast";
/// Most messages decoded from one input.
const MAX_STEPS: usize = 40;
/// Deadline for one awaited reply, and for the end of the session.
const DEADLINE: Duration = Duration::from_secs(20);

/// The `tome/*` methods: the server's own list.
const METHODS: &[&str] = tome_server::METHODS;

/// Methods for free-form messages: the `tome/*` ones and a few others.
const OTHER_METHODS: &[&str] = &[
    "initialize",
    "initialized",
    "shutdown",
    "$/cancelRequest",
    "$/setTrace",
    "tome/unknown",
    "textDocument/hover",
    "",
];

/// Keys of free-form params: the protocol's field names, mostly.
const KEYS: &[&str] = &[
    "doc",
    "version",
    "edits",
    "range",
    "offsets",
    "start",
    "end",
    "line",
    "character",
    "text",
    "first",
    "count",
    "around",
    "fraction",
    "before",
    "window",
    "width",
    "unit",
    "wait",
    "query",
    "pattern",
    "regex",
    "caseSensitive",
    "mode",
    "from",
    "position",
    "offset",
    "direction",
    "wrap",
    "limit",
    "workDoneToken",
    "replacement",
    "maxBytes",
    "interruptedSave",
    "id",
];

/// String values of free-form params and patterns.
const STRINGS: &[&str] = &[
    "", "a", "l", "line", "hello", "🦀", "ö", "\r\n", "\n", "\r", "(", "l+", "^", "$", "\\b",
    "(?i)L", ".*", "(x)|$", "$1", "all", "count", "next", "forward", "backward", "encoding",
    "bytes", "restore", "discard", "keep", "utf-8", "utf-16", "tok",
];

const NUMBERS: &[u64] = &[
    0,
    1,
    2,
    3,
    5,
    7,
    8,
    13,
    40,
    41,
    999,
    1000,
    1001,
    16384,
    1 << 20,
    u32::MAX as u64,
    1 << 53,
    i64::MAX as u64,
    u64::MAX,
];

/// The documented error codes (docs/protocol.md, "Errors").
fn documented(code: i64) -> bool {
    matches!(
        code,
        -32700 | -32600 | -32601 | -32602 | -32002 | -32800 | -33014..=-33001
    )
}

struct Env {
    files: PathBuf,
    state: PathBuf,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = tome_fuzz::scratch_dir("tome-fuzz-rpc");
        let state = dir.join("state");
        // Before any server code runs: journals and backup records go here.
        std::env::set_var("TOME_STATE_DIR", &state);
        Env {
            files: dir.join("files"),
            state,
        }
    })
}

/// The paths the server may be given, by name.
const PATHS: &[&str] = &[
    "a.txt",
    "a.txt",
    "b.txt",
    "ro.txt",
    "sub",
    "sub/c.txt",
    "link",
    "fifo",
    "missing.txt",
    "nodir/x.txt",
    "",
];

fn path_for(files: &Path, s: &str) -> String {
    // FNV-1a: any string maps onto one of the paths, the same one every time.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    match PATHS[(h % PATHS.len() as u64) as usize] {
        "" => String::new(),
        name => files.join(name).to_string_lossy().into_owned(),
    }
}

/// Maps every string of `v` (except a few option values) onto a path in the sandbox.
fn sandbox_paths(files: &Path, v: &mut Value) {
    match v {
        Value::String(s) => *s = path_for(files, s),
        Value::Array(a) => a.iter_mut().for_each(|x| sandbox_paths(files, x)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if k != "interruptedSave" && k != "workDoneToken" {
                    sandbox_paths(files, x);
                }
            }
        }
        _ => {}
    }
}

/// Resets the sandbox: the files as described in [`PATHS`], an empty state directory.
fn reset(env: &Env) {
    let _ = std::fs::remove_dir_all(&env.files);
    let _ = std::fs::remove_dir_all(&env.state);
    let f = &env.files;
    std::fs::create_dir_all(f.join("sub")).unwrap();
    std::fs::write(f.join("a.txt"), CONTENT).unwrap();
    std::fs::write(f.join("sub/c.txt"), b"c\n").unwrap();
    let ro = f.join("ro.txt");
    std::fs::write(&ro, b"read only\n").unwrap();
    std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o444)).unwrap();
    std::os::unix::fs::symlink(f.join("a.txt"), f.join("link")).unwrap();
    let fifo = std::ffi::CString::new(f.join("fifo").as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) };
}

/// A journal left by a crashed session of a.txt: two changes; `orphan`: the file was then
/// changed in place by another program, so the journal no longer fits it.
fn crashed_session(env: &Env, orphan: bool) {
    let path = env.files.join("a.txt");
    let mut doc = tome_core::Document::open(&path).unwrap();
    doc.enable_journal(&env.state.join("journal")).unwrap();
    doc.insert(0, "recovered ").unwrap();
    doc.break_undo_group();
    doc.delete(20..24).unwrap();
    doc.sync_journal();
    doc.simulate_crash();
    if orphan {
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::os::unix::fs::FileExt::write_at(&f, b"HE", 0).unwrap();
    }
}

// ---- Generating messages ----

fn number(u: &mut Unstructured<'_>) -> arbitrary::Result<u64> {
    Ok(match u.int_in_range(0..=3)? {
        0 | 1 => u.int_in_range(0..=60)?,
        2 => *u.choose(NUMBERS)?,
        _ => u.arbitrary()?,
    })
}

fn doc_id(u: &mut Unstructured<'_>) -> arbitrary::Result<Value> {
    Ok(match u.int_in_range(0..=9)? {
        0..=6 => json!(1),
        7 => json!(2),
        8 => json!(0),
        _ => json!(number(u)?),
    })
}

fn string(u: &mut Unstructured<'_>) -> arbitrary::Result<String> {
    Ok(if u.ratio(3, 4)? {
        (*u.choose(STRINGS)?).to_string()
    } else {
        let s: String = u.arbitrary()?;
        s.chars().take(40).collect()
    })
}

fn position(u: &mut Unstructured<'_>) -> arbitrary::Result<Value> {
    Ok(json!({"line": u.int_in_range(0..=9)?, "character": number(u)?}))
}

fn offsets(u: &mut Unstructured<'_>) -> arbitrary::Result<Value> {
    Ok(json!({"start": number(u)?, "end": number(u)?}))
}

fn range(u: &mut Unstructured<'_>) -> arbitrary::Result<Value> {
    Ok(json!({"start": position(u)?, "end": position(u)?}))
}

fn query(u: &mut Unstructured<'_>) -> arbitrary::Result<Value> {
    let mut q = Map::new();
    q.insert("pattern".into(), json!(string(u)?));
    if u.arbitrary()? {
        q.insert("regex".into(), json!(u.arbitrary::<bool>()?));
    }
    if u.arbitrary()? {
        q.insert("caseSensitive".into(), json!(u.arbitrary::<bool>()?));
    }
    Ok(Value::Object(q))
}

/// Inserts `key: value` if the input says so.
fn maybe(
    u: &mut Unstructured<'_>,
    p: &mut Map<String, Value>,
    key: &str,
    value: impl FnOnce(&mut Unstructured<'_>) -> arbitrary::Result<Value>,
) -> arbitrary::Result<()> {
    if u.arbitrary()? {
        let v = value(u)?;
        p.insert(key.into(), v);
    }
    Ok(())
}

/// Params shaped as the method expects, with values from the input.
fn typical(u: &mut Unstructured<'_>, method: &str) -> arbitrary::Result<Value> {
    let mut p = Map::new();
    if method != "tome/open" {
        p.insert("doc".into(), doc_id(u)?);
    }
    match method {
        "tome/open" => {
            p.insert("path".into(), json!(string(u)?));
            maybe(u, &mut p, "interruptedSave", |u| {
                Ok(json!(u.choose(&["restore", "discard", "keep", "other"])?))
            })?;
        }
        "tome/viewport" => {
            match u.int_in_range(0..=4)? {
                0 | 1 => p.insert("first".into(), json!(u.int_in_range(0..=8)?)),
                2 => p.insert("around".into(), json!(number(u)?)),
                3 => p.insert(
                    "fraction".into(),
                    json!(*u.choose(&[0.0, 0.3, 0.5, 1.0, 1.5, -0.1, 1e300])?),
                ),
                _ => None,
            };
            maybe(u, &mut p, "count", |u| Ok(json!(number(u)?)))?;
            maybe(u, &mut p, "before", |u| Ok(json!(number(u)?)))?;
            maybe(u, &mut p, "wait", |u| Ok(json!(u.arbitrary::<bool>()?)))?;
            maybe(u, &mut p, "window", |u| {
                let mut w = Map::new();
                maybe(u, &mut w, "start", |u| Ok(json!(number(u)?)))?;
                maybe(u, &mut w, "width", |u| Ok(json!(number(u)?)))?;
                maybe(u, &mut w, "unit", |u| {
                    Ok(json!(u.choose(&["encoding", "bytes", "chars"])?))
                })?;
                Ok(Value::Object(w))
            })?;
        }
        "tome/getText" => {
            maybe(u, &mut p, "version", |u| Ok(json!(u.int_in_range(0..=6)?)))?;
            if u.arbitrary()? {
                p.insert("offsets".into(), offsets(u)?);
            } else {
                p.insert("range".into(), range(u)?);
            }
            maybe(u, &mut p, "maxBytes", |u| Ok(json!(number(u)?)))?;
        }
        "tome/edit" => {
            p.insert("version".into(), json!(u.int_in_range(0..=6)?));
            let mut edits = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                let mut e = Map::new();
                match u.int_in_range(0..=2)? {
                    0 => e.insert("offsets".into(), offsets(u)?),
                    1 => e.insert("range".into(), range(u)?),
                    _ => {
                        e.insert("offsets".into(), offsets(u)?);
                        e.insert("range".into(), range(u)?)
                    }
                };
                e.insert("text".into(), json!(string(u)?));
                edits.push(Value::Object(e));
            }
            p.insert("edits".into(), json!(edits));
        }
        "tome/undo" | "tome/redo" => {
            maybe(u, &mut p, "version", |u| Ok(json!(u.int_in_range(0..=6)?)))?;
        }
        "tome/search" => {
            p.insert("query".into(), query(u)?);
            maybe(u, &mut p, "mode", |u| {
                Ok(json!(u.choose(&["next", "all", "count", "first"])?))
            })?;
            maybe(u, &mut p, "from", |u| {
                Ok(if u.arbitrary()? {
                    json!({"offset": number(u)?})
                } else {
                    json!({"position": position(u)?})
                })
            })?;
            maybe(u, &mut p, "direction", |u| {
                Ok(json!(u.choose(&["forward", "backward", "up"])?))
            })?;
            maybe(u, &mut p, "wrap", |u| Ok(json!(u.arbitrary::<bool>()?)))?;
            maybe(u, &mut p, "offsets", offsets)?;
            maybe(u, &mut p, "limit", |u| Ok(json!(number(u)?)))?;
            maybe(u, &mut p, "workDoneToken", |u| Ok(json!(string(u)?)))?;
        }
        "tome/replaceAll" => {
            maybe(u, &mut p, "version", |u| Ok(json!(u.int_in_range(0..=6)?)))?;
            p.insert("query".into(), query(u)?);
            p.insert("replacement".into(), json!(string(u)?));
            maybe(u, &mut p, "workDoneToken", |u| Ok(json!(number(u)?)))?;
        }
        "tome/save" => {
            maybe(u, &mut p, "workDoneToken", |u| Ok(json!(string(u)?)))?;
        }
        "tome/saveAs" => {
            p.insert("path".into(), json!(string(u)?));
        }
        _ => {}
    }
    Ok(Value::Object(p))
}

/// Free-form JSON, at most `depth` levels deep.
fn free(u: &mut Unstructured<'_>, depth: u32) -> arbitrary::Result<Value> {
    let top = if depth == 0 { 5 } else { 7 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Null,
        1 => json!(u.arbitrary::<bool>()?),
        2 => json!(number(u)?),
        3 => json!(u.arbitrary::<i64>()?),
        4 => serde_json::Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
        5 => json!(string(u)?),
        6 => {
            let mut a = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                a.push(free(u, depth - 1)?);
            }
            Value::Array(a)
        }
        _ => {
            let mut o = Map::new();
            for _ in 0..u.int_in_range(0..=5)? {
                let key = if u.ratio(7, 8)? {
                    (*u.choose(KEYS)?).to_string()
                } else {
                    u.arbitrary()?
                };
                o.insert(key, free(u, depth - 1)?);
            }
            Value::Object(o)
        }
    })
}

fn any_method(u: &mut Unstructured<'_>) -> arbitrary::Result<&'static str> {
    if u.ratio(3, 4)? {
        u.choose(METHODS).copied()
    } else {
        u.choose(OTHER_METHODS).copied()
    }
}

// ---- The client ----

/// `TOME_FUZZ_VERBOSE=1`: print every message sent (→) and received (←), to read a crash.
fn verbose() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("TOME_FUZZ_VERBOSE").is_some_and(|v| v == "1"))
}

struct Client {
    to_server: Option<DuplexStream>,
    from_server: tokio::sync::mpsc::UnboundedReceiver<Value>,
    next_id: i64,
    /// Requests sent, by id, with their method: each must be answered exactly once.
    sent: Vec<(Value, String)>,
    /// Messages whose answer is not certain (raw bodies): at most one reply each.
    at_most_once: Vec<Value>,
    replies: HashMap<String, Vec<Value>>,
    files: PathBuf,
    /// A `shutdown` was sent (then `exit` ends with code 0).
    shutdown_sent: bool,
    /// Paths are mapped into the sandbox (messages from the input; not the client's own).
    sandbox: bool,
}

impl Client {
    fn fresh_id(&mut self, string: bool) -> Value {
        self.next_id += 1;
        if string {
            json!(format!("r{}", self.next_id))
        } else {
            json!(self.next_id)
        }
    }

    async fn write(&mut self, body: &[u8]) {
        if verbose() {
            eprintln!("→ {}", String::from_utf8_lossy(body));
        }
        if let Some(w) = self.to_server.as_mut() {
            // The server may have stopped reading (after `exit`): that is not an error.
            let _ = w.write_all(&encode(body)).await;
        }
    }

    async fn send(&mut self, mut msg: Value) {
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
        // A `shutdown` notification is ignored: only a request shuts down.
        self.shutdown_sent |= method == "shutdown" && msg.get("id").is_some_and(|id| !id.is_null());
        if self.sandbox && matches!(method, "tome/open" | "tome/saveAs") {
            if let Some(params) = msg.get_mut("params") {
                sandbox_paths(&self.files, params);
            }
        }
        self.write(&serde_json::to_vec(&msg).unwrap()).await;
    }

    async fn request(&mut self, method: &str, params: Value, string_id: bool) -> Value {
        let id = self.fresh_id(string_id);
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.sent.push((id.clone(), method.to_string()));
        self.send(msg).await;
        id
    }

    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }

    /// A body from raw bytes: sent as is unless it is JSON, which gets sandboxed paths and, if
    /// it has an id, a fresh one.
    async fn raw(&mut self, bytes: &[u8]) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(mut v) => {
                if let Some(o) = v.as_object_mut() {
                    match o.get("method").and_then(Value::as_str) {
                        // Only the session's end sends `exit`.
                        Some("exit") => {
                            o.insert("method".into(), json!("tome/unknown"));
                        }
                        Some("shutdown") => self.shutdown_sent = true,
                        _ => {}
                    }
                    if o.contains_key("id") {
                        self.next_id += 1;
                        let id = json!(self.next_id);
                        o.insert("id".into(), id.clone());
                        self.at_most_once.push(id);
                    }
                    if let Some(params) = o.get_mut("params") {
                        // Whatever the method: a raw message's may be anything.
                        sandbox_paths(&self.files, params);
                    }
                }
                self.write(&serde_json::to_vec(&v).unwrap()).await;
            }
            Err(_) => self.write(bytes).await,
        }
    }

    fn take(&mut self, msg: Value) {
        if verbose() {
            eprintln!("← {msg}");
        }
        assert_eq!(msg.get("jsonrpc"), Some(&json!("2.0")), "{msg}");
        if msg.get("method").is_some() {
            // A notification or request from the server; this client announces no
            // capability that needs an answer.
            assert!(msg.get("id").is_none(), "unexpected server request {msg}");
            return;
        }
        let id = msg.get("id").cloned().unwrap_or(Value::Null);
        assert!(
            msg.get("result").is_some() != msg.get("error").is_some(),
            "a reply needs a result or an error: {msg}"
        );
        if let Some(e) = msg.get("error") {
            let code = e
                .get("code")
                .and_then(Value::as_i64)
                .expect("an error code");
            assert!(e.get("message").is_some_and(Value::is_string), "{msg}");
            assert_ne!(code, -32803, "a handler failed: {msg}");
            assert!(documented(code), "undocumented error code: {msg}");
        }
        if id.is_null() {
            return;
        }
        self.replies.entry(id.to_string()).or_default().push(msg);
    }

    fn answered(&self, id: &Value) -> bool {
        self.replies.contains_key(&id.to_string())
    }

    /// Reads replies until `done` holds; panics after [`DEADLINE`] (the server hangs).
    async fn until(&mut self, what: &str, done: impl Fn(&Client) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !done(self) {
            match tokio::time::timeout_at(deadline, self.from_server.recv()).await {
                Ok(Some(msg)) => self.take(msg),
                Ok(None) => panic!("the server's output ended while waiting for {what}"),
                Err(_) => panic!("no reply within {DEADLINE:?} while waiting for {what}"),
            }
        }
    }

    async fn wait_all(&mut self) {
        self.until("every reply", |c| {
            c.sent.iter().all(|(id, _)| c.answered(id))
        })
        .await;
    }

    fn close_input(&mut self) {
        self.to_server = None;
    }
}

async fn session(data: &[u8]) {
    let env = env();
    let mut u = Unstructured::new(data);
    let setup: [u8; 3] = u.arbitrary().unwrap_or_default();
    reset(env);
    match setup[1] % 4 {
        1 => crashed_session(env, false),
        2 => crashed_session(env, true),
        _ => {}
    }

    let (to_server, server_in) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(tome_server::serve(server_in, server_out));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut r = FrameReader::new(tokio::io::BufReader::new(from_server));
        loop {
            match r.next().await {
                Ok(Frame::Message(body)) => {
                    let v: Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
                        panic!("the server wrote invalid JSON ({e}): {body:?}")
                    });
                    let _ = tx.send(v);
                }
                Ok(Frame::Bad(why)) => panic!("the server wrote a bad frame: {why}"),
                Ok(Frame::Eof) => return,
                Err(e) => panic!("reading the server's output failed: {e}"),
            }
        }
    });
    let mut c = Client {
        to_server: Some(to_server),
        from_server: rx,
        next_id: 0,
        sent: Vec::new(),
        at_most_once: Vec::new(),
        replies: HashMap::new(),
        files: env.files.clone(),
        shutdown_sent: false,
        sandbox: false,
    };

    // Initialize (in one of the position encodings), then open a.txt as doc 1.
    let encodings = match setup[0] % 4 {
        0 => json!(["utf-8"]),
        1 => json!(["utf-32", "utf-16"]),
        2 => json!(["latin-1"]),
        _ => Value::Null,
    };
    let init = c
        .request(
            "initialize",
            json!({"capabilities": {"general": {"positionEncodings": encodings}}}),
            false,
        )
        .await;
    c.until("initialize", |c| c.answered(&init)).await;
    c.notify("initialized", json!({})).await;
    let path = env.files.join("a.txt").to_string_lossy().into_owned();
    let open = c.request("tome/open", json!({"path": path}), false).await;
    c.until("the first open", |c| c.answered(&open)).await;
    let reply = &c.replies[&open.to_string()][0];
    assert_eq!(reply["result"]["doc"], json!(1), "{reply}");
    c.sandbox = true;

    for _ in 0..MAX_STEPS {
        if u.is_empty() {
            break;
        }
        let Ok(kind) = u.int_in_range(0..=15u8) else {
            break;
        };
        let step: arbitrary::Result<()> = async {
            match kind {
                0..=6 => {
                    let method = *u.choose(METHODS)?;
                    let params = typical(&mut u, method)?;
                    let string_id = u.ratio(1, 8)?;
                    c.request(method, params, string_id).await;
                }
                7 | 8 => {
                    let method = any_method(&mut u)?;
                    let params = free(&mut u, 3)?;
                    c.request(method, params, false).await;
                }
                9 => {
                    let method = any_method(&mut u)?;
                    let bytes: &[u8] = u.arbitrary()?;
                    let params = serde_json::from_slice(bytes).unwrap_or(Value::Null);
                    c.request(method, params, false).await;
                }
                10 => {
                    let bytes: &[u8] = u.arbitrary()?;
                    c.raw(bytes).await;
                }
                11 => {
                    let method = any_method(&mut u)?;
                    let params = if u.arbitrary()? {
                        typical(&mut u, method)?
                    } else {
                        free(&mut u, 2)?
                    };
                    c.notify(method, params).await;
                }
                12 | 13 => {
                    // Cancel a recent request (or one not sent).
                    let back = usize::from(u.arbitrary::<u8>()? % 4);
                    let id = c
                        .sent
                        .len()
                        .checked_sub(back + 1)
                        .map_or(json!(987_654), |i| c.sent[i].0.clone());
                    c.notify("$/cancelRequest", json!({"id": id})).await;
                }
                _ => c.wait_all().await,
            }
            Ok(())
        }
        .await;
        if step.is_err() {
            break;
        }
    }

    // The end of the session.
    let ending = setup[2] % 4;
    match ending {
        0 => {
            c.wait_all().await;
            let id = c.request("shutdown", Value::Null, false).await;
            c.until("shutdown", |c| c.answered(&id)).await;
            c.notify("exit", Value::Null).await;
        }
        1 => {
            c.request("shutdown", Value::Null, false).await;
            c.notify("exit", Value::Null).await;
        }
        2 => c.notify("exit", Value::Null).await,
        _ => {}
    }
    c.close_input();
    if verbose() {
        eprintln!("(input closed; ending {ending})");
    }
    let code = tokio::time::timeout(DEADLINE, server)
        .await
        .expect("the server did not end")
        .expect("the server task failed");
    match ending {
        0 | 3 => assert_eq!(code, 0, "exit code"),
        2 if !c.shutdown_sent => assert_eq!(code, 1, "exit code after exit without shutdown"),
        _ => {}
    }
    tokio::time::timeout(DEADLINE, reader)
        .await
        .expect("the server's output did not end")
        .expect("the output reader failed");
    while let Ok(msg) = c.from_server.try_recv() {
        c.take(msg);
    }

    // Each request answered exactly once; nothing else answered.
    for (id, method) in &c.sent {
        let n = c.replies.get(&id.to_string()).map_or(0, Vec::len);
        assert_eq!(
            n,
            1,
            "{method} request {id} got {n} replies: {:?}",
            c.replies.get(&id.to_string())
        );
    }
    for id in &c.at_most_once {
        let n = c.replies.get(&id.to_string()).map_or(0, Vec::len);
        assert!(n <= 1, "message {id} got {n} replies");
    }
    let known: std::collections::HashSet<String> = c
        .sent
        .iter()
        .map(|(id, _)| id.to_string())
        .chain(c.at_most_once.iter().map(Value::to_string))
        .collect();
    for id in c.replies.keys() {
        assert!(known.contains(id), "a reply to {id}, which was never sent");
    }
}

/// No leak report at exit: each input's runtime is abandoned with whatever its session left
/// queued (document jobs holding their document), which LeakSanitizer would report as leaks
/// of the harness. (The script also passes `-detect_leaks=0`, for speed.)
#[no_mangle]
pub extern "C" fn __lsan_is_turned_off() -> std::os::raw::c_int {
    1
}

fuzz_target!(|data: &[u8]| {
    // A runtime per input, shut down after it: each input starts from a clean slate. (A
    // session leaves nothing behind once `serve` returns; crates/tome-server/tests/
    // session_end.rs checks that. The file watcher's checker task used to hold every document
    // of the session, found here as "Too many open files" after a few thousand inputs.)
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(session(data));
    runtime.shutdown_background();
});
