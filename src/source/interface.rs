//! STUB: the sources helper replaces this.
#![allow(unused_imports, reason = "stub")]

use std::time::Duration;

use crate::config::InterfaceSourceConfig;
use crate::core::{Detected, Detection, Families};
use crate::http::HttpClients;

use super::Explanation;

/// A interface source.
#[derive(Debug)]
pub struct InterfaceSource {
    name: String,
    config: InterfaceSourceConfig,
}

impl InterfaceSource {
    pub fn new(name: &str, config: InterfaceSourceConfig) -> Self {
        InterfaceSource {
            name: name.to_string(),
            config,
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
