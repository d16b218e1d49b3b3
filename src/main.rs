//! The `dynipd` binary: parse the command line, run, map the outcome to an exit code.

use clap::Parser as _;

fn main() {
    let cli = match dynipd::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                dynipd::exit::USAGE
            } else {
                dynipd::exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(dynipd::commands::execute(cli));
}
