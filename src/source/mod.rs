//! Sources: where addresses come from. A closed enum over the source kinds (STYLE.md §2).
//! Does not decide what to publish; that is `core`.

pub mod command;
#[cfg(not(target_os = "linux"))]
mod getifaddrs;
pub mod interface;
#[cfg(target_os = "linux")]
pub mod netlink;
#[cfg(target_os = "linux")]
pub mod netlink_events;
mod outcome;
pub mod web;

/// Address change events for interface sources (Linux: rtnetlink; elsewhere: none).
#[cfg(not(target_os = "linux"))]
pub use getifaddrs::AddressEvents;
#[cfg(target_os = "linux")]
pub use netlink_events::AddressEvents;

use std::net::IpAddr;
use std::time::Duration;

use crate::config::SourceConfig;
use crate::core::select::Verdict;
use crate::core::{Detection, Families, Family};
use crate::http::HttpClients;

/// One candidate address as `dynipd detect` shows it (DESIGN.md "Command line": keys absent
/// where the source has no such fact).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub source: String,
    pub interface: Option<String>,
    /// The echo URL (web source) or the command (command source).
    pub origin: Option<String>,
    pub address: Option<IpAddr>,
    pub family: Option<Family>,
    pub flags: Vec<String>,
    pub preferred_lifetime: Option<Duration>,
    pub valid_lifetime: Option<Duration>,
    pub verdict: Verdict,
    pub reason: String,
}

/// Any source.
#[derive(Debug)]
pub enum AnySource {
    Interface(interface::InterfaceSource),
    Web(web::WebSource),
    Command(command::CommandSource),
}

impl AnySource {
    /// Builds the source `name` of `config`. `timeout` bounds each request or command run.
    pub fn new(
        name: &str,
        config: &SourceConfig,
        clients: HttpClients,
        timeout: Duration,
    ) -> AnySource {
        match config {
            SourceConfig::Interface(c) => {
                AnySource::Interface(interface::InterfaceSource::new(name, c.clone()))
            }
            SourceConfig::Web(c) => {
                AnySource::Web(web::WebSource::new(name, c.clone(), clients, timeout))
            }
            SourceConfig::Command(c) => {
                AnySource::Command(command::CommandSource::new(name, c.clone(), timeout))
            }
        }
    }

    /// One detection round for `families`. Never fails as a whole: a family that cannot be
    /// detected is `Detected::Failed` with the reason.
    pub async fn detect(&self, families: Families) -> Detection {
        self.explain(families).await.1
    }

    /// A detection round with a verdict and reason for every candidate (`dynipd detect`).
    pub async fn explain(&self, families: Families) -> (Vec<Explanation>, Detection) {
        match self {
            AnySource::Interface(s) => s.explain(families).await,
            AnySource::Web(s) => s.explain(families).await,
            AnySource::Command(s) => s.explain(families).await,
        }
    }
}
