//! Merge keys of the built-in kinds, as Kustomize v5's embedded OpenAPI schema (Kubernetes
//! v1.21) gives them to kyaml's `merge2`: for each kind and field, whether it is a list, which
//! keys its elements merge by, and the schema of its elements. Read from `schema.json`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
pub(super) struct FieldInfo {
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    list: bool,
    /// Present when the patch strategy is `merge`: the merge keys (empty for lists of primitives).
    merge: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SchemaTable {
    roots: HashMap<String, String>,
    defs: HashMap<String, HashMap<String, FieldInfo>>,
}

thread_local! {
    /// The schema a kustomization's `openapi.path` gave the build running on this thread
    /// (kustomize keeps it in a global: it replaces the built-in schema for every patch of the
    /// build, measured with kubectl).
    static CUSTOM: std::cell::Cell<Option<&'static SchemaTable>> =
        const { std::cell::Cell::new(None) };
}

/// The custom schema of the build on this thread, if any.
pub(crate) fn custom() -> Option<&'static SchemaTable> {
    CUSTOM.with(std::cell::Cell::get)
}

/// Sets (or clears) the custom schema of the build on this thread.
pub(crate) fn set_custom(t: Option<&'static SchemaTable>) {
    CUSTOM.with(|c| c.set(t));
}

/// A custom OpenAPI document (`definitions` with `x-kubernetes-group-version-kind`,
/// `x-kubernetes-patch-merge-key` and `x-kubernetes-patch-strategy`) as a schema table, parsed
/// once per distinct text and kept for the life of the process.
pub(crate) fn custom_table(text: &str) -> Result<&'static SchemaTable, String> {
    use std::sync::{LazyLock, Mutex};
    static SEEN: LazyLock<Mutex<HashMap<String, &'static SchemaTable>>> =
        LazyLock::new(Mutex::default);
    if let Some(t) = SEEN.lock().unwrap_or_else(|e| e.into_inner()).get(text) {
        return Ok(t);
    }
    let t: &'static SchemaTable = Box::leak(Box::new(parse_custom(text)?));
    SEEN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(text.to_owned(), t);
    Ok(t)
}

fn parse_custom(text: &str) -> Result<SchemaTable, String> {
    let v: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    } else {
        serde_saphyr::from_str_with_options(text, crate::kustomization::parse_options())
            .map_err(|e| e.to_string())?
    };
    let defs = v
        .get("definitions")
        .and_then(Value::as_object)
        .ok_or("an OpenAPI schema needs `definitions` (a mapping)")?;
    let mut t = SchemaTable {
        roots: HashMap::new(),
        defs: HashMap::new(),
    };
    for (name, d) in defs {
        for g in d
            .get("x-kubernetes-group-version-kind")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let s = |k: &str| g.get(k).and_then(Value::as_str).unwrap_or_default();
            let av = if s("group").is_empty() {
                s("version").to_owned()
            } else {
                format!("{}/{}", s("group"), s("version"))
            };
            t.roots.insert(format!("{av}/{}", s("kind")), name.clone());
        }
        convert_def(&mut t, name, d, 0);
    }
    Ok(t)
}

fn ref_name(v: &Value) -> Option<String> {
    let r = v.get("$ref")?.as_str()?;
    Some(r.strip_prefix("#/definitions/").unwrap_or(r).to_owned())
}

fn convert_def(t: &mut SchemaTable, name: &str, d: &Value, depth: usize) {
    let mut fields = HashMap::new();
    for (field, p) in d
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let list = p.get("type").and_then(Value::as_str) == Some("array");
        let target = if list { p.get("items") } else { Some(p) };
        let inline = format!("{name}.{field}");
        let reference = target.and_then(|x| {
            ref_name(x).or_else(|| {
                (x.get("properties").is_some() && depth < 64).then(|| {
                    convert_def(t, &inline, x, depth + 1);
                    inline.clone()
                })
            })
        });
        let merge = p
            .get("x-kubernetes-patch-strategy")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(',').any(|x| x.trim() == "merge"))
            .then(|| {
                p.get("x-kubernetes-patch-merge-key")
                    .and_then(Value::as_str)
                    .map(|k| vec![k.to_owned()])
                    .unwrap_or_default()
            });
        fields.insert(
            field.clone(),
            FieldInfo {
                reference,
                list,
                merge,
            },
        );
    }
    t.defs.insert(name.to_owned(), fields);
}

pub(super) fn table() -> &'static SchemaTable {
    if let Some(t) = custom() {
        return t;
    }
    builtin_table()
}

fn builtin_table() -> &'static SchemaTable {
    static TABLE: OnceLock<SchemaTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("schema.json"))
            .expect("schema.json is valid (checked by a unit test)")
    })
}

pub(super) type Def = HashMap<String, FieldInfo>;

/// What the schema says about the node being walked.
#[derive(Clone, Copy)]
pub(super) enum Sch {
    Unknown,
    Object(&'static Def),
    List {
        merge: Option<&'static [String]>,
        item: Option<&'static Def>,
    },
}

impl Sch {
    pub(super) fn root(api_version: &str, kind: &str) -> Sch {
        let t = table();
        t.roots
            .get(&format!("{api_version}/{kind}"))
            .and_then(|d| t.defs.get(d))
            .map_or(Sch::Unknown, Sch::Object)
    }

    pub(super) fn field(self, key: &str) -> Sch {
        let Sch::Object(def) = self else {
            return Sch::Unknown;
        };
        let Some(info) = def.get(key) else {
            return Sch::Unknown;
        };
        let t = table();
        let target = info.reference.as_deref().and_then(|r| t.defs.get(r));
        if info.list {
            Sch::List {
                merge: info.merge.as_deref(),
                item: target,
            }
        } else {
            target.map_or(Sch::Unknown, Sch::Object)
        }
    }

    pub(super) fn elements(self) -> Sch {
        match self {
            Sch::List {
                item: Some(def), ..
            } => Sch::Object(def),
            _ => Sch::Unknown,
        }
    }
}

/// kyaml looks up a schema for any map that carries `apiVersion` and `kind` when it has none.
pub(super) fn schema_for(sch: Sch, sources: [Option<&Value>; 2]) -> Sch {
    if !matches!(sch, Sch::Unknown) {
        return sch;
    }
    for v in sources.into_iter().flatten() {
        let av = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if !av.is_empty() && !kind.is_empty() {
            let s = Sch::root(av, kind);
            if !matches!(s, Sch::Unknown) {
                return s;
            }
        }
    }
    Sch::Unknown
}

/// The schema the strategic merge walks an object with, for the fuzz checks' model of it
/// (`kustomize::fuzzing`): which lists merge by keys, and by which.
#[cfg(feature = "fuzzing")]
#[derive(Clone, Copy)]
pub struct Schema(Sch);

#[cfg(feature = "fuzzing")]
impl Schema {
    /// No schema (a custom resource's fields, a field the schema does not know).
    pub fn unknown() -> Schema {
        Schema(Sch::Unknown)
    }

    /// The schema of the map `v` walked under `self`: when `self` says nothing, the built-in
    /// kind its `apiVersion` and `kind` name, as the merge looks it up.
    pub fn map(self, v: &Value) -> Schema {
        Schema(schema_for(self.0, [Some(v), None]))
    }

    /// The schema of a map's field.
    pub fn field(self, key: &str) -> Schema {
        Schema(self.0.field(key))
    }

    /// The schema of a list's elements.
    pub fn elements(self) -> Schema {
        Schema(self.0.elements())
    }

    /// For a list merged by keys, its keys (none: a list of scalars merged as a set); `None`
    /// for a list the patch replaces.
    pub fn merge_keys(self) -> Option<&'static [String]> {
        match self.0 {
            Sch::List { merge, .. } => merge,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn schema_table_parses() {
        assert!(table().roots.contains_key("apps/v1/Deployment"));
        let s = Sch::root("apps/v1", "Deployment")
            .field("spec")
            .field("template")
            .field("spec")
            .field("containers");
        assert!(matches!(s, Sch::List { merge: Some(k), .. } if k == ["name"]));
    }

    /// The derived table agrees with the embedded v1.35 definitions: every list with patch
    /// strategy `merge` is in it with the same keys, except the fields and types newer than
    /// Kubernetes v1.21 (which Kustomize's schema does not know).
    #[test]
    fn schema_table_matches_the_embedded_definitions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../lints/schemas/kubernetes-v1.35/_definitions.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            panic!("cannot read {path}");
        };
        let all: Value = serde_json::from_str(&text).unwrap();
        let newer_fields = [
            (
                "io.k8s.api.core.v1.ContainerStatus",
                "allocatedResourcesStatus",
            ),
            ("io.k8s.api.core.v1.ContainerStatus", "volumeMounts"),
            ("io.k8s.api.core.v1.PodSpec", "resourceClaims"),
            ("io.k8s.api.core.v1.PodSpec", "schedulingGates"),
            ("io.k8s.api.core.v1.PodStatus", "hostIPs"),
            ("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses"),
            (
                "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
                "x-kubernetes-validations",
            ),
        ];
        let newer_type = Regex::new(r"^io\.k8s\.api\.(resource|storagemigration|flowcontrol\.v1\.|certificates\.v1beta1\.PodCertificate|networking\.v1(beta1)?\.ServiceCIDR|admissionregistration\.[a-z0-9]+\.(ValidatingAdmissionPolicy|MutatingAdmissionPolicy))").unwrap();
        let mut checked = 0;
        for (def, schema) in all["$defs"].as_object().unwrap() {
            for (field, prop) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let strategy = prop
                    .get("x-kubernetes-patch-strategy")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !strategy.split(',').any(|s| s == "merge") {
                    continue;
                }
                let newer = newer_type.is_match(def)
                    || newer_fields.contains(&(def.as_str(), field.as_str()))
                    || (def.starts_with("io.k8s.api.admissionregistration.")
                        && matches!(field.as_str(), "matchConditions" | "variables"));
                let entry = table().defs.get(def).and_then(|d| d.get(field));
                if newer {
                    assert!(
                        entry.is_none_or(|e| e.merge.is_none()),
                        "{def}.{field} is newer than v1.21"
                    );
                    continue;
                }
                let keys: Vec<String> = match prop.get("x-kubernetes-list-map-keys") {
                    Some(Value::Array(k)) => {
                        k.iter().map(|k| k.as_str().unwrap().to_owned()).collect()
                    }
                    _ => prop
                        .get("x-kubernetes-patch-merge-key")
                        .and_then(Value::as_str)
                        .map(|k| vec![k.to_owned()])
                        .unwrap_or_default(),
                };
                let got = entry.and_then(|e| e.merge.clone());
                assert_eq!(got, Some(keys), "{def}.{field}");
                checked += 1;
            }
        }
        assert!(checked >= 40, "only {checked} merge lists checked");
    }
}
