//! `tome demo` (default): a headless editor session through the real protocol. Starts
//! `tome serve` as a child, speaks JSON-RPC to it over pipes exactly as an editor plugin would,
//! and prints what a user would see at each step and how long it took.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A minimal JSON-RPC client of `tome serve`.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Replies read while waiting for another one: replies come in any order.
    early: std::collections::HashMap<i64, Value>,
}

impl Client {
    fn start() -> Result<Client, String> {
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = Command::new(exe)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start tome serve: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Client {
            child,
            stdin: Some(stdin),
            stdout,
            next_id: 1,
            early: std::collections::HashMap::new(),
        })
    }

    fn write(&mut self, msg: &Value) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("the server's input is closed")?;
        stdin.write_all(&frame(msg)).map_err(|e| e.to_string())?;
        stdin.flush().map_err(|e| e.to_string())
    }

    /// Sends many requests without waiting, from another thread, while this one reads the
    /// replies: a client that writes everything before reading deadlocks once the replies
    /// fill the pipe. Returns the replies' results in order.
    fn pipeline(&mut self, requests: Vec<(&str, Value)>) -> Result<Vec<Value>, String> {
        let mut bytes = Vec::new();
        let mut ids = Vec::with_capacity(requests.len());
        for (method, params) in requests {
            let id = self.next_id;
            self.next_id += 1;
            ids.push(id);
            let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
            bytes.extend(frame(&msg));
        }
        let mut stdin = self.stdin.take().ok_or("the server's input is closed")?;
        let writer = std::thread::spawn(move || {
            let written = stdin.write_all(&bytes).and_then(|()| stdin.flush());
            (stdin, written)
        });
        let results: Result<Vec<Value>, String> = ids.into_iter().map(|id| self.wait(id)).collect();
        let (stdin, written) = writer.join().map_err(|_| "the writer thread panicked")?;
        self.stdin = Some(stdin);
        written.map_err(|e| e.to_string())?;
        results
    }

    fn read(&mut self) -> Result<Value, String> {
        let mut len = None;
        loop {
            let mut line = String::new();
            if self
                .stdout
                .read_line(&mut line)
                .map_err(|e| e.to_string())?
                == 0
            {
                return Err("the server closed its output".into());
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
        let mut body = vec![0; len.ok_or("a frame without Content-Length")?];
        self.stdout
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    }

    /// Sends a request without waiting; returns its id.
    fn send(&mut self, method: &str, params: Value) -> Result<i64, String> {
        let id = self.next_id;
        self.next_id += 1;
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        Ok(id)
    }

    /// Waits for the reply to `id`, answering the server's own requests on the way.
    fn wait(&mut self, id: i64) -> Result<Value, String> {
        let msg = loop {
            if let Some(msg) = self.early.remove(&id) {
                break msg;
            }
            let msg = self.read()?;
            match (msg.get("method"), msg.get("id").and_then(Value::as_i64)) {
                (Some(_), _) if msg.get("id").is_some() => {
                    // A request from the server (a progress token): accept it. While the
                    // pipeline's writer owns the input, there is nowhere to answer; the demo
                    // does not announce progress support, so the server does not ask then.
                    let req = msg["id"].clone();
                    let _ = self.write(&json!({"jsonrpc": "2.0", "id": req, "result": null}));
                }
                (Some(_), _) => {} // notifications: progress, changes on disk
                (None, Some(got)) if got == id => break msg,
                (None, Some(got)) => {
                    self.early.insert(got, msg);
                }
                (None, None) => return Err(format!("a reply without an id: {msg}")),
            }
        };
        match msg.get("error") {
            Some(e) => Err(format!("request {id} failed: {}", e["message"])),
            None => Ok(msg["result"].clone()),
        }
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.send(method, params)?;
        self.wait(id).map_err(|e| format!("{method}: {e}"))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn frame(msg: &Value) -> Vec<u8> {
    let body = msg.to_string();
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body.as_bytes());
    out
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn show(viewport: &Value) {
    for l in viewport["lines"].as_array().into_iter().flatten() {
        let n = l["number"]
            .as_u64()
            .map_or("?".to_string(), |n| (n + 1).to_string());
        let more = if l["cutAfter"] == true { "…" } else { "" };
        println!("  {n:>10} │ {}{more}", l["text"].as_str().unwrap_or(""));
    }
}

/// Runs the session on `path` (already generated), with `needle` somewhere in it.
pub fn run(path: &Path, needle: &str) -> Result<(), String> {
    let window = json!({"start": 0, "width": 120});
    let t = Instant::now();
    let mut c = Client::start()?;
    c.request(
        "initialize",
        json!({"capabilities": {"general": {"positionEncodings": ["utf-8"]}}}),
    )?;
    c.write(&json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}))?;
    println!(
        "\nstarted `tome serve` and initialized it over stdio: {}",
        ms(t.elapsed())
    );

    let t = Instant::now();
    let info = c.request("tome/open", json!({"path": path}))?;
    let doc = info["doc"].clone();
    let first = c.request(
        "tome/viewport",
        json!({"doc": doc, "first": 0, "count": 5, "window": window}),
    )?;
    println!(
        "tome/open + tome/viewport of the first 5 lines: {} ({} bytes, index at {}%)",
        ms(t.elapsed()),
        info["size"],
        info["indexPercent"]
    );
    show(&first);

    let t = Instant::now();
    let middle = c.request(
        "tome/viewport",
        json!({"doc": doc, "fraction": 0.5, "count": 3, "window": window}),
    )?;
    println!(
        "\nviewport at 50% of the file (by fraction, no index needed): {}",
        ms(t.elapsed())
    );
    show(&middle);

    let t = Instant::now();
    let end = c.request(
        "tome/viewport",
        json!({"doc": doc, "fraction": 1.0, "before": 2, "count": 1, "window": window}),
    )?;
    println!("\nviewport at the end: {}", ms(t.elapsed()));
    show(&end);

    let t = Instant::now();
    let info = loop {
        let info = c.request("tome/info", json!({"doc": doc}))?;
        if info["indexComplete"] == true {
            break info;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let lines = info["lineCount"]["known"].as_u64().unwrap_or(0);
    println!(
        "\nline index complete: {lines} lines, {} after the last step",
        ms(t.elapsed())
    );

    let target = lines * 3 / 4;
    let t = Instant::now();
    let v = c.request(
        "tome/viewport",
        json!({"doc": doc, "first": target, "count": 2, "window": window}),
    )?;
    println!(
        "\ngo to line {} (by number): {}",
        target + 1,
        ms(t.elapsed())
    );
    show(&v);

    // 10 000 edits pipelined, as fast typing or a macro would send them.
    let edits = 10_000u64;
    let t = Instant::now();
    let mut version = info["version"].as_u64().unwrap_or(0);
    let mut requests = Vec::with_capacity(edits as usize);
    for i in 0..edits {
        let line = (i * 7919) % lines.max(1);
        let at = json!({"line": line, "character": 0});
        let edit = json!({"range": {"start": at, "end": at}, "text": "EDIT "});
        requests.push((
            "tome/edit",
            json!({"doc": doc, "version": version, "edits": [edit]}),
        ));
        version += 1;
    }
    c.pipeline(requests)?;
    println!(
        "\n{edits} edits sent without waiting, all applied in order: {} ({:.1} µs each, version {version})",
        ms(t.elapsed()),
        t.elapsed().as_secs_f64() * 1e6 / edits as f64
    );

    let t = Instant::now();
    let q = json!({"pattern": needle, "regex": false});
    let n = c.request(
        "tome/search",
        json!({"doc": doc, "query": q, "mode": "count"}),
    )?;
    println!(
        "\ncount of {needle:?} in the whole file: {} in {}",
        n["count"],
        ms(t.elapsed())
    );
    let t = Instant::now();
    let last = c.request(
        "tome/search",
        json!({"doc": doc, "query": q, "direction": "backward"}),
    )?;
    if let Some(line) = last["found"]["range"]["start"]["line"].as_u64() {
        println!(
            "last match, searching backward from the end: line {} in {}",
            line + 1,
            ms(t.elapsed())
        );
    }

    let t = Instant::now();
    c.request("tome/undo", json!({"doc": doc}))?;
    println!("\nundo of the last edit: {}", ms(t.elapsed()));

    let copy = path.with_file_name("demo-saved.log");
    let t = Instant::now();
    let saved = c.request("tome/saveAs", json!({"doc": doc, "path": copy}))?;
    println!(
        "\ntome/saveAs {}: {} ({} bytes)",
        copy.display(),
        ms(t.elapsed()),
        saved["bytes"]
    );
    let _ = std::fs::remove_file(&copy);
    c.request("tome/close", json!({"doc": doc}))?;
    c.request("shutdown", Value::Null)?;
    c.write(&json!({"jsonrpc": "2.0", "method": "exit"}))?;
    Ok(())
}
