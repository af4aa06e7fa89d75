//! Writing compressed copies: the format a file name asks for, and a writer that compresses
//! into it. Used by a compressed document's "Save As" (the text is read-only, a copy may be
//! plain or compressed again). Encoders are `flate2`'s (on zlib-rs, the inflater this crate
//! already uses) and `zstd`'s: no home-made deflate.

use std::io::Write;
use std::path::Path;

use crate::Format;

/// What a file name asks a copy to be written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Plain text (any name without a compression suffix).
    Plain,
    /// Compressed in this format (`.gz`, `.zst`).
    Compressed(Format),
    /// A compression suffix this crate cannot write (`.bz2`, `.xz`, `.lz4`, `.lzma`, `.Z`):
    /// writing plain text under that name would mislead every tool that trusts it.
    Unsupported(&'static str),
}

/// The target a copy at `path` asks for, from the name's last suffix (case-insensitive).
/// Cost: O(name).
pub fn target_of(path: &Path) -> Target {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("gz") | Some("gzip") => Target::Compressed(Format::Gzip),
        Some("zst") | Some("zstd") => Target::Compressed(Format::Zstd),
        Some("bz2") => Target::Unsupported("bzip2"),
        Some("xz") => Target::Unsupported("xz"),
        Some("lz4") => Target::Unsupported("lz4"),
        Some("lzma") => Target::Unsupported("lzma"),
        Some("z") if path.extension().is_some_and(|e| e == "Z") => Target::Unsupported("compress"),
        _ => Target::Plain,
    }
}

/// A writer compressing into `W` in one format; [`Encoder::finish`] writes the trailer.
pub enum Encoder<W: Write> {
    /// gzip, one member, level 6 (gzip's default).
    Gzip(flate2::write::GzEncoder<W>),
    /// One zstd frame, level 3 (zstd's default), with a checksum.
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    /// Starts compressing into `out`. Cost: the encoder's state (zstd level 3: a few MiB).
    pub fn new(format: Format, out: W) -> std::io::Result<Encoder<W>> {
        Ok(match format {
            Format::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::default(),
            )),
            Format::Zstd => {
                let mut e = zstd::stream::write::Encoder::new(out, 3)?;
                e.include_checksum(true)?;
                Encoder::Zstd(e)
            }
        })
    }

    /// Writes what is buffered and the format's trailer; returns the writer.
    pub fn finish(self) -> std::io::Result<W> {
        match self {
            Encoder::Gzip(e) => e.finish(),
            Encoder::Zstd(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Encoder::Gzip(e) => e.write(buf),
            Encoder::Zstd(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Encoder::Gzip(e) => e.flush(),
            Encoder::Zstd(e) => e.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Compressed;

    #[test]
    fn names_choose_the_target() {
        for (name, want) in [
            ("a.log", Target::Plain),
            ("a", Target::Plain),
            ("a.log.gz", Target::Compressed(Format::Gzip)),
            ("A.LOG.GZ", Target::Compressed(Format::Gzip)),
            ("a.zst", Target::Compressed(Format::Zstd)),
            ("a.bz2", Target::Unsupported("bzip2")),
            ("a.xz", Target::Unsupported("xz")),
            ("a.Z", Target::Unsupported("compress")),
            ("a.z", Target::Plain),
        ] {
            assert_eq!(target_of(Path::new(name)), want, "{name}");
        }
    }

    /// What an encoder writes reads back as the same text through this crate's own reader.
    #[test]
    fn encoded_copies_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("line {i} é\n").into_bytes())
            .collect();
        for format in [Format::Gzip, Format::Zstd] {
            let path = dir.path().join(format.name());
            let file = std::fs::File::create(&path).unwrap();
            let mut e = Encoder::new(format, file).unwrap();
            for chunk in text.chunks(7_777) {
                e.write_all(chunk).unwrap();
            }
            e.finish().unwrap();
            let c = Compressed::open(&path).unwrap();
            assert_eq!(c.format(), format);
            let len = c.wait(&crate::never).unwrap();
            assert_eq!(c.read(0, len, &crate::never).unwrap(), text, "{format:?}");
        }
    }
}
