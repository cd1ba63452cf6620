//! `prepsync`: the External Sync service and its maintenance commands.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
