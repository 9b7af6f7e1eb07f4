//! `vars` (deprecated by kustomize, still common): a var names a field of one object
//! (`objref` + `fieldref.fieldpath`, `metadata.name` by default); `$(NAME)` in the fields of
//! kustomize's built-in `varReference` configuration (container args, command, env values and
//! mount paths, Ingress hosts, Service ports, labels and annotations, ...) becomes that field's
//! value at the end of the build, after names were prefixed and references fixed.
//!
//! As in kustomize (measured against kubectl, Kustomize v5.8.1):
//! - a var is attached, in the kustomization declaring it and after its transformers, to the
//!   one object its `objref` names by any of its ids (apiVersion, kind and name must match
//!   exactly; the namespace too when given); none is an error ("cannot be mapped"), several too;
//! - two vars of one name with different definitions are an error ("already encountered");
//! - `$(NAME)` alone takes the value with its type (a port stays a number); inside text it is
//!   written as text; `$$` is a `$`; an unknown name or a mapping/list value stays `$(NAME)`;
//! - only text is replaced; a list holding anything else under a var field is an error.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use serde_json::Value;

use crate::Resource;
use crate::transform::{FieldSpec, visit};

/// One `vars` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub name: String,
    pub group: String,
    pub version: String,
    pub kind: String,
    pub object: String,
    pub namespace: String,
    pub field_path: String,
}

impl Var {
    /// A `vars` entry as written in a kustomization.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let m = v
            .as_object()
            .ok_or_else(|| "each var must be a mapping".to_owned())?;
        let text = |m: &serde_json::Map<String, Value>, key: &str| -> Result<String, String> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(_) => Err(format!("`{key}` must be a string")),
            }
        };
        for key in m.keys() {
            if !["name", "objref", "fieldref"].contains(&key.as_str()) {
                return Err(format!("unknown field {key:?} in a var"));
            }
        }
        let name = text(m, "name")?;
        let objref = match m.get("objref") {
            Some(Value::Object(o)) => o.clone(),
            None | Some(Value::Null) => serde_json::Map::new(),
            Some(_) => return Err("`objref` must be a mapping".into()),
        };
        for key in objref.keys() {
            if ![
                "kind",
                "name",
                "namespace",
                "apiVersion",
                "group",
                "version",
            ]
            .contains(&key.as_str())
            {
                return Err(format!("unknown field {key:?} in a var's objref"));
            }
        }
        let (mut group, mut version) = (text(&objref, "group")?, text(&objref, "version")?);
        let api = text(&objref, "apiVersion")?;
        if !api.is_empty() {
            match api.split_once('/') {
                Some((g, v)) if !v.contains('/') => (group, version) = (g.to_owned(), v.to_owned()),
                Some(_) => {}
                None => version = api,
            }
        }
        let field_path = match m.get("fieldref") {
            Some(Value::Object(f)) => text(f, "fieldpath")?,
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err("`fieldref` must be a mapping".into()),
        };
        Ok(Var {
            name,
            group,
            version,
            kind: text(&objref, "kind")?,
            object: text(&objref, "name")?,
            namespace: text(&objref, "namespace")?,
            field_path: if field_path.is_empty() {
                "metadata.name".into()
            } else {
                field_path
            },
        })
    }

    /// As kustomize prints a var in its messages: `{NAME Kind.version.group {fieldpath}}`.
    fn display(&self) -> String {
        let or = |s: &str, none: &str| {
            if s.is_empty() {
                none.to_owned()
            } else {
                s.to_owned()
            }
        };
        format!(
            "{{{} {}.{}.{} {{{}}}}}",
            self.name,
            self.kind,
            or(&self.version, "[noVer]"),
            or(&self.group, "[noGrp]"),
            self.field_path
        )
    }
}

/// Attaches the vars a kustomization declares to the objects they name (after its
/// transformers), and refuses two different vars of one name among everything accumulated.
pub fn attach(resources: &mut [Resource], vars: &[Arc<Var>]) -> Result<(), String> {
    for var in vars {
        let cluster = kube_basics::kinds::kustomize_cluster_scoped(
            &if var.group.is_empty() {
                var.version.clone()
            } else {
                format!("{}/{}", var.group, var.version)
            },
            &var.kind,
        );
        let with_ns = !var.namespace.is_empty() || cluster;
        let want_ns = if cluster {
            crate::resource::CLUSTER_SCOPE
        } else if var.namespace.is_empty() {
            "default"
        } else {
            var.namespace.as_str()
        };
        let mut hits = Vec::new();
        for (i, r) in resources.iter().enumerate() {
            if r.group_version() != (var.group.as_str(), var.version.as_str()) {
                continue;
            }
            let current = r.kind() == var.kind
                && r.name() == var.object
                && (!with_ns || r.effective_namespace() == want_ns);
            let earlier = r.prev_ids.iter().any(|id| {
                id.kind == var.kind
                    && id.name == var.object
                    && (!with_ns || id.namespace == want_ns)
            });
            if current || earlier {
                hits.push(i);
            }
        }
        match hits.as_slice() {
            [] => {
                return Err(format!(
                    "var '{}' cannot be mapped to a field in the set of known resources",
                    var.display()
                ));
            }
            [i] => resources[*i].vars.push(var.clone()),
            _ => {
                return Err(format!(
                    "found {} resId matches for var {} (unable to disambiguate)",
                    hits.len(),
                    var.display()
                ));
            }
        }
    }
    let mut seen: HashMap<&str, &Var> = HashMap::new();
    for r in resources.iter() {
        for var in &r.vars {
            match seen.get(var.name.as_str()) {
                Some(other) if **other != **var => {
                    return Err(format!("var '{}' already encountered", var.name));
                }
                _ => {
                    seen.insert(&var.name, var);
                }
            }
        }
    }
    Ok(())
}

/// The value of `path` (`spec.ports[0].port`, `data.mode`) in `v`.
fn field_value<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let mut node = v;
    for part in path.split('.') {
        let (key, index) = match part.strip_suffix(']').and_then(|p| p.rsplit_once('[')) {
            Some((key, i)) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) => {
                (key, Some(i))
            }
            _ => (part, None),
        };
        if !key.is_empty() {
            node = lookup(node, key)?;
        }
        if let Some(i) = index {
            node = lookup(node, i)?;
        }
    }
    (!node.is_null()).then_some(node)
}

fn lookup<'v>(node: &'v Value, key: &str) -> Option<&'v Value> {
    match node {
        Value::Object(m) => m.get(key),
        Value::Array(items) => items.get(key.parse::<usize>().ok()?),
        _ => None,
    }
}

/// kustomize's built-in `varReference` field specs.
pub(crate) fn var_reference_specs() -> &'static [FieldSpec] {
    static SPECS: LazyLock<Vec<FieldSpec>> = LazyLock::new(|| {
        let mut v = Vec::new();
        let containers = [
            "containers/args",
            "containers/command",
            "containers/env/value",
            "containers/volumeMounts/mountPath",
            "initContainers/args",
            "initContainers/command",
            "initContainers/env/value",
            "initContainers/volumeMounts/mountPath",
        ];
        for (kind, base, nfs) in [
            (
                "CronJob",
                "spec/jobTemplate/spec/template/spec",
                "spec/jobTemplate/spec/template/volumes/nfs/server",
            ),
            (
                "DaemonSet",
                "spec/template/spec",
                "spec/template/spec/volumes/nfs/server",
            ),
            (
                "Deployment",
                "spec/template/spec",
                "spec/template/spec/volumes/nfs/server",
            ),
            (
                "Job",
                "spec/template/spec",
                "spec/template/spec/volumes/nfs/server",
            ),
            ("Pod", "spec", "spec/volumes/nfs/server"),
            (
                "ReplicaSet",
                "spec/template/spec",
                "spec/template/spec/volumes/nfs/server",
            ),
            (
                "StatefulSet",
                "spec/template/spec",
                "spec/volumeClaimTemplates/spec/nfs/server",
            ),
        ] {
            for p in containers {
                v.push(FieldSpec::new("", "", kind, &format!("{base}/{p}"), false));
            }
            v.push(FieldSpec::new("", "", kind, nfs, false));
        }
        v.push(FieldSpec::new(
            "",
            "",
            "Deployment",
            "spec/template/metadata/annotations",
            false,
        ));
        for p in ["spec/rules/host", "spec/tls/hosts", "spec/tls/secretName"] {
            v.push(FieldSpec::new("", "", "Ingress", p, false));
        }
        for p in ["spec/ports/port", "spec/ports/targetPort"] {
            v.push(FieldSpec::new("", "", "Service", p, false));
        }
        v.push(FieldSpec::new(
            "",
            "",
            "PersistentVolume",
            "spec/nfs/server",
            false,
        ));
        v.push(FieldSpec::any("metadata/labels", false));
        v.push(FieldSpec::any("metadata/annotations", false));
        v
    });
    &SPECS
}

/// Replaces `$(NAME)` in the var fields of every object with the value of the var (see the
/// module documentation). Run once, at the top, after name references were fixed.
/// `extra`: `varReference` field specs from custom configurations.
pub fn resolve(resources: &mut [Resource], extra: &[FieldSpec]) -> Result<(), String> {
    if resources.iter().all(|r| r.vars.is_empty()) {
        return Ok(());
    }
    // Each var's value, from the first object it is attached to (vars sorted by name).
    let mut vars: Vec<&Arc<Var>> = resources.iter().flat_map(|r| r.vars.iter()).collect();
    vars.sort_by(|a, b| a.name.cmp(&b.name));
    vars.dedup_by(|a, b| a.name == b.name);
    let mut values: HashMap<String, Value> = HashMap::new();
    for var in vars {
        let holder = resources
            .iter()
            .find(|r| r.vars.iter().any(|v| v.name == var.name))
            .expect("the var came from an object");
        let value = field_value(&holder.value, &var.field_path).ok_or_else(|| {
            format!(
                "field specified in var '{}' not found in corresponding resource",
                var.display()
            )
        })?;
        values.insert(var.name.clone(), value.clone());
    }
    for r in resources.iter_mut() {
        for spec in var_reference_specs().iter().chain(extra) {
            if !spec.matches(r) {
                continue;
            }
            let mut result = Ok(());
            visit(&mut r.value, &spec.path, false, &mut |leaf| {
                if result.is_err() {
                    return;
                }
                match leaf {
                    Value::String(s) => *leaf = expand(s, &values),
                    Value::Object(m) => {
                        for v in m.values_mut() {
                            if let Value::String(s) = v {
                                *v = expand(s, &values);
                            }
                        }
                    }
                    Value::Array(items) => {
                        for item in items {
                            match item {
                                Value::String(s) => *item = expand(s, &values),
                                _ => {
                                    result = Err("invalid value type expect a string".to_owned());
                                    return;
                                }
                            }
                        }
                    }
                    _ => {}
                }
            });
            result.map_err(|e| {
                format!(
                    "considering field '{}' of object {}: {e}",
                    spec.path.join("/"),
                    r.id()
                )
            })?;
        }
    }
    Ok(())
}

/// The text of a var's value inside other text (Go's `%v`).
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// kustomize's `expansion.Expand`: `$(NAME)` → the var's value (with its type when it is the
/// whole input), `$$` → `$`, anything else as written.
fn expand(input: &str, values: &HashMap<String, Value>) -> Value {
    let mapped = |name: &str| -> Option<&Value> {
        values
            .get(name)
            .filter(|v| !matches!(v, Value::Object(_) | Value::Array(_)))
    };
    if !input.contains('$') {
        return Value::String(input.to_owned());
    }
    if let Some(name) = input.strip_prefix("$(").and_then(|s| s.strip_suffix(')'))
        && !name.contains(')')
    {
        return match mapped(name) {
            Some(v) => v.clone(),
            None => Value::String(input.to_owned()),
        };
    }
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut checkpoint = 0;
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] == b'$' && cursor + 1 < bytes.len() {
            out.push_str(&input[checkpoint..cursor]);
            let rest = &input[cursor + 1..];
            let advance = match rest.as_bytes()[0] {
                b'$' => {
                    out.push('$');
                    1
                }
                b'(' => match rest[1..].find(')') {
                    Some(end) => {
                        let name = &rest[1..=end];
                        match mapped(name) {
                            Some(v) => out.push_str(&text_of(v)),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        end + 2
                    }
                    None => {
                        out.push_str("$(");
                        1
                    }
                },
                _ => {
                    // `$` and the next character, as written.
                    let c = rest.chars().next().expect("not empty");
                    out.push('$');
                    out.push(c);
                    c.len_utf8()
                }
            };
            cursor += advance;
            checkpoint = cursor + 1;
        }
        cursor += 1;
    }
    if checkpoint < input.len() {
        out.push_str(&input[checkpoint..]);
    }
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expansion_as_kustomize() {
        let values: HashMap<String, Value> = [
            ("S".to_owned(), json!("s")),
            ("P".to_owned(), json!(8080)),
            ("M".to_owned(), json!({"a": 1})),
        ]
        .into_iter()
        .collect();
        assert_eq!(expand("$(S)", &values), json!("s"));
        assert_eq!(expand("$(P)", &values), json!(8080));
        assert_eq!(expand("a$(S)b$$(S)$(", &values), json!("asb$(S)$("));
        assert_eq!(expand("$(X) $(P)", &values), json!("$(X) 8080"));
        assert_eq!(expand("$(M)", &values), json!("$(M)"));
        assert_eq!(expand("x$", &values), json!("x$"));
        assert_eq!(expand("$a", &values), json!("$a"));
    }

    #[test]
    fn field_paths_with_indexes() {
        let v = json!({"spec": {"ports": [{"port": 80}]}, "data": {"k": "v"}});
        assert_eq!(field_value(&v, "spec.ports[0].port"), Some(&json!(80)));
        assert_eq!(field_value(&v, "data.k"), Some(&json!("v")));
        assert_eq!(field_value(&v, "metadata.namespace"), None);
    }
}
