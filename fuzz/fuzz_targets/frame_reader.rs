//! `tome_server::transport::FrameReader` on arbitrary bytes: it never panics, never fails on an
//! in-memory stream, always terminates (every frame it returns consumes input), and never
//! returns a body over `MAX_BODY`.
//!
//! The first byte picks a mode and the reader's buffer size (small buffers split headers and
//! bodies across refills):
//! * raw: the rest of the input is the stream;
//! * framed: the rest is split at 0xFF into bodies, each framed with `transport::encode` (or a
//!   variation: header case, `Content-Type`, bare LF, a stray blank line); reading must give
//!   back exactly those bodies, then `Eof`;
//! * resync: garbage first (from the input, without `c`/`C`, so that it cannot hold a
//!   `Content-Length` header, and without over-long lines), then framed bodies that contain no
//!   line break (as JSON sent by a client never does). Whatever the garbage, every body from
//!   the second on must come back intact and in order, after nothing but `Bad` frames; the
//!   first may be taken into the garbage's bad frame (its header then ends a bad header
//!   block, and the body of usable length is skipped with it).

#![no_main]

use libfuzzer_sys::fuzz_target;
use tome_server::transport::{encode, Frame, FrameReader, MAX_BODY};

fn frames(stream: &[u8], capacity: usize) -> Vec<Frame> {
    let mut reader = FrameReader::new(tokio::io::BufReader::with_capacity(capacity, stream));
    let mut out = Vec::new();
    futures::executor::block_on(async {
        loop {
            match reader.next().await {
                Ok(Frame::Eof) => break,
                Ok(frame) => {
                    if let Frame::Message(body) = &frame {
                        assert!(body.len() <= MAX_BODY, "body of {} bytes", body.len());
                    }
                    out.push(frame);
                    // Each frame consumes at least one byte: the loop ends.
                    assert!(out.len() <= stream.len(), "more frames than bytes");
                }
                Err(e) => panic!("an in-memory stream failed: {e}"),
            }
        }
    });
    out
}

fn framed(body: &[u8], variant: u8) -> Vec<u8> {
    let mut f = match variant % 4 {
        0 => return encode(body),
        1 => format!("content-length: {}\r\n\r\n", body.len()),
        2 => format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH:{}\r\n\r\n",
            body.len()
        ),
        // Bare LF line ends, and a stray blank line before the header.
        _ => format!("\r\nContent-Length: {} \n\n", body.len()),
    }
    .into_bytes();
    f.extend_from_slice(body);
    f
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let capacity = [1, 2, 3, 7, 16, 64, 4096, 256 * 1024][usize::from(mode >> 5)];
    match mode % 3 {
        0 => {
            frames(rest, capacity);
        }
        1 => {
            let bodies: Vec<&[u8]> = rest.split(|&b| b == 0xFF).collect();
            let mut stream = Vec::new();
            for (i, body) in bodies.iter().enumerate() {
                stream.extend_from_slice(&framed(body, (mode >> 2).wrapping_add(i as u8)));
            }
            let got = frames(&stream, capacity);
            assert_eq!(got.len(), bodies.len(), "frame count");
            for (frame, body) in got.iter().zip(&bodies) {
                match frame {
                    Frame::Message(b) => assert_eq!(b, body),
                    other => panic!("expected a message of {} bytes, got {other:?}", body.len()),
                }
            }
        }
        _ => {
            // Garbage up to the first 0xFE, then bodies separated by 0xFF.
            let (garbage, rest) = match rest.iter().position(|&b| b == 0xFE) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (&rest[..0], rest),
            };
            let mut stream: Vec<u8> = garbage
                .iter()
                .copied()
                .filter(|b| !b"cC".contains(b))
                .take(1000)
                .collect();
            let bodies: Vec<Vec<u8>> = rest
                .split(|&b| b == 0xFF)
                .map(|b| b.iter().copied().filter(|&b| b != b'\n').collect())
                .collect();
            for (i, body) in bodies.iter().enumerate() {
                stream.extend_from_slice(&framed(body, (mode >> 2).wrapping_add(i as u8)));
            }
            let got = frames(&stream, capacity);
            let messages: Vec<&Vec<u8>> = got
                .iter()
                .skip_while(|f| matches!(f, Frame::Bad(_)))
                .map(|f| match f {
                    Frame::Message(b) => b,
                    other => panic!("a {other:?} frame after the first message"),
                })
                .collect();
            let lost = bodies.len() - messages.len().min(bodies.len());
            assert!(
                lost <= 1,
                "{lost} of {} messages lost: {got:?}",
                bodies.len()
            );
            assert_eq!(
                messages,
                bodies[lost..].iter().collect::<Vec<_>>(),
                "messages after the garbage"
            );
        }
    }
});
