//! Custom transformer configurations: a kustomization's `configurations` (files of field specs
//! for `namePrefix`, `nameSuffix`, `namespace`, `commonLabels`, `commonAnnotations`, `images`,
//! `replicas`, `varReference` and `nameReference`) and `crds` (OpenAPI definitions whose
//! `x-kubernetes-object-ref-*` markers name other objects), as kustomize's `TransformerConfig`.
//!
//! kustomize merges them into its built-in tables in the accumulator of the kustomization that
//! lists them, and a base's accumulator is merged into its overlay's: a base's configuration also
//! drives the overlay's transformers and the name-reference and vars steps at the top (measured
//! with kubectl). A component's configuration joins the accumulator of the kustomization that
//! lists it. [`Config`] holds only the field specs added beyond the built-in ones (a spec the
//! tables already hold is dropped, one that differs only by `create` is kustomize's "conflicting
//! fieldspecs" error), so a build without configurations pays nothing.

use std::path::Path;

use serde_json::{Map, Value};

use crate::transform::FieldSpec;

/// The kustomization fields this module and [`crate::build_metadata`] read, as written.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    pub configurations: Vec<String>,
    pub crds: Vec<String>,
    /// `openapi.path`.
    pub openapi: Option<String>,
    pub build_metadata: Vec<String>,
}

/// `openapi`: a mapping with `path` (a schema file) or `version` (kustomize's built-in schema).
pub(crate) fn openapi_path(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => {
            for (k, x) in m {
                if !x.is_string() && !x.is_null() {
                    return Err(format!("`{k}` must be a string"));
                }
            }
            Ok(m.get("path")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned))
        }
        _ => Err("must be a mapping (`path: schema.json`)".into()),
    }
}

/// One `nameReference` entry: objects of `group`/`version`/`kind` (empty matches any) are named
/// at the `referrers` field specs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameRef {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub referrers: Vec<FieldSpec>,
}

/// The field specs custom configurations add to kustomize's built-in ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub template_labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    pub var_reference: Vec<FieldSpec>,
    pub name_reference: Vec<NameRef>,
    /// The text of the first `openapi.path` schema met in the build (see
    /// `crate::patch::custom_table`).
    pub openapi: Option<std::sync::Arc<str>>,
}

/// kustomize's `effectivelyEquals`: `existing` is selected by `incoming`'s group, version and
/// kind, and the paths are the same.
fn effectively_equals(existing: &FieldSpec, incoming: &FieldSpec) -> bool {
    let sel = |have: &Option<String>, want: &Option<String>| {
        want.as_deref().is_none_or(|w| have.as_deref() == Some(w))
    };
    sel(&existing.group, &incoming.group)
        && sel(&existing.version, &incoming.version)
        && sel(&existing.kind, &incoming.kind)
        && existing.path == incoming.path
}

/// kustomize's `FsSlice.MergeOne` over the built-in specs plus the added ones.
fn merge_one(
    defaults: &[FieldSpec],
    extra: &mut Vec<FieldSpec>,
    x: &FieldSpec,
) -> Result<(), String> {
    if let Some(found) = defaults
        .iter()
        .chain(extra.iter())
        .find(|e| effectively_equals(e, x))
    {
        if found.create != x.create {
            return Err(format!(
                "conflicting fieldspecs: {} (create: {}) is already configured with create: {}",
                x.path.join("/"),
                x.create,
                found.create
            ));
        }
        return Ok(());
    }
    extra.push(x.clone());
    Ok(())
}

fn merge_all(
    what: &str,
    defaults: &[FieldSpec],
    extra: &mut Vec<FieldSpec>,
    incoming: &[FieldSpec],
) -> Result<(), String> {
    for x in incoming {
        merge_one(defaults, extra, x)
            .map_err(|e| format!("failed to merge {what} fieldSpec: {e}"))?;
    }
    Ok(())
}

impl Config {
    pub fn is_empty(&self) -> bool {
        self == &Config::default()
    }

    /// kustomize's `TransformerConfig.Merge`.
    pub fn merge(&mut self, other: &Config) -> Result<(), String> {
        use crate::transform::{
            common_annotation_specs, common_label_specs, default_name_specs,
            default_namespace_specs, default_replica_specs, template_label_specs,
        };
        merge_all(
            "NamePrefix",
            default_name_specs(),
            &mut self.name_prefix,
            &other.name_prefix,
        )?;
        merge_all(
            "NameSuffix",
            default_name_specs(),
            &mut self.name_suffix,
            &other.name_suffix,
        )?;
        merge_all(
            "NameSpace",
            default_namespace_specs(),
            &mut self.namespace,
            &other.namespace,
        )?;
        merge_all(
            "CommonAnnotations",
            common_annotation_specs(),
            &mut self.common_annotations,
            &other.common_annotations,
        )?;
        merge_all(
            "CommonLabels",
            common_label_specs(),
            &mut self.common_labels,
            &other.common_labels,
        )?;
        merge_all(
            "TemplateLabels",
            template_label_specs(),
            &mut self.template_labels,
            &other.template_labels,
        )?;
        merge_all(
            "VarReference",
            crate::vars::var_reference_specs(),
            &mut self.var_reference,
            &other.var_reference,
        )?;
        for nr in &other.name_reference {
            let existing = self
                .name_reference
                .iter()
                .position(|e| e.group == nr.group && e.version == nr.version && e.kind == nr.kind);
            let mut current = existing
                .map(|i| self.name_reference[i].referrers.clone())
                .unwrap_or_default();
            for x in &nr.referrers {
                let builtin =
                    crate::transform::builtin_name_reference(&nr.group, &nr.version, &nr.kind, x);
                match builtin {
                    Some(create) if create != x.create => {
                        return Err(format!(
                            "failed to merge NameReference fieldSpec: conflicting fieldspecs: {}",
                            x.path.join("/")
                        ));
                    }
                    Some(_) => {}
                    None => {
                        merge_one(&[], &mut current, x)
                            .map_err(|e| format!("failed to merge NameReference fieldSpec: {e}"))?;
                    }
                }
            }
            match existing {
                Some(i) => self.name_reference[i].referrers = current,
                None if !current.is_empty() => self.name_reference.push(NameRef {
                    referrers: current,
                    ..nr.clone()
                }),
                None => {}
            }
        }
        if self.openapi.is_none() {
            self.openapi.clone_from(&other.openapi);
        }
        merge_all("Images", &[], &mut self.images, &other.images)?;
        merge_all(
            "Replicas",
            default_replica_specs(),
            &mut self.replicas,
            &other.replicas,
        )?;
        Ok(())
    }

    /// A configuration file's text (`file` for messages). Unknown fields and fields of the
    /// wrong shape are errors, as in kustomize (measured: `apiVersion` in such a file is
    /// "unknown field").
    pub fn parse(file: &Path, text: &str) -> Result<Config, String> {
        let value: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_saphyr::from_str_with_options(
                text,
                crate::kustomization::kustomization_parse_options(),
            )
            .map_err(|e| crate::kustomization::yaml_error(file, &e).to_string())?
        };
        let m = match value {
            Value::Null => return Ok(Config::default()),
            Value::Object(m) => m,
            other => {
                return Err(format!(
                    "a transformer configuration must be a mapping, not {}",
                    kind_of(&other)
                ));
            }
        };
        const KEYS: [&str; 11] = [
            "namePrefix",
            "nameSuffix",
            "namespace",
            "commonLabels",
            "labels",
            "templateLabels",
            "commonAnnotations",
            "nameReference",
            "varReference",
            "images",
            "replicas",
        ];
        if let Some(k) = m.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!("unknown field {k:?} (kustomize refuses it too)"));
        }
        let specs = |key: &str| -> Result<Vec<FieldSpec>, String> {
            match m.get(key) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| field_spec(i).map_err(|e| format!("`{key}`: {e}")))
                    .collect(),
                Some(other) => Err(format!(
                    "`{key}` must be a list of field specs, not {}",
                    kind_of(other)
                )),
            }
        };
        let mut c = Config {
            name_prefix: specs("namePrefix")?,
            name_suffix: specs("nameSuffix")?,
            namespace: specs("namespace")?,
            common_labels: specs("commonLabels")?,
            template_labels: specs("templateLabels")?,
            common_annotations: specs("commonAnnotations")?,
            images: specs("images")?,
            replicas: specs("replicas")?,
            var_reference: specs("varReference")?,
            name_reference: Vec::new(),
            openapi: None,
        };
        specs("labels")?;
        match m.get("nameReference") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for item in items {
                    let Value::Object(e) = item else {
                        return Err(format!(
                            "`nameReference` entries must be mappings, not {}",
                            kind_of(item)
                        ));
                    };
                    if let Some(k) = e
                        .keys()
                        .find(|k| !["group", "version", "kind", "fieldSpecs"].contains(&k.as_str()))
                    {
                        return Err(format!("`nameReference`: unknown field {k:?}"));
                    }
                    let referrers = match e.get("fieldSpecs") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(fs)) => fs
                            .iter()
                            .map(|i| field_spec(i).map_err(|e| format!("`nameReference`: {e}")))
                            .collect::<Result<_, _>>()?,
                        Some(other) => {
                            return Err(format!(
                                "`nameReference[].fieldSpecs` must be a list, not {}",
                                kind_of(other)
                            ));
                        }
                    };
                    c.name_reference.push(NameRef {
                        group: string(e, "group")?,
                        version: string(e, "version")?,
                        kind: string(e, "kind")?,
                        referrers,
                    });
                }
            }
            Some(other) => {
                return Err(format!(
                    "`nameReference` must be a list of {{kind, fieldSpecs}} entries, not {}",
                    kind_of(other)
                ));
            }
        }
        // Merged into an empty configuration: duplicates dropped, conflicts refused.
        let mut merged = Config::default();
        merged.merge(&c)?;
        Ok(merged)
    }

    /// kustomize's `LoadConfigFromCRDs` for one file: every definition that looks like a
    /// Kubernetes type (properties `kind`, `apiVersion`, `metadata`) is walked through its
    /// properties and `$ref`s; `x-kubernetes-object-ref-api-version` with
    /// `x-kubernetes-object-ref-kind` make a name reference at `<property>/<name key>`
    /// (`x-kubernetes-object-ref-name-key`, default `name`), `x-kubernetes-annotation`,
    /// `x-kubernetes-label-selector` and `x-kubernetes-identity` add annotation, label and
    /// name-prefix field specs. The referring kind is the definition name after its last dot.
    pub fn from_crd_definitions(text: &str) -> Result<Config, String> {
        let value: Value = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())?
        } else if text.trim().is_empty() {
            Value::Null
        } else {
            serde_saphyr::from_str_with_options(text, crate::kustomization::parse_options())
                .map_err(|e| e.to_string())?
        };
        let defs = match value {
            Value::Null => return Ok(Config::default()),
            Value::Object(m) => m,
            other => {
                return Err(format!(
                    "OpenAPI definitions must be a mapping of type names, not {}",
                    kind_of(&other)
                ));
            }
        };
        let mut out = Config::default();
        for (name, def) in &defs {
            let props = def.pointer("/Schema/properties").and_then(Value::as_object);
            let Some(props) = props else { continue };
            if !(props.contains_key("kind")
                && props.contains_key("apiVersion")
                && props.contains_key("metadata"))
            {
                continue;
            }
            if name.split('.').count() < 3 {
                return Err(format!(
                    "{name:?}: `api` should be specified in dot notation: group.version.kind"
                ));
            }
            let kind = name.rsplit('.').next().unwrap_or_default();
            let mut c = Config::default();
            crd_walk(&mut c, kind, &defs, name, &mut Vec::new(), 0)?;
            out.merge(&c)?;
        }
        Ok(out)
    }
}

fn crd_walk(
    c: &mut Config,
    kind: &str,
    defs: &Map<String, Value>,
    type_name: &str,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err(format!("{type_name}: `$ref`s nest too deep (a cycle?)"));
    }
    let Some(props) = defs
        .get(type_name)
        .and_then(|d| d.pointer("/Schema/properties"))
        .and_then(Value::as_object)
    else {
        return Ok(());
    };
    let fs = |path: &[String]| FieldSpec::new("", "", kind, &path.join("/"), false);
    for (prop, schema) in props {
        path.push(prop.clone());
        let ext = |k: &str| schema.get(k).and_then(Value::as_str);
        let mut add = Config::default();
        if ext("x-kubernetes-annotation").is_some() {
            add.common_annotations.push(fs(path));
        }
        if ext("x-kubernetes-label-selector").is_some() {
            add.common_labels.push(fs(path));
        }
        if ext("x-kubernetes-identity").is_some() {
            add.name_prefix.push(fs(path));
        }
        if let (Some(version), Some(target)) = (
            ext("x-kubernetes-object-ref-api-version"),
            ext("x-kubernetes-object-ref-kind"),
        ) {
            let key = ext("x-kubernetes-object-ref-name-key").unwrap_or("name");
            let mut p = path.clone();
            p.push(key.to_owned());
            add.name_reference.push(NameRef {
                group: String::new(),
                version: version.to_owned(),
                kind: target.to_owned(),
                referrers: vec![fs(&p)],
            });
        }
        if !add.is_empty() {
            c.merge(&add)?;
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str)
            && !r.is_empty()
        {
            crd_walk(c, kind, defs, r, path, depth + 1)?;
        }
        path.pop();
    }
    Ok(())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn string(m: &Map<String, Value>, key: &str) -> Result<String, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{key}` must be a string, not {}", kind_of(other))),
    }
}

/// A field spec as kustomize reads one from a configuration.
fn field_spec(v: &Value) -> Result<FieldSpec, String> {
    let Value::Object(m) = v else {
        return Err(format!(
            "a field spec must be a mapping, not {}",
            kind_of(v)
        ));
    };
    if let Some(k) = m
        .keys()
        .find(|k| !["group", "version", "kind", "path", "create"].contains(&k.as_str()))
    {
        return Err(format!("unknown field {k:?} in a field spec"));
    }
    let create = match m.get("create") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(format!(
                "`create` must be true or false, not {}",
                kind_of(other)
            ));
        }
    };
    Ok(FieldSpec::new(
        &string(m, "group")?,
        &string(m, "version")?,
        &string(m, "kind")?,
        &string(m, "path")?,
        create,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_drops_builtin_specs_and_refuses_conflicts() {
        let c = Config::parse(
            Path::new("c.yaml"),
            "namePrefix:\n- path: metadata/name\n- path: spec/x\n  kind: G\n",
        )
        .unwrap();
        assert!(c.name_prefix.len() == 1 && c.name_prefix[0].path == ["spec", "x"]);
        let e = Config::parse(
            Path::new("c.yaml"),
            "commonLabels:\n- path: metadata/labels\n  create: false\n",
        )
        .unwrap_err();
        assert!(e.contains("conflicting"), "{e}");
        assert!(Config::parse(Path::new("c.yaml"), "nameReference:\n  kind: ConfigMap\n").is_err());
        assert!(Config::parse(Path::new("c.yaml"), "apiVersion: v1\n").is_err());
    }

    #[test]
    fn crd_references() {
        let c = Config::from_crd_definitions(
            r#"{"a.b/v1.P": {"Schema": {"properties": {"kind": {}, "apiVersion": {}, "metadata": {},
                "spec": {"$ref": "a.b/v1.S"}}}},
               "a.b/v1.S": {"Schema": {"properties": {"cm": {"x-kubernetes-object-ref-api-version": "v1",
                "x-kubernetes-object-ref-kind": "ConfigMap"}}}}}"#,
        )
        .unwrap();
        assert_eq!(c.name_reference.len(), 1);
        assert_eq!(
            c.name_reference[0].referrers[0].path,
            ["spec", "cm", "name"]
        );
        assert_eq!(c.name_reference[0].referrers[0].kind.as_deref(), Some("P"));
    }
}
