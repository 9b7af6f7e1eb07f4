//! What every site runs against what Git says it should run: read-only, across the fleet.
//!
//! The only crate of the workspace that talks to a network, and only with `get`, `list` and
//! discovery requests. Live state comes from a [`LiveSource`]: a cluster reached through a
//! kubeconfig context per site, or a snapshot folder carried back from a partitioned site.
//! Desired state is each site's rendered objects, from the fleet library.
//!
//! - [`desired`]: each selected site's rendered objects, region and wave;
//! - [`normalise`], [`compare`] (with [`rules`]): one object against its live counterpart;
//! - [`snapshot`]: live state from a folder of `kubectl get -o yaml` exports, and writing one;
//! - [`cluster`]: live state from the sites' clusters;
//! - [`fleet`]: every site through a source, bounded concurrency, per-site timeout;
//! - [`report`]: the results, their exit code, and the human, JSON, SARIF and JUnit formats;
//! - [`shard`]: a shard's report (`--shard K/N`) as data, and the merge of a run's shards.

pub mod cluster;
pub mod compare;
mod defaults;
pub mod desired;
pub mod fleet;
mod managed;
pub mod normalise;
mod quantity;
pub mod report;
pub mod rules;
pub mod shard;
pub mod snapshot;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

pub use compare::Verdict;
pub use desired::{DesiredObject, DesiredSite, Selection};
pub use fleet::{RunOptions, check_fleet};
pub use report::{DriftReport, ObjectReport, ObjectStatus, SiteReport, SiteStatus};
pub use rules::{DriftConfig, DriftRules, IgnoreDifferences};
pub use snapshot::SnapshotSource;

/// The label every object edgefleet generates for a site carries: what finds **extra** objects.
pub const SITE_LABEL: &str = "edgefleet.io/site";

/// An object as the API server names it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    /// `group/version`, or `v1` for the core group.
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// The key of an object (`None` without `apiVersion`, `kind` or `metadata.name`).
    pub fn of(object: &Value) -> Option<ObjectKey> {
        let get = |p: &str| object.pointer(p).and_then(Value::as_str);
        Some(ObjectKey {
            api_version: get("/apiVersion")?.to_owned(),
            kind: get("/kind")?.to_owned(),
            namespace: get("/metadata/namespace")
                .filter(|n| !n.is_empty())
                .map(str::to_owned),
            name: get("/metadata/name")?.to_owned(),
        })
    }

    /// Whether a live object's key names the desired object `self`: the same, or `self` has no
    /// namespace and the live object is in `default` (where the API server put it).
    pub fn names(&self, live: &ObjectKey) -> bool {
        self == live
            || self.namespace.is_none()
                && live.namespace.as_deref() == Some("default")
                && self.api_version == live.api_version
                && self.kind == live.kind
                && self.name == live.name
    }
}

impl fmt::Display for ObjectKey {
    /// `apps/v1 Deployment edge-telemetry/telemetry-collector`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.api_version, self.kind)?;
        if let Some(ns) = &self.namespace {
            write!(f, "{ns}/")?;
        }
        f.write_str(&self.name)
    }
}

/// What a source found at one site.
#[derive(Clone, Debug, Default)]
pub struct LiveSite {
    /// The live object for each desired key the source was asked for; `None` when the site does
    /// not have it (a 404, or absent from the snapshot).
    pub objects: BTreeMap<ObjectKey, Option<Value>>,
    /// Every object found at the site carrying the fleet's site label (`edgefleet.io/site`),
    /// desired or not; the comparison decides which are extra.
    pub labelled: Vec<Value>,
}

/// Why a site could not be read. Never stops the other sites.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SiteFailure {
    /// Connect error, TLS error, timeout, a server that answers nonsense.
    Unreachable(String),
    /// 401 or 403.
    Unauthorized(String),
}

/// Where live state comes from: a cluster or a snapshot folder.
///
/// Sources are called from several worker threads at once (fleet mode, `--jobs`).
pub trait LiveSource: Send + Sync {
    /// Reads the live state of `site`: each of `desired`, and everything carrying the site label.
    fn read_site(&self, site: &str, desired: &[ObjectKey]) -> Result<LiveSite, SiteFailure>;
}

impl fmt::Display for SiteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SiteFailure::Unreachable(why) | SiteFailure::Unauthorized(why) => f.write_str(why),
        }
    }
}

#[cfg(test)]
mod tests;
