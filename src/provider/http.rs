//! STUB: the providers helper replaces this.

use std::time::Duration;

use crate::config::HttpProviderConfig;
use crate::core::{Confirmed, ErrorClass, Failure, RecordId};
use crate::http::HttpClients;

use super::Target;

/// A http provider.
#[derive(Debug)]
pub struct HttpProvider {
    config: HttpProviderConfig,
    clients: HttpClients,
    timeout: Duration,
}

impl HttpProvider {
    pub fn new(config: HttpProviderConfig, clients: HttpClients, timeout: Duration) -> Self {
        HttpProvider {
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
