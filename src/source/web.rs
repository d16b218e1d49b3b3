//! STUB: the sources helper replaces this.
#![allow(unused_imports, reason = "stub")]

use std::time::Duration;

use crate::config::WebSourceConfig;
use crate::core::{Detected, Detection, Families};
use crate::http::HttpClients;

use super::Explanation;

/// A web source.
#[derive(Debug)]
pub struct WebSource {
    name: String,
    config: WebSourceConfig,
    clients: HttpClients,
    timeout: Duration,
}

impl WebSource {
    pub fn new(
        name: &str,
        config: WebSourceConfig,
        clients: HttpClients,
        timeout: Duration,
    ) -> Self {
        WebSource {
            name: name.to_string(),
            config,
            clients,
            timeout,
        }
    }

    pub async fn explain(&self, families: Families) -> (Vec<Explanation>, Detection) {
        let _ = (&self.name, &self.config, families);
        (
            Vec::new(),
            Detection {
                ipv4: Detected::NotAsked,
                ipv6: Detected::NotAsked,
            },
        )
    }
}
