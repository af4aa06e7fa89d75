//! `tome replace PATTERN REPLACEMENT FILE`: every match replaced, saved atomically and in
//! proportion to the change — `sed -i 's/PATTERN/REPLACEMENT/g' FILE` without rewriting the
//! file.
//!
//! The pattern is literal text by default (`-F`), or with `-E` a regular expression (Rust's
//! `regex` syntax, as `tome grep -E`), whose groups the replacement names as `$1`, `${1}`,
//! `${name}` (`$$` is a dollar sign): exactly the protocol's `tome/replaceAll`. Unlike sed the
//! text is matched as a whole, not line by line: `^` and `$` match at line starts and ends
//! (CRLF-aware), and a pattern that can match a line break (`\s`, `[^x]`) may join lines.
//! `-i` ignores case.
//!
//! How: the matches are planned on a snapshot by the engine's parallel replace-all, applied as
//! one change, and saved by the engine's default save (`SaveChoice::Auto`): on ext4 and most
//! filesystems, a change near the end of a big file is written in place from its first changed
//! block only, behind a backup of just those blocks recorded in the state directory (a crash
//! leaves the file restorable on its next open in Tome); otherwise (a change early in the file,
//! a small file, XFS or btrfs) a new file is written — unchanged spans copied by the kernel —
//! and renamed over the old one. Either way the file is never left half-written. The change is
//! journaled like an editor's until the save ends.
//!
//! Exit codes: 0 replaced (or, with `--dry-run`, found), 1 no match (the file is not touched),
//! 2 an error before anything changed (bad pattern, missing or binary file, permission, the file
//! open with unsaved changes in another Tome session), 4 the save failed (the file is as it
//! was; the message says why). Output: nothing on success (as `sed -i`); `--dry-run` prints the
//! number of replacements; `--json` prints one JSON object.

use std::path::Path;
use std::time::Instant;

use tome_core::{Control, Document, Matcher, Query, SaveMethod};

use super::{Failure, ERROR, NONE, OK, SAVE_FAILED};

/// What `tome replace` was asked for.
pub struct Options {
    pub pattern: String,
    pub replacement: String,
    pub regex: bool,
    pub ignore_case: bool,
    pub dry_run: bool,
    pub text: bool,
    pub json: bool,
}

/// Runs `tome replace`: the exit code (0 replaced, 1 no match), or a failure (2, 4).
pub fn run(path: &Path, o: &Options) -> Result<u8, Failure> {
    let t = Instant::now();
    let matcher = Matcher::new(&Query {
        pattern: o.pattern.clone(),
        regex: o.regex,
        case_insensitive: o.ignore_case,
    })
    .map_err(|e| Failure::new(ERROR, e.to_string()))?;
    let mut doc = super::open(path, o.text, false)?;
    // Nothing here asks for a line by number (the plan counts its lines itself).
    doc.stop_indexing();
    if !o.dry_run && doc.is_read_only() {
        return Err(Failure::new(
            ERROR,
            format!(
                "{}: permission denied (the file is not writable)",
                path.display()
            ),
        ));
    }
    if !o.dry_run {
        journal(&mut doc, path)?;
    }
    let outcome = replace(&mut doc, path, &matcher, o, t);
    // The command's change is redone by running it again: a failed run leaves no journal to
    // offer at the next open (the file itself is unchanged).
    doc.close_journal();
    outcome
}

/// Journals the change as an editor's would be, refusing a file that another live Tome session
/// journals (it has unsaved edits we would silently diverge from) or whose earlier session
/// left edits to recover (they stay on offer; the user decides first).
fn journal(doc: &mut Document, path: &Path) -> Result<(), Failure> {
    let Some(dir) = tome_core::journal::default_dir() else {
        // No state directory: the change is still saved atomically, just not journaled.
        return Ok(());
    };
    match doc.enable_journal(&dir) {
        Ok(None) if doc.is_journaled() => Ok(()),
        Ok(None) => Err(Failure::new(
            ERROR,
            format!(
                "{}: open in another Tome session (which may hold unsaved changes); save or \
                 close it there first",
                path.display()
            ),
        )),
        Ok(Some(_)) => {
            doc.close_journal();
            Err(Failure::new(
                ERROR,
                format!(
                    "{}: unsaved changes of an earlier Tome session are waiting to be \
                     recovered; open the file in an editor with Tome to recover or discard \
                     them first (nothing was changed)",
                    path.display()
                ),
            ))
        }
        // The journal is a safety net, not the save: without one the save is still atomic.
        Err(_) => Ok(()),
    }
}

fn replace(
    doc: &mut Document,
    path: &Path,
    matcher: &Matcher,
    o: &Options,
    t: Instant,
) -> Result<u8, Failure> {
    let control = Control::new();
    let planned = doc
        .snapshot()
        .plan_replace_all(matcher, o.replacement.as_bytes(), &control)
        .map_err(|e| super::engine_error(path, e))?;
    let (count, lines) = (planned.count(), planned.lines());
    let mut report = serde_json::json!({
        "file": path,
        "replacements": count,
        "lines": lines,
        "dryRun": o.dry_run,
        "saved": false,
    });
    if count == 0 || o.dry_run {
        if o.json {
            println!("{report}");
        } else if o.dry_run {
            println!("{count}");
        }
        return Ok(if count == 0 { NONE } else { OK });
    }
    doc.apply_planned(planned)
        .map_err(|e| super::engine_error(path, e))?;
    let saved = doc.save(None, &control).map_err(|e| {
        Failure::new(
            SAVE_FAILED,
            format!(
                "{}: the save failed and the file is as it was: {e}",
                path.display()
            ),
        )
    })?;
    if o.json {
        report["saved"] = true.into();
        report["method"] = match saved.method {
            SaveMethod::Rename => "rename",
            SaveMethod::InPlace => "inPlace",
        }
        .into();
        report["bytes"] = saved.bytes.into();
        report["from"] = saved.from.into();
        report["written"] = saved.written.into();
        report["copiedByKernel"] = saved.copied_by_kernel.into();
        report["backedUp"] = saved.backed_up.into();
        report["ms"] = (t.elapsed().as_secs_f64() * 1e3).into();
        println!("{report}");
    }
    Ok(OK)
}
