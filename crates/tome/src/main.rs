//! `tome`: the command-line entry point. It only wires crates together:
//!
//! * `tome demo` generates a big file and walks through what an editor does with it (open, read
//!   the start, middle and end, jump, edit, search, undo, save), printing timings: through a
//!   real `tome serve` and the protocol, or with `--engine` calling the engine directly;
//! * `tome gen` writes a generated log-like file of a given size;
//! * `tome serve` speaks the `tome/*` JSON-RPC protocol over stdio (crate `tome-server`,
//!   contract in docs/protocol.md);
//! * `tome cat`, `tome grep`, `tome replace` are Unix commands for scripts on the engine
//!   (module `unix`, one submodule per command), with grep's and sed's exit codes.

// Wiring only: whatever needs `unsafe` belongs in the engine, behind a safe API.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod demo_rpc;
mod size;
mod unix;

/// What `tome --version` prints after the name; a test build says it is one.
#[cfg(not(feature = "fault-injection"))]
const VERSION: &str = env!("CARGO_PKG_VERSION");
#[cfg(feature = "fault-injection")]
const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (test build: fault injection)");

#[derive(Parser)]
#[command(
    name = "tome",
    version = VERSION,
    about = "Open, read, edit, search and save multi-gigabyte text files."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a big file, open it and show what Tome does with it, with timings.
    Demo {
        /// Size of the generated file (e.g. 512M, 4G).
        #[arg(long, default_value = "1G", value_parser = size::parse)]
        size: u64,
        /// Where to put the file (default: a new temporary directory, removed afterwards).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Call the engine directly instead of going through `tome serve` and the protocol.
        #[arg(long)]
        engine: bool,
    },
    /// Write a deterministic log-like file of the given size.
    Gen {
        /// The file to write.
        path: PathBuf,
        /// Size (e.g. 100M, 4G, or bytes).
        #[arg(long, default_value = "100M", value_parser = size::parse)]
        size: u64,
        /// Seed of the generator.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// CRLF line endings.
        #[arg(long)]
        crlf: bool,
        /// Some lines with multibyte characters.
        #[arg(long)]
        unicode: bool,
        /// A rare string put on every N-th line (see --needle-every).
        #[arg(long)]
        needle: Option<String>,
        /// Every how many lines the needle appears.
        #[arg(long, default_value_t = 100_000)]
        needle_every: u64,
    },
    /// Serve the tome/* JSON-RPC protocol on stdin/stdout (LSP framing); logs go to stderr,
    /// filtered by the TOME_LOG environment variable (e.g. TOME_LOG=debug).
    Serve,
    /// Print lines by number, exactly as they are in the file (like `sed -n 'A,Bp'`, `tail -n`),
    /// reading only those lines: the start of line A comes from the line index (kept in the
    /// index cache, so the next run on the same file starts at once).
    ///
    /// Exit: 0, or 2 on an error (message on stderr). A range past the end prints what exists.
    /// Lines end at LF, CRLF or a lone CR (sed: LF only).
    #[command(
        after_help = "RANGE (1-based, inclusive): A:B, A: (to the end), :B, A (one line),                             -N (the last N lines). Without --lines: the whole file.\n\n\
                            --json: one object per line (JSON lines): {\"line\", \"offset\", \
                            \"text\", \"eol\"}, plus \"base64\" (the exact bytes) when the \
                            text is not valid UTF-8."
    )]
    Cat {
        /// The file.
        file: PathBuf,
        /// Which lines: A:B, A:, :B, A, or -N.
        #[arg(long, short = 'l', value_name = "RANGE", allow_hyphen_values = true)]
        lines: Option<String>,
        /// One JSON object per line instead of the bytes.
        #[arg(long)]
        json: bool,
    },
    /// Print the lines that match PATTERN, as grep does, using the engine's parallel search.
    ///
    /// Exit: 0 if a line was selected, 1 if none, 2 on an error (as grep). PATTERN is literal
    /// text unless -E (Rust regex syntax, close to ERE).
    #[command(
        after_help = "--json: one object per selected line (JSON lines): {\"line\", \
                            \"offset\", \"text\"} (plus \"base64\" for text that is not \
                            valid UTF-8); with -c a single {\"count\"}."
    )]
    Grep {
        /// What to look for (literal text unless -E).
        pattern: String,
        /// The file.
        file: PathBuf,
        /// PATTERN is a regular expression (Rust regex syntax: |, +, ?, {m,n}, groups, \\d, \\b…).
        #[arg(short = 'E', long = "extended-regexp", overrides_with = "fixed")]
        extended: bool,
        /// PATTERN is literal text (the default).
        #[arg(short = 'F', long = "fixed-strings", overrides_with = "extended")]
        fixed: bool,
        /// Ignore case.
        #[arg(short = 'i', long = "ignore-case")]
        ignore_case: bool,
        /// Only whole words (letters, digits and _ are word characters).
        #[arg(short = 'w', long = "word-regexp")]
        word: bool,
        /// Select the lines that do not match.
        #[arg(short = 'v', long = "invert-match")]
        invert: bool,
        /// Prefix each line with its number.
        #[arg(short = 'n', long = "line-number")]
        line_number: bool,
        /// Print only the number of selected lines.
        #[arg(short = 'c', long)]
        count: bool,
        /// Stop after NUM selected lines.
        #[arg(short = 'm', long = "max-count", value_name = "NUM")]
        max_count: Option<usize>,
        /// Print nothing; the exit code says whether a line matched.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// Read a binary file as text (else refused).
        #[arg(short = 'a', long)]
        text: bool,
        /// JSON lines output (see below).
        #[arg(long)]
        json: bool,
    },
    /// Replace every match of PATTERN with REPLACEMENT and save, atomically and in proportion
    /// to the change (a change near the end of a big file writes only its blocks), unlike
    /// `sed -i`, which rewrites the whole file.
    ///
    /// Exit: 0 replaced, 1 no match (file untouched), 2 error before any change, 4 the save
    /// failed (the file is as it was). With -E, REPLACEMENT names groups as $1, ${1}, ${name}
    /// ($$ is a dollar sign). The text is matched as a whole, not line by line (^ and $ match
    /// at line ends).
    #[command(
        after_help = "--json: one object: {\"file\", \"replacements\", \"lines\", \
                            \"dryRun\", \"saved\"} and, once saved, \"method\" (\"inPlace\" \
                            or \"rename\"), \"bytes\", \"from\", \"written\", \
                            \"copiedByKernel\", \"backedUp\", \"ms\"."
    )]
    Replace {
        /// What to replace (literal text unless -E).
        pattern: String,
        /// The replacement (with -E: $1, ${name} groups).
        replacement: String,
        /// The file, changed in place.
        file: PathBuf,
        /// PATTERN is a regular expression (Rust regex syntax).
        #[arg(short = 'E', long = "regexp", overrides_with = "fixed")]
        extended: bool,
        /// PATTERN is literal text (the default).
        #[arg(short = 'F', long = "fixed-strings", overrides_with = "extended")]
        fixed: bool,
        /// Ignore case.
        #[arg(short = 'i', long = "ignore-case")]
        ignore_case: bool,
        /// Count the replacements and print the number; change nothing.
        #[arg(short = 'n', long = "dry-run")]
        dry_run: bool,
        /// Edit a binary file as text (else refused).
        #[arg(short = 'a', long)]
        text: bool,
        /// One JSON object (see below).
        #[arg(long)]
        json: bool,
    },
}

/// Runs a Unix command: its exit code, with the failure's message on stderr.
fn unix_exit(result: Result<u8, unix::Failure>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("tome: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn main() -> ExitCode {
    // Before any thread starts: a long-running server gives freed buffers back.
    tome_core::return_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Cat { file, lines, json } => {
            let range = match lines.as_deref().map(unix::cat::check).transpose() {
                Ok(r) => r,
                Err(f) => return unix_exit(Err(f)),
            };
            return unix_exit(unix::cat::run(&file, range, json));
        }
        Command::Grep {
            pattern,
            file,
            extended,
            fixed: _,
            ignore_case,
            word,
            invert,
            line_number,
            count,
            max_count,
            quiet,
            text,
            json,
        } => {
            let o = unix::grep::Options {
                pattern,
                regex: extended,
                ignore_case,
                word,
                invert,
                line_numbers: line_number,
                count,
                max_count,
                quiet,
                text,
                json,
            };
            return unix_exit(unix::grep::run(&file, &o));
        }
        Command::Replace {
            pattern,
            replacement,
            file,
            extended,
            fixed: _,
            ignore_case,
            dry_run,
            text,
            json,
        } => {
            let o = unix::replace::Options {
                pattern,
                replacement,
                regex: extended,
                ignore_case,
                dry_run,
                text,
                json,
            };
            return unix_exit(unix::replace::run(&file, &o));
        }
        Command::Serve => tome_server::run_stdio(),
        Command::Demo { size, dir, engine } => demo::run(size, dir, engine),
        Command::Gen {
            path,
            size,
            seed,
            crlf,
            unicode,
            needle,
            needle_every,
        } => {
            let cfg = tome_gen::GenConfig {
                size,
                seed,
                line_ending: if crlf {
                    tome_gen::LineEnding::CrLf
                } else {
                    tome_gen::LineEnding::Lf
                },
                unicode,
                needle,
                needle_every,
            };
            tome_gen::write_file(&cfg, &path)
                .map(|s| {
                    println!(
                        "wrote {} bytes, {} lines, {} needles to {}",
                        s.bytes,
                        s.lines,
                        s.needles,
                        path.display()
                    )
                })
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tome: {e}");
            ExitCode::FAILURE
        }
    }
}
