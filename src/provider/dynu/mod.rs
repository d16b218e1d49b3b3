//! The Dynu provider: the REST API (`protocol = "rest"`, default; API key or OAuth2) or the IP
//! Update Protocol (`protocol = "ip-update"`, `/nic/update`). See protocols/dynu-rest.md and
//! protocols/dyndns2.md §4.
//! Does not decide when to publish; that is `core::scheduler`.

pub mod api;
pub mod errors;
pub mod ip_update;
pub mod place;
pub mod rest;
pub mod token;

use std::time::Duration;

use crate::config::{DynuAccess, DynuProviderConfig};
use crate::core::{Confirmed, Failure, RecordId};
use crate::http::HttpClients;

use super::Target;
use super::message::ProviderLabel;

/// A dynu provider: one of its two protocols.
#[derive(Debug)]
pub enum DynuProvider {
    Rest(rest::Rest),
    IpUpdate(ip_update::IpUpdate),
}

impl DynuProvider {
    /// A provider for `config`; every request is bounded by `timeout`.
    pub fn new(config: &DynuProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        match &config.access {
            DynuAccess::Rest(auth) => DynuProvider::Rest(rest::Rest::new(
                config.base_url.clone(),
                auth,
                clients,
                timeout,
            )),
            DynuAccess::IpUpdate { username, password } => DynuProvider::IpUpdate(
                ip_update::IpUpdate::new(&config.base_url, username, password, clients, timeout),
            ),
        }
    }

    /// Names the provider (`[providers.NAME]`) in its messages.
    pub fn with_name(mut self, name: &str) -> Self {
        let label = ProviderLabel::new("dynu").named(name);
        match &mut self {
            DynuProvider::Rest(p) => p.set_label(label),
            DynuProvider::IpUpdate(p) => p.set_label(label),
        }
        self
    }

    /// The requests `publish` would send, secrets masked.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        match self {
            DynuProvider::Rest(p) => p.plan(targets),
            DynuProvider::IpUpdate(p) => p.plan(targets),
        }
    }

    /// Publishes `targets` and returns one outcome per target.
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        match self {
            DynuProvider::Rest(p) => p.publish(targets).await,
            DynuProvider::IpUpdate(p) => p.publish(targets).await,
        }
    }
}
