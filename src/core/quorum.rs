//! Agreement among echo services: N URLs must return the same address.
//! Does not fetch or parse; that is `source::web`.
//! STUB: the core helper replaces this body.

use std::fmt::Display;

/// Where a quorum stands after the answers so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumState<A> {
    /// `quorum` answers agree on this address.
    Agreed(A),
    /// Ask the next URL.
    NeedMore,
    /// No agreement is possible any more; the message names each URL and its answer.
    Failed(String),
}

/// Tallies `answers` (URL, parsed address or error message, in the order asked) against
/// `quorum`, knowing `total` URLs exist.
pub fn tally<A: Copy + Eq + Display>(
    answers: &[(String, Result<A, String>)],
    quorum: usize,
    total: usize,
) -> QuorumState<A> {
    let _ = (quorum, total);
    match answers.iter().find_map(|(_, r)| r.as_ref().ok()) {
        Some(a) => QuorumState::Agreed(*a),
        None => QuorumState::Failed("no answer".into()),
    }
}
