//! One desired object against its live counterpart: in sync, or drifted with a unified diff of
//! the normalised YAML.
//!
//! Both sides are [normalised](crate::normalise) and the team's `jsonPointers` removed, then
//! walked together along the desired object, building two views that a diff compares:
//!
//! - a field Git sets is compared by value: quantities by amount (`1000m` = `1`), int-or-string
//!   by value (`8080` = `"8080"`), numbers by value (`1` = `1.0`). A difference is drift,
//!   unless a manager in an applicable `managedFieldsManagers` owns the field;
//! - list elements are matched by their strategic-merge / server-side-apply key
//!   ([`list_keys`]): containers, volumes, env and image pull secrets by `name`, container ports
//!   by `containerPort` + `protocol`, Service ports by `port` + `protocol`, volume mounts by
//!   `mountPath` …; order is not compared for keyed lists. Other lists are atomic (compared by
//!   position, whole);
//! - a field live that Git does not set is drift only when nothing explains it: it holds the
//!   API server's default ([`crate::defaults`]), or `managedFields` show that only the GitOps
//!   applier, a controller or an ignored manager owns it. With `managedFields`, a field owned by
//!   any other manager (`kubectl-edit`, `kubectl-set`, `kubectl` for `kubectl scale`,
//!   `kubectl-client-side-apply`, a dashboard …) is drift; without them (a snapshot exported by
//!   `kubectl get -o yaml`, which leaves them out), every non-default field is.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::defaults::is_default;
use crate::managed::{ManagedFields, Ownership, Step};
use crate::normalise::normalise;
use crate::quantity::same_quantity;
use crate::rules::{DriftRules, remove_pointer};

/// Whether two JSON scalars are the same value: equal, numbers by value (`1` = `1.0`), or an
/// integer and the string of it (int-or-string: `targetPort: 8080` = `"8080"`).
pub(crate) fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            match (n.as_i64(), s.trim().parse::<i64>()) {
                (Some(i), Ok(j)) => i == j && !s.trim().is_empty(),
                _ => false,
            }
        }
        _ => a == b,
    }
}

/// Whether the path holds a resource quantity: anything under `resources`, a ResourceQuota's
/// `hard`, a LimitRange's limits, `overhead`, `capacity`, `sizeLimit`, `divisor`.
fn is_quantity_path(path: &[Step<'_>]) -> bool {
    let fields = || {
        path.iter().filter_map(|s| match s {
            Step::Field(f) => Some(*f),
            Step::Item(..) => None,
        })
    };
    fields().any(|f| {
        matches!(
            f,
            "resources" | "hard" | "overhead" | "capacity" | "allocatable" | "limits"
        )
    }) || matches!(
        path.last(),
        Some(Step::Field("sizeLimit" | "divisor" | "storage"))
    )
}

/// The keys that identify an element of the list `field`, judged from the field's name and its
/// elements (`ports` of a container hold `containerPort`, of a Service `port`). `None`: an
/// atomic list, compared by position.
pub(crate) fn list_keys(field: &str, elements: &[&Value]) -> Option<&'static [&'static str]> {
    let all_have = |k: &str| elements.iter().all(|e| e.get(k).is_some());
    let keys: &'static [&'static str] = match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates"
        | "webhooks" => &["name"],
        "volumeMounts" => &["mountPath"],
        "volumeDevices" => &["devicePath"],
        "hostAliases" => &["ip"],
        "readinessGates" => &["conditionType"],
        "topologySpreadConstraints" => &["topologyKey", "whenUnsatisfiable"],
        "ownerReferences" => &["uid"],
        "ports" if all_have("containerPort") => &["containerPort", "protocol"],
        "ports" if all_have("port") => &["port", "protocol"],
        _ => return None,
    };
    // `protocol` defaults to TCP; every other key must be present to match by it.
    keys.iter()
        .filter(|k| **k != "protocol")
        .all(|k| all_have(k))
        .then_some(keys)
}

/// Whether two list elements have the same key.
fn same_key(keys: &[&str], a: &Value, b: &Value) -> bool {
    keys.iter().all(|k| {
        let get = |v: &Value| match v.get(*k) {
            None if *k == "protocol" => Some(Value::String("TCP".to_owned())),
            other => other.cloned(),
        };
        match (get(a), get(b)) {
            (Some(x), Some(y)) => x == y || same_scalar(&x, &y),
            (None, None) => true,
            _ => false,
        }
    })
}

/// The verdict on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    InSync,
    /// A unified diff of the normalised YAML, Git (`-`) against live (`+`).
    Drifted(String),
}

impl DriftRules {
    /// Compares a desired object (as rendered) with the live object (as the API server returns
    /// it, `managedFields` included when the source has them).
    pub fn compare(&self, desired: &Value, live: &Value) -> Verdict {
        let managed = ManagedFields::of(live);
        let rules = self.for_object(live);
        let mut d = desired.clone();
        let mut l = live.clone();
        normalise(&mut d);
        normalise(&mut l);
        for rule in &rules {
            for p in &rule.json_pointers {
                remove_pointer(&mut d, p);
                remove_pointer(&mut l, p);
            }
        }
        let kind = l
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let mut walk = Walk {
            kind: &kind,
            managed: managed.as_ref(),
            ignored_managers: rules
                .iter()
                .flat_map(|r| r.managed_fields_managers.iter().map(String::as_str))
                .collect(),
            rules: self,
            setters: BTreeSet::new(),
        };
        let mut path = Vec::new();
        let mut ancestors = Vec::new();
        let (git, seen) = walk.pair(&d, &l, &mut path, &mut ancestors);
        if git == seen {
            return Verdict::InSync;
        }
        let live_label = if walk.setters.is_empty() {
            "live".to_owned()
        } else {
            format!(
                "live (set by {})",
                walk.setters.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        Verdict::Drifted(unified_diff(&git, &seen, &live_label))
    }
}

/// A unified diff of two values as YAML (kustomize's formatting), three lines of context.
fn unified_diff(git: &Value, live: &Value, live_label: &str) -> String {
    let a = kustomize::emit::emit_document(git);
    let b = kustomize::emit::emit_document(live);
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(3)
        .header("git", live_label)
        .to_string()
}

struct Walk<'a> {
    kind: &'a str,
    managed: Option<&'a ManagedFields>,
    ignored_managers: Vec<&'a str>,
    rules: &'a DriftRules,
    /// Managers outside the GitOps flow behind the differences found.
    setters: BTreeSet<String>,
}

impl<'a> Walk<'a> {
    /// The owners of a node that count: neither trusted nor ignored.
    fn foreign_owners(&self, path: &[Step<'_>]) -> Vec<(String, Ownership)> {
        let Some(m) = self.managed else {
            return Vec::new();
        };
        m.managers_at(path)
            .into_iter()
            .filter(|(name, _)| !self.rules.trusted(name) && !self.ignored_managers.contains(name))
            .map(|(name, how)| (name.to_owned(), how))
            .collect()
    }

    /// Whether a manager whose fields the team ignores owns the node.
    fn owned_by_ignored(&self, path: &[Step<'_>]) -> bool {
        !self.ignored_managers.is_empty()
            && self.managed.is_some_and(|m| {
                m.managers_at(path)
                    .iter()
                    .any(|(name, _)| self.ignored_managers.contains(name))
            })
    }

    /// Records who changed a field Git sets (the managers owning it, the applier left out).
    fn note_setters(&mut self, path: &[Step<'_>]) {
        if let Some(m) = self.managed {
            for (name, _) in m.managers_at(path) {
                if !self.rules.is_gitops(name) {
                    self.setters.insert(name.to_owned());
                }
            }
        }
    }

    /// The Git view and the live view of a field Git sets.
    fn pair(
        &mut self,
        d: &'a Value,
        l: &'a Value,
        path: &mut Vec<Step<'a>>,
        ancestors: &mut Vec<&'a Value>,
    ) -> (Value, Value) {
        match (d, l) {
            (Value::Object(dm), Value::Object(lm)) => {
                let mut git = Map::new();
                let mut seen = Map::new();
                ancestors.push(l);
                for (k, dv) in dm {
                    path.push(Step::Field(k));
                    match lm.get(k) {
                        Some(lv) => {
                            let (a, b) = self.pair(dv, lv, path, ancestors);
                            git.insert(k.clone(), a);
                            seen.insert(k.clone(), b);
                        }
                        // The API server omits nulls and empty maps and lists.
                        None if is_empty(dv) => {}
                        None => {
                            git.insert(k.clone(), dv.clone());
                        }
                    }
                    path.pop();
                }
                for (k, lv) in lm {
                    if dm.contains_key(k) {
                        continue;
                    }
                    path.push(Step::Field(k));
                    if let Some(v) = self.live_only(lv, path, ancestors) {
                        seen.insert(k.clone(), v);
                    }
                    path.pop();
                }
                ancestors.pop();
                (Value::Object(git), Value::Object(seen))
            }
            (Value::Array(da), Value::Array(la)) => self.pair_lists(da, la, l, path, ancestors),
            _ => {
                let equal = d == l
                    || same_scalar(d, l)
                    || is_quantity_path(path) && same_quantity(d, l)
                    || is_empty(d) && is_empty(l);
                if equal || self.owned_by_ignored(path) {
                    (d.clone(), d.clone())
                } else {
                    self.note_setters(path);
                    (d.clone(), l.clone())
                }
            }
        }
    }

    fn pair_lists(
        &mut self,
        da: &'a [Value],
        la: &'a [Value],
        l: &'a Value,
        path: &mut Vec<Step<'a>>,
        ancestors: &mut Vec<&'a Value>,
    ) -> (Value, Value) {
        let field = match path.last() {
            Some(Step::Field(f)) => *f,
            _ => "",
        };
        let elements: Vec<&Value> = da.iter().chain(la).collect();
        let mut git = Vec::with_capacity(da.len());
        let mut seen = Vec::with_capacity(la.len());
        ancestors.push(l);
        match list_keys(field, &elements) {
            Some(keys) => {
                let mut used = vec![false; la.len()];
                for dv in da {
                    let found = la
                        .iter()
                        .enumerate()
                        .find(|(j, lv)| !used[*j] && same_key(keys, dv, lv));
                    match found {
                        Some((j, lv)) => {
                            used[j] = true;
                            path.push(Step::Item(lv, j));
                            let (a, b) = self.pair(dv, lv, path, ancestors);
                            path.pop();
                            git.push(a);
                            seen.push(b);
                        }
                        None => git.push(dv.clone()),
                    }
                }
                for (j, lv) in la.iter().enumerate() {
                    if used[j] {
                        continue;
                    }
                    path.push(Step::Item(lv, j));
                    if let Some(v) = self.live_only(lv, path, ancestors) {
                        seen.push(v);
                    }
                    path.pop();
                }
            }
            None => {
                for i in 0..da.len().max(la.len()) {
                    match (da.get(i), la.get(i)) {
                        (Some(dv), Some(lv)) => {
                            path.push(Step::Item(lv, i));
                            let (a, b) = self.pair(dv, lv, path, ancestors);
                            path.pop();
                            git.push(a);
                            seen.push(b);
                        }
                        (Some(dv), None) => git.push(dv.clone()),
                        (None, Some(lv)) => {
                            // An atomic list is replaced whole: an element Git does not have is
                            // a difference, whoever wrote it.
                            path.push(Step::Item(lv, i));
                            self.note_setters(path);
                            path.pop();
                            seen.push(lv.clone());
                        }
                        (None, None) => {}
                    }
                }
            }
        }
        ancestors.pop();
        (Value::Array(git), Value::Array(seen))
    }

    /// What of a live field Git does not set is drift (`None`: nothing).
    fn live_only(
        &mut self,
        l: &'a Value,
        path: &mut Vec<Step<'a>>,
        ancestors: &mut Vec<&'a Value>,
    ) -> Option<Value> {
        if is_default(self.kind, path, l, ancestors) {
            return None;
        }
        if self.managed.is_some() {
            let owners = self.foreign_owners(path);
            if owners.is_empty() {
                return None;
            }
            if owners.iter().any(|(_, how)| *how == Ownership::Whole) || !is_container(l) {
                self.setters.extend(owners.into_iter().map(|(n, _)| n));
                return Some(l.clone());
            }
        } else if l.is_null() {
            return None;
        }
        // Look deeper: only the parts that are drift.
        match l {
            Value::Object(m) => {
                let mut kept = Map::new();
                ancestors.push(l);
                for (k, v) in m {
                    path.push(Step::Field(k));
                    if let Some(v) = self.live_only(v, path, ancestors) {
                        kept.insert(k.clone(), v);
                    }
                    path.pop();
                }
                ancestors.pop();
                // An empty map says something only when a manager is known to have made it.
                (!kept.is_empty() || m.is_empty() && self.managed.is_some())
                    .then_some(Value::Object(kept))
            }
            Value::Array(a) => {
                let mut kept = Vec::new();
                ancestors.push(l);
                for (j, v) in a.iter().enumerate() {
                    path.push(Step::Item(v, j));
                    if let Some(v) = self.live_only(v, path, ancestors) {
                        kept.push(v);
                    }
                    path.pop();
                }
                ancestors.pop();
                (!kept.is_empty()).then_some(Value::Array(kept))
            }
            other => Some(other.clone()),
        }
    }
}

fn is_container(v: &Value) -> bool {
    v.is_object() || v.is_array()
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}
