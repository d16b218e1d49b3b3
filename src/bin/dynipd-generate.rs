//! `dynipd-generate --out DIR`: writes the man pages and shell completions rendered from the
//! clap definitions (see `commands/generate.rs`). A separate build-time program so the daemon
//! does not carry clap_mangen and clap_complete (about 186 KB).

fn main() {
    let mut args = std::env::args().skip(1);
    let out = match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--out"), Some(dir), None) => std::path::PathBuf::from(dir),
        _ => {
            eprintln!("usage: dynipd-generate --out DIR");
            std::process::exit(dynipd::exit::USAGE);
        }
    };
    match dynipd::commands::generate::generate(&out) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("dynipd-generate: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
