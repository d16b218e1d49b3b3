//! Providers: where records are published. A closed enum over the provider kinds
//! (STYLE.md §2); each maps its wire replies to a `core::Failure` with the right class.
//! Does not decide when to publish; that is `core::scheduler`.

pub mod dyndns2;
pub mod dynu;
pub mod http;
pub mod message;
pub mod rfc2136;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::config::ProviderConfig;
use crate::core::{Addresses, Confirmed, Failure, Families, RecordId};
use crate::http::HttpClients;

/// One record to publish, with what the provider needs to know about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The record's FQDN.
    pub name: RecordId,
    /// The families the record carries.
    pub families: Families,
    pub ttl: Duration,
    /// The addresses to publish (only carried families; never empty).
    pub addresses: Addresses,
    /// The provider cache kept in the state file for this record.
    pub cache: BTreeMap<String, String>,
}

/// Any provider.
#[derive(Debug)]
pub enum AnyProvider {
    Http(http::HttpProvider),
    Dyndns2(dyndns2::Dyndns2Provider),
    Rfc2136(rfc2136::Rfc2136Provider),
    Dynu(dynu::DynuProvider),
}

impl AnyProvider {
    /// Builds the provider `[providers.NAME]` of `config`; the name appears in its messages
    /// (`dyndns2 provider "NAME"`, `fix providers.NAME.password(-file)`). `timeout` bounds
    /// every request.
    pub fn new(
        name: &str,
        config: &ProviderConfig,
        clients: HttpClients,
        timeout: Duration,
    ) -> AnyProvider {
        match config {
            ProviderConfig::Http(c) => AnyProvider::Http(
                http::HttpProvider::new(c.clone(), clients, timeout).with_name(name),
            ),
            ProviderConfig::Dyndns2(c) => AnyProvider::Dyndns2(
                dyndns2::Dyndns2Provider::new(c.clone(), clients, timeout).with_name(name),
            ),
            ProviderConfig::Rfc2136(c) => {
                AnyProvider::Rfc2136(rfc2136::Rfc2136Provider::new(c.clone(), timeout))
            }
            ProviderConfig::Dynu(c) => {
                AnyProvider::Dynu(dynu::DynuProvider::new(c, clients, timeout).with_name(name))
            }
        }
    }

    /// The exact requests `publish` would send, secrets masked: `once --dry-run` prints these.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        match self {
            AnyProvider::Http(p) => p.plan(targets),
            AnyProvider::Dyndns2(p) => p.plan(targets),
            AnyProvider::Rfc2136(p) => p.plan(targets),
            AnyProvider::Dynu(p) => p.plan(targets),
        }
    }

    /// Publishes `targets` (records due together; a provider may batch them) and returns one
    /// outcome per target, in any order.
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        match self {
            AnyProvider::Http(p) => p.publish(targets).await,
            AnyProvider::Dyndns2(p) => p.publish(targets).await,
            AnyProvider::Rfc2136(p) => p.publish(targets).await,
            AnyProvider::Dynu(p) => p.publish(targets).await,
        }
    }
}
