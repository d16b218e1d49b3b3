//! STUB: the providers helper replaces this.

use std::time::Duration;

use crate::config::Dyndns2ProviderConfig;
use crate::core::{Confirmed, ErrorClass, Failure, RecordId};
use crate::http::HttpClients;

use super::Target;

/// A dyndns2 provider.
#[derive(Debug)]
pub struct Dyndns2Provider {
    config: Dyndns2ProviderConfig,
    clients: HttpClients,
    timeout: Duration,
}

impl Dyndns2Provider {
    pub fn new(config: Dyndns2ProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        Dyndns2Provider {
            config,
            clients,
            timeout,
        }
    }

    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        let _ = (&self.config, &self.clients, self.timeout);
        targets.iter().map(|t| t.name.clone()).collect()
    }

    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        targets
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    Err(Failure {
                        class: ErrorClass::Protocol,
                        message: "stub".into(),
                    }),
                )
            })
            .collect()
    }
}
