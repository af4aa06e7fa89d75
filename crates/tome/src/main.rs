//! `tome`: the command-line entry point. It only wires crates together:
//!
//! * `tome demo` generates a big file and walks through what an editor does with it (open, read
//!   the start, middle and end, jump, edit, search, undo, save), printing timings: through a
//!   real `tome serve` and the protocol, or with `--engine` calling the engine directly;
//! * `tome gen` writes a generated log-like file of a given size;
//! * `tome serve` speaks the `tome/*` JSON-RPC protocol over stdio (crate `tome-server`,
//!   contract in docs/protocol.md).

// Wiring only: whatever needs `unsafe` belongs in the engine, behind a safe API.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod demo_rpc;
mod size;

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
}

fn main() -> ExitCode {
    // Before any thread starts: a long-running server gives freed buffers back.
    tome_core::return_freed_memory();
    let cli = Cli::parse();
    let result = match cli.command {
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
