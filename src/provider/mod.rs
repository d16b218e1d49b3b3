//! Providers: where records are published. A closed enum over the provider kinds
//! (STYLE.md §2); each maps its wire replies to a `core::Failure` with the right class.
//! Some kinds can also delete a record (`dynipd delete`).
//! Does not decide when to publish; that is `core::scheduler`.

pub mod duckdns;
pub mod dyndns2;
pub mod dyndns_server;
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
    /// The addresses to publish (only carried families; never empty when publishing; not
    /// used by `delete`).
    pub addresses: Addresses,
    /// The provider cache kept in the state file for this record.
    pub cache: BTreeMap<String, String>,
}

/// What a successful delete did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deleted {
    /// The provider removed the record's addresses.
    Removed,
    /// The provider had no address at that name: nothing to remove.
    Absent,
}

/// Why a record was not deleted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeleteError {
    /// This provider kind has no way to delete a record.
    #[error(
        "provider kind \"{kind}\" cannot delete records (only {} can); delete the record in \
         the provider's own interface",
        DELETE_KINDS.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(" and ")
    )]
    Unsupported { kind: &'static str },
    /// The delete was refused or failed; the class says whether trying again may help.
    #[error("{}", .0.message)]
    Failed(Failure),
}

/// The provider kinds `delete` supports.
pub const DELETE_KINDS: &[&str] = &["dyndns-server", "rfc2136"];

/// Any provider.
#[derive(Debug)]
pub enum AnyProvider {
    Http(http::HttpProvider),
    Dyndns2(dyndns2::Dyndns2Provider),
    Rfc2136(rfc2136::Rfc2136Provider),
    Dynu(dynu::DynuProvider),
    DyndnsServer(dyndns_server::DyndnsServerProvider),
    Duckdns(duckdns::DuckdnsProvider),
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
            ProviderConfig::DyndnsServer(c) => AnyProvider::DyndnsServer(
                dyndns_server::DyndnsServerProvider::new(c.clone(), clients, timeout)
                    .with_name(name),
            ),
            ProviderConfig::Duckdns(c) => AnyProvider::Duckdns(
                duckdns::DuckdnsProvider::new(c.clone(), clients, timeout).with_name(name),
            ),
        }
    }

    /// The `kind` word of the provider.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyProvider::Http(_) => "http",
            AnyProvider::Dyndns2(_) => "dyndns2",
            AnyProvider::DyndnsServer(_) => "dyndns-server",
            AnyProvider::Duckdns(_) => "duckdns",
            AnyProvider::Rfc2136(_) => "rfc2136",
            AnyProvider::Dynu(_) => "dynu",
        }
    }

    /// The exact requests `publish` would send, secrets masked: `once --dry-run` prints these.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        match self {
            AnyProvider::Http(p) => p.plan(targets),
            AnyProvider::Dyndns2(p) => p.plan(targets),
            AnyProvider::Rfc2136(p) => p.plan(targets),
            AnyProvider::Dynu(p) => p.plan(targets),
            AnyProvider::DyndnsServer(p) => p.plan(targets),
            AnyProvider::Duckdns(p) => p.plan(targets),
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
            AnyProvider::DyndnsServer(p) => p.publish(targets).await,
            AnyProvider::Duckdns(p) => p.publish(targets).await,
        }
    }

    /// The exact requests `delete` would send for `target`, secrets masked (`dynipd delete
    /// --dry-run` prints these).
    ///
    /// Errors: [`DeleteError::Unsupported`] for a kind that cannot delete.
    pub fn plan_delete(&self, target: &Target) -> Result<Vec<String>, DeleteError> {
        match self {
            AnyProvider::DyndnsServer(p) => Ok(p.plan_delete(target)),
            AnyProvider::Rfc2136(p) => Ok(p.plan_delete(target)),
            AnyProvider::Http(_)
            | AnyProvider::Dyndns2(_)
            | AnyProvider::Duckdns(_)
            | AnyProvider::Dynu(_) => Err(self.unsupported()),
        }
    }

    /// Deletes every address record (A and AAAA) at `target.name`; its `addresses` are not
    /// used. A provider that can only delete some families says so in its docs.
    ///
    /// Errors: [`DeleteError::Unsupported`] for a kind that cannot delete (nothing is sent);
    /// [`DeleteError::Failed`] with the classified failure otherwise.
    pub async fn delete(&self, target: &Target) -> Result<Deleted, DeleteError> {
        match self {
            AnyProvider::DyndnsServer(p) => p.delete(target).await.map_err(DeleteError::Failed),
            AnyProvider::Rfc2136(p) => p.delete(target).await.map_err(DeleteError::Failed),
            AnyProvider::Http(_)
            | AnyProvider::Dyndns2(_)
            | AnyProvider::Duckdns(_)
            | AnyProvider::Dynu(_) => Err(self.unsupported()),
        }
    }

    fn unsupported(&self) -> DeleteError {
        DeleteError::Unsupported { kind: self.kind() }
    }
}
