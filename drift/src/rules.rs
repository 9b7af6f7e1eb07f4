//! The team's rules for the comparison, from `[drift]` in `edgefleet.toml`: which field
//! managers are the GitOps flow or a controller, and differences to ignore in the style of
//! Argo CD's `ignoreDifferences` (by group, kind, name and namespace: `jsonPointers` removed
//! from both sides, fields owned by `managedFieldsManagers` taken as they are live).

use serde::Deserialize;
use serde_json::Value;

/// Field managers of GitOps appliers: a live field Git does not set that one of them owns is
/// not drift (it owns what it applied, including what admission added to its request).
pub const GITOPS_MANAGERS: &[&str] = &[
    "argocd-controller",
    "argocd-application-controller",
    "kustomize-controller",
    "helm-controller",
];

/// Field managers of the control plane, autoscalers and node agents: what they set is theirs
/// to set.
pub const CONTROLLER_MANAGERS: &[&str] = &[
    "kube-controller-manager",
    "kube-scheduler",
    "kube-apiserver",
    "kubelet",
    "cluster-autoscaler",
    "vpa-recommender",
    "vpa-updater",
    "vpa-admission-controller",
    "keda-operator",
];

/// `[drift]` of `edgefleet.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftConfig {
    /// The kubeconfig context of a site, `{site}` replaced by its id (default `{site}`).
    pub context_template: Option<String>,
    /// More field managers that are the GitOps flow (e.g. `kubectl-client-side-apply` for a team
    /// that applies from CI with `kubectl apply`).
    #[serde(default)]
    pub gitops_managers: Vec<String>,
    /// More field managers that are controllers (operators of the team's own).
    #[serde(default)]
    pub controller_managers: Vec<String>,
    /// Differences to ignore, as Argo CD's `ignoreDifferences`.
    #[serde(default)]
    pub ignore_differences: Vec<IgnoreDifferences>,
}

/// One rule in the style of Argo CD's `ignoreDifferences`: `kind` is required (`*` for every
/// kind); `group`, `name` and `namespace` narrow it when given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreDifferences {
    /// The API group (`apps`; empty for the core group).
    pub group: Option<String>,
    pub kind: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// JSON pointers removed from both sides (`/spec/replicas`,
    /// `/metadata/annotations/example.com~1note`).
    #[serde(default, rename = "jsonPointers", alias = "json_pointers")]
    pub json_pointers: Vec<String>,
    /// Fields these managers own are taken as they are live.
    #[serde(
        default,
        rename = "managedFieldsManagers",
        alias = "managed_fields_managers"
    )]
    pub managed_fields_managers: Vec<String>,
}

impl IgnoreDifferences {
    /// Whether the rule is about the object (its apiVersion, kind, namespace and name).
    pub(crate) fn applies_to(&self, object: &Value) -> bool {
        let get = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
        let (group, _) = kube_basics::kinds::split_api_version(get("/apiVersion"));
        (self.kind == "*" || self.kind == get("/kind"))
            && self.group.as_deref().is_none_or(|g| g == group)
            && self
                .name
                .as_deref()
                .is_none_or(|n| n == get("/metadata/name"))
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| n == get("/metadata/namespace"))
    }
}

/// A `[drift]` value that cannot be used; `value` is the text at fault, for locating it in the
/// config file.
#[derive(Debug, thiserror::Error)]
#[error("[drift] {message}")]
pub struct RulesError {
    pub message: String,
    pub value: String,
}

/// The rules of a run, checked once.
#[derive(Debug, Clone)]
pub struct DriftRules {
    pub(crate) gitops: Vec<String>,
    pub(crate) controllers: Vec<String>,
    pub(crate) ignore: Vec<IgnoreDifferences>,
}

impl Default for DriftRules {
    fn default() -> Self {
        DriftRules::new(&DriftConfig::default()).expect("the built-in rules are valid")
    }
}

impl DriftRules {
    pub fn new(config: &DriftConfig) -> Result<DriftRules, RulesError> {
        for rule in &config.ignore_differences {
            for p in &rule.json_pointers {
                if !p.starts_with('/') {
                    return Err(RulesError {
                        message: format!(
                            "ignore_differences: `{p}` is not a JSON pointer (it starts with `/`, e.g. `/spec/replicas`)"
                        ),
                        value: p.clone(),
                    });
                }
            }
            if rule.kind.is_empty() {
                return Err(RulesError {
                    message: "ignore_differences: `kind` is empty (name a kind, or `*`)".to_owned(),
                    value: "kind".to_owned(),
                });
            }
        }
        let own = |builtin: &[&str], extra: &[String]| -> Vec<String> {
            builtin
                .iter()
                .map(|s| (*s).to_owned())
                .chain(extra.iter().cloned())
                .collect()
        };
        Ok(DriftRules {
            gitops: own(GITOPS_MANAGERS, &config.gitops_managers),
            controllers: own(CONTROLLER_MANAGERS, &config.controller_managers),
            ignore: config.ignore_differences.clone(),
        })
    }

    /// Whether a manager's fields are not drift: the GitOps flow or a controller.
    pub(crate) fn trusted(&self, manager: &str) -> bool {
        self.gitops
            .iter()
            .chain(&self.controllers)
            .any(|m| m == manager)
    }

    pub(crate) fn is_gitops(&self, manager: &str) -> bool {
        self.gitops.iter().any(|m| m == manager)
    }

    /// The user rules about `object`.
    pub(crate) fn for_object<'r>(&'r self, object: &Value) -> Vec<&'r IgnoreDifferences> {
        self.ignore
            .iter()
            .filter(|r| r.applies_to(object))
            .collect()
    }
}

/// Removes the field a JSON pointer names, if present.
pub(crate) fn remove_pointer(object: &mut Value, pointer: &str) {
    let tokens: Vec<String> = kube_basics::pointer::tokens(pointer).collect();
    let Some((last, parents)) = tokens.split_last() else {
        return;
    };
    let mut node = object;
    for t in parents {
        node = match node {
            Value::Object(m) => match m.get_mut(t) {
                Some(n) => n,
                None => return,
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(n) => n,
                None => return,
            },
            _ => return,
        };
    }
    match node {
        Value::Object(m) => {
            m.remove(last);
        }
        Value::Array(a) => {
            if let Some(i) = last.parse::<usize>().ok().filter(|i| *i < a.len()) {
                a.remove(i);
            }
        }
        _ => {}
    }
}
