//! `generators`, `transformers` and `validators`: builtin plugin configs (`apiVersion: builtin`,
//! a kind such as `PrefixSuffixTransformer`, `metadata.name`, the plugin's fields and its own
//! `fieldSpecs`), run as kustomize runs them (checked against `kubectl kustomize`, v5.8.1):
//!
//! - an entry is an inline config (YAML text of one or several configs) or a path: a file of
//!   configs, or a kustomization folder, built as a base, whose resources are the configs (its
//!   own `namespace` or prefixes change the configs, e.g. the namespace a `NamespaceTransformer`
//!   sets). All inline configs of a list come first, then the paths' configs, each in order;
//! - generators run after `configMapGenerator` and `secretGenerator` (before components),
//!   transformers after every transformer field of the kustomization (after `replacements`),
//!   validators after them: a validator that changes an object is an error;
//! - unknown fields in a config are ignored, a field of the wrong type is an error;
//! - each config maps onto the renderer's implementation of the matching kustomization field,
//!   with the config's field specs instead of kustomize's defaults;
//! - refused as in kubectl: another `apiVersion` (exec and container plugins),
//!   `HelmChartInflationGenerator` (needs helm), `SortOrderTransformer`, `LegacyOrderTransformer`
//!   and unknown kinds (kubectl cannot load them), a generator listed as a transformer and the
//!   reverse.

use super::*;
use crate::kustomization::{ImageSpec, kind_of};
use crate::transform::{FieldSpec, SubjectMode};

/// The list a config comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum List {
    Generators,
    Transformers,
    Validators,
}

impl List {
    fn field(self) -> &'static str {
        match self {
            Self::Generators => "generators",
            Self::Transformers => "transformers",
            Self::Validators => "validators",
        }
    }
}

/// One config, and where it is written.
struct Config {
    value: Value,
    /// The config's file (the kustomization for an inline config).
    file: Arc<Path>,
    /// Its document in that file (in the inline text for an inline config).
    document: usize,
    /// For an inline config: the JSON pointer of its string in the kustomization.
    inline: Option<String>,
}

impl Config {
    fn kind(&self) -> &str {
        self.value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.value
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// `Kind name`, as errors name a config.
    fn label(&self) -> String {
        format!("{} {}", self.kind(), self.name())
    }
}

/// What a builtin config does, read from its fields.
enum Builtin {
    PrefixSuffix {
        prefix: String,
        suffix: String,
        specs: Vec<FieldSpec>,
    },
    /// `LabelTransformer` and `AnnotationsTransformer`: pairs set at the field specs.
    Labels {
        pairs: Vec<(String, String)>,
        specs: Vec<FieldSpec>,
    },
    Namespace {
        namespace: String,
        specs: Vec<FieldSpec>,
        unset_only: bool,
        mode: SubjectMode,
    },
    Images {
        spec: ImageSpec,
        specs: Vec<FieldSpec>,
    },
    Replicas {
        name: String,
        count: i64,
        specs: Vec<FieldSpec>,
    },
    Hash,
    /// Patches and replacements: a kustomization holding only the matching field, run by the
    /// renderer's own transformer steps.
    Fields(Box<Kustomization>),
    ConfigMap(Value),
    Secret(Value),
}

/// A string field of a config (absent or null: empty). Numbers and booleans are refused, as
/// kustomize's strict unmarshalling of a string field refuses them.
fn string(m: &serde_json::Map<String, Value>, key: &str) -> Result<String, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!("`{key}` must be a string, not {}", kind_of(other))),
    }
}

fn boolean(m: &serde_json::Map<String, Value>, key: &str) -> Result<bool, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!(
            "`{key}` must be true or false, not {}",
            kind_of(other)
        )),
    }
}

fn field_specs(m: &serde_json::Map<String, Value>) -> Result<Vec<FieldSpec>, String> {
    match m.get("fieldSpecs") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(FieldSpec::from_value).collect(),
        Some(other) => Err(format!(
            "`fieldSpecs` must be a sequence, not {}",
            kind_of(other)
        )),
    }
}

/// A `map[string]string` field of a config, with the field's name in the error.
fn string_map(
    m: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<Vec<(String, String)>, String> {
    crate::kustomization::string_map(m.get(key).unwrap_or(&Value::Null))
        .map_err(|e| format!("`{key}`: {e}"))
}

fn sequence(m: &serde_json::Map<String, Value>, key: &str) -> Result<Vec<Value>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.clone()),
        Some(other) => Err(format!(
            "`{key}` must be a sequence, not {}",
            kind_of(other)
        )),
    }
}

/// The configs of an inline entry, or `None` when the entry is not YAML text of objects with a
/// kind and a name (kustomize then takes it as a path).
fn inline_configs(kfile: &Path, entry: &str) -> Option<Vec<Value>> {
    if !entry.contains(':') {
        return None;
    }
    let docs = load::parse_documents(kfile, entry).ok()?;
    let ok = !docs.is_empty()
        && docs.iter().all(|d| {
            d.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| !k.is_empty())
                && d.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty())
        });
    ok.then_some(docs)
}

impl Renderer {
    /// The configs of `list` in `k`: inline ones first, then those of each path, in order.
    fn plugin_configs(
        &self,
        k: &Kustomization,
        list: List,
        stack: &mut Vec<PathBuf>,
    ) -> Result<Vec<Config>, RenderError> {
        let entries = match list {
            List::Generators => &k.generators,
            List::Transformers => &k.transformers,
            List::Validators => &k.validators,
        };
        let kfile = k.file.as_path();
        let field = list.field();
        let mut configs = Vec::new();
        let mut paths = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match inline_configs(kfile, entry) {
                Some(docs) => {
                    for (document, value) in docs.into_iter().enumerate() {
                        configs.push(Config {
                            value,
                            file: Arc::from(kfile),
                            document,
                            inline: Some(format!("/{field}/{i}")),
                        });
                    }
                }
                None => paths.push(entry),
            }
        }
        let rename = |e: RenderError| match e {
            RenderError::Field {
                path,
                field: f,
                message,
            } if f == "resources" => RenderError::Field {
                path,
                field: field.to_owned(),
                message,
            },
            RenderError::Unsupported {
                path,
                field: f,
                why,
            } if f == "resources" => RenderError::Unsupported {
                path,
                field: field.to_owned(),
                why,
            },
            other => other,
        };
        for entry in paths {
            let resolved = load::resolve_resource(
                &|root, entry| self.resolve(root, entry),
                kfile,
                &k.dir,
                entry,
            )
            .map_err(|e| match rename(e) {
                RenderError::Io { path, source } => RenderError::Field {
                    path: kfile.to_path_buf(),
                    field: field.to_owned(),
                    message: format!("`{entry}`: {}: {source}", path.display()),
                },
                other => other,
            })?;
            let resources = match resolved {
                Entry::File(file) => self.documents(&file)?,
                Entry::Dir(sub) => self.base(&sub, stack)?.0,
            };
            for r in resources.iter() {
                configs.push(Config {
                    value: r.value.clone(),
                    file: r.origin.file.clone(),
                    document: r.origin.document,
                    inline: None,
                });
            }
        }
        Ok(configs)
    }

    /// Where a config is written, as a provenance source.
    fn config_source(
        &self,
        k: &Kustomization,
        c: &Config,
    ) -> Result<Arc<provenance::Source>, RenderError> {
        match &c.inline {
            Some(pointer) => Ok(k.sources.inline(&k.file, &k.text, pointer)),
            None => self.source(&c.file),
        }
    }

    /// Reads what a builtin config does; refuses what kubectl refuses or edgefleet cannot run.
    fn builtin(&self, k: &Kustomization, list: List, c: &Config) -> Result<Builtin, RenderError> {
        let kfile = k.file.as_path();
        let field = list.field();
        let kind = c.kind();
        let where_ = || match &c.inline {
            Some(_) => "an inline config".to_owned(),
            None => format!("{}", c.file.display()),
        };
        let api = c
            .value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if api != "builtin" {
            return Err(RenderError::Unsupported {
                path: kfile.to_path_buf(),
                field: field.to_owned(),
                why: format!(
                    "{} (kind {kind}, apiVersion {api:?}) is an exec or container KRM plugin: \
                     plugins run external programs; edgefleet renders offline and in process \
                     (kubectl refuses it too without --enable-alpha-plugins)",
                    where_()
                ),
            });
        }
        let fail = |message: String| RenderError::Field {
            path: kfile.to_path_buf(),
            field: format!("{field}: {} in {}", c.label(), where_()),
            message,
        };
        let generator = matches!(kind, "ConfigMapGenerator" | "SecretGenerator");
        let transformer = matches!(
            kind,
            "PrefixSuffixTransformer"
                | "PrefixTransformer"
                | "SuffixTransformer"
                | "LabelTransformer"
                | "AnnotationsTransformer"
                | "NamespaceTransformer"
                | "ImageTagTransformer"
                | "ReplicaCountTransformer"
                | "HashTransformer"
                | "PatchTransformer"
                | "PatchStrategicMergeTransformer"
                | "PatchJson6902Transformer"
                | "ReplacementTransformer"
        );
        match kind {
            "HelmChartInflationGenerator" => {
                return Err(RenderError::Unsupported {
                    path: kfile.to_path_buf(),
                    field: field.to_owned(),
                    why: format!(
                        "{} in {}: Helm charts need `kustomize build --enable-helm` and a helm \
                         binary; render the chart to plain manifests first",
                        c.label(),
                        where_()
                    ),
                });
            }
            "IAMPolicyGenerator" | "ValueAddTransformer" => {
                return Err(RenderError::Unsupported {
                    path: kfile.to_path_buf(),
                    field: field.to_owned(),
                    why: format!(
                        "{} in {}: this builtin is not implemented",
                        c.label(),
                        where_()
                    ),
                });
            }
            _ if !generator && !transformer => {
                return Err(fail(format!(
                    "unable to load builtin {kind} (kubectl knows no such builtin plugin)"
                )));
            }
            _ if list == List::Generators && !generator => {
                return Err(fail(format!("{kind} is not a generator")));
            }
            _ if list != List::Generators && !transformer => {
                return Err(fail(format!("{kind} is not a transformer")));
            }
            _ => {}
        }
        let Value::Object(m) = &c.value else {
            return Err(fail("a config must be a mapping".into()));
        };
        let metadata_ns = c
            .value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let built = (|| -> Result<Builtin, String> {
            Ok(match kind {
                "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
                    let prefix = if kind == "SuffixTransformer" {
                        String::new()
                    } else {
                        string(m, "prefix")?
                    };
                    let suffix = if kind == "PrefixTransformer" {
                        String::new()
                    } else {
                        string(m, "suffix")?
                    };
                    Builtin::PrefixSuffix {
                        prefix,
                        suffix,
                        specs: field_specs(m)?,
                    }
                }
                "LabelTransformer" => Builtin::Labels {
                    pairs: string_map(m, "labels")?,
                    specs: field_specs(m)?,
                },
                "AnnotationsTransformer" => Builtin::Labels {
                    pairs: string_map(m, "annotations")?,
                    specs: field_specs(m)?,
                },
                "NamespaceTransformer" => Builtin::Namespace {
                    namespace: metadata_ns.clone(),
                    specs: field_specs(m)?,
                    unset_only: boolean(m, "unsetOnly")?,
                    mode: SubjectMode::parse(&string(m, "setRoleBindingSubjects")?)?,
                },
                "ImageTagTransformer" => {
                    let t = match m.get("imageTag") {
                        None | Some(Value::Null) => serde_json::Map::new(),
                        Some(Value::Object(t)) => t.clone(),
                        Some(other) => {
                            return Err(format!(
                                "`imageTag` must be a mapping, not {}",
                                kind_of(other)
                            ));
                        }
                    };
                    if t.get("tagSuffix").is_some_and(|v| !v.is_null()) {
                        return Err("`imageTag.tagSuffix` is not supported".into());
                    }
                    let get = |key: &str| -> Result<Option<String>, String> {
                        match t.get(key) {
                            None | Some(Value::Null) => Ok(None),
                            Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.is_empty())),
                            Some(Value::Number(n)) => Ok(Some(n.to_string())),
                            Some(other) => Err(format!(
                                "`imageTag.{key}` must be a string, not {}",
                                kind_of(other)
                            )),
                        }
                    };
                    Builtin::Images {
                        spec: ImageSpec {
                            name: get("name")?.unwrap_or_default(),
                            new_name: get("newName")?,
                            new_tag: get("newTag")?,
                            digest: get("digest")?,
                        },
                        specs: field_specs(m)?,
                    }
                }
                "ReplicaCountTransformer" => {
                    let r = match m.get("replica") {
                        None | Some(Value::Null) => serde_json::Map::new(),
                        Some(Value::Object(r)) => r.clone(),
                        Some(other) => {
                            return Err(format!(
                                "`replica` must be a mapping, not {}",
                                kind_of(other)
                            ));
                        }
                    };
                    let count = match r.get("count") {
                        None | Some(Value::Null) => 0,
                        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
                        Some(other) => {
                            return Err(format!(
                                "`replica.count` must be an integer, not {}",
                                kind_of(other)
                            ));
                        }
                    };
                    Builtin::Replicas {
                        name: string(&r, "name")?,
                        count,
                        specs: field_specs(m)?,
                    }
                }
                "HashTransformer" => Builtin::Hash,
                "PatchTransformer" => {
                    let mut entry = serde_json::Map::new();
                    for key in ["path", "patch", "target", "options"] {
                        if let Some(v) = m.get(key).filter(|v| !v.is_null()) {
                            entry.insert(key.into(), v.clone());
                        }
                    }
                    let mut only = k.only_transformers();
                    only.patches = vec![Value::Object(entry)];
                    Builtin::Fields(Box::new(only))
                }
                "PatchStrategicMergeTransformer" => {
                    let mut patches: Vec<Value> = sequence(m, "paths")?;
                    let inline = string(m, "patches")?;
                    if !inline.is_empty() {
                        patches.push(Value::String(inline));
                    }
                    if patches.is_empty() {
                        return Err("empty file path and empty patch content".into());
                    }
                    let mut only = k.only_transformers();
                    only.patches_strategic_merge = patches;
                    Builtin::Fields(Box::new(only))
                }
                "PatchJson6902Transformer" => {
                    let mut entry = serde_json::Map::new();
                    if let Some(t) = m.get("target").filter(|v| !v.is_null()) {
                        entry.insert("target".into(), t.clone());
                    }
                    let (path, op) = (string(m, "path")?, string(m, "jsonOp")?);
                    match (path.is_empty(), op.is_empty()) {
                        (true, true) => return Err("empty file path and empty jsonOp".into()),
                        (false, false) => {
                            return Err("must specify a file path or jsonOp, not both".into());
                        }
                        (false, true) => {
                            entry.insert("path".into(), Value::String(path));
                        }
                        (true, false) => {
                            entry.insert("patch".into(), Value::String(op));
                        }
                    }
                    let mut only = k.only_transformers();
                    only.patches_json6902 = vec![Value::Object(entry)];
                    Builtin::Fields(Box::new(only))
                }
                "ReplacementTransformer" => {
                    let mut only = k.only_transformers();
                    only.replacements = sequence(m, "replacements")?;
                    Builtin::Fields(Box::new(only))
                }
                "ConfigMapGenerator" | "SecretGenerator" => {
                    // the plugin's `name`/`namespace` fields, else its metadata's
                    let mut args = serde_json::Map::new();
                    let keys: &[&str] = if kind == "SecretGenerator" {
                        &[
                            "behavior", "literals", "files", "envs", "env", "options", "type",
                        ]
                    } else {
                        &["behavior", "literals", "files", "envs", "env", "options"]
                    };
                    for key in keys {
                        if let Some(v) = m.get(*key).filter(|v| !v.is_null()) {
                            args.insert((*key).into(), v.clone());
                        }
                    }
                    let name = Some(string(m, "name")?)
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| c.name().to_owned());
                    args.insert("name".into(), Value::String(name));
                    let ns = Some(string(m, "namespace")?)
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| metadata_ns.clone());
                    if !ns.is_empty() {
                        args.insert("namespace".into(), Value::String(ns));
                    }
                    if kind == "SecretGenerator" {
                        Builtin::Secret(Value::Object(args))
                    } else {
                        Builtin::ConfigMap(Value::Object(args))
                    }
                }
                _ => unreachable!("checked above"),
            })
        })();
        built.map_err(fail)
    }

    /// Runs one builtin transformer config on `ra`.
    fn run_builtin(
        &self,
        k: &Kustomization,
        list: List,
        c: &Config,
        b: &Builtin,
        ra: &mut Vec<Resource>,
    ) -> Result<(), RenderError> {
        let fail = |message: String| RenderError::Field {
            path: k.file.clone(),
            field: format!("{}: {}", list.field(), c.label()),
            message,
        };
        // Provenance: the config's file (or its string in the kustomization) and document.
        let source = if self.provenance {
            Some(self.config_source(k, c)?)
        } else {
            None
        };
        let doc = c.document;
        match b {
            Builtin::PrefixSuffix {
                prefix,
                suffix,
                specs,
            } => {
                transform::prefix_suffix_with_specs(ra, prefix, suffix, specs);
                if let Some(src) = &source {
                    let at = if prefix.is_empty() {
                        "/suffix"
                    } else {
                        "/prefix"
                    };
                    provenance::record_specs(
                        ra,
                        provenance::Step::Name,
                        src,
                        doc,
                        at,
                        specs,
                        &|r| !transform::keeps_its_name(r),
                    );
                }
            }
            Builtin::Labels { pairs, specs } => {
                transform::set_pairs(ra, specs, pairs);
                if let Some(src) = &source {
                    let (step, key) = if c.kind() == "AnnotationsTransformer" {
                        (provenance::Step::Annotations, "/annotations")
                    } else {
                        (provenance::Step::Labels, "/labels")
                    };
                    let ats = pairs
                        .iter()
                        .map(|(name, _)| {
                            let mut at = key.to_owned();
                            kube_basics::pointer::push(&mut at, name);
                            Arc::from(at)
                        })
                        .collect();
                    let set = provenance::Pairs {
                        specs: Cow::Owned(specs.clone()),
                        pairs,
                        ats,
                    };
                    provenance::record_pairs(ra, src, doc, step, &[set]);
                }
            }
            Builtin::Namespace {
                namespace,
                specs,
                unset_only,
                mode,
            } => {
                transform::namespace_with_specs(ra, namespace, specs, *unset_only, *mode)
                    .map_err(fail)?;
                if let Some(src) = &source
                    && !namespace.is_empty()
                {
                    let at = "/metadata/namespace";
                    let own = [FieldSpec::any("metadata/namespace", false)];
                    let step = provenance::Step::Namespace;
                    provenance::record_specs(ra, step, src, doc, at, &own, &|r| {
                        !r.is_cluster_scoped()
                    });
                    provenance::record_specs(ra, step, src, doc, at, specs, &|_| true);
                }
            }
            Builtin::Images { spec, specs } => {
                if let Some(src) = &source {
                    let key = if spec.digest.is_some() {
                        "digest"
                    } else if spec.new_tag.is_some() {
                        "newTag"
                    } else if spec.new_name.is_some() {
                        "newName"
                    } else {
                        "name"
                    };
                    let at: Arc<str> = Arc::from(format!("/imageTag/{key}"));
                    provenance::record_images(ra, src, doc, &|image| {
                        (transform::split_image(image).0 == spec.name).then(|| at.clone())
                    });
                }
                transform::images_with_specs(ra, spec, specs);
            }
            Builtin::Replicas { name, count, specs } => {
                transform::replicas_with_specs(ra, name, *count, specs).map_err(fail)?;
                if let Some(src) = &source {
                    provenance::record_specs(
                        ra,
                        provenance::Step::Replicas,
                        src,
                        doc,
                        "/replica/count",
                        specs,
                        &|r| r.name() == name || r.prev_ids.iter().any(|id| id.name == *name),
                    );
                }
            }
            Builtin::Hash => {
                for r in ra.iter_mut().filter(|r| r.needs_hash) {
                    let hash = generate::hash_suffix(&r.value);
                    let name = format!("{}-{hash}", r.name());
                    r.store_previous_id();
                    if let Some(Value::Object(md)) = r.value.get_mut("metadata") {
                        md.insert("name".into(), Value::String(name));
                    }
                }
            }
            Builtin::Fields(only) => self.transform(only, ra, None)?,
            Builtin::ConfigMap(_) | Builtin::Secret(_) => {
                return Err(fail("is not a transformer".into()));
            }
        }
        Ok(())
    }

    /// `generators`: each config's ConfigMap or Secret joins `ra` (with its `behavior`).
    pub(super) fn run_generators(
        &self,
        k: &Kustomization,
        ra: &mut Vec<Resource>,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RenderError> {
        if k.generators.is_empty() {
            return Ok(());
        }
        let kfile = k.file.as_path();
        let configs = self.plugin_configs(k, List::Generators, stack)?;
        let mut built = Vec::with_capacity(configs.len());
        for c in &configs {
            built.push(self.builtin(k, List::Generators, c)?);
        }
        let read = |entry: &str| -> Result<Vec<u8>, RenderError> {
            let file = load::resolve_file(
                &|root, entry| self.resolve(root, entry),
                kfile,
                &k.dir,
                entry,
                "generators",
            )?;
            self.fs
                .read(&file)
                .map_err(|source| RenderError::Io { path: file, source })
        };
        for (c, b) in configs.iter().zip(&built) {
            let (r, args) = match b {
                Builtin::ConfigMap(args) => (generate::config_map(args, None, &read), args),
                Builtin::Secret(args) => (generate::secret(args, None, &read), args),
                _ => unreachable!("checked by builtin()"),
            };
            let mut r = r.map_err(|e| generate::with_path(e, kfile))?;
            r.origin = Origin {
                file: c.file.clone(),
                document: c.document,
            };
            if self.provenance {
                let src = self.config_source(k, c)?;
                provenance::record_generated(&mut r, &src, c.document, "", "/metadata/name", args);
            }
            add_generated(ra, r, args, kfile)?;
        }
        Ok(())
    }

    /// `transformers`: each config in turn, after the kustomization's own transformer fields.
    pub(super) fn run_transformers(
        &self,
        k: &Kustomization,
        ra: &mut Vec<Resource>,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RenderError> {
        if k.transformers.is_empty() {
            return Ok(());
        }
        let configs = self.plugin_configs(k, List::Transformers, stack)?;
        let mut built = Vec::with_capacity(configs.len());
        for c in &configs {
            built.push(self.builtin(k, List::Transformers, c)?);
        }
        for (c, b) in configs.iter().zip(&built) {
            self.run_builtin(k, List::Transformers, c, b, ra)?;
        }
        Ok(())
    }

    /// `validators`: each config runs on the objects and must not change them (kustomize's
    /// rule; a `validated-by` label it adds to an object's metadata is allowed, and kept).
    pub(super) fn run_validators(
        &self,
        k: &Kustomization,
        ra: &mut Vec<Resource>,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), RenderError> {
        if k.validators.is_empty() {
            return Ok(());
        }
        let configs = self.plugin_configs(k, List::Validators, stack)?;
        let mut built = Vec::with_capacity(configs.len());
        for c in &configs {
            built.push(self.builtin(k, List::Validators, c)?);
        }
        for (c, b) in configs.iter().zip(&built) {
            let before: Vec<Value> = ra.iter().map(|r| r.value.clone()).collect();
            self.run_builtin(k, List::Validators, c, b, ra)?;
            let changed = ra.len() != before.len()
                || ra.iter().zip(&before).any(|(r, old)| {
                    let mut now = r.value.clone();
                    if let Some(Value::Object(labels)) = now.pointer_mut("/metadata/labels") {
                        labels.remove("validated-by");
                        if labels.is_empty()
                            && old.pointer("/metadata/labels").is_none()
                            && let Some(Value::Object(md)) = now.get_mut("metadata")
                        {
                            md.remove("labels");
                        }
                    }
                    &now != old
                })
                || touches(b, ra);
            if changed {
                return Err(RenderError::Field {
                    path: k.file.clone(),
                    field: format!("validators: {}", c.label()),
                    message: "validator shouldn't modify the resource map (kustomize refuses a \
                              validator that changes an object)"
                        .into(),
                });
            }
        }
        Ok(())
    }
}

/// Whether a label or annotation validator writes a field, even with the value it holds
/// (kustomize compares the objects' nodes, and a written value is a new node).
fn touches(b: &Builtin, ra: &[Resource]) -> bool {
    let Builtin::Labels { pairs, specs, .. } = b else {
        return false;
    };
    let pairs: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != "validated-by").collect();
    if pairs.is_empty() {
        return false;
    }
    ra.iter().any(|r| {
        specs
            .iter()
            .filter(|s| s.matches(r))
            .any(|s| holds_mapping(&r.value, &s.path))
    })
}

/// Whether a mapping sits at `path` under `v` (lists on the way are traversed).
fn holds_mapping(v: &Value, path: &[String]) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return v.is_object();
    };
    match v {
        Value::Array(items) => items.iter().any(|item| holds_mapping(item, path)),
        Value::Object(m) => {
            let (key, _) = transform::segment(first);
            m.get(key).is_some_and(|child| holds_mapping(child, rest))
        }
        _ => false,
    }
}
