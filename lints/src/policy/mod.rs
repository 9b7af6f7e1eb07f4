//! The team's own policies, next to the built-in rules: Rego with conftest's conventions
//! ([`rego`]) and Kubernetes ValidatingAdmissionPolicies with their bindings, evaluated offline
//! with CEL ([`admission`], [`cel_k8s`] for the Kubernetes CEL library).
//!
//! Policies are read and compiled once per run (`[policies]` in `edgefleet.toml`); each policy
//! rule becomes a rule id of its own (`policy/<package>/<rule>`, `admission/<policy>`) that
//! `[lint.rules]`, `edgefleet.io/ignore`, `edgefleet explain` and every report format treat as
//! they treat built-in rules. Under `lint --fleet` a Rego policy also sees the site
//! (`data.edgefleet.site`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use edgefleet_inventory::SourceLocation;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::finding::{Level, Severity};
use crate::manifest::Manifest;
use crate::rule::Violation;
use crate::site::SiteContext;

pub mod admission;
pub mod cel_k8s;
mod projection;
pub mod rego;

#[cfg(test)]
mod tests;

/// `[policies]` in `edgefleet.toml`.
///
/// ```toml
/// [policies]
/// rego = ["policy"]                      # folders of .rego modules (or files)
/// admission = ["policies/admission"]     # folders of ValidatingAdmissionPolicy YAML (or files)
/// ```
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoliciesConfig {
    #[serde(default)]
    pub rego: Vec<PathBuf>,
    #[serde(default)]
    pub admission: Vec<PathBuf>,
}

/// A policy that cannot be loaded: where and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{message}", location.as_ref().map(|l| format!("{l}: ")).unwrap_or_default())]
pub struct PolicyError {
    pub location: Option<SourceLocation>,
    pub message: String,
}

impl PolicyError {
    pub(crate) fn plain(message: impl Into<String>) -> Self {
        Self {
            location: None,
            message: message.into(),
        }
    }
}

pub(crate) fn located(location: SourceLocation, message: impl Into<String>) -> PolicyError {
    PolicyError {
        location: Some(location),
        message: message.into(),
    }
}

/// One rule a policy defines: what `edgefleet explain` prints and what `[lint.rules]` sets.
#[derive(Debug, Clone)]
pub struct PolicyRule {
    /// `policy/<package>/<rule>` or `admission/<policy name>`; lives for the process (rule ids
    /// of findings are `&'static str`).
    pub id: &'static str,
    pub default_level: Level,
    pub summary: String,
    /// Markdown: the policy's description (METADATA or annotations) and where it is defined.
    pub docs: String,
    pub location: SourceLocation,
}

impl PolicyRule {
    pub(crate) fn new(
        id: String,
        default_level: Level,
        summary: String,
        docs: String,
        location: SourceLocation,
    ) -> Self {
        Self {
            // Loaded once per process: the leak is the id's lifetime, not a growth.
            id: Box::leak(id.into_boxed_str()),
            default_level,
            summary,
            docs,
            location,
        }
    }
}

/// Verdicts cached per key (what a policy reads of an object and of the site): objects that
/// differ only in fields no policy reads are evaluated once.
///
/// Bounded: once it holds [`VerdictCache::LIMIT`] entries it starts again empty, so a fleet whose
/// objects all differ in what the policies read costs re-evaluations, never memory that grows
/// with the fleet. Verdicts do not depend on what the cache holds: output is the same either way.
pub(crate) struct VerdictCache<K> {
    map: std::sync::Mutex<std::collections::HashMap<K, std::sync::Arc<Vec<Verdict>>>>,
}

impl<K: std::hash::Hash + Eq> VerdictCache<K> {
    /// Entries kept at most (a few hundred bytes each, the key's text and its verdicts).
    pub(crate) const LIMIT: usize = 1 << 16;

    pub(crate) fn new() -> Self {
        Self {
            map: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<std::sync::Arc<Vec<Verdict>>> {
        self.map.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: K, verdicts: std::sync::Arc<Vec<Verdict>>) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::LIMIT {
                map.clear();
            }
            map.insert(key, verdicts);
        }
    }
}

/// One violation as a policy reports it, before suppression and location.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    /// Index into [`PolicySet::rules`].
    pub rule: usize,
    /// JSON pointer into the object (`""`: the object).
    pub pointer: String,
    pub message: String,
    /// Set by the policy (a binding's `validationActions`, an evaluation error); `None`: the
    /// rule's level.
    pub severity: Option<Severity>,
}

impl Verdict {
    pub(crate) fn at(rule: usize, pointer: &str, message: String) -> Self {
        Self {
            rule,
            pointer: pointer.to_owned(),
            message,
            severity: None,
        }
    }

    pub(crate) fn error(rule: usize, message: String) -> Self {
        Self {
            rule,
            pointer: String::new(),
            message,
            severity: Some(Severity::Error),
        }
    }
}

/// Every policy of the configuration, compiled.
pub struct PolicySet {
    rules: Vec<PolicyRule>,
    rego: Option<rego::RegoPolicies>,
    admission: Option<admission::AdmissionPolicies>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("rules", &self.rules.len())
            .finish()
    }
}

impl PolicySet {
    /// Reads and compiles the configured policies; paths are relative to `base` (the config
    /// file's folder). Errors name the file, line and column.
    pub fn load(config: &PoliciesConfig, base: &Path) -> Result<Self, PolicyError> {
        let resolve = |p: &PathBuf| {
            if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            }
        };
        let rego_paths: Vec<PathBuf> = config.rego.iter().map(resolve).collect();
        let admission_paths: Vec<PathBuf> = config.admission.iter().map(resolve).collect();
        let mut rules = Vec::new();
        let rego = rego::RegoPolicies::load(&rego_paths, base, &mut rules)?;
        let admission = admission::AdmissionPolicies::load(&admission_paths, base, &mut rules)?;
        let mut seen = std::collections::BTreeSet::new();
        for r in &rules {
            if crate::rules::find(r.id).is_some() || !seen.insert(r.id) {
                return Err(located(
                    r.location.clone(),
                    format!("policy rule id `{}` is defined twice", r.id),
                ));
            }
        }
        Ok(Self {
            rules,
            rego,
            admission,
        })
    }

    /// The rules the policies define, in load order.
    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    pub fn find(&self, id: &str) -> Option<&PolicyRule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Evaluates every policy on every object of one input set (one site's objects under
    /// `--fleet`). Returns (object index, rule index, severity or `None` for the rule's level,
    /// report).
    pub(crate) fn check(
        &self,
        manifests: &[Manifest],
        site: Option<&SiteContext>,
    ) -> Vec<(usize, usize, Option<Severity>, Violation)> {
        use rayon::prelude::*;
        let site_input = match (&self.rego, site) {
            (Some(r), Some(s)) => Some(r.site_input(&site_json(s))),
            _ => None,
        };
        let admission = self
            .admission
            .as_ref()
            .map(|a| a.prepare(manifests))
            .unwrap_or_default();
        manifests
            .par_iter()
            .enumerate()
            .flat_map_iter(|(i, m)| {
                let mut verdicts = Vec::new();
                if let Some(r) = &self.rego {
                    r.check(&m.value, site_input.as_ref(), &self.rules, &mut verdicts);
                }
                if let Some(a) = &self.admission {
                    a.check(m, &admission, &mut verdicts);
                }
                verdicts.into_iter().map(move |v| {
                    let report = Violation {
                        pointer: v.pointer,
                        message: v.message,
                        help: None,
                    };
                    (i, v.rule, v.severity, report)
                })
            })
            .collect()
    }
}

/// `data.edgefleet.site`: the site as its inventory describes it (`platform` as templates see it,
/// `null` when the site declares none).
pub fn site_json(s: &SiteContext) -> Value {
    let hw = &s.hardware;
    let bh = &s.backhaul;
    json!({
        "id": s.id,
        "region": s.region.name,
        "jurisdiction": s.region.jurisdiction,
        "zone": s.region.zone,
        "wave": s.wave,
        "labels": s.labels,
        "hardware": {
            "name": hw.name,
            "arch": hw.arch,
            "cpu": hw.cpu.text,
            "cpu_millis": hw.cpu.millis(),
            "memory": hw.memory.text,
            "memory_bytes": hw.memory.value as u64,
            "ephemeral_storage": hw.ephemeral_storage.text,
            "ephemeral_storage_bytes": hw.ephemeral_storage.value as u64,
            "accelerators": hw.accelerators,
            "power_watts": hw.power_watts,
            "tee": hw.tee.map(|t| t.as_str()),
        },
        "backhaul": {
            "name": bh.name,
            "bandwidth_kbps": bh.bandwidth_kbps,
            "metered": bh.metered,
            "latency_ms": bh.latency_ms,
            "max_outage": bh.max_outage.text,
            "max_outage_seconds": bh.max_outage.seconds,
        },
        "platform": s.platform.as_ref().map(|p| p.context(hw)),
    })
}

/// Files under `dir` whose names pass `keep`, recursively, hidden folders skipped.
pub(crate) fn walk(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    keep: &dyn Fn(&str) -> bool,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') {
                walk(&path, out, keep)?;
            }
        } else if keep(&name) {
            out.push(path);
        }
    }
    Ok(())
}

/// Levels of policy rules: `[lint.rules]` overrides, by id.
pub(crate) fn levels(set: &PolicySet, configured: &BTreeMap<String, Level>) -> Vec<Option<Level>> {
    set.rules
        .iter()
        .map(|r| configured.get(r.id).copied())
        .collect()
}
