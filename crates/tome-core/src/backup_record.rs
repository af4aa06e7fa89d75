//! The proof that a backup left by an interrupted in-place save is ours, and of which file.
//!
//! An in-place save ([`crate::in_place`]) copies the file to `.NAME.tome-backup.PID` in the
//! file's own directory before overwriting it. That directory may be shared with other users
//! (`/tmp`, a group's project directory), so a file with that name proves nothing: anyone can
//! plant one. What a hostile neighbour cannot write is the user's **state directory**
//! (`$TOME_STATE_DIR`, else `$XDG_STATE_HOME/tome`, else `~/.local/state/tome`; created 0700).
//! Before the file is touched, the save writes a record there, synced, naming:
//!
//! - the target: its path, device and inode, its size and modification time before the save;
//! - the backup: its path, device and inode (it is created by this process, mode 0600), and
//!   the ranges of the file it holds, in order, one after the other (the save backs up and
//!   rewrites only those: the file's tail from the first changed block, or, for an edit that
//!   keeps the length, only the changed blocks; `[0, size)` for the whole file);
//! - the new content's length and the CRC of a few sampled blocks of it (in the part written),
//!   so that a later look can tell whether the file is still "partly our new content, partly
//!   the old one" (the save was interrupted) or was written by someone else since.
//!
//! A backup is trusted only through such a record, and only if it is still the very file the
//! record names (same device and inode, owned by this user, a regular file, not readable or
//! writable by others). Everything else that looks like a backup is reported and left alone.
//!
//! Layout (little-endian), one file per save, `<state>/backups/<pid>-<backup inode>.record`:
//!
//! ```text
//! "TOMEBAK3" | pid u32 | target dev u64 | target ino u64 | old size u64 | old mtime_ns i128
//! | backup dev u64 | backup ino u64 | new size u64
//! | r u32 | r × (start u64, len u64)
//! | n u32 | n × (offset u64, crc32c u32)
//! | target path (len u32, bytes) | backup path (len u32, bytes) | crc32c u32
//! ```
//!
//! Ranges are sorted, do not overlap, are not empty and lie within the old size (at most
//! [`MAX_RANGES`]); anything else is refused. Records of the earlier layouts are still read:
//! `TOMEBAK2` (a tail: `backup start u64` in place of the ranges) as the one range from there
//! to the old size, `TOMEBAK1` (the same without the backup start) as the whole file.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::journal::Reader;
use crate::sys::{effective_uid, read_fully_at, sync_dir};

const MAGIC: &[u8; 8] = b"TOMEBAK3";
/// The layout of backups of one tail: a backup start instead of ranges.
const MAGIC_TAIL: &[u8; 8] = b"TOMEBAK2";
/// The layout before backups of a tail: no backup start (whole-file backups).
const MAGIC_WHOLE: &[u8; 8] = b"TOMEBAK1";
/// Blocks of the new content sampled (first and last included).
pub(crate) const SAMPLES: usize = 16;
pub(crate) const SAMPLE_BLOCK: usize = 4096;
/// Most ranges a record holds (16 bytes each).
pub(crate) const MAX_RANGES: usize = 1024;
/// Largest record read (paths are bounded by the OS; anything bigger is not ours).
const MAX_RECORD: u64 = 64 << 10;

/// What an in-place save wrote down before touching its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BackupRecord {
    /// The saving process.
    pub pid: u32,
    /// The file saved, as the save named it (after resolving symbolic links).
    pub target: PathBuf,
    /// `(device, inode)` of the target.
    pub target_id: (u64, u64),
    /// The target's size before the save.
    pub old_size: u64,
    /// The target's modification time before the save (the backup carries it too).
    pub old_mtime_ns: i128,
    /// Where the backup is.
    pub backup: PathBuf,
    /// `(device, inode)` of the backup.
    pub backup_id: (u64, u64),
    /// The size of the content being written.
    pub new_size: u64,
    /// The ranges `(start, len)` of the target the backup holds, in order, one after the
    /// other: the old file's bytes there. The save wrote nothing outside them, except past the
    /// old size (the file grew).
    pub ranges: Vec<(u64, u64)>,
    /// `(offset, crc32c)` of sampled blocks of the content being written.
    pub new_samples: Vec<(u64, u32)>,
}

/// The directory records live in, below the state directory.
pub(crate) fn default_dir() -> Option<PathBuf> {
    crate::journal::state_dir().map(|d| d.join("backups"))
}

/// `(offset, crc32c)` of up to [`SAMPLES`] blocks spread over bytes `[from, len)` read by
/// `read`.
pub(crate) fn sample_blocks(
    from: u64,
    len: u64,
    mut read: impl FnMut(u64, usize) -> io::Result<Vec<u8>>,
) -> io::Result<Vec<(u64, u32)>> {
    if len <= from {
        return Ok(Vec::new());
    }
    let last = (len - from).saturating_sub(SAMPLE_BLOCK as u64);
    let mut offsets: Vec<u64> = (0..SAMPLES as u64)
        .map(|i| from + last * i / (SAMPLES as u64 - 1))
        .collect();
    offsets.dedup();
    offsets
        .into_iter()
        .map(|at| {
            let want = (SAMPLE_BLOCK as u64).min(len - at) as usize;
            Ok((at, crc32c::crc32c(&read(at, want)?)))
        })
        .collect()
}

/// Reads up to `want` bytes of `file` at `at` (fewer at its end).
pub(crate) fn read_block(file: &File, at: u64, want: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; want];
    let got = read_fully_at(file, &mut buf, at as usize)?;
    buf.truncate(got);
    Ok(buf)
}

impl BackupRecord {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.pid.to_le_bytes());
        out.extend_from_slice(&self.target_id.0.to_le_bytes());
        out.extend_from_slice(&self.target_id.1.to_le_bytes());
        out.extend_from_slice(&self.old_size.to_le_bytes());
        out.extend_from_slice(&self.old_mtime_ns.to_le_bytes());
        out.extend_from_slice(&self.backup_id.0.to_le_bytes());
        out.extend_from_slice(&self.backup_id.1.to_le_bytes());
        out.extend_from_slice(&self.new_size.to_le_bytes());
        out.extend_from_slice(&(self.ranges.len() as u32).to_le_bytes());
        for (start, len) in &self.ranges {
            out.extend_from_slice(&start.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
        out.extend_from_slice(&(self.new_samples.len() as u32).to_le_bytes());
        for (at, crc) in &self.new_samples {
            out.extend_from_slice(&at.to_le_bytes());
            out.extend_from_slice(&crc.to_le_bytes());
        }
        for p in [&self.target, &self.backup] {
            let bytes = p.as_os_str().as_encoded_bytes();
            out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Option<BackupRecord> {
        let (body, crc) = bytes.split_at_checked(bytes.len().checked_sub(4)?)?;
        if crc32c::crc32c(body).to_le_bytes() != crc {
            return None;
        }
        let mut r = Reader(body);
        let version = match r.take(8)? {
            m if m == MAGIC => 3,
            m if m == MAGIC_TAIL => 2,
            m if m == MAGIC_WHOLE => 1,
            _ => return None,
        };
        let pid = r.u32()?;
        let target_id = (r.u64()?, r.u64()?);
        let old_size = r.u64()?;
        let old_mtime_ns = r.i128()?;
        let backup_id = (r.u64()?, r.u64()?);
        let new_size = r.u64()?;
        let ranges = match version {
            3 => {
                let n = r.u32()? as usize;
                if n > MAX_RANGES {
                    return None;
                }
                (0..n)
                    .map(|_| Some((r.u64()?, r.u64()?)))
                    .collect::<Option<Vec<_>>>()?
            }
            2 => {
                let start = r.u64()?;
                vec![(start, old_size.checked_sub(start)?)]
            }
            _ => vec![(0, old_size)],
        };
        if !ranges_are_valid(&ranges, old_size) {
            return None;
        }
        let n = r.u32()? as usize;
        if n > SAMPLES {
            return None;
        }
        let new_samples = (0..n)
            .map(|_| Some((r.u64()?, r.u32()?)))
            .collect::<Option<Vec<_>>>()?;
        let target = path(&mut r)?;
        let backup = path(&mut r)?;
        r.0.is_empty().then_some(BackupRecord {
            pid,
            target,
            target_id,
            old_size,
            old_mtime_ns,
            backup,
            backup_id,
            new_size,
            ranges,
            new_samples,
        })
    }

    /// The offset in the target of the backup's first byte (the first range's start; the old
    /// size when nothing was backed up).
    pub(crate) fn backup_start(&self) -> u64 {
        self.ranges.first().map_or(self.old_size, |r| r.0)
    }

    /// Bytes the backup holds.
    pub(crate) fn backup_len(&self) -> u64 {
        self.ranges.iter().map(|r| r.1).sum()
    }

    /// Writes the record into `dir` (created 0700 if missing) durably: a temporary file,
    /// synced, renamed into place, the directory synced. Returns the record's path.
    pub(crate) fn write(&self, dir: &Path) -> io::Result<PathBuf> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let name = format!("{}-{}.record", self.pid, self.backup_id.1);
        let path = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&self.encode())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        sync_dir(dir);
        Ok(path)
    }

    /// Every well-formed record in `dir` that this user wrote, with its path. Files that are
    /// not ours (another owner, not a regular file, readable by others) are skipped.
    pub(crate) fn load_all(dir: &Path) -> Vec<(PathBuf, BackupRecord)> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".record"))
            .filter_map(|e| {
                let path = e.path();
                let file = open_no_follow(&path).ok()?;
                let meta = file.metadata().ok()?;
                if !is_private_to_us(&meta) || meta.len() > MAX_RECORD {
                    return None;
                }
                let bytes = read_block(&file, 0, meta.len() as usize).ok()?;
                Some((path, BackupRecord::decode(&bytes)?))
            })
            .collect()
    }
}

/// True if `ranges` are sorted, disjoint, not empty (each), within `size`, and few enough. A
/// tail of an empty growth (`(size, 0)`) is allowed alone: a save of an append backs up
/// nothing.
pub(crate) fn ranges_are_valid(ranges: &[(u64, u64)], size: u64) -> bool {
    if ranges.len() > MAX_RANGES {
        return false;
    }
    if let [(start, 0)] = ranges {
        return *start == size;
    }
    let mut at = 0;
    for &(start, len) in ranges {
        let Some(end) = start.checked_add(len) else {
            return false;
        };
        if len == 0 || start < at || end > size {
            return false;
        }
        at = end;
    }
    true
}

/// Opens `path` for reading without following a symbolic link in its last component.
pub(crate) fn open_no_follow(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

/// A regular file owned by this process's user that no one else may read or write.
pub(crate) fn is_private_to_us(meta: &std::fs::Metadata) -> bool {
    meta.is_file() && meta.uid() == effective_uid() && meta.mode() & 0o077 == 0
}

/// A path written as a u32 length and its bytes.
fn path(r: &mut Reader<'_>) -> Option<PathBuf> {
    let n = r.u32()? as usize;
    // On Unix a path is any bytes: what `as_encoded_bytes` wrote comes back unchanged.
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(r.take(n)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> BackupRecord {
        BackupRecord {
            pid: 42,
            target: PathBuf::from("/tmp/a b\nc"),
            target_id: (1, 2),
            old_size: 3,
            old_mtime_ns: -4,
            backup: PathBuf::from("/tmp/.a.tome-backup.42"),
            backup_id: (5, 6),
            new_size: 7,
            ranges: vec![(2, 1)],
            new_samples: vec![(0, 8), (9, 10)],
        }
    }

    /// `record()` encoded in an earlier layout: `backup_start` `None` for `TOMEBAK1`, else
    /// `TOMEBAK2` with that start, in place of the ranges.
    fn encode_old(r: &BackupRecord, backup_start: Option<u64>) -> Vec<u8> {
        let mut bytes = r.encode();
        bytes.truncate(bytes.len() - 4);
        // The ranges: count and 16 bytes each, after new size.
        let at = 8 + 4 + 8 + 8 + 8 + 16 + 8 + 8 + 8;
        bytes.drain(at..at + 4 + 16 * r.ranges.len());
        match backup_start {
            Some(start) => {
                bytes.splice(at..at, start.to_le_bytes());
                bytes[..8].copy_from_slice(MAGIC_TAIL);
            }
            None => bytes[..8].copy_from_slice(MAGIC_WHOLE),
        }
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        bytes
    }

    #[test]
    fn records_of_the_earlier_layouts_are_read_as_one_range() {
        let r = record();
        let whole = BackupRecord {
            ranges: vec![(0, 3)],
            ..r.clone()
        };
        assert_eq!(BackupRecord::decode(&encode_old(&r, None)), Some(whole));
        let tail = BackupRecord {
            ranges: vec![(1, 2)],
            ..r.clone()
        };
        assert_eq!(BackupRecord::decode(&encode_old(&r, Some(1))), Some(tail));
        // A backup start past the old size is refused.
        assert_eq!(BackupRecord::decode(&encode_old(&r, Some(4))), None);
    }

    #[test]
    fn ranges_out_of_order_overlapping_empty_or_past_the_size_are_refused() {
        let with = |ranges: Vec<(u64, u64)>| BackupRecord {
            old_size: 100,
            ranges,
            ..record()
        };
        let ok = with(vec![(0, 10), (20, 10), (90, 10)]);
        assert_eq!(BackupRecord::decode(&ok.encode()), Some(ok));
        let append = with(vec![(100, 0)]);
        assert_eq!(BackupRecord::decode(&append.encode()), Some(append));
        for bad in [
            vec![(20, 10), (0, 10)],
            vec![(0, 20), (10, 10)],
            vec![(0, 10), (30, 0)],
            vec![(95, 10)],
            vec![(u64::MAX, 2)],
            vec![(0, 1); MAX_RANGES + 1],
        ] {
            assert_eq!(
                BackupRecord::decode(&with(bad.clone()).encode()),
                None,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_record_round_trips_and_a_damaged_one_is_refused() {
        let r = record();
        let bytes = r.encode();
        assert_eq!(BackupRecord::decode(&bytes), Some(r));
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert_eq!(BackupRecord::decode(&bad), None, "byte {i} flipped");
        }
        assert_eq!(BackupRecord::decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(BackupRecord::decode(&[]), None);
    }

    #[test]
    fn records_are_written_privately_and_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let records = dir.path().join("state/backups");
        let path = record().write(&records).unwrap();
        let mode = std::fs::metadata(&records).unwrap().mode();
        assert_eq!(mode & 0o777, 0o700);
        assert_eq!(std::fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
        assert_eq!(BackupRecord::load_all(&records), vec![(path, record())]);
    }
}
