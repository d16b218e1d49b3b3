//! Agreement among echo services: N URLs must return the same address.
//! Does not fetch, parse or order the URLs; that is `source::web`.
//!
//! See: DESIGN.md "Echo services are untrusted": with `quorum = N`, N URLs must return the same
//! address; disagreement is logged naming each URL and its answer, and the family counts as not
//! detected.

use std::fmt::{Display, Write as _};

/// Where a quorum stands after the answers so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumState<A> {
    /// `quorum` answers agree on this address.
    Agreed(A),
    /// Ask the next URL: agreement is still possible with the URLs not asked yet.
    NeedMore,
    /// No agreement is possible any more; the message names each URL and its answer.
    Failed(String),
}

/// Tallies `answers` (URL, parsed address or error message, in the order asked) against
/// `quorum`, knowing `total` URLs exist.
///
/// - `Agreed(a)` as soon as `quorum` answers equal `a` (`quorum = 1`: the first good answer).
/// - `NeedMore` while the best address so far plus the `total - answers.len()` URLs not asked
///   yet could still reach `quorum`.
/// - `Failed(message)` otherwise, e.g.
///   `no 2 of 3 echo services agree: http://a → 81.2.69.160, http://b → 81.2.69.161,
///   http://c → error: timeout`. The URLs are printed as given: pass them redacted.
///
/// A `quorum` of 0 counts as 1. The caller asks the URLs one at a time (or all at once) and
/// calls this after each answer; answers past the decision do not change it.
pub fn tally<A: Copy + Eq + Display>(
    answers: &[(String, Result<A, String>)],
    quorum: usize,
    total: usize,
) -> QuorumState<A> {
    let quorum = quorum.max(1);
    // Votes per distinct address, in order of first appearance. Few URLs: a Vec beats a map.
    let mut votes: Vec<(A, usize)> = Vec::new();
    for (_, answer) in answers {
        let Ok(addr) = answer else { continue };
        let count = match votes.iter_mut().find(|(a, _)| a == addr) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                votes.push((*addr, 1));
                1
            }
        };
        if count >= quorum {
            return QuorumState::Agreed(*addr);
        }
    }
    let best = votes.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let remaining = total.saturating_sub(answers.len());
    if best.saturating_add(remaining) >= quorum {
        return QuorumState::NeedMore;
    }
    QuorumState::Failed(failure_message(answers, quorum, total))
}

fn failure_message<A: Display>(
    answers: &[(String, Result<A, String>)],
    quorum: usize,
    total: usize,
) -> String {
    let services = if total == 1 { "service" } else { "services" };
    let mut msg = if quorum == 1 {
        format!("no usable answer from {total} echo {services}")
    } else {
        format!("no {quorum} of {total} echo {services} agree")
    };
    if answers.is_empty() {
        msg.push_str(" (none asked)");
        return msg;
    }
    for (i, (url, answer)) in answers.iter().enumerate() {
        msg.push_str(if i == 0 { ": " } else { ", " });
        // Writing to a String cannot fail.
        let _ = match answer {
            Ok(addr) => write!(msg, "{url} → {addr}"),
            Err(e) => write!(msg, "{url} → error: {e}"),
        };
    }
    msg
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    type Answer = (&'static str, Result<&'static str, &'static str>);
    /// (name, answers, quorum, total, expected)
    type Case = (
        &'static str,
        &'static [Answer],
        usize,
        usize,
        QuorumState<Ipv4Addr>,
    );

    fn run(answers: &[Answer], quorum: usize, total: usize) -> QuorumState<Ipv4Addr> {
        let answers: Vec<(String, Result<Ipv4Addr, String>)> = answers
            .iter()
            .map(|(url, r)| {
                (
                    (*url).to_string(),
                    r.map(|a| a.parse().unwrap()).map_err(str::to_string),
                )
            })
            .collect();
        tally(&answers, quorum, total)
    }

    const A: &str = "81.2.69.160";
    const B: &str = "81.2.69.161";

    fn agreed(a: &str) -> QuorumState<Ipv4Addr> {
        QuorumState::Agreed(a.parse().unwrap())
    }

    #[test]
    fn quorum_table() {
        use QuorumState::{Failed, NeedMore};
        let cases: &[Case] = &[
            ("no answer yet", &[], 1, 2, NeedMore),
            (
                "first good answer wins",
                &[("http://a", Ok(A))],
                1,
                2,
                agreed(A),
            ),
            (
                "error then good answer",
                &[("http://a", Err("timeout")), ("http://b", Ok(B))],
                1,
                2,
                agreed(B),
            ),
            (
                "one error, one URL left",
                &[("http://a", Err("timeout"))],
                1,
                2,
                NeedMore,
            ),
            (
                "every URL failed",
                &[
                    ("http://a", Err("timeout")),
                    ("http://b", Err("garbage reply")),
                ],
                1,
                2,
                Failed(
                    "no usable answer from 2 echo services: http://a → error: timeout, \
                     http://b → error: garbage reply"
                        .into(),
                ),
            ),
            (
                "single URL failed",
                &[("http://a", Err("timeout"))],
                1,
                1,
                Failed("no usable answer from 1 echo service: http://a → error: timeout".into()),
            ),
            (
                "quorum 0 counts as 1",
                &[("http://a", Ok(A))],
                0,
                1,
                agreed(A),
            ),
            ("2 of 3: one answer", &[("http://a", Ok(A))], 2, 3, NeedMore),
            (
                "2 of 3: two agree",
                &[("http://a", Ok(A)), ("http://b", Ok(A))],
                2,
                3,
                agreed(A),
            ),
            (
                "2 of 3: disagree, one left",
                &[("http://a", Ok(A)), ("http://b", Ok(B))],
                2,
                3,
                NeedMore,
            ),
            (
                "2 of 3: third settles it",
                &[
                    ("http://a", Ok(A)),
                    ("http://b", Ok(B)),
                    ("http://c", Ok(B)),
                ],
                2,
                3,
                agreed(B),
            ),
            (
                "2 of 3: no agreement",
                &[
                    ("http://a", Ok(A)),
                    ("http://b", Ok(B)),
                    ("http://c", Err("timeout")),
                ],
                2,
                3,
                Failed(
                    "no 2 of 3 echo services agree: http://a → 81.2.69.160, \
                     http://b → 81.2.69.161, http://c → error: timeout"
                        .into(),
                ),
            ),
            (
                "2 of 3: two errors make it impossible early",
                &[("http://a", Err("timeout")), ("http://b", Err("refused"))],
                2,
                3,
                Failed(
                    "no 2 of 3 echo services agree: http://a → error: timeout, \
                     http://b → error: refused"
                        .into(),
                ),
            ),
            (
                "quorum above total",
                &[],
                3,
                2,
                Failed("no 3 of 2 echo services agree (none asked)".into()),
            ),
            (
                "3 of 4: error first, then three agree",
                &[
                    ("http://a", Err("timeout")),
                    ("http://b", Ok(A)),
                    ("http://c", Ok(A)),
                    ("http://d", Ok(A)),
                ],
                3,
                4,
                agreed(A),
            ),
        ];
        for (name, answers, quorum, total, want) in cases {
            assert_eq!(run(answers, *quorum, *total), *want, "{name}");
        }
    }
}
