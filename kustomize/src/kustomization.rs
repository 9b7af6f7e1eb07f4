//! The kustomization file: which file of a folder it is, and its fields.
//!
//! The file is read as a YAML 1.2 document (only `true`/`false` are booleans, as kustomize reads
//! it) into a JSON value, then every top-level field is checked: the ones edgefleet renders are
//! kept, the ones it deliberately does not support (Helm, plugins, ...) are refused with
//! [`RenderError::Unsupported`], and unknown ones are refused as kustomize refuses them
//! (`invalid Kustomization: json: unknown field "x"`), with the line of the field.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::RenderError;
use super::fs::FileSystem;

/// The names kustomize accepts for a kustomization file, in the order it looks for them.
pub const FILE_NAMES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// `apiVersion` of a kustomization.
pub const KUSTOMIZATION_API: &str = "kustomize.config.k8s.io/v1beta1";
/// `apiVersion` of a component.
pub const COMPONENT_API: &str = "kustomize.config.k8s.io/v1alpha1";

/// Parser settings shared by every file the renderer reads: YAML 1.2 booleans (`on`, `yes`,
/// `NO` stay strings, as in kustomize), leading-zero octals as go-yaml v3 reads them, duplicate
/// keys refused, and serde-saphyr's default budget, which refuses alias bombs fast.
pub fn parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
        // go-yaml v3 reads `017` as octal 15, as kustomize prints it
        legacy_octal_numbers: true,
    }
}

/// [`parse_options`] for kustomization files: kustomize reads them with go-yaml v2 (YAML 1.1),
/// where a key given twice is no error and the last one wins (`namePrefix: a-` then
/// `namePrefix: b-` is `b-`), and `yes`, `no`, `on`, `off`, `y`, `n` are booleans
/// (`includeSelectors: yes` is true, `namespace: n` an error; measured). Resource files keep
/// YAML 1.2 booleans and refuse duplicate keys, as kustomize does.
pub fn kustomization_parse_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: false,
        legacy_octal_numbers: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    }
}

/// A YAML error of `path` as a [`RenderError::Yaml`] with its line and column.
pub fn yaml_error(path: &Path, err: &serde_saphyr::Error) -> RenderError {
    let (line, column) = err
        .location()
        .map(|l| {
            (
                u32::try_from(l.line()).unwrap_or(u32::MAX).max(1),
                u32::try_from(l.column()).unwrap_or(u32::MAX).max(1),
            )
        })
        .unwrap_or((1, 1));
    let mut options = serde_saphyr::RenderOptions::default();
    options.snippets = serde_saphyr::SnippetMode::Off;
    let text = err.render_with_options(options);
    let first = text.lines().next().unwrap_or_default().trim();
    let message = match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    };
    RenderError::Yaml {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

/// Whether a kustomization declares `kind: Kustomization` or `kind: Component`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Kustomization,
    Component,
}

/// One entry of `labels`.
#[derive(Debug, Clone, Default)]
pub struct LabelSpec {
    pub pairs: Vec<(String, String)>,
    pub include_selectors: bool,
    pub include_templates: bool,
    /// Extra field specs (`fields`), as written.
    pub fields: Vec<Value>,
}

/// One entry of `images`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageSpec {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

/// One entry of `replicas`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSpec {
    pub name: String,
    pub count: i64,
}

/// `sortOptions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortOptions {
    /// Kind priority lists (kustomize's defaults when `None`), then by id.
    Legacy {
        order_first: Option<Vec<String>>,
        order_last: Option<Vec<String>>,
    },
    /// The order resources were accumulated in.
    Fifo,
}

/// A parsed kustomization (or component) file.
#[derive(Debug, Clone)]
pub struct Kustomization {
    /// The kustomization file.
    pub file: PathBuf,
    /// Its folder: the root that relative paths are resolved against.
    pub dir: PathBuf,
    pub kind: Kind,
    pub resources: Vec<String>,
    pub components: Vec<String>,
    pub namespace: Option<String>,
    pub name_prefix: Option<String>,
    pub name_suffix: Option<String>,
    pub labels: Vec<LabelSpec>,
    pub common_labels: Vec<(String, String)>,
    pub common_annotations: Vec<(String, String)>,
    pub images: Vec<ImageSpec>,
    pub replicas: Vec<ReplicaSpec>,
    /// `patches` entries (`path` or `patch`, optional `target` and `options`), as written.
    pub patches: Vec<Value>,
    /// `patchesStrategicMerge` entries: a file path or an inline patch, as written.
    pub patches_strategic_merge: Vec<Value>,
    /// `patchesJson6902` entries (`target` with `path` or `patch`), as written.
    pub patches_json6902: Vec<Value>,
    pub config_map_generator: Vec<Value>,
    pub secret_generator: Vec<Value>,
    pub generator_options: Option<Value>,
    pub replacements: Vec<Value>,
    /// `vars` (deprecated by kustomize, still supported).
    pub vars: Vec<Arc<crate::vars::Var>>,
    pub sort_options: Option<SortOptions>,
    /// `generators`, `transformers`, `validators`: builtin plugin configs, each an inline YAML
    /// text, a file or a kustomization folder whose resources are the configs (see
    /// `renderer::plugins`).
    pub generators: Vec<String>,
    pub transformers: Vec<String>,
    pub validators: Vec<String>,
    /// `configurations`, `crds`, `openapi.path` and `buildMetadata` (see `crate::config` and
    /// `crate::build_metadata`).
    pub extras: crate::config::Extras,
    /// The file's text, for provenance (positions are read from it on demand).
    pub text: Arc<str>,
    /// The provenance sources of this file's edits, made on first use.
    pub(crate) sources: crate::provenance::KustomizationSources,
}

/// The kustomization file of `dir`, if it has one. Several candidates is an error, as in
/// kustomize.
pub fn find_file(fs: &dyn FileSystem, dir: &Path) -> Result<Option<PathBuf>, RenderError> {
    let mut found: Vec<PathBuf> = Vec::new();
    for name in FILE_NAMES {
        let p = dir.join(name);
        if fs.is_file(&p) {
            found.push(p);
        }
    }
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.pop()),
        _ => Err(RenderError::Build {
            path: dir.to_path_buf(),
            message: format!(
                "found multiple kustomization files: {}",
                found
                    .iter()
                    .filter_map(|p| p.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// The 1-based line and column of top-level key `key` in `text`, for errors about a field.
fn key_position(text: &str, key: &str) -> (u32, u32) {
    for (i, line) in text.lines().enumerate() {
        let rest = line
            .strip_prefix(key)
            .or_else(|| {
                line.strip_prefix('"')
                    .and_then(|l| l.strip_prefix(key))
                    .and_then(|l| l.strip_prefix('"'))
            })
            .or_else(|| {
                line.strip_prefix('\'')
                    .and_then(|l| l.strip_prefix(key))
                    .and_then(|l| l.strip_prefix('\''))
            });
        if rest.is_some_and(|r| r.trim_start().starts_with(':')) {
            return (u32::try_from(i + 1).unwrap_or(u32::MAX), 1);
        }
    }
    (1, 1)
}

/// Fields kustomize knows that edgefleet refuses, with the reason.
fn unsupported_reason(field: &str) -> Option<&'static str> {
    Some(match field {
        "helmCharts" | "helmGlobals" | "helmChartInflationGenerator" => {
            "Helm charts need `kustomize build --enable-helm` and a helm binary; render the chart to plain manifests first"
        }
        _ => return None,
    })
}

impl Kustomization {
    /// A kustomization with this one's file and folder and no field set: the base of a builtin
    /// transformer config run by the renderer's own steps. Its text is empty: an inline patch of
    /// the config is not written where the kustomization's own fields are, so provenance records
    /// its edits without a position rather than at another patch's line.
    pub(crate) fn only_transformers(&self) -> Kustomization {
        Kustomization::empty(
            self.file.clone(),
            self.dir.clone(),
            self.kind,
            Arc::from(""),
        )
    }

    /// A kustomization of `file` with no field set.
    fn empty(file: PathBuf, dir: PathBuf, kind: Kind, text: Arc<str>) -> Kustomization {
        Kustomization {
            file,
            dir,
            kind,
            resources: Vec::new(),
            components: Vec::new(),
            namespace: None,
            name_prefix: None,
            name_suffix: None,
            labels: Vec::new(),
            common_labels: Vec::new(),
            common_annotations: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            patches: Vec::new(),
            patches_strategic_merge: Vec::new(),
            patches_json6902: Vec::new(),
            config_map_generator: Vec::new(),
            secret_generator: Vec::new(),
            generator_options: None,
            replacements: Vec::new(),
            vars: Vec::new(),
            sort_options: None,
            generators: Vec::new(),
            transformers: Vec::new(),
            validators: Vec::new(),
            extras: Default::default(),
            text,
            sources: Default::default(),
        }
    }

    /// Reads and parses the kustomization file of `dir` (none there is an error naming `dir`).
    pub fn load(fs: &dyn FileSystem, dir: &Path) -> Result<Kustomization, RenderError> {
        Self::load_with(fs, dir, false)
    }

    /// [`Kustomization::load`], reusing a recent read of the same text on this thread when
    /// `recent` (see `load::fast_parse`).
    pub(crate) fn load_with(
        fs: &dyn FileSystem,
        dir: &Path,
        recent: bool,
    ) -> Result<Kustomization, RenderError> {
        let Some(file) = find_file(fs, dir)? else {
            return Err(RenderError::Build {
                path: dir.to_path_buf(),
                message: format!(
                    "no kustomization file (one of {}) in this folder",
                    FILE_NAMES.join(", ")
                ),
            });
        };
        let text = fs.read_to_string(&file).map_err(|source| RenderError::Io {
            path: file.clone(),
            source,
        })?;
        Self::parse_with(&file, &text, recent)
    }

    /// Parses the text of kustomization file `file` (reusing a recent read of the same text on
    /// this thread when `recent`).
    fn parse_with(file: &Path, text: &str, recent: bool) -> Result<Kustomization, RenderError> {
        let dir = file.parent().unwrap_or(Path::new(".")).to_path_buf();
        let value: Value = if text.trim().is_empty() {
            return Err(RenderError::Build {
                path: file.to_path_buf(),
                message: "the kustomization file is empty (kustomize refuses it too)".into(),
            });
        } else {
            match crate::load::fast_parse(text, recent) {
                Some(mut docs) if docs.len() == 1 => docs.pop().expect("one document"),
                _ => serde_saphyr::from_str_with_options(text, kustomization_parse_options())
                    .map_err(|e| yaml_error(file, &e))?,
            }
        };
        let map = match value {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(RenderError::Yaml {
                    path: file.to_path_buf(),
                    line: 1,
                    column: 1,
                    message: format!("a kustomization must be a mapping, not {}", kind_of(&other)),
                });
            }
        };
        let mut k = Kustomization::empty(
            file.to_path_buf(),
            dir,
            Kind::Kustomization,
            Arc::from(text),
        );
        let mut bases = Vec::new();
        let mut api_version: Option<String> = None;
        for (key, v) in &map {
            let field = |message: String| {
                let (line, column) = key_position(text, key);
                RenderError::Yaml {
                    path: file.to_path_buf(),
                    line,
                    column,
                    message: format!("`{key}`: {message}"),
                }
            };
            if let Some(why) = unsupported_reason(key) {
                return Err(RenderError::Unsupported {
                    path: file.to_path_buf(),
                    field: key.clone(),
                    why: why.to_owned(),
                });
            }
            match key.as_str() {
                "apiVersion" => api_version = Some(string(v).map_err(field)?),
                "kind" => {
                    k.kind = match string(v).map_err(field)?.as_str() {
                        "" | "Kustomization" => Kind::Kustomization,
                        "Component" => Kind::Component,
                        other => {
                            return Err(field(format!(
                                "kind must be Kustomization or Component, not {other:?}"
                            )));
                        }
                    }
                }
                "metadata" => {}
                "buildMetadata" => k.extras.build_metadata = strings(v).map_err(field)?,
                "configurations" => k.extras.configurations = strings(v).map_err(field)?,
                "crds" => k.extras.crds = strings(v).map_err(field)?,
                "openapi" => k.extras.openapi = crate::config::openapi_path(v).map_err(field)?,
                "resources" => k.resources = strings(v).map_err(field)?,
                "bases" => bases = strings(v).map_err(field)?,
                "components" => k.components = strings(v).map_err(field)?,
                "namespace" => k.namespace = opt_string(v).map_err(field)?,
                "namePrefix" => k.name_prefix = opt_string(v).map_err(field)?,
                "nameSuffix" => k.name_suffix = opt_string(v).map_err(field)?,
                "commonLabels" => k.common_labels = string_map(v).map_err(field)?,
                "commonAnnotations" => k.common_annotations = string_map(v).map_err(field)?,
                "labels" => k.labels = labels(v).map_err(field)?,
                "images" | "imageTags" => k.images.extend(images(v).map_err(field)?),
                "replicas" => k.replicas = replicas(v).map_err(field)?,
                "patches" => k.patches = list(v).map_err(field)?,
                "patchesStrategicMerge" => k.patches_strategic_merge = list(v).map_err(field)?,
                "patchesJson6902" => k.patches_json6902 = list(v).map_err(field)?,
                "configMapGenerator" => k.config_map_generator = list(v).map_err(field)?,
                "secretGenerator" => k.secret_generator = list(v).map_err(field)?,
                "generatorOptions" => {
                    if !v.is_null() {
                        if !v.is_object() {
                            return Err(field(format!("must be a mapping, not {}", kind_of(v))));
                        }
                        k.generator_options = Some(v.clone());
                    }
                }
                "replacements" => k.replacements = list(v).map_err(field)?,
                "vars" => {
                    k.vars = list(v)
                        .and_then(|l| {
                            l.iter()
                                .map(|v| crate::vars::Var::from_value(v).map(Arc::new))
                                .collect()
                        })
                        .map_err(field)?;
                }
                "sortOptions" => k.sort_options = sort_options(v).map_err(field)?,
                "generators" => k.generators = plugin_entries(v).map_err(field)?,
                "transformers" => k.transformers = plugin_entries(v).map_err(field)?,
                "validators" => k.validators = plugin_entries(v).map_err(field)?,
                _ => {
                    let (line, column) = key_position(text, key);
                    return Err(RenderError::Yaml {
                        path: file.to_path_buf(),
                        line,
                        column,
                        message: format!(
                            "invalid Kustomization: unknown field {key:?} (kustomize refuses it too)"
                        ),
                    });
                }
            }
        }
        k.resources.extend(bases);
        if let Some(av) = api_version {
            let want = match k.kind {
                Kind::Kustomization => KUSTOMIZATION_API,
                Kind::Component => COMPONENT_API,
            };
            if !av.is_empty() && av != want {
                let (line, column) = key_position(text, "apiVersion");
                return Err(RenderError::Yaml {
                    path: file.to_path_buf(),
                    line,
                    column,
                    message: format!("apiVersion for {:?} must be {want}, not {av}", k.kind),
                });
            }
        }
        Ok(k)
    }
}

pub(crate) fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

fn string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok(String::new()),
        other => Err(format!("must be a string, not {}", kind_of(other))),
    }
}

fn opt_string(v: &Value) -> Result<Option<String>, String> {
    Ok(Some(string(v)?).filter(|s| !s.is_empty()))
}

fn list(v: &Value) -> Result<Vec<Value>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => Ok(a.clone()),
        other => Err(format!("must be a sequence, not {}", kind_of(other))),
    }
}

fn strings(v: &Value) -> Result<Vec<String>, String> {
    list(v)?
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "entries must be strings (paths), not {}",
                kind_of(other)
            )),
        })
        .collect()
}

/// `generators`, `transformers`, `validators`: strings (inline configs or paths).
fn plugin_entries(v: &Value) -> Result<Vec<String>, String> {
    list(v)?
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(format!(
                "entries must be strings (a path, or a config as YAML text), not {}",
                kind_of(other)
            )),
        })
        .collect()
}

/// A `map[string]string` field: kustomize refuses non-string values (`1`, `true`) there.
pub(crate) fn string_map(v: &Value) -> Result<Vec<(String, String)>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                Value::Null => Ok((k.clone(), String::new())),
                other => Err(format!(
                    "the value of {k:?} must be a string, not {} (quote it)",
                    kind_of(other)
                )),
            })
            .collect(),
        other => Err(format!("must be a mapping, not {}", kind_of(other))),
    }
}

fn boolean(v: Option<&Value>, name: &str) -> Result<bool, String> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!(
            "{name} must be true or false, not {}",
            kind_of(other)
        )),
    }
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("each {what} must be a mapping, not {}", kind_of(v)))
}

fn check_keys(m: &Map<String, Value>, allowed: &[&str]) -> Result<(), String> {
    for k in m.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!("unknown field {k:?}"));
        }
    }
    Ok(())
}

fn labels(v: &Value) -> Result<Vec<LabelSpec>, String> {
    list(v)?
        .iter()
        .map(|item| {
            let m = object(item, "label entry")?;
            check_keys(
                m,
                &["pairs", "includeSelectors", "includeTemplates", "fields"],
            )?;
            Ok(LabelSpec {
                pairs: string_map(m.get("pairs").unwrap_or(&Value::Null))?,
                include_selectors: boolean(m.get("includeSelectors"), "includeSelectors")?,
                include_templates: boolean(m.get("includeTemplates"), "includeTemplates")?,
                fields: list(m.get("fields").unwrap_or(&Value::Null))?,
            })
        })
        .collect()
}

fn images(v: &Value) -> Result<Vec<ImageSpec>, String> {
    list(v)?
        .iter()
        .map(|item| {
            let m = object(item, "image")?;
            check_keys(m, &["name", "newName", "newTag", "digest", "tagSuffix"])?;
            if m.contains_key("tagSuffix") {
                return Err("`tagSuffix` is not supported".into());
            }
            let get = |k: &str| -> Result<Option<String>, String> {
                match m.get(k) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
                    // kustomize reads `newTag: 1.21` as the string "1.21"
                    Some(Value::Number(n)) => Ok(Some(n.to_string())),
                    Some(other) => Err(format!("{k} must be a string, not {}", kind_of(other))),
                }
            };
            Ok(ImageSpec {
                name: get("name")?.unwrap_or_default(),
                new_name: get("newName")?,
                new_tag: get("newTag")?,
                digest: get("digest")?,
            })
        })
        .collect()
}

fn replicas(v: &Value) -> Result<Vec<ReplicaSpec>, String> {
    list(v)?
        .iter()
        .map(|item| {
            let m = object(item, "replica entry")?;
            check_keys(m, &["name", "count"])?;
            let name = string(m.get("name").unwrap_or(&Value::Null))?;
            let count = match m.get("count") {
                Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
                None | Some(Value::Null) => 0,
                Some(other) => {
                    return Err(format!("count must be an integer, not {}", kind_of(other)));
                }
            };
            Ok(ReplicaSpec { name, count })
        })
        .collect()
}

fn sort_options(v: &Value) -> Result<Option<SortOptions>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let m = object(v, "sortOptions")?;
    check_keys(m, &["order", "legacySortOptions"])?;
    let order = string(m.get("order").unwrap_or(&Value::Null))?;
    let legacy = m.get("legacySortOptions").filter(|v| !v.is_null());
    match order.as_str() {
        "legacy" => {
            let (mut order_first, mut order_last) = (None, None);
            if let Some(l) = legacy {
                // given lists replace kustomize's defaults; a missing one is empty
                order_first = Some(Vec::new());
                order_last = Some(Vec::new());
                let lm = object(l, "legacySortOptions")?;
                check_keys(lm, &["orderFirst", "orderLast"])?;
                if let Some(f) = lm.get("orderFirst") {
                    order_first = Some(strings(f)?);
                }
                if let Some(f) = lm.get("orderLast") {
                    order_last = Some(strings(f)?);
                }
            }
            Ok(Some(SortOptions::Legacy {
                order_first,
                order_last,
            }))
        }
        "fifo" => {
            if legacy.is_some() {
                return Err("legacySortOptions may only be set when order is legacy".into());
            }
            Ok(Some(SortOptions::Fifo))
        }
        other => Err(format!("order must be legacy or fifo, not {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Kustomization, RenderError> {
        Kustomization::parse_with(Path::new("/k/kustomization.yaml"), text, false)
    }

    #[test]
    fn parses_supported_fields() {
        let k = parse(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ns\n\
             resources: [a.yaml, ../base]\nbases: [../b]\nnamePrefix: p-\ncommonLabels: {app: x}\n\
             labels:\n- pairs: {a: b}\n  includeSelectors: true\nimages:\n- name: nginx\n  newTag: 1.21\n\
             replicas:\n- name: web\n  count: 3\nsortOptions:\n  order: legacy\n  legacySortOptions:\n    orderFirst: [Service]\n",
        )
        .unwrap();
        assert_eq!(k.kind, Kind::Kustomization);
        assert_eq!(k.resources, ["a.yaml", "../base", "../b"]);
        assert_eq!(k.namespace.as_deref(), Some("ns"));
        assert_eq!(k.common_labels, [("app".into(), "x".into())]);
        assert!(k.labels[0].include_selectors);
        assert_eq!(k.images[0].new_tag.as_deref(), Some("1.21"));
        assert_eq!(k.replicas[0].count, 3);
        assert_eq!(
            k.sort_options,
            Some(SortOptions::Legacy {
                order_first: Some(vec!["Service".into()]),
                order_last: Some(vec![])
            })
        );
    }

    #[test]
    fn refuses_unsupported_and_unknown_fields() {
        let e = parse("resources: []\nhelmCharts:\n- name: x\n").unwrap_err();
        assert!(matches!(e, RenderError::Unsupported { ref field, .. } if field == "helmCharts"));
        let e = parse("resources: []\nfoo: bar\n").unwrap_err();
        let RenderError::Yaml { line, message, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(line, 2);
        assert!(message.contains("unknown field \"foo\""), "{message}");
    }

    #[test]
    fn yaml11_booleans_and_label_values() {
        // kubectl reads kustomizations as YAML 1.1: an unquoted `on` is a boolean, refused
        // as a label value ("cannot unmarshal bool"); quoted, it is the text.
        assert!(parse("commonLabels:\n  enabled: on\n").is_err());
        let k = parse("commonLabels:\n  enabled: \"on\"\n").unwrap();
        assert_eq!(k.common_labels, [("enabled".into(), "on".into())]);
        assert!(parse("commonLabels:\n  n: 1\n").is_err());
        let k = parse("namePrefix: a-\nnamePrefix: b-\n").unwrap();
        assert_eq!(k.name_prefix.as_deref(), Some("b-"));
    }

    #[test]
    fn empty_files_are_refused() {
        assert!(parse("\n").is_err());
        let k = parse("buildMetadata: [originAnnotations]\n").unwrap();
        assert_eq!(k.extras.build_metadata, ["originAnnotations"]);
    }

    #[test]
    fn component_kind() {
        let k = parse("apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n").unwrap();
        assert_eq!(k.kind, Kind::Component);
    }
}
