//! Structural validation of manifests against embedded, offline schemas.
//!
//! - Kubernetes built-in kinds: the strict JSON Schemas of Kubernetes 1.35 (from the
//!   `kubernetes-validate` package): unknown fields are errors, as with
//!   `kubectl apply --validate=strict`.
//! - Argo CD `argoproj.io/v1alpha1` `Application`, `ApplicationSet` and `AppProject`: the
//!   OpenAPI v3 schemas of the upstream CRDs, converted to JSON Schema with the API server's
//!   semantics (see [`validate_argocd`]).
//! - SARIF 2.1.0 for our own reports ([`validate_sarif`]).
//!
//! The schemas are compiled into the binary (see `lints/schemas/README.md` for their
//! provenance and licences), so validation needs neither network nor files at run time. Each
//! validator is compiled once per process, on first use, and cached; the cache is shared by all
//! threads. Validating one object against a cached validator costs microseconds (measured in a
//! release build on a busy 2-core machine: ~4.5 µs for a typical single-container Deployment,
//! under 1 µs for a Service or ConfigMap, ~2 µs for an ApplicationSet; see
//! `examples/schema_cost.rs`). Compiling costs 10–30 ms for the first Kubernetes kind (indexing
//! `_definitions.json`), ~0.3 ms for each further kind and ~0.1 s for the ApplicationSet CRD,
//! once per process.

/// The Kubernetes release whose built-in kinds' schemas are embedded (`schemas/kubernetes-v1.35`).
pub const KUBERNETES_VERSION: &str = "1.35";

use std::collections::HashMap;
use std::fmt;
use std::sync::{OnceLock, RwLock};

use jsonschema::{Registry, ValidationError, Validator};
use serde_json::{Map, Value, json};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/kube_schemas.rs"));
}

/// Where `/api/_definitions.json` resolves from each per-kind file's `$id`
/// (`https://kubernetes.io/api/<kind>/<group>/<version>`); also the `$id` of that file.
const KUBE_DEFINITIONS_URI: &str = "https://kubernetes.io/api/_definitions.json";
const OBJECT_META_REF: &str = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// The API version of the Argo CD kinds validated by [`validate_argocd`].
pub const ARGOCD_API_VERSION: &str = "argoproj.io/v1alpha1";
const ARGOCD_GROUP: &str = "argoproj.io";
const ARGOCD_VERSION: &str = "v1alpha1";

/// (kind, upstream CRD manifest) for every Argo CD kind we validate.
const ARGOCD_CRDS: &[(&str, &str)] = &[
    (
        "Application",
        include_str!("../schemas/argocd/application-crd.yaml"),
    ),
    (
        "ApplicationSet",
        include_str!("../schemas/argocd/applicationset-crd.yaml"),
    ),
    (
        "AppProject",
        include_str!("../schemas/argocd/appproject-crd.yaml"),
    ),
];

/// The OASIS SARIF 2.1.0 JSON Schema (draft-04), as embedded.
pub const SARIF_SCHEMA: &str = include_str!("../schemas/sarif/sarif-schema-2.1.0.json");

/// Messages longer than this quote the offending value only by a placeholder (an `anyOf` over a
/// whole pod spec would otherwise print the pod spec).
const MAX_MESSAGE_LEN: usize = 300;

/// What went wrong, so callers can tell "invalid" from "we have no schema for this".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViolationKind {
    /// The object does not match its schema.
    Invalid,
    /// `apiVersion` or `kind` is missing or not a string.
    MissingTypeInfo,
    /// No embedded schema for this `apiVersion`/`kind` (a CRD, a typo, a removed API version).
    UnknownKind,
    /// An embedded schema failed to load or compile: a bug in edgefleet, not in the input.
    Internal,
}

/// One schema error in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// JSON pointer (RFC 6901) into the object, `""` for the object itself.
    /// For an unexpected field this points at the object holding it; the field is named in
    /// [`message`](Self::message).
    pub instance_path: String,
    /// Human-readable description.
    pub message: String,
    /// The class of the error.
    pub kind: ViolationKind,
}

impl SchemaViolation {
    fn new(
        kind: ViolationKind,
        instance_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            instance_path: instance_path.into(),
            message: message.into(),
            kind,
        }
    }

    /// `true` when there is no embedded schema for the object's `apiVersion`/`kind`.
    pub fn is_unknown_kind(&self) -> bool {
        self.kind == ViolationKind::UnknownKind
    }

    fn from_validation_error(error: &ValidationError<'_>) -> Self {
        let mut message = error.to_string();
        if message.len() > MAX_MESSAGE_LEN {
            message = error.masked().to_string();
        }
        Self::new(
            ViolationKind::Invalid,
            error.instance_path().as_str(),
            message,
        )
    }
}

impl fmt::Display for SchemaViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.instance_path.is_empty() {
            write!(f, "(root): {}", self.message)
        } else {
            write!(f, "{}: {}", self.instance_path, self.message)
        }
    }
}

impl std::error::Error for SchemaViolation {}

/// Validates any object: Argo CD kinds (`argoproj.io/...`) with [`validate_argocd`], everything
/// else with [`validate_kubernetes`].
pub fn validate(obj: &Value) -> Result<(), Vec<SchemaViolation>> {
    let (api_version, _) = type_info(obj).map_err(|v| vec![v])?;
    if api_version.split_once('/').map(|(group, _)| group) == Some(ARGOCD_GROUP) {
        validate_argocd(obj)
    } else {
        validate_kubernetes(obj)
    }
}

/// Validates a Kubernetes built-in object (strictly: unknown fields are errors) against the
/// embedded Kubernetes 1.35 schema chosen by its `apiVersion` and `kind`.
///
/// An object of a kind without an embedded schema fails with one violation of kind
/// [`ViolationKind::UnknownKind`].
pub fn validate_kubernetes(obj: &Value) -> Result<(), Vec<SchemaViolation>> {
    let (api_version, kind) = type_info(obj).map_err(|v| vec![v])?;
    let validator = kube_validator(api_version, kind).map_err(|v| vec![v])?;
    run(validator, obj)
}

/// Validates an Argo CD `argoproj.io/v1alpha1` `Application`, `ApplicationSet` or `AppProject`
/// against the embedded upstream CRD schema (Argo CD v3.6.0).
///
/// The CRD's `openAPIV3Schema` is converted to JSON Schema 2020-12 as the API server reads it:
/// `nullable` adds `null` to the type; `x-kubernetes-int-or-string` means integer or string;
/// an object schema without `additionalProperties` rejects unknown fields unless it has
/// `x-kubernetes-preserve-unknown-fields: true` (the API server's strict field validation);
/// `metadata` at the root is checked as a Kubernetes `ObjectMeta`; the other `x-kubernetes-*`
/// keys (list and map types, CEL `x-kubernetes-validations`) are not checked.
pub fn validate_argocd(obj: &Value) -> Result<(), Vec<SchemaViolation>> {
    let (api_version, kind) = type_info(obj).map_err(|v| vec![v])?;
    let validator = argocd_validator(api_version, kind).map_err(|v| vec![v])?;
    run(validator, obj)
}

/// Validates a SARIF log against the OASIS SARIF 2.1.0 schema.
pub fn validate_sarif(doc: &Value) -> Result<(), Vec<SchemaViolation>> {
    let compiled = cached("sarif-2.1.0".to_owned(), || {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA)
            .map_err(|e| internal(format!("embedded SARIF schema is not JSON: {e}")))?;
        jsonschema::options()
            .offline()
            .build(&schema)
            .map_err(|e| internal(format!("cannot compile the SARIF schema: {e}")))
    });
    run(compiled_or_internal(compiled).map_err(|v| vec![v])?, doc)
}

/// `true` when an embedded schema exists for this `apiVersion` and `kind` (built-in Kubernetes
/// kind or Argo CD kind). Compiles nothing.
pub fn has_schema(api_version: &str, kind: &str) -> bool {
    if api_version == ARGOCD_API_VERSION {
        return ARGOCD_CRDS.iter().any(|(k, _)| *k == kind);
    }
    kube_schema_text(api_version, kind).is_some_and(|text| gvk_matches(text, api_version, kind))
}

// ---------------------------------------------------------------------------------------------
// Shared machinery

fn type_info(obj: &Value) -> Result<(&str, &str), SchemaViolation> {
    let Some(map) = obj.as_object() else {
        return Err(SchemaViolation::new(
            ViolationKind::MissingTypeInfo,
            "",
            "a Kubernetes object must be a mapping",
        ));
    };
    let field = |name: &str| match map.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
        Some(_) => Err(SchemaViolation::new(
            ViolationKind::MissingTypeInfo,
            format!("/{name}"),
            format!("`{name}` must be a non-empty string"),
        )),
        None => Err(SchemaViolation::new(
            ViolationKind::MissingTypeInfo,
            "",
            format!("missing `{name}`: cannot choose a schema"),
        )),
    };
    Ok((field("apiVersion")?, field("kind")?))
}

fn run(validator: &Validator, obj: &Value) -> Result<(), Vec<SchemaViolation>> {
    // Fast path: no error objects are built for a valid object.
    if validator.is_valid(obj) {
        return Ok(());
    }
    let violations: Vec<SchemaViolation> = validator
        .iter_errors(obj)
        .map(|e| SchemaViolation::from_validation_error(&e))
        .collect();
    if violations.is_empty() {
        // is_valid and iter_errors disagree: should not happen, but never report "valid".
        return Err(vec![SchemaViolation::new(
            ViolationKind::Invalid,
            "",
            "object does not match its schema",
        )]);
    }
    Err(violations)
}

/// A compiled validator, or why there is none.
type Compiled = Result<Validator, CompileError>;

enum CompileError {
    /// The schema file exists but declares another group/version/kind.
    UnknownKind,
    /// An embedded schema did not load or compile.
    Internal(String),
}

type Slot = &'static OnceLock<Compiled>;

/// Compiled validators by key, each compiled at most once per process and never evicted.
///
/// The map lock is held only to find or insert a slot; compilation happens outside it, so two
/// kinds compile in parallel while threads asking for the same kind wait for one compilation.
/// Slots are leaked on purpose (one per distinct key, a few dozen in practice) so callers get a
/// `&'static Validator` and validate without holding any lock.
fn cache() -> &'static RwLock<HashMap<String, Slot>> {
    static CACHE: OnceLock<RwLock<HashMap<String, Slot>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn cache_slot(key: &str) -> Option<Slot> {
    cache()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(key)
        .copied()
}

/// The cached result for `key`, if it was compiled already.
fn cached_only(key: &str) -> Option<&'static Compiled> {
    cache_slot(key).and_then(OnceLock::get)
}

fn cached(key: String, compile: impl FnOnce() -> Compiled) -> &'static Compiled {
    let slot = match cache_slot(&key) {
        Some(slot) => slot,
        None => *cache()
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .entry(key)
            .or_insert_with(|| Box::leak(Box::new(OnceLock::new()))),
    };
    slot.get_or_init(compile)
}

fn internal(message: impl Into<String>) -> CompileError {
    CompileError::Internal(message.into())
}

fn compiled_or_internal(compiled: &Compiled) -> Result<&Validator, SchemaViolation> {
    match compiled {
        Ok(validator) => Ok(validator),
        Err(CompileError::Internal(message)) => Err(SchemaViolation::new(
            ViolationKind::Internal,
            "",
            message.clone(),
        )),
        Err(CompileError::UnknownKind) => Err(SchemaViolation::new(
            ViolationKind::UnknownKind,
            "",
            "no schema for this apiVersion and kind",
        )),
    }
}

/// A prepared registry holding the Kubernetes `_definitions.json`, shared by every validator
/// (Kubernetes kinds and the `ObjectMeta` of Argo CD kinds): parsed and indexed once.
fn kube_registry() -> Result<&'static Registry<'static>, SchemaViolation> {
    static REGISTRY: OnceLock<Result<Registry<'static>, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let definitions: Value = serde_json::from_str(embedded::KUBE_DEFINITIONS)
                .map_err(|e| format!("embedded Kubernetes _definitions.json is not JSON: {e}"))?;
            Registry::new()
                .add(KUBE_DEFINITIONS_URI, definitions)
                .and_then(|builder| builder.prepare())
                .map_err(|e| format!("cannot index the Kubernetes definitions: {e}"))
        })
        .as_ref()
        .map_err(|message| SchemaViolation::new(ViolationKind::Internal, "", message.clone()))
}

fn build_with_kube_registry(schema: &Value, what: &str) -> Compiled {
    let registry = kube_registry().map_err(|v| internal(v.message))?;
    jsonschema::options()
        .with_registry(registry)
        .offline()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| internal(format!("cannot compile the schema for {what}: {e}")))
}

// ---------------------------------------------------------------------------------------------
// Kubernetes built-in kinds

/// The embedded file name for an apiVersion/kind, following the kubernetes-validate naming:
/// `<kind>-<first label of the group>-<version>.json`, lower-case, core group omitted.
fn kube_schema_name(api_version: &str, kind: &str) -> Option<String> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plain(version) || !plain(kind) || version.contains('/') {
        return None;
    }
    let group_part = match group {
        "" => String::new(),
        // The one group whose file label is not its first DNS label.
        "internal.apiserver.k8s.io" => "-apiserverinternal".to_owned(),
        g => format!("-{}", g.split('.').next().unwrap_or(g)),
    };
    Some(format!(
        "{}{}-{}.json",
        kind.to_ascii_lowercase(),
        group_part.to_ascii_lowercase(),
        version.to_ascii_lowercase()
    ))
}

fn kube_schema_text(api_version: &str, kind: &str) -> Option<&'static str> {
    let name = kube_schema_name(api_version, kind)?;
    embedded::KUBE_KINDS
        .binary_search_by(|(file, _)| (*file).cmp(name.as_str()))
        .ok()
        .map(|i| embedded::KUBE_KINDS[i].1)
}

/// Whether a schema file declares exactly this group/version/kind (file names are lower-case
/// and drop most of the group, so `apps.example.com/v1 Deployment` or `apps/v1 deployment`
/// would otherwise find `deployment-apps-v1.json`).
fn gvk_matches(schema_text: &str, api_version: &str, kind: &str) -> bool {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let Ok(schema) = serde_json::from_str::<Value>(schema_text) else {
        return false;
    };
    gvk_list_matches(&schema, group, version, kind)
}

fn gvk_list_matches(schema: &Value, group: &str, version: &str, kind: &str) -> bool {
    schema
        .get("x-kubernetes-group-version-kind")
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter().any(|gvk| {
                gvk.get("group").and_then(Value::as_str) == Some(group)
                    && gvk.get("version").and_then(Value::as_str) == Some(version)
                    && gvk.get("kind").and_then(Value::as_str) == Some(kind)
            })
        })
}

fn unknown_kube_kind(api_version: &str, kind: &str) -> SchemaViolation {
    let hint = if api_version
        .split_once('/')
        .is_some_and(|(g, _)| g.contains('.') && !g.ends_with(".k8s.io"))
    {
        " (a custom resource? edgefleet embeds schemas only for Kubernetes 1.35 built-in kinds and Argo CD)"
    } else {
        " (not a Kubernetes 1.35 built-in kind: check the spelling, the capitalisation and the API version)"
    };
    SchemaViolation::new(
        ViolationKind::UnknownKind,
        "",
        format!("no schema for apiVersion `{api_version}`, kind `{kind}`{hint}"),
    )
}

fn kube_validator(api_version: &str, kind: &str) -> Result<&'static Validator, SchemaViolation> {
    // Keyed by the exact apiVersion/kind: the GVK check below is cached with the validator, and
    // the hot path (a kind seen before) skips the file-name lookup.
    let key = format!("k8s\0{api_version}\0{kind}");
    let compiled = match cached_only(&key) {
        Some(compiled) => compiled,
        None => {
            // Names that match no embedded file are not cached: arbitrary input must not grow
            // the cache.
            let Some(text) = kube_schema_text(api_version, kind) else {
                return Err(unknown_kube_kind(api_version, kind));
            };
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            cached(key, || {
                let schema: Value = serde_json::from_str(text).map_err(|e| {
                    internal(format!(
                        "embedded schema for {api_version} {kind} is not JSON: {e}"
                    ))
                })?;
                if !gvk_list_matches(&schema, group, version, kind) {
                    return Err(CompileError::UnknownKind);
                }
                build_with_kube_registry(&schema, &format!("{api_version} {kind}"))
            })
        }
    };
    match compiled {
        Err(CompileError::UnknownKind) => Err(unknown_kube_kind(api_version, kind)),
        _ => compiled_or_internal(compiled),
    }
}

// ---------------------------------------------------------------------------------------------
// Argo CD CRDs

fn argocd_validator(api_version: &str, kind: &str) -> Result<&'static Validator, SchemaViolation> {
    let crd = ARGOCD_CRDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, crd)| *crd)
        .filter(|_| api_version == ARGOCD_API_VERSION);
    let Some(crd) = crd else {
        return Err(SchemaViolation::new(
            ViolationKind::UnknownKind,
            "",
            format!(
                "no schema for apiVersion `{api_version}`, kind `{kind}` (edgefleet embeds the \
                 Argo CD {ARGOCD_API_VERSION} kinds Application, ApplicationSet and AppProject)"
            ),
        ));
    };
    let compiled = cached(format!("argocd\0{kind}"), || {
        let schema = crd_json_schema(crd, kind).map_err(internal)?;
        build_with_kube_registry(&schema, &format!("Argo CD {kind}"))
    });
    compiled_or_internal(compiled)
}

/// Parses an upstream CRD manifest and returns the JSON Schema (2020-12) for `kind` at
/// `argoproj.io/v1alpha1`.
fn crd_json_schema(crd_yaml: &str, kind: &str) -> Result<Value, String> {
    // YAML 1.2 core scalars, as the API server's and Kustomize's go-yaml v3 read them.
    let options = serde_saphyr::options! { strict_booleans: true };
    let crd: Value = serde_saphyr::from_str_with_options(crd_yaml, options)
        .map_err(|e| format!("embedded Argo CD {kind} CRD is not valid YAML: {e}"))?;
    let spec = crd.get("spec").ok_or("CRD without spec")?;
    if spec.get("group").and_then(Value::as_str) != Some(ARGOCD_GROUP)
        || spec.pointer("/names/kind").and_then(Value::as_str) != Some(kind)
    {
        return Err(format!("embedded CRD is not the {ARGOCD_GROUP} {kind} CRD"));
    }
    let openapi = spec
        .get("versions")
        .and_then(Value::as_array)
        .and_then(|versions| {
            versions
                .iter()
                .find(|v| v.get("name").and_then(Value::as_str) == Some(ARGOCD_VERSION))
        })
        .and_then(|v| v.pointer("/schema/openAPIV3Schema"))
        .ok_or_else(|| format!("the {kind} CRD has no {ARGOCD_VERSION} openAPIV3Schema"))?;

    let mut root = convert_openapi(openapi, true, "")?;
    let root_map = root
        .as_object_mut()
        .ok_or("openAPIV3Schema is not an object")?;
    let properties = root_map
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("openAPIV3Schema properties is not an object")?;
    // The API server checks these itself rather than through the CRD schema.
    properties.insert(
        "apiVersion".into(),
        json!({"type": "string", "const": ARGOCD_API_VERSION}),
    );
    properties.insert("kind".into(), json!({"type": "string", "const": kind}));
    properties.insert("metadata".into(), json!({"$ref": OBJECT_META_REF}));
    root_map.insert("$schema".into(), json!(DRAFT_2020_12));
    Ok(root)
}

/// Converts one node of a CRD structural schema (OpenAPI v3.0 subset) to JSON Schema 2020-12.
///
/// `strict`: this node declares fields (it is not inside `anyOf`/`allOf`/`oneOf`/`not`, where
/// structural schemas may only restrict), so an object without `additionalProperties` and
/// without `x-kubernetes-preserve-unknown-fields` rejects unknown fields.
///
/// An unexpected keyword is an error rather than silently dropped, so that a CRD update that
/// uses a new keyword is noticed by the tests instead of weakening validation.
fn convert_openapi(node: &Value, strict: bool, path: &str) -> Result<Value, String> {
    let obj = node
        .as_object()
        .ok_or_else(|| format!("schema at `{path}` is not an object"))?;
    let flag = |key: &str| obj.get(key).and_then(Value::as_bool).unwrap_or(false);
    let preserve_unknown = flag("x-kubernetes-preserve-unknown-fields");
    let int_or_string = flag("x-kubernetes-int-or-string");
    let nullable = flag("nullable");
    let embedded_resource = flag("x-kubernetes-embedded-resource");

    let mut out = Map::new();
    for (key, value) in obj {
        let here = format!("{path}/{key}");
        match key.as_str() {
            // Documentation, defaulting and server-side behaviour that a schema check cannot
            // or need not reproduce (CEL rules, list/map merge semantics).
            "description"
            | "title"
            | "default"
            | "example"
            | "externalDocs"
            | "nullable"
            | "x-kubernetes-preserve-unknown-fields"
            | "x-kubernetes-int-or-string"
            | "x-kubernetes-embedded-resource"
            | "x-kubernetes-list-type"
            | "x-kubernetes-list-map-keys"
            | "x-kubernetes-map-type"
            | "x-kubernetes-validations" => {}
            "type" | "format" | "enum" | "required" | "pattern" | "minLength" | "maxLength"
            | "minItems" | "maxItems" | "uniqueItems" | "minProperties" | "maxProperties"
            | "multipleOf" | "minimum" | "maximum" => {
                out.insert(key.clone(), value.clone());
            }
            // OpenAPI 3.0 booleans modifying minimum/maximum; handled below.
            "exclusiveMinimum" | "exclusiveMaximum" => {}
            "properties" => {
                let props = value
                    .as_object()
                    .ok_or_else(|| format!("`{here}` is not an object"))?;
                let mut converted = Map::new();
                for (name, schema) in props {
                    converted.insert(
                        name.clone(),
                        convert_openapi(schema, strict, &format!("{here}/{name}"))?,
                    );
                }
                out.insert(key.clone(), Value::Object(converted));
            }
            "items" => {
                out.insert(key.clone(), convert_openapi(value, strict, &here)?);
            }
            "additionalProperties" => {
                let converted = match value {
                    Value::Bool(_) => value.clone(),
                    schema => convert_openapi(schema, strict, &here)?,
                };
                out.insert(key.clone(), converted);
            }
            "anyOf" | "allOf" | "oneOf" => {
                let branches = value
                    .as_array()
                    .ok_or_else(|| format!("`{here}` is not an array"))?;
                let converted = branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| convert_openapi(b, false, &format!("{here}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(key.clone(), Value::Array(converted));
            }
            "not" => {
                out.insert(key.clone(), convert_openapi(value, false, &here)?);
            }
            other => {
                return Err(format!(
                    "unsupported OpenAPI keyword `{other}` at `{path}` in an Argo CD CRD"
                ));
            }
        }
    }

    for (bound, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        if obj.get(exclusive).and_then(Value::as_bool) == Some(true)
            && let Some(limit) = out.remove(bound)
        {
            out.insert(exclusive.into(), limit);
        }
    }

    if int_or_string {
        // Upstream writes `anyOf: [{type: integer}, {type: string}]` next to the flag; a plain
        // type list gives the same result with a clearer message.
        out.remove("anyOf");
        out.insert("type".into(), json!(["integer", "string"]));
    }

    if embedded_resource
        && strict
        && let Some(Value::Object(props)) = out.get_mut("properties")
    {
        props
            .entry("apiVersion")
            .or_insert_with(|| json!({"type": "string"}));
        props
            .entry("kind")
            .or_insert_with(|| json!({"type": "string"}));
        props
            .entry("metadata")
            .or_insert_with(|| json!({"$ref": OBJECT_META_REF}));
    }

    let is_object = out.get("type").and_then(Value::as_str) == Some("object");
    if strict && is_object && !preserve_unknown && !out.contains_key("additionalProperties") {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }

    if nullable {
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                out.insert("type".into(), json!([t, "null"]));
            }
            Some(Value::Array(types)) if !types.contains(&json!("null")) => {
                types.push(json!("null"));
            }
            _ => {}
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
    }

    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests;
