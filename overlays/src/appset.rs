//! Sharded ArgoCD ApplicationSets, and their offline preview.
//!
//! One ApplicationSet per workload × region (split past `shard_size` sites) uses the git-files
//! generator over `sites/<region>/*/site.json`, so no object ever lists the fleet and a bad
//! template reaches at most one shard. `argocd appset generate` needs a live ArgoCD; [`preview`]
//! expands a generated ApplicationSet from the tree alone, for tests and `appset preview`.

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
    format!("workload-{workload}")
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
        tree.insert(format!("appsets/{name}.yaml"), to_yaml(&doc));
    }
    Ok(tree)
}

fn appset(fleet: &Fleet, argo: &ArgoSettings, shard: &Shard, name: &str) -> Value {
    let prefix = if argo.path_prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", argo.path_prefix.trim_end_matches('/'))
    };
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
                    "files": [{ "path": format!("{prefix}sites/{}/*/site.json", shard.region) }],
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

// ---------------------------------------------------------------------------------------------
// Offline preview
// ---------------------------------------------------------------------------------------------

/// Files of a repository the preview can read.
pub trait RepoFiles {
    fn paths(&self) -> Vec<String>;
    fn read(&self, path: &str) -> Option<Vec<u8>>;
}

impl RepoFiles for OutputTree {
    fn paths(&self) -> Vec<String> {
        OutputTree::paths(self).map(str::to_owned).collect()
    }
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.get(path).map(<[u8]>::to_vec)
    }
}

/// Expand an ApplicationSet the way the controller would, for the generators and template
/// features edgefleet emits: git files generator, post-selectors, goTemplate `{{.a.b}}` lookups
/// with `missingkey=error`. Anything else is refused rather than guessed.
pub fn preview(appset: &Value, repo: &dyn RepoFiles) -> Result<Vec<Value>, String> {
    let spec = appset.get("spec").ok_or("ApplicationSet has no spec")?;
    if spec.get("goTemplate") != Some(&Value::Bool(true)) {
        return Err("offline preview supports goTemplate: true only".into());
    }
    let template = spec
        .get("template")
        .ok_or("ApplicationSet has no template")?;
    let generators = spec
        .get("generators")
        .and_then(Value::as_array)
        .ok_or("ApplicationSet has no generators")?;
    let all_paths = repo.paths();
    let mut apps = Vec::new();
    for g in generators {
        let git = g
            .get("git")
            .ok_or("offline preview supports the git files generator only")?;
        let files = git
            .get("files")
            .and_then(Value::as_array)
            .ok_or("offline preview supports the git files generator only (no `files`)")?;
        for f in files {
            let pattern = f
                .get("path")
                .and_then(Value::as_str)
                .ok_or("files entry without path")?;
            for path in all_paths.iter().filter(|p| glob_match(pattern, p)) {
                let bytes = repo
                    .read(path)
                    .ok_or_else(|| format!("{path}: cannot read"))?;
                let mut params: Map<String, Value> = match serde_json::from_slice(&bytes) {
                    Ok(Value::Object(m)) => m,
                    Ok(_) => return Err(format!("{path}: not a JSON object")),
                    Err(e) => return Err(format!("{path}: {e}")),
                };
                if !selector_matches(g.get("selector"), &params)? {
                    continue;
                }
                params.insert("path".into(), path_params(path));
                let mut app = render_template(template, &Value::Object(params))?;
                if let Value::Object(m) = &mut app {
                    let mut head = Map::new();
                    head.insert("apiVersion".into(), "argoproj.io/v1alpha1".into());
                    head.insert("kind".into(), "Application".into());
                    head.extend(std::mem::take(m));
                    *m = head;
                    if let Some(ns) = appset.pointer("/metadata/namespace") {
                        m["metadata"]["namespace"] = ns.clone();
                    }
                }
                apps.push(app);
            }
        }
    }
    Ok(apps)
}

fn path_params(path: &str) -> Value {
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let filename = path.rsplit('/').next().unwrap_or(path);
    let basename = dir.rsplit('/').next().unwrap_or(dir);
    let normalize = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    json!({
        "path": dir,
        "basename": basename,
        "filename": filename,
        "basenameNormalized": normalize(basename),
        "filenameNormalized": normalize(filename),
        "segments": dir.split('/').collect::<Vec<_>>(),
    })
}

/// Label-selector matching over top-level string parameters (as ArgoCD's post-selector does).
fn selector_matches(selector: Option<&Value>, params: &Map<String, Value>) -> Result<bool, String> {
    let Some(sel) = selector else { return Ok(true) };
    let labels: BTreeMap<&str, &str> = params
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
        .collect();
    label_selector_matches(sel, &labels)
}

/// Kubernetes label selector semantics (`matchLabels` and `matchExpressions`, all must hold).
pub fn label_selector_matches(sel: &Value, labels: &BTreeMap<&str, &str>) -> Result<bool, String> {
    let sel = kube_basics::selector::LabelSelector::from_value(sel)?;
    Ok(sel.matches_with(&|k| labels.get(k).map(|v| (*v).to_owned())))
}

/// Glob as the git files generator uses it: `*` and `?` stay within a path segment, `**` spans
/// segments.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    fn seg_match(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => seg_match(&p[1..], s) || (!s.is_empty() && seg_match(p, &s[1..])),
            (Some(b'?'), Some(_)) => seg_match(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => seg_match(&p[1..], &s[1..]),
            _ => false,
        }
    }
    fn segs_match(p: &[&str], s: &[&str]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(&"**"), _) => segs_match(&p[1..], s) || (!s.is_empty() && segs_match(p, &s[1..])),
            (Some(a), Some(b)) => {
                seg_match(a.as_bytes(), b.as_bytes()) && segs_match(&p[1..], &s[1..])
            }
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('/').collect();
    let s: Vec<&str> = path.split('/').collect();
    segs_match(&p, &s)
}

fn render_template(template: &Value, params: &Value) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => Value::String(render_string(s, params)?),
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| render_template(v, params))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(render_string(k, params)?, render_template(v, params)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn render_string(s: &str, params: &Value) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed `{{{{` in {s:?}"))?;
        let expr = after[..end].trim();
        let path = expr
            .strip_prefix('.')
            .filter(|p| {
                !p.is_empty()
                    && p.split('.').all(|t| {
                        !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
            })
            .ok_or_else(|| {
                format!("offline preview supports only `{{{{.field.path}}}}`, not `{{{{{expr}}}}}`")
            })?;
        let mut v = params;
        for token in path.split('.') {
            v = v.get(token).ok_or_else(|| {
                format!("map has no entry for key \"{token}\" (missingkey=error) in {s:?}")
            })?;
        }
        match v {
            Value::String(x) => out.push_str(x),
            Value::Null => out.push_str("<no value>"),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("sites/eu/*/site.json", "sites/eu/a/site.json"));
        assert!(!glob_match(
            "sites/eu/*/site.json",
            "sites/eu/a/b/site.json"
        ));
        assert!(!glob_match(
            "sites/eu/*/site.json",
            "sites/eu-2/a/site.json"
        ));
        assert!(glob_match("sites/**/site.json", "sites/eu/a/site.json"));
        assert!(glob_match("s?tes/*", "sites/x"));
    }

    #[test]
    fn templates_resolve_paths_and_refuse_the_rest() {
        let p = json!({"site": "a", "path": {"path": "sites/x/a"}});
        assert_eq!(render_string("{{.site}}-tc", &p).unwrap(), "a-tc");
        assert_eq!(
            render_string("{{ .path.path }}/tc", &p).unwrap(),
            "sites/x/a/tc"
        );
        assert!(
            render_string("{{.missing}}", &p)
                .unwrap_err()
                .contains("missingkey")
        );
        assert!(render_string("{{ index .labels \"x\" }}", &p).is_err());
    }

    #[test]
    fn selectors() {
        let labels: BTreeMap<&str, &str> = [("a", "1"), ("b", "2")].into_iter().collect();
        let yes = json!({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "In", "values": ["2", "3"]}]});
        let no = json!({"matchExpressions": [{"key": "c", "operator": "Exists"}]});
        assert!(label_selector_matches(&yes, &labels).unwrap());
        assert!(!label_selector_matches(&no, &labels).unwrap());
    }

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
