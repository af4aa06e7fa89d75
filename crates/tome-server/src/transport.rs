//! Framing: LSP-style `Content-Length` messages on a byte stream, read with hard limits.
//!
//! We do not use tower-lsp-server's own codec: it stops serving after the first malformed
//! message and has no maximum size (a huge `Content-Length` makes it buffer everything that
//! follows). Here every header line and every body is bounded, an oversized body is skipped
//! without being buffered, and a bad frame is reported to the caller, which answers it and
//! goes on reading.

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest message body accepted. Edits carry their text inline, so this bounds the text of
/// one `tome/edit`; bigger bodies are skipped and answered with a parse error.
pub const MAX_BODY: usize = 64 << 20;
/// Longest header line (name, colon and value).
pub const MAX_HEADER_LINE: usize = 4096;
/// Most header lines in one header block.
pub const MAX_HEADERS: usize = 32;

/// One thing read from the stream.
#[derive(Debug)]
pub enum Frame {
    /// A complete body (not yet parsed).
    Message(Vec<u8>),
    /// A frame that cannot be used, with why; the stream is positioned after it.
    Bad(String),
    /// The stream ended (between messages, or inside one).
    Eof,
}

/// Reads the next frame. Header names are matched case-insensitively; `Content-Type` and
/// unknown headers are ignored. `Content-Length: 0` yields an empty body (answered as a parse
/// error by the caller). Never allocates more than [`MAX_BODY`] bytes for a body.
pub async fn read_frame<R: AsyncBufRead + Unpin>(r: &mut R) -> std::io::Result<Frame> {
    let mut length: Option<u64> = None;
    let mut problem: Option<String> = None;
    let mut headers = 0usize;
    loop {
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
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if headers == 0 {
                // Stray blank line between messages: not a frame of its own.
                continue;
            }
            break;
        }
        // Resynchronise after a body that was shorter than announced: its leftover bytes run
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
        (Some(p), _) => Ok(Frame::Bad(p)),
        (None, None) => Ok(Frame::Bad("missing Content-Length header".into())),
        (None, Some(n)) if n > MAX_BODY as u64 => {
            // Well framed but too big: drop the body as it streams past, never holding it.
            let skipped = skip_bytes(r, n).await?;
            if skipped < n {
                return Ok(Frame::Eof);
            }
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

/// Writes framed messages from `rx` until it closes or the peer goes away. Messages that are
/// already queued are written before one flush, so a burst of replies costs one syscall-ish
/// flush instead of one each.
pub async fn write_loop<W: AsyncWrite + Unpin>(
    mut out: W,
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>,
) {
    while let Some(first) = rx.recv().await {
        let mut buf = encode(&first);
        while buf.len() < (1 << 20) {
            match rx.try_recv() {
                Ok(more) => buf.extend_from_slice(&encode(&more)),
                Err(_) => break,
            }
        }
        if out.write_all(&buf).await.is_err() || out.flush().await.is_err() {
            tracing::warn!("output closed; dropping further messages");
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn frames(input: &[u8]) -> Vec<String> {
        let mut r = tokio::io::BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut r).await.unwrap() {
                Frame::Message(b) => out.push(format!("msg {}", String::from_utf8_lossy(&b))),
                Frame::Bad(why) => out.push(format!("bad {why}")),
                Frame::Eof => return out,
            }
        }
    }

    #[tokio::test]
    async fn reads_good_and_bad_frames_and_resyncs() {
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
        input.extend_from_slice(b"content-length: 3\r\nContent-Type: x\r\n\r\n[1]");
        input.extend_from_slice(b"Content-Length: abc\r\n\r\n");
        input.extend_from_slice(b"hello\r\nContent-Length: 2\r\n\r\nxx");
        input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", MAX_BODY + 1).as_bytes());
        input.extend(std::iter::repeat_n(b'a', MAX_BODY + 1));
        input.extend_from_slice(b"Content-Length: 4\r\n\r\nnull");
        input.extend_from_slice(b"Content-Length: 10\r\n\r\nshort");
        let got = frames(&input).await;
        assert_eq!(got[0], "msg {}");
        assert_eq!(got[1], "msg [1]");
        assert!(got[2].starts_with("bad bad Content-Length"), "{}", got[2]);
        assert!(got[3].starts_with("bad malformed header"), "{}", got[3]);
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
}
