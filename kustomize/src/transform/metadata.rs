//! The metadata transformers: `namespace`, `namePrefix`/`nameSuffix`, `labels`/`commonLabels` and
//! `commonAnnotations`, as Kustomize's namespace, prefix-suffix, label and annotation
//! transformers apply them.

use serde_json::{Map, Value};

use std::borrow::Cow;

use super::field_spec::{
    FieldSpec, common_annotation_specs, common_label_specs, metadata_label_specs, set_pairs,
    split_path, template_label_specs, visit,
};
use crate::Resource;
use crate::kustomization::LabelSpec;
use std::sync::LazyLock;

/// `namespace`: every namespaced object moves to `ns`, and every `Namespace` object is renamed
/// to `ns` (as kustomize does); a RoleBinding's or ClusterRoleBinding's subject named `default`
/// gets `ns` too (kustomize's rule for the default ServiceAccount; other subjects follow the
/// account they name in the name-reference fix-up). Every object remembers its previous id.
/// Two objects ending with the same id is an error.
pub fn namespace(resources: &mut [Resource], ns: &str) -> Result<(), String> {
    for r in resources.iter_mut() {
        if r.value.as_object().is_none_or(|m| m.is_empty()) {
            continue;
        }
        r.store_previous_id();
        let key = if r.kind() == "Namespace" && r.api_version() == "v1" {
            Some("name")
        } else if r.is_cluster_scoped() {
            None
        } else {
            Some("namespace")
        };
        if let Some(key) = key {
            if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
                md.insert(key.into(), Value::String(ns.to_owned()));
            } else if let Value::Object(m) = &mut r.value {
                let mut md = Map::new();
                md.insert(key.into(), Value::String(ns.to_owned()));
                m.insert("metadata".into(), Value::Object(md));
            }
        }
        if let Some((path, create)) = namespace_field(r) {
            visit(&mut r.value, path, create, &mut |leaf| {
                *leaf = Value::String(ns.to_owned());
            });
        }
        if matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding")
            && let Some(Value::Array(subjects)) = r.value.get_mut("subjects")
        {
            for s in subjects {
                if let Value::Object(m) = s
                    && m.get("name").and_then(Value::as_str) == Some("default")
                {
                    m.insert("namespace".into(), Value::String(ns.to_owned()));
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in resources.iter() {
        let id = r.id();
        if !seen.insert(id.clone()) {
            return Err(format!(
                "namespace transformation produces ID conflict: two objects become {id}"
            ));
        }
    }
    Ok(())
}

/// The namespace field, besides `metadata.namespace`, that `namespace` sets in `r` (kustomize's
/// built-in field specs), and whether it is created when missing: an APIService's service
/// (created), a CustomResourceDefinition's conversion webhook service (only when present).
pub(crate) fn namespace_field(r: &Resource) -> Option<(&'static [String], bool)> {
    static API_SERVICE: LazyLock<Vec<String>> =
        LazyLock::new(|| split_path("spec/service/namespace"));
    static CRD: LazyLock<Vec<String>> =
        LazyLock::new(|| split_path("spec/conversion/webhook/clientConfig/service/namespace"));
    match (r.kind(), r.group_version().0) {
        ("APIService", "apiregistration.k8s.io") => Some((&API_SERVICE, true)),
        ("CustomResourceDefinition", "apiextensions.k8s.io") => Some((&CRD, false)),
        _ => None,
    }
}

/// Whether `namePrefix`/`nameSuffix` leave the object alone (by the kind it was loaded with):
/// `Namespace`, `CustomResourceDefinition` and `APIService`.
pub(crate) fn keeps_its_name(r: &Resource) -> bool {
    match r.original_kind() {
        "Namespace" | "CustomResourceDefinition" => true,
        "APIService" => r.group_version().0 == "apiregistration.k8s.io",
        _ => false,
    }
}

/// `namePrefix` / `nameSuffix`. Each renamed object remembers its previous id and the prefix
/// and suffix it was given (name references prefer objects renamed like the referrer).
pub fn prefix_suffix(resources: &mut [Resource], prefix: &str, suffix: &str) {
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        if keeps_its_name(r) {
            continue;
        }
        if !prefix.is_empty() {
            r.prefixes.push(prefix.to_owned());
        }
        if !suffix.is_empty() {
            r.suffixes.push(suffix.to_owned());
        }
        r.store_previous_id();
        let name = format!("{prefix}{}{suffix}", r.name());
        if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
            md.insert("name".into(), Value::String(name));
        }
    }
}

/// A `PrefixSuffixTransformer` (or `PrefixTransformer`, `SuffixTransformer`) config with its own
/// field specs, as kustomize's prefix and suffix filters apply it: every string at a spec's path
/// (created as `prefix + suffix` when the spec says `create`) gets the prefix and the suffix; a
/// `metadata/name` spec renames the object (it remembers its previous id and the prefix and
/// suffix, for name references). `Namespace`, `CustomResourceDefinition` and `APIService` keep
/// everything, as with `namePrefix`.
pub fn prefix_suffix_with_specs(
    resources: &mut [Resource],
    prefix: &str,
    suffix: &str,
    specs: &[FieldSpec],
) {
    for r in resources.iter_mut() {
        if keeps_its_name(r) {
            continue;
        }
        for spec in specs {
            // kustomize selects by the id the object was loaded with
            if !spec_matches_original(spec, r) {
                continue;
            }
            if spec.path.len() == 2 && spec.path[0] == "metadata" && spec.path[1] == "name" {
                if !prefix.is_empty() {
                    r.prefixes.push(prefix.to_owned());
                }
                if !suffix.is_empty() {
                    r.suffixes.push(suffix.to_owned());
                }
                r.store_previous_id();
            }
            visit(
                &mut r.value,
                &spec.path,
                spec.create,
                &mut |leaf| match leaf {
                    Value::String(s) => *s = format!("{prefix}{s}{suffix}"),
                    Value::Null => *leaf = Value::String(format!("{prefix}{suffix}")),
                    _ => {}
                },
            );
        }
    }
}

/// Whether `spec` selects `r` by the kind it was loaded with (and its group and version).
fn spec_matches_original(spec: &FieldSpec, r: &Resource) -> bool {
    let (g, v) = r.group_version();
    spec.kind.as_deref().is_none_or(|k| k == r.original_kind())
        && spec.group.as_deref().is_none_or(|x| x == g)
        && spec.version.as_deref().is_none_or(|x| x == v)
}

/// Which RoleBinding and ClusterRoleBinding subjects a `NamespaceTransformer` config moves
/// (`setRoleBindingSubjects`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubjectMode {
    /// `defaultOnly` (the default): subjects named `default`.
    DefaultOnly,
    /// `allServiceAccounts`: subjects of kind ServiceAccount.
    AllServiceAccounts,
    /// `none`.
    None,
}

impl SubjectMode {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "" | "defaultOnly" => Ok(Self::DefaultOnly),
            "allServiceAccounts" => Ok(Self::AllServiceAccounts),
            "none" => Ok(Self::None),
            other => Err(format!(
                "invalid value {other:?} for setRoleBindingSubjects: must be one of \
                 \"defaultOnly\", \"none\" or \"allServiceAccounts\""
            )),
        }
    }
}

/// A `NamespaceTransformer` config, as kustomize's namespace filter applies it:
/// `metadata.namespace` of every namespaced object (always, whatever the field specs say), the
/// RoleBinding subjects `mode` selects, then the config's other field specs (a `metadata/name`
/// spec only on objects of apiVersion `v1`, as for a `Namespace`). With `unset_only`, only
/// missing or empty fields are set. Every object remembers its previous id; two objects ending
/// with one id is an error.
pub fn namespace_with_specs(
    resources: &mut [Resource],
    ns: &str,
    specs: &[FieldSpec],
    unset_only: bool,
    mode: SubjectMode,
) -> Result<(), String> {
    if ns.is_empty() {
        return Ok(());
    }
    let set = |leaf: &mut Value| {
        let empty = match leaf {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        };
        if !unset_only || empty {
            *leaf = Value::String(ns.to_owned());
        }
    };
    for r in resources.iter_mut() {
        if r.value.as_object().is_none_or(|m| m.is_empty()) {
            continue;
        }
        r.store_previous_id();
        if !r.is_cluster_scoped() {
            let path = ["metadata".to_owned(), "namespace".to_owned()];
            visit(&mut r.value, &path, true, &mut |leaf| set(leaf));
        }
        let binding = matches!(r.kind(), "RoleBinding" | "ClusterRoleBinding");
        if binding
            && mode != SubjectMode::None
            && let Some(Value::Array(subjects)) = r.value.get_mut("subjects")
        {
            for s in subjects {
                let Value::Object(m) = s else { continue };
                let selected = match mode {
                    SubjectMode::DefaultOnly => {
                        m.get("name").and_then(Value::as_str) == Some("default")
                    }
                    _ => m.get("kind").and_then(Value::as_str) == Some("ServiceAccount"),
                };
                if selected {
                    let slot = m.entry("namespace").or_insert(Value::Null);
                    set(slot);
                }
            }
        }
        let v1 = r.api_version() == "v1";
        for spec in specs {
            let p: Vec<&str> = spec.path.iter().map(String::as_str).collect();
            if p == ["metadata", "namespace"]
                || (p == ["metadata", "name"] && !v1)
                || (binding
                    && p == ["subjects", "namespace"]
                    && matches!(
                        spec.kind.as_deref(),
                        Some("RoleBinding" | "ClusterRoleBinding")
                    ))
                || !spec.matches(r)
            {
                continue;
            }
            visit(&mut r.value, &spec.path, spec.create, &mut |leaf| set(leaf));
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in resources.iter() {
        let id = r.id();
        if !seen.insert(id.clone()) {
            return Err(format!(
                "namespace transformation produces ID conflict: two objects become {id}"
            ));
        }
    }
    Ok(())
}

/// `labels` entries, then `commonLabels` (kustomize's order).
pub fn labels(
    resources: &mut [Resource],
    specs: &[LabelSpec],
    common: &[(String, String)],
) -> Result<(), String> {
    for l in specs {
        set_pairs(resources, &label_specs(l)?, &l.pairs);
    }
    set_pairs(resources, common_label_specs(), common);
    Ok(())
}

/// Where a `labels` entry writes: its own field specs, then kustomize's for selectors, templates
/// or metadata only.
pub(crate) fn label_specs(l: &LabelSpec) -> Result<Cow<'static, [FieldSpec]>, String> {
    let defaults = if l.include_selectors {
        common_label_specs()
    } else if l.include_templates {
        template_label_specs()
    } else {
        metadata_label_specs()
    };
    if l.fields.is_empty() {
        return Ok(Cow::Borrowed(defaults));
    }
    let mut fss: Vec<FieldSpec> = l
        .fields
        .iter()
        .map(FieldSpec::from_value)
        .collect::<Result<_, _>>()?;
    fss.extend(defaults.iter().cloned());
    Ok(Cow::Owned(fss))
}

/// `commonAnnotations`.
pub fn annotations(resources: &mut [Resource], pairs: &[(String, String)]) {
    set_pairs(resources, common_annotation_specs(), pairs);
}

/// kustomize holds an object's annotations as a map of strings and rewrites them so at the end
/// of a build: a value that is still not a string (set by a JSON patch, a replacement or a
/// merge) becomes its text (`true`, `5`, `null`), a mapping or list becomes `""`, and an empty (or null)
/// `annotations` map is dropped. Values read from files already carry the text written there
/// (see `load`).
pub(crate) fn stringify_annotations(resources: &mut [Resource]) {
    for r in resources {
        let Some(Value::Object(md)) = r.value.get_mut("metadata") else {
            continue;
        };
        if md.get("annotations").is_some_and(Value::is_null) {
            md.remove("annotations");
            continue;
        }
        let Some(Value::Object(annotations)) = md.get_mut("annotations") else {
            continue;
        };
        if annotations.is_empty() {
            md.remove("annotations");
            continue;
        }
        for v in annotations.values_mut() {
            let text = match v {
                Value::String(_) => continue,
                Value::Null => "null".to_owned(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                Value::Array(_) | Value::Object(_) => String::new(),
            };
            *v = Value::String(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::test_support::*;
    use serde_json::json;

    #[test]
    fn labels_with_and_without_selectors() {
        let mut rs = vec![deployment()];
        let spec = LabelSpec {
            pairs: vec![("site".into(), "s1".into())],
            include_templates: true,
            ..LabelSpec::default()
        };
        labels(&mut rs, &[spec], &[]).unwrap();
        assert_eq!(rs[0].value["metadata"]["labels"]["site"], "s1");
        assert_eq!(
            rs[0].value["spec"]["template"]["metadata"]["labels"]["site"],
            "s1"
        );
        assert!(
            rs[0].value["spec"]["selector"]["matchLabels"]
                .get("site")
                .is_none()
        );
        labels(&mut rs, &[], &[("team".into(), "t".into())]).unwrap();
        assert_eq!(rs[0].value["spec"]["selector"]["matchLabels"]["team"], "t");
    }

    #[test]
    fn namespace_skips_cluster_scoped() {
        let mut rs = vec![
            deployment(),
            res(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}}),
            ),
        ];
        namespace(&mut rs, "edge").unwrap();
        assert_eq!(rs[0].namespace(), Some("edge"));
        assert_eq!(rs[1].namespace(), None);
    }
}
