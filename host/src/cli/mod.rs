//! The `tombstone` command line: its arguments ([`args`]) and what each command does
//! ([`commands`]).
//!
//! Exit codes: 0 converted (stdout: the conversion JSON), 1 rejected input (stdout: the
//! RFC 9457 problem JSON), 2 usage error (stderr).

mod args;
mod commands;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use args::Cli;
use commands::{run, Outcome};

/// Parses the arguments, runs the command, prints what it says, and exits as it says.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(Outcome::Output(text)) => print(&text, ExitCode::SUCCESS),
        Ok(Outcome::Rejected(text)) => print(&text, ExitCode::from(1)),
        Err(message) => {
            eprintln!("tombstone: {message}");
            ExitCode::from(2)
        }
    }
}

fn print(text: &str, code: ExitCode) -> ExitCode {
    // `serve` prints nothing when it stops: whoever started it may have closed its stdout.
    if text.is_empty() {
        return code;
    }
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(_) => ExitCode::from(2),
    }
}
