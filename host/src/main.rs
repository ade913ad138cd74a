//! `tombstone`: convert invoice-deleted webhooks from the command line, and serve them
//! (`tombstone serve`). The commands are [`tombstone_host::cli`].
//!
//! Exit codes: 0 converted (stdout: the conversion JSON), 1 rejected input (stdout: the
//! RFC 9457 problem JSON), 2 usage error (stderr).

fn main() -> std::process::ExitCode {
    tombstone_host::cli::main()
}
