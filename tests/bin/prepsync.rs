//! The `prepsync` command line, built beside the tests for process-level tests.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
