//! The `target` selector of `patches` (and of replacements' `select`/`reject`), as Kustomize's
//! `types.Selector`: group, version, kind, name and namespace as anchored regular expressions,
//! plus label and annotation selectors.

use kube_basics::selector::LabelSelector;
use regex::Regex;
use serde_json::Value;

use super::strategic::scalar_string;
use crate::Resource;

/// A `target` of `patches` (and of replacements' `select`/`reject`): group, version, kind, name
/// and namespace are regular expressions anchored as Kustomize anchors them (`^(?:…)$`; checked
/// against kubectl: `kind: "Config.*"` selects ConfigMaps, `name: web` does not select
/// `web-1`), label and annotation selectors in Kubernetes selector syntax.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    label_selector: LabelSelector,
    annotation_selector: LabelSelector,
    /// Patches match the namespace `default` for objects without one (Kustomize's effective
    /// namespace); replacements match the namespace as written.
    raw_namespace: bool,
}

fn anchored(field: &str, pattern: &str) -> Result<Option<Regex>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|e| format!("`{field}`: invalid regular expression `{pattern}`: {e}"))
}

impl Selector {
    /// Reads a kustomize `target`/`select`/`reject` map.
    pub fn from_value(v: &Value) -> Result<Selector, String> {
        let Value::Object(m) = v else {
            return Err("a target selector must be a map".to_owned());
        };
        let mut sel = Selector::default();
        for (k, val) in m {
            let text = match val {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Bool(_) | Value::Number(_) => scalar_string(val),
                _ => return Err(format!("`{k}` of a target selector must be a string")),
            };
            match k.as_str() {
                "group" => sel.group = anchored("group", &text)?,
                "version" => sel.version = anchored("version", &text)?,
                "kind" => sel.kind = anchored("kind", &text)?,
                "name" => sel.name = anchored("name", &text)?,
                "namespace" => sel.namespace = anchored("namespace", &text)?,
                "labelSelector" => sel.label_selector = LabelSelector::parse(&text)?,
                "annotationSelector" => sel.annotation_selector = LabelSelector::parse(&text)?,
                other => {
                    return Err(format!(
                        "unknown field `{other}` in a target selector (expected group, version, \
                         kind, name, namespace, labelSelector or annotationSelector)"
                    ));
                }
            }
        }
        Ok(sel)
    }

    /// The same selector for replacements, which compare namespaces as written.
    pub fn with_raw_namespace(mut self) -> Selector {
        self.raw_namespace = true;
        self
    }

    /// Whether the selector has an id part (group, version, kind, name or namespace).
    pub fn has_id(&self) -> bool {
        self.group.is_some()
            || self.version.is_some()
            || self.kind.is_some()
            || self.name.is_some()
            || self.namespace.is_some()
    }

    /// Whether the selector has a label or annotation selector.
    pub fn has_metadata_selectors(&self) -> bool {
        !self.label_selector.is_empty() || !self.annotation_selector.is_empty()
    }

    /// Whether the id part selects `r` (its current or original name and namespace).
    pub fn matches_id(&self, r: &Resource) -> bool {
        let (group, version) = r.group_version();
        let fits = |re: &Option<Regex>, text: &str| re.as_ref().is_none_or(|re| re.is_match(text));
        if !fits(&self.group, group) || !fits(&self.version, version) || !fits(&self.kind, r.kind())
        {
            return false;
        }
        if let Some(re) = &self.namespace {
            let effective = |ns: Option<&str>| -> String {
                if self.raw_namespace {
                    ns.unwrap_or("").to_owned()
                } else if r.is_cluster_scoped() {
                    String::new()
                } else {
                    ns.filter(|n| !n.is_empty()).unwrap_or("default").to_owned()
                }
            };
            if !re.is_match(&effective(r.original_namespace.as_deref()))
                && !re.is_match(&effective(r.namespace()))
            {
                return false;
            }
        }
        fits(&self.name, &r.original_name) || fits(&self.name, r.name())
    }

    /// Whether the id part selects any id `r` has had: its current one, every previous one
    /// (before each prefix, suffix, namespace or kind change) and its original one, each with
    /// its own kind, name and namespace. Replacements select and reject this way; patches
    /// compare only the original and current name ([`Self::matches_id`]).
    pub fn matches_any_id(&self, r: &Resource) -> bool {
        let (group, version) = r.group_version();
        let fits = |re: &Option<Regex>, text: &str| re.as_ref().is_none_or(|re| re.is_match(text));
        if !fits(&self.group, group) || !fits(&self.version, version) {
            return false;
        }
        let cluster = r.is_cluster_scoped();
        let namespace_fits = |ns: Option<&str>| {
            let Some(re) = &self.namespace else {
                return true;
            };
            let text = if self.raw_namespace {
                ns.unwrap_or("")
            } else if cluster {
                ""
            } else {
                ns.filter(|n| !n.is_empty()).unwrap_or("default")
            };
            re.is_match(text)
        };
        r.ids().any(|(kind, name, namespace)| {
            fits(&self.kind, kind) && fits(&self.name, name) && namespace_fits(namespace)
        })
    }

    /// [`Self::matches_any_id`] and the label and annotation selectors.
    pub fn matches_any(&self, r: &Resource) -> bool {
        self.matches_any_id(r) && self.matches_metadata(r)
    }

    /// Whether the label and annotation selectors select `r`.
    pub fn matches_metadata(&self, r: &Resource) -> bool {
        let labels = r
            .value
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let annotations = r
            .value
            .pointer("/metadata/annotations")
            .and_then(Value::as_object);
        self.label_selector.matches(labels) && self.annotation_selector.matches(annotations)
    }

    /// Whether the selector selects `r`.
    pub fn matches(&self, r: &Resource) -> bool {
        self.matches_id(r) && self.matches_metadata(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors() {
        let origin = crate::Origin {
            file: std::sync::Arc::from(std::path::Path::new("x.yaml")),
            document: 0,
        };
        let r = Resource::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-1", "labels": {"tier": "canary"}}}),
            origin,
        );
        let sel = |v: Value| Selector::from_value(&v).unwrap().matches(&r);
        assert!(sel(json!({"kind": "Deployment", "name": "web-.*"})));
        assert!(!sel(json!({"name": "web"})));
        assert!(sel(json!({"group": "apps", "namespace": "default"})));
        assert!(sel(
            json!({"labelSelector": "tier in (canary, prod),!gone"})
        ));
        assert!(!sel(json!({"labelSelector": "tier!=canary"})));
        assert!(!sel(json!({"version": "v2"})));
        assert!(sel(json!({"kind": "Deploy.*", "version": "v.*"})));
        assert!(Selector::from_value(&json!({"bogus": "x"})).is_err());
    }
}
