//! The `rfc2136` provider: publishes records with TSIG-signed DNS UPDATE messages (RFC 2136,
//! RFC 8945) sent straight to the zone's primary name server.
//!
//! Every record of one `publish` call is replaced atomically in **one** UPDATE message (split
//! only when it would exceed [`MAX_MESSAGE_BYTES`]): for each record and each family it carries,
//! "delete RRset" then "add" (RFC 2136 §2.5.2, §2.5.1). After NOERROR the provider reads the
//! records back (`verify`) before it calls them confirmed.
//!
//! Submodules: `message` builds the UPDATE messages and the dry-run plan, `transport` moves
//! bytes over UDP/TCP, `reply` checks the reply's TSIG and rcode, `verify` reads records back,
//! `error` words every failure. Does not parse the config file (that is `config::build`) and
//! does not decide when to publish (that is `core::scheduler`).

mod error;
mod message;
mod reply;
mod transport;
mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hickory_proto::rr::TSigner;
use hickory_proto::rr::rdata::tsig::TsigAlgorithm as HickoryAlgorithm;
use tokio::net::TcpStream;

use crate::core::{Confirmed, Failure, RecordId};
use crate::secret::Secret;

use self::error::Rfc2136Error;
use self::message::{Batch, PreparedTarget};
use super::Target;

pub use self::message::{DEFAULT_TTL, MAX_MESSAGE_BYTES};

/// How often one batch may be halved to isolate the records a server refuses.
const MAX_SPLITS: usize = 32;

/// The TSIG fudge (allowed clock skew) we sign with: RFC 8945 §10 recommends 300 seconds.
pub const FUDGE_SECS: u16 = 300;

/// A TSIG algorithm dynipd signs with (RFC 8945 §6; the ones hickory implements).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    /// The config word, also the algorithm's DNS name without the trailing dot.
    pub fn as_str(self) -> &'static str {
        match self {
            TsigAlgorithm::HmacSha256 => "hmac-sha256",
            TsigAlgorithm::HmacSha384 => "hmac-sha384",
            TsigAlgorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The MAC length in bytes (used to size messages before signing).
    fn mac_len(self) -> usize {
        match self {
            TsigAlgorithm::HmacSha256 => 32,
            TsigAlgorithm::HmacSha384 => 48,
            TsigAlgorithm::HmacSha512 => 64,
        }
    }

    fn to_hickory(self) -> HickoryAlgorithm {
        match self {
            TsigAlgorithm::HmacSha256 => HickoryAlgorithm::HmacSha256,
            TsigAlgorithm::HmacSha384 => HickoryAlgorithm::HmacSha384,
            TsigAlgorithm::HmacSha512 => HickoryAlgorithm::HmacSha512,
        }
    }
}

impl fmt::Display for TsigAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TsigAlgorithm {
    type Err = String;

    /// Parses `hmac-sha256`, `hmac-sha384` or `hmac-sha512` (any case, optional trailing dot).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Ok(TsigAlgorithm::HmacSha256),
            "hmac-sha384" => Ok(TsigAlgorithm::HmacSha384),
            "hmac-sha512" => Ok(TsigAlgorithm::HmacSha512),
            _ => Err(format!(
                "unknown key-algorithm \"{s}\"; use hmac-sha256, hmac-sha384 or hmac-sha512"
            )),
        }
    }
}

/// `[providers.NAME]` with `kind = "rfc2136"`, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rfc2136ProviderConfig {
    /// The zone's primary name server (`server`).
    pub server: SocketAddr,
    /// The zone every record of this provider lies in (`zone`), without the trailing dot.
    pub zone: String,
    /// The TSIG key's name as the server knows it (`key-name`).
    pub key_name: String,
    /// `key-algorithm`.
    pub key_algorithm: TsigAlgorithm,
    /// The raw key: the base64 of `key-secret` / `-file` / `-credential`, decoded.
    pub key_secret: Secret<Vec<u8>>,
    /// Read the records back after the server accepted the update (`verify`, default true).
    pub verify: bool,
}

impl Rfc2136ProviderConfig {
    /// Checks what the provider cannot work without, for `config::build`: returns
    /// `(config key, message)` for each problem (empty when fine). The messages never contain
    /// the secret.
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Err(e) = message::parse_zone(&self.zone) {
            problems.push(("zone", e.to_string()));
        }
        if let Err(e) = message::parse_key_name(&self.key_name) {
            problems.push(("key-name", e.to_string()));
        }
        if self.key_secret.expose().is_empty() {
            problems.push((
                "key-secret",
                "the TSIG secret is empty; give the base64 secret from tsig-keygen".to_string(),
            ));
        }
        problems
    }
}

/// Publishes records to one zone with signed DNS UPDATE.
#[derive(Debug)]
pub struct Rfc2136Provider {
    config: Rfc2136ProviderConfig,
    timeout: Duration,
}

impl Rfc2136Provider {
    /// A provider for `config`. `timeout` bounds each exchange with the server (the UPDATE, and
    /// the read-back when `verify` is on).
    pub fn new(config: Rfc2136ProviderConfig, timeout: Duration) -> Rfc2136Provider {
        Rfc2136Provider { config, timeout }
    }

    /// The UPDATE messages `publish` would send, in nsupdate syntax, one string per message
    /// (targets outside the zone are listed as not sent). Never contains the secret.
    pub fn plan(&self, targets: &[Target]) -> Vec<String> {
        let zone = match message::parse_zone(&self.config.zone) {
            Ok(zone) => zone,
            Err(e) => return vec![format!("; not sent: {e}")],
        };
        let key_name = message::parse_key_name(&self.config.key_name);
        let (batches, refused) = message::prepare(&zone, targets);
        let mut plans: Vec<String> = batches
            .iter()
            .map(|batch| {
                let signed_len = key_name
                    .as_ref()
                    .ok()
                    .and_then(|key| message::signed_len(&zone, batch, key, self.tsig_mac_len()));
                message::render(&self.config, &zone, batch, signed_len)
            })
            .collect();
        plans.extend(refused.into_iter().map(|(_, e)| format!("; not sent: {e}")));
        plans
    }

    /// Publishes `targets`: one UPDATE message per batch (all targets in the zone, split by
    /// size), then the read-back when `verify` is on. Returns one outcome per target. A failure
    /// says what went wrong and what to do; its class follows STYLE.md §3 (see `error`).
    pub async fn publish(&self, targets: &[Target]) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        let mut outcomes = Vec::with_capacity(targets.len());
        let setup = message::parse_zone(&self.config.zone).and_then(|zone| {
            let signer = self.signer()?;
            Ok((zone, signer))
        });
        let (zone, signer) = match setup {
            Ok(setup) => setup,
            Err(e) => {
                let failure = e.to_failure();
                return targets
                    .iter()
                    .map(|t| (t.name.clone(), Err(failure.clone())))
                    .collect();
            }
        };
        let (batches, refused) = message::prepare(&zone, targets);
        outcomes.extend(
            refused
                .into_iter()
                .map(|(record, e)| (record, Err(e.to_failure()))),
        );
        for batch in batches {
            for (done, result) in self.send_bisecting(&zone, &signer, batch).await {
                outcomes.extend(self.confirm(done, result).await);
            }
        }
        outcomes
    }

    /// Sends `batch`; when the server refuses a batch of several records (REFUSED, NOTZONE:
    /// the whole message is rejected, RFC 2136 §3.4), halves it and sends the halves, so only
    /// the records the server really refuses fail and the others still get published. At most
    /// [`MAX_SPLITS`] splits per batch: a zone that refuses everything costs a few dozen
    /// messages, not one per record.
    async fn send_bisecting(
        &self,
        zone: &hickory_proto::rr::Name,
        signer: &TSigner,
        batch: Batch,
    ) -> Vec<(Batch, Result<Option<TcpStream>, Rfc2136Error>)> {
        let mut done = Vec::new();
        let mut pending = vec![batch];
        let mut splits = 0;
        while let Some(batch) = pending.pop() {
            let result = self.send_update(zone, signer, &batch).await;
            match result {
                Err(ref e) if e.is_per_name() && batch.targets.len() > 1 && splits < MAX_SPLITS => {
                    splits += 1;
                    let (left, right) = batch.halves();
                    pending.push(right);
                    pending.push(left);
                }
                result => done.push((batch, result)),
            }
        }
        done
    }

    /// The UPDATE `delete` would send (`dynipd delete --dry-run`).
    pub fn plan_delete(&self, target: &Target) -> Vec<String> {
        let prepared = message::parse_zone(&self.config.zone)
            .and_then(|zone| Ok((message::name_in_zone(&zone, target)?, zone)));
        match prepared {
            Ok((name, zone)) => vec![message::render_delete(
                &self.config,
                &zone,
                &name,
                target.families,
            )],
            Err(e) => vec![format!("; not sent: {e}")],
        }
    }

    /// Deletes the A and/or AAAA RRsets (the families the record carries) at `target.name` in
    /// one signed UPDATE (RFC 2136 §2.5.2). The server answers NOERROR whether or not the
    /// RRsets existed (deleting an absent RRset is not an error), so the outcome is `Removed`.
    ///
    /// Errors: the classified failure, as for `publish`.
    pub async fn delete(&self, target: &Target) -> Result<crate::provider::Deleted, Failure> {
        let zone = message::parse_zone(&self.config.zone).map_err(|e| e.to_failure())?;
        let signer = self.signer().map_err(|e| e.to_failure())?;
        let name = message::name_in_zone(&zone, target).map_err(|e| e.to_failure())?;
        let msg = message::build_delete(&zone, &name, target.families);
        self.send_message(&signer, msg, vec![target.name.clone()])
            .await
            .map_err(|e| e.to_failure())?;
        Ok(crate::provider::Deleted::Removed)
    }

    /// Signs, sends and checks one UPDATE message. Returns the TCP connection it went over, if
    /// any, for the read-back.
    async fn send_update(
        &self,
        zone: &hickory_proto::rr::Name,
        signer: &TSigner,
        batch: &Batch,
    ) -> Result<Option<TcpStream>, Rfc2136Error> {
        let msg = message::build(zone, batch);
        self.send_message(signer, msg, batch.names()).await
    }

    /// Signs, sends and checks one UPDATE message about `names`.
    async fn send_message(
        &self,
        signer: &TSigner,
        mut msg: hickory_proto::op::Message,
        names: Vec<String>,
    ) -> Result<Option<TcpStream>, Rfc2136Error> {
        let now = unix_now();
        let mut verifier = msg
            .finalize(signer, now)
            .map_err(|e| Rfc2136Error::Encode(e.to_string()))?
            .ok_or_else(|| Rfc2136Error::Encode("TSIG signing gave no verifier".to_string()))?;
        let request_mac = msg
            .signature
            .as_ref()
            .map(|s| s.data.mac.clone())
            .unwrap_or_default();
        let bytes = msg
            .to_vec()
            .map_err(|e| Rfc2136Error::Encode(e.to_string()))?;
        let ctx = reply::Context {
            server: self.config.server,
            zone: &self.config.zone,
            key_name: &self.config.key_name,
            names,
            request_time: now,
            request_mac: &request_mac,
        };
        let server = self.config.server;
        let id = msg.metadata.id;
        let exchanged = transport::exchange(server, &bytes, id, self.timeout, &ctx).await?;
        reply::check(&exchanged.reply, &mut verifier, signer, &ctx)?;
        Ok(exchanged.connection)
    }

    /// Turns the outcome of one sent batch into one outcome per target, reading the records
    /// back first when `verify` is on (on the UPDATE's TCP connection when it had one: one
    /// connection per batch spares a busy server's listen queue).
    async fn confirm(
        &self,
        batch: Batch,
        result: Result<Option<TcpStream>, Rfc2136Error>,
    ) -> Vec<(RecordId, Result<Confirmed, Failure>)> {
        let connection = match result {
            Ok(connection) => connection,
            Err(e) => {
                let failure = e.to_failure();
                return batch
                    .targets
                    .into_iter()
                    .map(|t| (t.record, Err(failure.clone())))
                    .collect();
            }
        };
        let checks = if self.config.verify {
            let server = self.config.server;
            verify::read_back(server, connection, self.timeout, &batch.targets).await
        } else {
            batch.targets.iter().map(|_| Ok(())).collect()
        };
        batch
            .targets
            .into_iter()
            .zip(checks)
            .map(|(target, check)| {
                let outcome = check
                    .map(|()| confirmed(&target))
                    .map_err(|e| e.to_failure());
                (target.record, outcome)
            })
            .collect()
    }

    fn signer(&self) -> Result<TSigner, Rfc2136Error> {
        let key_name = message::parse_key_name(&self.config.key_name)?;
        TSigner::new(
            self.config.key_secret.expose().clone(),
            self.config.key_algorithm.to_hickory(),
            key_name,
            FUDGE_SECS,
        )
        .map_err(|_| Rfc2136Error::UnsupportedAlgorithm(self.config.key_algorithm))
    }

    fn tsig_mac_len(&self) -> usize {
        self.config.key_algorithm.mac_len()
    }
}

/// What the provider confirms for a target it published: exactly the addresses it sent. The
/// rfc2136 provider keeps no provider cache.
fn confirmed(target: &PreparedTarget) -> Confirmed {
    Confirmed {
        addresses: target.addresses,
        provider_cache: BTreeMap::new(),
    }
}

/// Seconds since the epoch for TSIG "time signed" (RFC 8945 §4.2). A clock before 1970 signs
/// with 0 and gets BADTIME, which names the skew.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_parses_config_words() {
        assert_eq!(
            "hmac-sha256".parse::<TsigAlgorithm>(),
            Ok(TsigAlgorithm::HmacSha256)
        );
        assert_eq!(
            "HMAC-SHA512.".parse::<TsigAlgorithm>(),
            Ok(TsigAlgorithm::HmacSha512)
        );
        let err = "hmac-md5".parse::<TsigAlgorithm>().unwrap_err();
        assert!(
            err.contains("hmac-md5") && err.contains("hmac-sha384"),
            "{err}"
        );
    }

    #[test]
    fn config_problems_are_named_by_key_and_hide_the_secret() {
        let config = Rfc2136ProviderConfig {
            server: "127.0.0.1:53".parse().unwrap(),
            zone: "bad..zone".into(),
            key_name: String::new(),
            key_algorithm: TsigAlgorithm::HmacSha256,
            key_secret: Secret::new(Vec::new()),
            verify: true,
        };
        let keys: Vec<&str> = config.problems().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["zone", "key-name", "key-secret"]);
        let good = Rfc2136ProviderConfig {
            zone: "example.test".into(),
            key_name: "dynipd".into(),
            key_secret: Secret::new(b"s3cr3t-bytes".to_vec()),
            ..config
        };
        assert!(good.problems().is_empty());
        assert!(!format!("{good:?}").contains("s3cr3t"));
    }
}
