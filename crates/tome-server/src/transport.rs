//! Framing: LSP-style `Content-Length` messages on a byte stream, read with hard limits.
//!
//! We do not use tower-lsp-server's own codec: it stops serving after the first malformed
//! message and has no maximum size (a huge `Content-Length` makes it buffer everything that
//! follows). Here every header line and every body is bounded, and a bad frame is reported to
//! the caller, which answers it and goes on reading.
//!
//! After a frame whose length cannot be used (over [`MAX_BODY`], missing, not a number), the
//! bytes that follow are untrusted: they are probably the body, of unknown or absurd length.
//! The reader neither buffers nor skips a declared length then: it discards bytes up to the
//! next `Content-Length: <digits>` line (see [`FrameReader`]), wherever it starts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest message body accepted. Edits carry their text inline, so this bounds the text of
/// one `tome/edit`; a bigger announced length is answered with a parse error at once.
pub const MAX_BODY: usize = 64 << 20;
/// Longest header line (name, colon and value).
pub const MAX_HEADER_LINE: usize = 4096;
/// Most header lines in one header block.
pub const MAX_HEADERS: usize = 32;

/// The header that frames a message, as matched (case-insensitively) while resynchronising.
const LENGTH_HEADER: &[u8] = b"content-length:";
/// Longest value (spaces, digits, CR) taken after `Content-Length:` while resynchronising.
const MAX_LENGTH_VALUE: usize = 40;

/// One thing read from the stream.
#[derive(Debug)]
pub enum Frame {
    /// A complete body (not yet parsed).
    Message(Vec<u8>),
    /// A frame that cannot be used, with why. Reported as soon as its header block has been
    /// read: a body of usable length has been skipped; otherwise the next read resynchronises.
    Bad(String),
    /// The stream ended (between messages, or inside one).
    Eof,
}

/// Reads frames from a byte stream. Header names are matched case-insensitively;
/// `Content-Type` and unknown headers are ignored. `Content-Length: 0` yields an empty body
/// (answered as a parse error by the caller). Never allocates more than [`MAX_BODY`] bytes
/// for a body.
///
/// **Resynchronisation.** When a header block has no usable length (over [`MAX_BODY`],
/// missing, or not a number), [`Frame::Bad`] is returned at once, and the next read first
/// discards bytes up to the next line `Content-Length: <digits>` (case-insensitive, found
/// anywhere, also right after the last discarded byte without a line break before it), then
/// reads the header block from there. Text that is only like a header does not end the
/// discarding: `Content-Length:` must be followed by optional spaces, digits, optional
/// spaces and a line break. A JSON body can never contain that (its strings cannot hold a raw
/// line break), so a resynchronisation never starts inside the body of a well-formed message
/// that was sent in full, however big.
pub struct FrameReader<R> {
    input: R,
    resync: bool,
}

impl<R: AsyncBufRead + Unpin> FrameReader<R> {
    /// Reads frames from `input`, which must start with a header.
    pub fn new(input: R) -> Self {
        FrameReader {
            input,
            resync: false,
        }
    }

    /// Reads the next frame.
    pub async fn next(&mut self) -> std::io::Result<Frame> {
        let mut first = None;
        if self.resync {
            match resync(&mut self.input).await? {
                Some(line) => first = Some(line),
                None => return Ok(Frame::Eof),
            }
            self.resync = false;
        }
        let r = &mut self.input;
        let mut length: Option<u64> = None;
        let mut problem: Option<String> = None;
        let mut headers = 0usize;
        loop {
            let line = match first.take() {
                Some(line) => line,
                None => {
                    let mut line = Vec::new();
                    let n = (&mut *r)
                        .take(MAX_HEADER_LINE as u64)
                        .read_until(b'\n', &mut line)
                        .await?;
                    if n == 0 {
                        return Ok(Frame::Eof);
                    }
                    if !line.ends_with(b"\n") {
                        // Over-long line: skip the rest of it so that we resynchronise on the next line.
                        skip_line(r).await?;
                        headers += 1;
                        problem.get_or_insert_with(|| "header line too long".into());
                        continue;
                    }
                    line
                }
            };
            let text = String::from_utf8_lossy(&line);
            let text = text.trim_end_matches(['\r', '\n']);
            if text.is_empty() {
                if headers == 0 {
                    // Stray blank line between messages: not a frame of its own.
                    continue;
                }
                break;
            }
            // Resynchronise after a body that was longer than announced: its leftover bytes run
            // into the next header line, so a `Content-Length` inside a line is taken from there.
            let text = match find_ignore_case(text, "content-length:") {
                Some(i) if i > 0 => {
                    tracing::debug!("skipped {i} stray bytes before a header");
                    &text[i..]
                }
                _ => text,
            };
            headers += 1;
            if headers > MAX_HEADERS {
                problem.get_or_insert_with(|| "too many header lines".into());
                continue;
            }
            match text.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                    match value.trim().parse::<u64>() {
                        Ok(n) => length = Some(n),
                        Err(_) => {
                            problem.get_or_insert_with(|| {
                                format!("bad Content-Length value {:?}", value.trim())
                            });
                        }
                    }
                }
                Some(_) => {}
                None => {
                    problem.get_or_insert_with(|| format!("malformed header line {text:?}"));
                }
            }
        }
        match (problem, length) {
            (Some(p), Some(n)) if n <= MAX_BODY as u64 => {
                // The length is usable: skip the body so the next frame starts cleanly.
                skip_bytes(r, n).await?;
                Ok(Frame::Bad(p))
            }
            (Some(p), _) => {
                self.resync = true;
                Ok(Frame::Bad(p))
            }
            (None, None) => {
                self.resync = true;
                Ok(Frame::Bad("missing Content-Length header".into()))
            }
            (None, Some(n)) if n > MAX_BODY as u64 => {
                // Answered now, not after the body: a client may never send that many bytes,
                // and skipping them would swallow every frame that comes meanwhile.
                self.resync = true;
                Ok(Frame::Bad(format!(
                    "message of {n} bytes is over the limit of {MAX_BODY} bytes"
                )))
            }
            (None, Some(n)) => {
                let mut body = vec![0; n as usize];
                match r.read_exact(&mut body).await {
                    Ok(_) => Ok(Frame::Message(body)),
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Frame::Eof),
                    Err(e) => Err(e),
                }
            }
        }
    }
}

/// Discards bytes up to the next `Content-Length: <digits>` line and returns that line (as
/// `Content-Length: <digits>`, the line break consumed); `None` at the end of the stream.
/// Streams: holds no more than the value of one candidate header, whatever it discards.
async fn resync<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    // How much of `LENGTH_HEADER` the bytes just consumed matched, and once it all matched,
    // the value read after it so far.
    let mut matched = 0usize;
    let mut value: Option<Vec<u8>> = None;
    let mut discarded = 0u64;
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            tracing::debug!("input ended while resynchronising ({discarded} bytes discarded)");
            return Ok(None);
        }
        let mut i = 0;
        let mut found = None;
        while i < buf.len() && found.is_none() {
            let b = buf[i];
            if let Some(v) = value.as_mut() {
                match b {
                    b'0'..=b'9' | b' ' | b'\t' | b'\r' if v.len() < MAX_LENGTH_VALUE => {
                        v.push(b);
                        i += 1;
                    }
                    b'\n' if length_value(v).is_some() => {
                        found = length_value(v).map(|digits| {
                            let mut line = b"Content-Length: ".to_vec();
                            line.extend_from_slice(digits);
                            line
                        });
                        i += 1;
                    }
                    // Only like a header: look on from this byte.
                    _ => {
                        value = None;
                        matched = 0;
                    }
                }
            } else if matched > 0 {
                if b.to_ascii_lowercase() == LENGTH_HEADER[matched] {
                    matched += 1;
                    i += 1;
                    if matched == LENGTH_HEADER.len() {
                        value = Some(Vec::new());
                    }
                } else {
                    // `c` occurs only first in the header: this byte can only start a new match.
                    matched = 0;
                }
            } else {
                match memchr::memchr2(b'c', b'C', &buf[i..]) {
                    Some(j) => {
                        i += j + 1;
                        matched = 1;
                    }
                    None => i = buf.len(),
                }
            }
        }
        r.consume(i);
        discarded += i as u64;
        if let Some(line) = found {
            tracing::debug!("resynchronised on a header after {discarded} bytes");
            return Ok(Some(line));
        }
    }
}

/// The digits of a `Content-Length` value read while resynchronising (`[ \t]*[0-9]+[ \t]*\r?`),
/// or `None` if it is not one.
fn length_value(v: &[u8]) -> Option<&[u8]> {
    let v = v.strip_suffix(b"\r").unwrap_or(v);
    let is_blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !is_blank(b))?;
    let end = v.iter().rposition(|b| !is_blank(b))? + 1;
    let digits = &v[start..end];
    digits.iter().all(u8::is_ascii_digit).then_some(digits)
}

fn find_ignore_case(hay: &str, needle: &str) -> Option<usize> {
    hay.as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

async fn skip_line<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<()> {
    loop {
        let buf = r.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            r.consume(i + 1);
            return Ok(());
        }
        let n = buf.len();
        r.consume(n);
    }
}

async fn skip_bytes<R: AsyncBufRead + Unpin>(r: &mut R, n: u64) -> std::io::Result<u64> {
    tokio::io::copy(&mut (&mut *r).take(n), &mut tokio::io::sink()).await
}

/// Frames `body` for the wire.
pub fn encode(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Bytes of replies and notifications waiting to be written at which the server stops taking
/// work: the reader stops reading, the dispatcher stops dispatching and document workers stop
/// starting jobs until the client has read enough for the queue to be under this again.
pub const MAX_QUEUED_OUTPUT: usize = 64 << 20;

/// The amount of output made for the client and not yet written: the measure of flow
/// control. A client that does not read its replies fills it, and the server then waits
/// (see [`MAX_QUEUED_OUTPUT`]) instead of making more replies for it to hold.
///
/// It counts the bytes queued for the writer, and also big results already made but not yet
/// queued ([`Backlog::reserve`]): a document's worker makes a `tome/getText` result much
/// faster than the dispatcher turns it into JSON and queues it, so counting only the queue
/// would let results pile up in between.
pub struct Backlog {
    limit: usize,
    bytes: AtomicUsize,
    reserved: AtomicUsize,
    /// The output is gone: nothing will ever be written, so nothing waits for room.
    closed: AtomicBool,
    /// Wakes async waiters when bytes were written (or the output closed).
    written: tokio::sync::Notify,
    /// Wakes blocking waiters (document workers, blocking tasks), with `lock`.
    lock: Mutex<()>,
    cv: Condvar,
}

impl Backlog {
    fn new(limit: usize) -> Backlog {
        Backlog {
            limit,
            bytes: AtomicUsize::new(0),
            reserved: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            written: tokio::sync::Notify::new(),
            lock: Mutex::new(()),
            cv: Condvar::new(),
        }
    }

    /// Bytes queued or reserved and not yet written.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Acquire) + self.reserved.load(Ordering::Acquire)
    }

    /// True while less than the limit waits to be written (or the output is gone).
    pub fn has_room(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.bytes() < self.limit
    }

    /// Counts `n` bytes of a result that is made but not queued yet, until the returned
    /// reservation is dropped. A handler holds it until it returns its result, which the
    /// session then serialises and queues in the same poll.
    pub fn reserve(self: &Arc<Self>, n: usize) -> Reservation {
        self.reserved.fetch_add(n, Ordering::AcqRel);
        Reservation {
            backlog: Arc::clone(self),
            n,
        }
    }

    /// Waits until [`Backlog::has_room`].
    pub async fn wait_for_room(&self) {
        loop {
            let written = self.written.notified();
            tokio::pin!(written);
            // Registered before looking, so a write in between is not missed.
            written.as_mut().enable();
            if self.has_room() {
                return;
            }
            written.await;
        }
    }

    /// Waits until [`Backlog::has_room`], blocking the thread. Only for threads that may
    /// block (document workers, blocking tasks), never on the async runtime's workers.
    pub fn wait_for_room_blocking(&self) {
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        while !self.has_room() {
            // The timeout is only a safety net: `wake` notifies under the lock.
            guard = match self
                .cv
                .wait_timeout(guard, std::time::Duration::from_millis(100))
            {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    fn add(&self, n: usize) {
        self.bytes.fetch_add(n, Ordering::AcqRel);
    }

    fn remove(&self, n: usize) {
        self.bytes.fetch_sub(n, Ordering::AcqRel);
        self.wake();
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.wake();
    }

    fn wake(&self) {
        self.written.notify_waiters();
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.cv.notify_all();
    }
}

/// Bytes of a result counted in the [`Backlog`] until it is queued: see [`Backlog::reserve`].
pub struct Reservation {
    backlog: Arc<Backlog>,
    n: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.backlog.reserved.fetch_sub(self.n, Ordering::AcqRel);
        self.backlog.wake();
    }
}

/// Queues messages (bodies, framed by the writer) for the client, counting them in the
/// [`Backlog`]. Never blocks: callers that make output wait for room *before* making it.
#[derive(Clone)]
pub struct Sender {
    tx: tokio::sync::mpsc::UnboundedSender<Vec<u8>>,
    backlog: Arc<Backlog>,
}

impl Sender {
    /// Queues one message body.
    pub fn send(&self, body: Vec<u8>) {
        if self.backlog.closed.load(Ordering::Acquire) {
            return; // nobody reads any more
        }
        let n = body.len();
        self.backlog.add(n);
        if self.tx.send(body).is_err() {
            self.backlog.remove(n);
        }
    }
}

/// The outgoing queue: its sending side, the receiving side for [`write_loop`], and the
/// [`Backlog`] both update, limited to `limit` bytes (normally [`MAX_QUEUED_OUTPUT`]).
pub fn outgoing(
    limit: usize,
) -> (
    Sender,
    tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    Arc<Backlog>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog::new(limit));
    let sender = Sender {
        tx,
        backlog: Arc::clone(&backlog),
    };
    (sender, rx, backlog)
}

/// Writes framed messages from `rx` until it closes or the peer goes away, taking each one
/// off the backlog once written. Messages that are already queued are written before one
/// flush, so a burst of replies costs one flush instead of one each.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    mut out: W,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
    backlog: Arc<Backlog>,
) {
    while let Some(first) = rx.recv().await {
        let mut bodies = first.len();
        let mut buf = encode(&first);
        drop(first);
        while buf.len() < (1 << 20) {
            match rx.try_recv() {
                Ok(more) => {
                    bodies += more.len();
                    buf.extend_from_slice(&encode(&more));
                }
                Err(_) => break,
            }
        }
        if out.write_all(&buf).await.is_err() || out.flush().await.is_err() {
            tracing::warn!("output closed; dropping further messages");
            backlog.close();
            break;
        }
        drop(buf);
        backlog.remove(bodies);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames_from<R: AsyncBufRead + Unpin>(r: R) -> Vec<String> {
        let mut r = FrameReader::new(r);
        let mut out = Vec::new();
        loop {
            match r.next().await.unwrap() {
                Frame::Message(b) => out.push(format!("msg {}", String::from_utf8_lossy(&b))),
                Frame::Bad(why) => out.push(format!("bad {why}")),
                Frame::Eof => return out,
            }
        }
    }

    async fn frames(input: &[u8]) -> Vec<String> {
        frames_from(tokio::io::BufReader::new(input)).await
    }

    #[tokio::test]
    async fn reads_good_and_bad_frames_and_resyncs() {
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        input.extend_from_slice(b"content-length: 3\r\nContent-Type: x\r\n\r\n[1]");
        // A bad line in a header block whose length is usable: the body is skipped.
        input.extend_from_slice(b"hello\r\nContent-Length: 2\r\n\r\nxx");
        // No usable length: what follows is read past up to the next header.
        input.extend_from_slice(b"Content-Length: abc\r\n\r\nhello\r\n");
        input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1).as_bytes());
        input.extend(std::iter::repeat_n(b'a', MAX_BODY + 1));
        input.extend_from_slice(b"Content-Length: 4\r\n\r\nnull");
        input.extend_from_slice(b"Content-Length: 10\r\n\r\nshort");
        let got = frames(&input).await;
        assert_eq!(got[0], "msg {}");
        assert_eq!(got[1], "msg [1]");
        assert!(got[2].starts_with("bad malformed header"), "{}", got[2]);
        assert!(got[3].starts_with("bad bad Content-Length"), "{}", got[3]);
        assert!(got[4].contains("over the limit"), "{}", got[4]);
        assert_eq!(got[5], "msg null");
        assert_eq!(got.len(), 6);
    }

    #[tokio::test]
    async fn overlong_header_line_is_skipped() {
        let mut input = vec![b'x'; MAX_HEADER_LINE * 3];
        input.extend_from_slice(b"\r\n\r\nContent-Length: 2\r\n\r\n{}");
        let got = frames(&input).await;
        assert_eq!(got, vec!["bad header line too long", "msg {}"]);
    }

    #[tokio::test]
    async fn an_over_limit_length_is_reported_before_its_body_arrives() {
        let (mut client, server) = tokio::io::duplex(1024);
        client
            .write_all(b"Content-Length: 1000000000000\r\n\r\n")
            .await
            .unwrap();
        let mut r = FrameReader::new(tokio::io::BufReader::new(server));
        // Nothing more is sent: the answer must not wait for the body (the timeout only
        // detects a hang).
        let first = tokio::time::timeout(std::time::Duration::from_secs(30), r.next()).await;
        match first {
            Ok(Ok(Frame::Bad(why))) => assert!(why.contains("over the limit"), "{why}"),
            other => panic!("expected an over-limit frame at once, got {other:?}"),
        }
        client
            .write_all(b"{\"partial\": \"body\"}Content-Length: 2\r\n\r\n{}")
            .await
            .unwrap();
        drop(client);
        assert!(matches!(r.next().await.unwrap(), Frame::Message(b) if b == b"{}"));
        assert!(matches!(r.next().await.unwrap(), Frame::Eof));
    }

    #[tokio::test]
    async fn resync_skips_what_only_looks_like_a_header() {
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 99999999999\r\n\r\n");
        // An untrusted body: header-like text inside JSON strings (line breaks escaped), a
        // pretty-printed object with raw line breaks, a value that is not a number.
        input.extend_from_slice(br#"{"text": "Content-Length: 12\r\n\r\n{}", "#);
        input.extend_from_slice(b"\n  \"content-length\": 5,\n  \"x\": \"CONTENT-LENGTH: 7\"\n");
        input.extend_from_slice(b"Content-Length: 1 2\r\nContent-Length:\r\nccontent-lengthh:");
        input.extend_from_slice(b"cONTENT-lENGTH:  4 \r\n\r\nnull");
        assert_eq!(
            frames(&input).await,
            vec![
                "bad message of 99999999999 bytes is over the limit of 67108864 bytes",
                "msg null"
            ]
        );
    }

    #[tokio::test]
    async fn resync_finds_a_header_split_across_reads() {
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 70000000\r\n\r\nabcContent-Lengcontent-");
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n[]Content-Length: 4\r\n\r\ntrue");
        for capacity in 1..20 {
            let r = tokio::io::BufReader::with_capacity(capacity, &input[..]);
            let got = frames_from(r).await;
            assert_eq!(got.len(), 3, "capacity {capacity}: {got:?}");
            assert!(got[0].contains("over the limit"));
            assert_eq!(got[1..], ["msg []", "msg true"], "capacity {capacity}");
        }
    }

    #[tokio::test]
    async fn a_frame_without_a_usable_length_resyncs_too() {
        // A bad length, then a body spread over lines that look like headers (`"a": 1`), then
        // a good frame: one error, and the good frame is read (not taken for the bad one's body).
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 12x\r\n\r\n{\n \"a\": 1\n}");
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        input.extend_from_slice(b"Content-Type: x\r\n\r\n{\n \"b\": 2\n}\n");
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n[]");
        input.extend_from_slice(b"Content-Length: x\r\n\r\nno more headers");
        let got = frames(&input).await;
        assert_eq!(
            got,
            vec![
                "bad bad Content-Length value \"12x\"",
                "msg {}",
                "bad missing Content-Length header",
                "msg []",
                "bad bad Content-Length value \"x\"",
            ]
        );
    }

    #[tokio::test]
    async fn the_backlog_counts_output_until_written_and_wakes_waiters() {
        let (tx, rx, backlog) = outgoing(100);
        let (w, mut client) = tokio::io::duplex(16);
        let writer = tokio::spawn(write_loop(w, rx, Arc::clone(&backlog)));
        // A result made but not queued yet counts, and so does a queued message.
        let made = backlog.reserve(60);
        assert!(backlog.has_room());
        tx.send(vec![b'x'; 50]);
        assert_eq!(backlog.bytes(), 110);
        assert!(!backlog.has_room());
        drop(made);
        assert!(backlog.has_room());
        tx.send(vec![b'y'; 60]);
        assert!(!backlog.has_room());
        // Nothing is read: waiters wait. Once the client reads, both kinds wake.
        let b = Arc::clone(&backlog);
        let blocked = std::thread::spawn(move || b.wait_for_room_blocking());
        let b = Arc::clone(&backlog);
        let waiting = tokio::spawn(async move { b.wait_for_room().await });
        let mut expected = encode(&[b'x'; 50]);
        expected.extend_from_slice(&encode(&[b'y'; 60]));
        let mut got = vec![0; expected.len()];
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(got, expected);
        waiting.await.unwrap();
        blocked.join().unwrap();
        assert!(backlog.has_room());
        // The client goes away: the writer stops, and nothing waits for room any more.
        drop(client);
        tx.send(vec![b'z'; 500]);
        writer.await.unwrap();
        assert!(backlog.has_room());
        let before = backlog.bytes();
        tx.send(vec![b'z'; 500]);
        assert_eq!(backlog.bytes(), before);
        backlog.wait_for_room().await;
        backlog.wait_for_room_blocking();
    }
}
