//! `dynipd-generate --out DIR`: the man pages and shell completions, rendered from the
//! clap definitions in `cli.rs` so they can never drift from the real command line
//! (clap_mangen, clap_complete). Packaging runs it at build time (`packaging/build-deb.sh`).
//! Does not install anything; where the files go is the package's business.

use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory as _;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, italic, roman};

use crate::cli::Cli;
use crate::daemon::AppError;
use crate::exit;

/// The completion scripts: shell and file name, as each shell's vendor directory expects
/// (bash-completion: the command's name; zsh: `_name`; fish: `name.fish`).
const COMPLETIONS: [(Shell, &str); 3] = [
    (Shell::Bash, "dynipd.bash"),
    (Shell::Zsh, "_dynipd"),
    (Shell::Fish, "dynipd.fish"),
];

/// The DESCRIPTION of `dynipd.1` (`cli.rs` keeps `--help` short).
const DESCRIPTION: &str = "dynipd keeps DNS records pointed at a host whose addresses change. \
It learns the host's IPv4 and IPv6 addresses from local interfaces, public-IP echo services or a \
command, notices when they change, and publishes them through each record's provider. It sends \
nothing while nothing changes, backs off exponentially on failure, parks a record whose provider \
rejects it, never publishes an address it is not sure of, and keeps what each provider confirmed \
in an atomically written state file.\n\n\
The configuration is one TOML file; dynipd check validates it and reports every error. Run \
under systemd as dynipd.service (Type=notify, reload with systemctl reload dynipd), or \
periodically as dynipd.timer.";

/// Writes `dynipd.1`, one `dynipd-COMMAND.1` per visible subcommand, `dynipd.bash`, `_dynipd`
/// and `dynipd.fish` into `out` (created if missing) and prints each path.
///
/// Errors: [`AppError::Internal`] when the directory or a file cannot be written.
pub fn generate(out: &Path) -> Result<i32, AppError> {
    fs::create_dir_all(out).map_err(|e| write_error(out, &e))?;
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();

    let mut written = Vec::new();
    let page = out.join("dynipd.1");
    write_file(&page, &main_page(&cmd)?)?;
    written.push(page);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let man = Man::new(sub.clone())
            .source(source())
            .manual("dynipd manual");
        let mut text = Vec::new();
        man.render(&mut text)
            .map_err(|e| AppError::Internal(format!("cannot render the man page: {e}")))?;
        let page = out.join(man.get_filename());
        write_file(&page, &text)?;
        written.push(page);
    }
    let mut visible = without_hidden_subcommands(&Cli::command());
    for (shell, name) in COMPLETIONS {
        let mut text = Vec::new();
        clap_complete::generate(shell, &mut visible, "dynipd", &mut text);
        let path = out.join(name);
        write_file(&path, &text)?;
        written.push(path);
    }
    for path in written {
        println!("{}", path.display());
    }
    Ok(exit::OK)
}

/// `dynipd.1`: clap_mangen's sections, then what the clap definitions cannot say: exit status,
/// signals, files, environment (DESIGN.md "Command line", "systemd").
fn main_page(cmd: &clap::Command) -> Result<Vec<u8>, AppError> {
    let man = Man::new(cmd.clone().long_about(DESCRIPTION))
        .source(source())
        .manual("dynipd manual");
    let mut text = Vec::new();
    let render_error =
        |e: std::io::Error| AppError::Internal(format!("cannot render the man page: {e}"));
    man.render_title(&mut text).map_err(render_error)?;
    man.render_name_section(&mut text).map_err(render_error)?;
    man.render_synopsis_section(&mut text)
        .map_err(render_error)?;
    man.render_description_section(&mut text)
        .map_err(render_error)?;
    man.render_options_section(&mut text)
        .map_err(render_error)?;
    man.render_subcommands_section(&mut text)
        .map_err(render_error)?;
    extra_sections(cmd)
        .to_writer(&mut text)
        .map_err(render_error)?;
    man.render_version_section(&mut text)
        .map_err(render_error)?;
    Ok(text)
}

fn extra_sections(cmd: &clap::Command) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    for (code, meaning) in [
        (exit::OK, "success"),
        (
            exit::NOT_PUBLISHED,
            "once: at least one record is not published (error, backoff or parked)",
        ),
        (exit::USAGE, "bad command line"),
        (exit::INTERNAL, "internal error"),
        (exit::STATE_DIR, "the state directory is unusable"),
        (
            exit::CONFIG,
            "configuration error; every error is printed as file:line:col: key: message",
        ),
    ] {
        roff.control("TP", [])
            .text([bold(code.to_string())])
            .text([roman(meaning)]);
    }

    roff.control("SH", ["SIGNALS"]);
    roff.text([
        roman("Signals understood by "),
        bold("dynipd run"),
        roman(":"),
    ]);
    for (signal, meaning) in [
        (
            "TERM, INT",
            "stop gracefully: finish or abandon in-flight requests within the request timeout, save the state, exit 0.",
        ),
        (
            "HUP",
            "reload the configuration (systemctl reload dynipd); a broken new configuration is logged and the running one kept; records whose configuration changed are released from parking.",
        ),
        ("USR1", "re-detect and republish every record now."),
    ] {
        roff.control("TP", [])
            .text([bold(signal)])
            .text([roman(meaning)]);
    }

    roff.control("SH", ["FILES"]);
    for (path, meaning) in [
        (
            crate::config::DEFAULT_PATH,
            "the configuration (override with --config); the package installs it root:dynipd, mode 0640",
        ),
        (
            "/var/lib/dynipd/state.json",
            "what each provider confirmed, backoff and parking (the state-dir setting)",
        ),
    ] {
        roff.control("TP", [])
            .text([italic(path)])
            .text([roman(meaning)]);
    }

    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in [
        (
            "NOTIFY_SOCKET",
            "set by systemd (Type=notify): READY=1, STATUS=, WATCHDOG=1 and STOPPING=1 are sent there.",
        ),
        (
            "WATCHDOG_USEC",
            "set by systemd (WatchdogSec=): the daemon pings at half this interval.",
        ),
        (
            "JOURNAL_STREAM",
            "set by systemd: logs go to stderr without colours or timestamps.",
        ),
        (
            "CREDENTIALS_DIRECTORY",
            "set by systemd (LoadCredential=): secrets given as NAME-credential = \"id\" are read from here.",
        ),
    ] {
        roff.control("TP", [])
            .text([bold(name)])
            .text([roman(meaning)]);
    }

    roff.control("SH", ["SEE ALSO"]);
    let mut see_also: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!("dynipd-{}(1)", s.get_name()))
        .collect();
    see_also.extend([
        "systemd.service(5)".to_string(),
        "systemd.exec(5)".to_string(),
        "journalctl(1)".to_string(),
    ]);
    roff.text([roman(see_also.join(", "))]);
    roff
}

/// The same command line minus hidden subcommands: clap_mangen skips them, clap_complete does
/// not, and clap cannot remove a subcommand, so the top level is rebuilt around the visible ones.
fn without_hidden_subcommands(cmd: &clap::Command) -> clap::Command {
    let visible: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut pruned = clap::Command::new("dynipd")
        .args(cmd.get_arguments().cloned())
        .subcommands(visible)
        .disable_help_subcommand(true);
    if cmd.get_version().is_some() {
        pruned = pruned.version(env!("CARGO_PKG_VERSION"));
    }
    if let Some(about) = cmd.get_about() {
        pruned = pruned.about(about.clone());
    }
    pruned
}

fn source() -> String {
    format!("dynipd {}", env!("CARGO_PKG_VERSION"))
}

fn write_file(path: &PathBuf, text: &[u8]) -> Result<(), AppError> {
    fs::write(path, text).map_err(|e| write_error(path, &e))
}

fn write_error(path: &Path, e: &std::io::Error) -> AppError {
    AppError::Internal(format!(
        "cannot write {}: {e}; check that the directory is writable",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_page_and_completion_without_the_hidden_command() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(generate(dir.path()).unwrap(), exit::OK);
        let page = fs::read_to_string(dir.path().join("dynipd.1")).unwrap();
        for needle in [
            "EXIT STATUS",
            "SIGNALS",
            "dynipd\\-once(1)",
            "\\-\\-config",
            "78",
        ] {
            assert!(page.contains(needle), "dynipd.1 lacks {needle:?}");
        }
        for sub in ["run", "once", "check", "detect", "status", "retry"] {
            assert!(
                dir.path().join(format!("dynipd-{sub}.1")).is_file(),
                "no page for {sub}"
            );
        }
        assert!(!dir.path().join("dynipd-generate.1").exists());
        for (_, name) in COMPLETIONS {
            let text = fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(
                text.contains("once"),
                "{name} does not complete subcommands"
            );
            assert!(
                !text.contains("generate"),
                "{name} offers the hidden generate command"
            );
        }
    }
}
