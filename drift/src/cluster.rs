//! Live state from clusters: one kubeconfig context per site, `get`, `list` and discovery only.
//!
//! Interface fixed for the CLI; the client itself lands on the `drift-live` branch.

use std::path::PathBuf;
use std::time::Duration;

use crate::{LiveSite, LiveSource, ObjectKey, SiteFailure};

/// How to reach the sites' clusters.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// `--kubeconfig`; `None`: `KUBECONFIG`, then `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// The context of a site, `{site}` replaced by the site id (default `{site}`).
    pub context_template: String,
    /// Per-site budget for every request to that site (`--timeout`).
    pub timeout: Duration,
}

/// A kubeconfig that cannot be used at all (exit 2): missing, malformed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClusterError(pub String);

/// Reads sites from their clusters.
pub struct ClusterSource {
    _options: ClusterOptions,
}

impl ClusterSource {
    pub fn new(options: ClusterOptions) -> Result<ClusterSource, ClusterError> {
        Ok(ClusterSource { _options: options })
    }
}

impl LiveSource for ClusterSource {
    fn read_site(&self, _site: &str, _desired: &[ObjectKey]) -> Result<LiveSite, SiteFailure> {
        Err(SiteFailure::Unreachable(
            "reading clusters is not built yet".to_owned(),
        ))
    }
}
