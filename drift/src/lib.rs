//! What every site runs against what Git says it should run: read-only, across the fleet.
//!
//! The only crate of the workspace that talks to a network, and only with `get`, `list` and
//! discovery requests. Live state comes from a [`LiveSource`]: a cluster reached through a
//! kubeconfig context per site, or a snapshot folder carried back from a partitioned site.
//! Desired state is each site's rendered objects, from the fleet library.

pub mod cluster;

use std::collections::BTreeMap;

use serde_json::Value;

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
