//! The command source: runs the operator's program (argv, no shell) and reads the addresses it
//! prints, one per line, as untrusted as an echo service's reply.
//! Does not parse an address itself (that is `web::parse_address`, shared) nor decide scope
//! (`core::scope`).

use std::net::IpAddr;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::process::Command;

use crate::config::CommandSourceConfig;
use crate::core::select::Verdict;
use crate::core::{Detected, Detection, Families, Family};

use super::Explanation;
use super::outcome::{all_failed, into_detection};
use super::web::{excerpt, parse_address};

/// The most a command may print on stdout; more is an error, not a prefix to parse.
pub const STDOUT_CAP: usize = 4096;
/// How much stderr is kept for an error message (the rest is read and dropped, so a chatty
/// command never blocks on a full pipe).
const STDERR_KEEP: usize = 1024;

/// A command source.
#[derive(Debug)]
pub struct CommandSource {
    name: String,
    config: CommandSourceConfig,
    timeout: Duration,
}

impl CommandSource {
    /// A command source named `name`; `timeout` bounds each run (then the command is killed).
    pub fn new(name: &str, config: CommandSourceConfig, timeout: Duration) -> Self {
        CommandSource {
            name: name.to_string(),
            config,
            timeout,
        }
    }

    /// Runs the command once and judges every line it printed. A failed run (cannot start,
    /// timeout, non-zero exit, too much output) fails every requested family.
    pub async fn explain(&self, families: Families) -> (Vec<Explanation>, Detection) {
        if !families.ipv4 && !families.ipv6 {
            return (
                Vec::new(),
                Detection {
                    ipv4: Detected::NotAsked,
                    ipv6: Detected::NotAsked,
                },
            );
        }
        let origin = self.config.command.join(" ");
        match self.run().await {
            Ok(stdout) => judge_output(
                &self.name,
                &origin,
                &stdout,
                families,
                self.config.allow_private,
            ),
            Err(message) => {
                let explanation =
                    explanation(&self.name, &origin, None, Verdict::Rejected, &message);
                (vec![explanation], all_failed(families, &message))
            }
        }
    }

    /// Runs the command and returns its stdout, or why the run failed.
    async fn run(&self) -> Result<Vec<u8>, String> {
        let Some((program, args)) = self.config.command.split_first() else {
            return Err("the command is empty".into());
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let exchange = async {
            let read_stdout = async {
                let read = read_capped(stdout, STDOUT_CAP, false).await;
                if read.overflowed {
                    // Stop it now rather than let it block on a full pipe until the timeout.
                    let _ = child.start_kill();
                }
                read
            };
            let (out, err) = tokio::join!(read_stdout, read_capped(stderr, STDERR_KEEP, true));
            (out, err, child.wait().await)
        };
        let outcome = tokio::time::timeout(self.timeout, exchange).await;
        let Ok((out, err, status)) = outcome else {
            let _ = child.kill().await;
            return Err(format!(
                "{program} timed out after {}; killed it",
                humantime::format_duration(self.timeout)
            ));
        };
        if out.overflowed {
            return Err(format!(
                "{program} printed more than {STDOUT_CAP} bytes; killed it"
            ));
        }
        let status = status.map_err(|e| format!("cannot wait for {program}: {e}"))?;
        if !status.success() {
            let stderr = err.bytes.trim_ascii();
            return Err(if stderr.is_empty() {
                format!("{program} failed ({status})")
            } else {
                format!("{program} failed ({status}); stderr: {}", excerpt(stderr))
            });
        }
        if let Some(e) = out.error {
            return Err(format!("cannot read the output of {program}: {e}"));
        }
        Ok(out.bytes)
    }
}

/// What was read from a pipe.
struct Read {
    bytes: Vec<u8>,
    overflowed: bool,
    error: Option<std::io::Error>,
}

/// Reads `pipe` to its end, keeping at most `cap` bytes. Without `keep_draining` it stops at
/// the first byte past the cap.
async fn read_capped(
    pipe: Option<impl AsyncRead + Unpin>,
    cap: usize,
    keep_draining: bool,
) -> Read {
    let mut read = Read {
        bytes: Vec::new(),
        overflowed: false,
        error: None,
    };
    let Some(mut pipe) = pipe else {
        return read;
    };
    let mut buf = [0u8; 1024];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => return read,
            Ok(n) => {
                let room = cap.saturating_sub(read.bytes.len());
                read.bytes.extend_from_slice(&buf[..n.min(room)]);
                if n > room {
                    read.overflowed = true;
                    if !keep_draining {
                        return read;
                    }
                }
            }
            Err(e) => {
                read.error = Some(e);
                return read;
            }
        }
    }
}

/// Judges a successful run's stdout: one address per line (blank lines ignored), at most one
/// per family, each checked like an echo reply. Any line that is not an address makes the
/// whole output untrustworthy, so every requested family fails.
fn judge_output(
    source: &str,
    origin: &str,
    stdout: &[u8],
    families: Families,
    allow_private: bool,
) -> (Vec<Explanation>, Detection) {
    let Ok(text) = std::str::from_utf8(stdout) else {
        let message = format!("the output is not valid UTF-8: {}", excerpt(stdout));
        let e = explanation(source, origin, None, Verdict::Rejected, &message);
        return (vec![e], all_failed(families, &message));
    };
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.trim_matches([' ', '\t', '\r']))
        .filter(|l| !l.is_empty())
        .collect();
    let mut explanations = Vec::new();
    let mut parsed: Vec<(&str, IpAddr)> = Vec::new();
    let mut garbage = None;
    for line in &lines {
        match line.parse::<IpAddr>() {
            Ok(addr) => parsed.push((line, addr)),
            Err(_) => {
                let why = format!(
                    "printed a line that is not an IP address: {}",
                    excerpt(line.as_bytes())
                );
                explanations.push(explanation(source, origin, None, Verdict::Rejected, &why));
                garbage.get_or_insert(why);
            }
        }
    }
    let mut detected = [Detected::NotAsked, Detected::NotAsked];
    for (slot, family) in detected.iter_mut().zip([Family::Ipv4, Family::Ipv6]) {
        let mine: Vec<&(&str, IpAddr)> = parsed
            .iter()
            .filter(|(_, a)| Family::of(a) == family)
            .collect();
        let mut judge_all = |verdict, reason: &str| {
            for (_, addr) in &mine {
                explanations.push(explanation(source, origin, Some(*addr), verdict, reason));
            }
        };
        if !families.has(family) {
            judge_all(Verdict::Rejected, &format!("{family} was not asked for"));
            continue;
        }
        *slot = match (&garbage, mine.as_slice()) {
            (Some(why), _) => {
                judge_all(Verdict::Rejected, "ignored: the output has a garbage line");
                Detected::Failed(format!("command {why}"))
            }
            (None, []) => Detected::Failed(format!("command printed no {family} address")),
            (None, [(line, _)]) => match parse_address(line, family, allow_private) {
                Ok(addr) => {
                    judge_all(Verdict::Chosen, &format!("the command's {family} address"));
                    Detected::Found(addr)
                }
                Err(why) => {
                    judge_all(Verdict::Rejected, &why);
                    Detected::Failed(format!("command printed {why}"))
                }
            },
            (None, several) => {
                let why = format!("command printed {} {family} addresses", several.len());
                judge_all(Verdict::Rejected, &why);
                Detected::Failed(why)
            }
        };
    }
    let [ipv4, ipv6] = detected;
    (explanations, into_detection(ipv4, ipv6))
}

fn explanation(
    source: &str,
    origin: &str,
    address: Option<IpAddr>,
    verdict: Verdict,
    reason: &str,
) -> Explanation {
    Explanation {
        source: source.to_string(),
        interface: None,
        origin: Some(origin.to_string()),
        address,
        family: address.as_ref().map(Family::of),
        flags: Vec::new(),
        preferred_lifetime: None,
        valid_lifetime: None,
        verdict,
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn sh(script: &str, timeout: Duration) -> CommandSource {
        CommandSource::new(
            "script",
            CommandSourceConfig {
                command: vec!["/bin/sh".into(), "-c".into(), script.into()],
                allow_private: false,
            },
            timeout,
        )
    }

    async fn detect(script: &str, families: Families) -> (Vec<Explanation>, Detection) {
        sh(script, Duration::from_secs(5)).explain(families).await
    }

    fn failed<A>(d: &Detected<A>) -> &str {
        match d {
            Detected::Failed(m) => m,
            _ => "",
        }
    }

    #[tokio::test]
    async fn one_address_per_family() {
        let (explanations, d) = detect("echo 81.2.69.160", Families::IPV4).await;
        assert_eq!(d.ipv4, Detected::Found("81.2.69.160".parse().unwrap()));
        assert_eq!(d.ipv6, Detected::NotAsked);
        assert_eq!(explanations.len(), 1);
        assert_eq!(explanations[0].verdict, Verdict::Chosen);
        assert_eq!(
            explanations[0].origin.as_deref(),
            Some("/bin/sh -c echo 81.2.69.160")
        );

        let script = "printf '\\n 2a02:898:1::7\\r\\n\\n81.2.69.160\\n'";
        let (_, d) = detect(script, Families::BOTH).await;
        assert_eq!(d.ipv4, Detected::Found("81.2.69.160".parse().unwrap()));
        assert_eq!(d.ipv6, Detected::Found("2a02:898:1::7".parse().unwrap()));
    }

    #[tokio::test]
    async fn a_family_not_asked_for_is_ignored() {
        let (explanations, d) =
            detect("echo 81.2.69.160; echo 2a02:898:1::7", Families::IPV6).await;
        assert_eq!(d.ipv4, Detected::NotAsked);
        assert_eq!(d.ipv6, Detected::Found("2a02:898:1::7".parse().unwrap()));
        assert!(
            explanations
                .iter()
                .any(|e| e.reason == "ipv4 was not asked for")
        );
    }

    #[tokio::test]
    async fn bad_output_fails_the_family() {
        let cases: &[(&str, Families, &str, &str)] = &[
            (
                "echo 81.2.69.160; echo 81.2.69.161",
                Families::IPV4,
                "command printed 2 ipv4 addresses",
                "",
            ),
            (
                "echo 81.2.69.160",
                Families::BOTH,
                "",
                "command printed no ipv6 address",
            ),
            (
                "echo '<html>81.2.69.160</html>'",
                Families::BOTH,
                "not an IP address: \"<html>",
                "not an IP address",
            ),
            (
                "echo 81.2.69.160; echo garbage",
                Families::IPV4,
                "not an IP address: \"garbage\"",
                "",
            ),
            (
                "echo 81.2.69.160:80",
                Families::IPV4,
                "not an IP address",
                "",
            ),
            ("echo 10.0.0.1", Families::IPV4, "RFC 1918", ""),
            ("echo ::ffff:81.2.69.160", Families::IPV6, "", "IPv4-mapped"),
            ("printf '\\377'", Families::IPV4, "not valid UTF-8", ""),
            (
                "true",
                Families::IPV4,
                "command printed no ipv4 address",
                "",
            ),
        ];
        for (script, families, want4, want6) in cases {
            let (_, d) = detect(script, *families).await;
            for (got, want) in [(failed(&d.ipv4), want4), (failed(&d.ipv6), want6)] {
                if want.is_empty() {
                    assert!(got.is_empty(), "{script}: unexpected failure {got:?}");
                } else {
                    assert!(got.contains(want), "{script}: {got:?} lacks {want:?}");
                }
            }
        }
    }

    #[tokio::test]
    async fn allow_private_accepts_rfc1918() {
        let mut source = sh("echo 10.0.0.1", Duration::from_secs(5));
        source.config.allow_private = true;
        let (_, d) = source.explain(Families::IPV4).await;
        assert_eq!(d.ipv4, Detected::Found("10.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn non_zero_exit_fails_every_family() {
        let (explanations, d) = detect(
            "echo 81.2.69.160; echo 'no route to host' >&2; exit 3",
            Families::BOTH,
        )
        .await;
        for m in [failed(&d.ipv4), failed(&d.ipv6)] {
            assert!(m.contains("/bin/sh failed (exit status: 3)"), "{m}");
            assert!(m.contains("stderr: \"no route to host\""), "{m}");
        }
        assert_eq!(explanations.len(), 1);
        assert_eq!(explanations[0].verdict, Verdict::Rejected);
    }

    #[tokio::test]
    async fn stderr_is_quoted_briefly() {
        let (_, d) = detect(
            "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 1",
            Families::IPV4,
        )
        .await;
        let m = failed(&d.ipv4);
        assert!(m.contains("stderr: \"xxx"), "{m}");
        assert!(m.len() < 200, "{} bytes: {m}", m.len());
    }

    #[tokio::test]
    async fn a_slow_command_is_killed_at_the_timeout() {
        let started = Instant::now();
        let (_, d) = sh("sleep 5", Duration::from_millis(200))
            .explain(Families::IPV4)
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(failed(&d.ipv4), "/bin/sh timed out after 200ms; killed it");
    }

    #[tokio::test]
    async fn endless_output_is_cut_off() {
        let started = Instant::now();
        let (_, d) = sh("exec yes 81.2.69.160", Duration::from_secs(10))
            .explain(Families::IPV4)
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(
            failed(&d.ipv4).contains("printed more than 4096 bytes"),
            "{d:?}"
        );
    }

    #[tokio::test]
    async fn a_missing_program_fails() {
        let source = CommandSource::new(
            "script",
            CommandSourceConfig {
                command: vec!["/nonexistent/my-ip".into()],
                allow_private: false,
            },
            Duration::from_secs(5),
        );
        let (_, d) = source.explain(Families::BOTH).await;
        assert!(
            failed(&d.ipv4).contains("cannot run /nonexistent/my-ip"),
            "{d:?}"
        );
        assert!(failed(&d.ipv6).contains("cannot run"), "{d:?}");
    }

    #[tokio::test]
    async fn nothing_asked_runs_nothing() {
        let (explanations, d) = detect("exit 1", Families::default()).await;
        assert!(explanations.is_empty());
        assert_eq!(d.ipv4, Detected::NotAsked);
        assert_eq!(d.ipv6, Detected::NotAsked);
    }
}
