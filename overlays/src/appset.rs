//! Sharded ArgoCD ApplicationSets.
//!
//! One ApplicationSet per workload × region (split past `shard_size` sites) uses the git-files
//! generator over `sites/<region>/*/site.json`, so no object ever lists the fleet and a bad
//! template reaches at most one shard. `argocd appset generate` needs a live ArgoCD; the fleet
//! library (`edgefleet-fleet`, `appset`) expands a generated ApplicationSet from the tree alone.

use std::collections::BTreeMap;

use edgefleet_inventory::{Fleet, MaxUpdate, Site};
use serde_json::{Map, Value, json};

use crate::catalogue::{Catalogue, CatalogueError};
use crate::plan::{LABEL_REGION, LABEL_SITE, LABEL_WORKLOAD, PlanOptions, site_workloads};
use crate::tree::OutputTree;
use crate::yaml::to_yaml;

/// The Application label RollingSync steps select on.
pub const LABEL_ROLLOUT_STEP: &str = "edgefleet.io/rollout-step";

/// Where generated Applications come from and go.
#[derive(Debug, Clone)]
pub struct ArgoSettings {
    /// The Git repository holding the generated tree.
    pub repo_url: String,
    pub revision: String,
    pub project: String,
    /// Namespace of the ArgoCD control plane (where ApplicationSets live).
    pub namespace: String,
    /// Path of the generated tree inside the repository (empty: the repository root).
    pub path_prefix: String,
}

impl Default for ArgoSettings {
    fn default() -> Self {
        Self {
            repo_url: "https://git.example.com/platform/edge-fleet.git".into(),
            revision: "main".into(),
            project: "default".into(),
            namespace: "argocd".into(),
            path_prefix: String::new(),
        }
    }
}

/// The site.json key a post-selector uses to pick the sites running a workload.
pub fn workload_param(workload: &str) -> String {
    crate::site_json::workload_key(workload)
}

/// Shard of every site (parallel to `fleet.sites`): its rank among its region's sites (sorted by
/// id) divided by the shard size.
pub fn shards(fleet: &Fleet, shard_size: usize) -> Vec<usize> {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    fleet
        .sites
        .iter()
        .map(|s| {
            let n = seen.entry(&s.region).or_default();
            let shard = *n / shard_size.max(1);
            *n += 1;
            shard
        })
        .collect()
}

fn max_update(m: &MaxUpdate) -> Value {
    match m {
        MaxUpdate::Count(n) => json!(n),
        MaxUpdate::Percent(p) => json!(format!("{p}%")),
    }
}

/// Retry with exponential backoff that keeps trying for the longest outage of the shard's sites.
fn retry_for(max_outage_seconds: u64) -> Value {
    let cap = (max_outage_seconds / 12).clamp(180, 3600);
    let (mut interval, mut total, mut limit) = (30u64, 0u64, 0u64);
    while total < max_outage_seconds || limit < 5 {
        total += interval;
        interval = (interval * 2).min(cap);
        limit += 1;
    }
    json!({
        "limit": limit,
        "backoff": {
            "duration": "30s",
            "factor": 2,
            "maxDuration": edgefleet_inventory::units::Duration { text: String::new(), seconds: cap }.go_format(),
        }
    })
}

struct Shard<'a> {
    workload: &'a str,
    namespace: &'a str,
    region: &'a str,
    index: usize,
    split: bool,
    sites: Vec<&'a Site>,
}

/// Every ApplicationSet of the fleet, as files `appsets/<workload>-<region>[-<n>].yaml`.
pub fn plan_appsets(
    fleet: &Fleet,
    catalogue: &Catalogue,
    options: &PlanOptions,
) -> Result<OutputTree, CatalogueError> {
    let shard_of = shards(fleet, options.shard_size);
    let mut region_shards: BTreeMap<&str, usize> = BTreeMap::new();
    for (site, shard) in fleet.sites.iter().zip(&shard_of) {
        let n = region_shards.entry(&site.region).or_default();
        *n = (*n).max(shard + 1);
    }
    let mut groups: BTreeMap<(&str, &str, usize), Shard> = BTreeMap::new();
    for (site, shard) in fleet.sites.iter().zip(&shard_of) {
        for w in site_workloads(site, catalogue) {
            groups
                .entry((w.name.as_str(), site.region.as_str(), *shard))
                .or_insert_with(|| Shard {
                    workload: &w.name,
                    namespace: &w.namespace,
                    region: &site.region,
                    index: *shard,
                    split: region_shards[site.region.as_str()] > 1,
                    sites: Vec::new(),
                })
                .sites
                .push(site);
        }
    }
    let mut tree = OutputTree::new();
    for shard in groups.values() {
        let name = if shard.split {
            format!("{}-{}-{}", shard.workload, shard.region, shard.index)
        } else {
            format!("{}-{}", shard.workload, shard.region)
        };
        let doc = appset(fleet, &options.argocd, shard, &name);
        tree.insert(crate::layout::appset_file(&name), to_yaml(&doc));
    }
    Ok(tree)
}

fn appset(fleet: &Fleet, argo: &ArgoSettings, shard: &Shard, name: &str) -> Value {
    let mut match_labels = Map::new();
    if shard.split {
        match_labels.insert("shard".into(), shard.index.to_string().into());
    }
    match_labels.insert(workload_param(shard.workload), "enabled".into());

    // Only the steps some Application of this shard is in: an empty step is noise in review and a
    // lint finding; every Application is in exactly one step because its label has one value.
    let present: std::collections::BTreeSet<&str> =
        shard.sites.iter().map(|s| fleet.rollout_step(s)).collect();
    let mut steps = Vec::new();
    for wave in &fleet.rollout.waves {
        if present.contains(wave.name.as_str()) {
            steps.push(step(&wave.name, &wave.max_update));
        }
    }
    if let Some(t) = &fleet.rollout.trailing
        && present.contains(t.name.as_str())
    {
        steps.push(step(&t.name, &t.max_update));
    }
    let worst_outage = shard
        .sites
        .iter()
        .map(|s| fleet.backhaul_of(s).max_outage.seconds)
        .max()
        .unwrap_or(0);

    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {
            "name": name,
            "namespace": argo.namespace,
            "labels": {
                LABEL_WORKLOAD: shard.workload,
                LABEL_REGION: shard.region,
                "app.kubernetes.io/managed-by": "edgefleet",
            },
        },
        "spec": {
            "goTemplate": true,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{
                "git": {
                    "repoURL": argo.repo_url,
                    "revision": argo.revision,
                    "files": [{ "path": crate::layout::site_json_glob(&argo.path_prefix, shard.region) }],
                },
                "selector": { "matchLabels": match_labels },
            }],
            "strategy": {
                "type": "RollingSync",
                "rollingSync": { "steps": steps },
            },
            "syncPolicy": { "preserveResourcesOnDeletion": true },
            "template": {
                "metadata": {
                    "name": format!("{{{{.site}}}}-{}", shard.workload),
                    "labels": {
                        LABEL_SITE: "{{.site}}",
                        LABEL_REGION: "{{.region}}",
                        LABEL_WORKLOAD: shard.workload,
                        LABEL_ROLLOUT_STEP: "{{.rolloutStep}}",
                    },
                    "annotations": {
                        "argocd.argoproj.io/manifest-generate-paths": ".",
                    },
                },
                "spec": {
                    "project": argo.project,
                    "source": {
                        "repoURL": argo.repo_url,
                        "targetRevision": argo.revision,
                        "path": format!("{{{{.path.path}}}}/{}", shard.workload),
                    },
                    "destination": { "name": "{{.cluster}}", "namespace": shard.namespace },
                    "syncPolicy": {
                        "automated": { "prune": true, "selfHeal": true },
                        "syncOptions": ["CreateNamespace=true", "PruneLast=true"],
                        "retry": retry_for(worst_outage),
                    },
                },
            },
        },
    })
}

fn step(name: &str, max: &MaxUpdate) -> Value {
    json!({
        "matchExpressions": [{ "key": LABEL_ROLLOUT_STEP, "operator": "In", "values": [name] }],
        "maxUpdate": max_update(max),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_covers_the_outage() {
        for outage in [0u64, 900, 6 * 3600, 72 * 3600] {
            let r = retry_for(outage);
            let limit = r["limit"].as_u64().unwrap();
            assert!(limit >= 5);
            // Sum the intervals the controller will wait.
            let cap = (outage / 12).clamp(180, 3600);
            let (mut i, mut total) = (30u64, 0u64);
            for _ in 0..limit {
                total += i;
                i = (i * 2).min(cap);
            }
            assert!(total >= outage, "{outage}: {total}");
        }
    }
}
