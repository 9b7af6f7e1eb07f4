//! Kubernetes ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1), evaluated offline
//! as the API server would evaluate them when each object is created.
//!
//! What is reproduced from the Kubernetes documentation of ValidatingAdmissionPolicy:
//! - a policy does nothing without a ValidatingAdmissionPolicyBinding naming it (`policyName`);
//! - an object is checked when it matches the policy's `matchConstraints` and the binding's
//!   `matchResources` (`resourceRules` with apiGroups, apiVersions, resources, operations and
//!   scope, `excludeResourceRules`, `namespaceSelector`, `objectSelector`); the operation is
//!   `CREATE`, a namespace's labels come from the Namespace object when the repository has it;
//! - `matchConditions` all true, else the object is skipped; `variables` are computed in order
//!   and read as `variables.<name>`;
//! - each validation whose `expression` is false reports `messageExpression` (when it gives a
//!   string), else `message`, else `failed expression: <expression>`; `fieldPath` names the field;
//! - an expression error follows `failurePolicy` (`Fail`, the default: reported; `Ignore`: not);
//! - `paramKind` + the binding's `paramRef` (`name` or `selector`, `namespace`,
//!   `parameterNotFoundAction`) find the params among the objects linted with the object and the
//!   policy files; with a selector the validations run once per params object;
//! - `validationActions`: `Deny` → error, `Warn` → warning, `Audit` → note (the highest wins);
//! - variables: `object`, `oldObject` (null: a create), `params`, `namespaceObject`, `request`;
//!   `authorizer` needs a cluster and is refused when the policy is loaded, as is every function
//!   that is not in CEL's standard library or the Kubernetes libraries of [`cel_k8s`](super::cel_k8s).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use cel::{Program, Value as CelValue};
use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::{self, YamlDocument, YamlNode, line_col};
use serde_json::{Value, json};
use std::sync::Arc;

use super::cel_k8s::CelLibrary;
use super::projection::Projection;
use super::{PolicyError, PolicyRule, Verdict, located};
use crate::finding::{Level, Severity};
use crate::manifest::Manifest;
use crate::rules::residency::missing_egress_policy::selects;

const API_GROUP: &str = "admissionregistration.k8s.io/";

/// A CEL expression compiled once, with where it was written.
struct Expr {
    text: String,
    program: Program,
}

struct Validation {
    expr: Expr,
    message: Option<String>,
    message_expr: Option<Expr>,
    field_path: Option<String>,
}

#[derive(Default, Clone)]
struct ResourceRule {
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    operations: Vec<String>,
    resource_names: Vec<String>,
    scope: String,
}

#[derive(Default, Clone)]
struct MatchResources {
    namespace_selector: Option<Value>,
    object_selector: Option<Value>,
    rules: Vec<ResourceRule>,
    exclude: Vec<ResourceRule>,
}

struct Policy {
    name: String,
    param_kind: Option<(String, String)>,
    constraints: MatchResources,
    conditions: Vec<(String, Expr)>,
    variables: Vec<(String, Expr)>,
    validations: Vec<Validation>,
    fail_closed: bool,
    /// Index of the policy's rule in the policy set.
    rule: usize,
    /// What this policy's expressions read of `object`, `namespaceObject` and `params` (plus
    /// what `request` is made of): its verdict cache key. Per policy, so that one policy reading
    /// a field that differs at every site (the labels) does not make the others miss.
    reads: Reads,
}

struct Reads {
    object: Projection,
    namespace: Projection,
    params: Projection,
}

impl Reads {
    fn of(texts: &[&str]) -> Self {
        Reads {
            // `request` is made of the object's apiVersion, kind, name and namespace. Labels are
            // not read by an evaluation: selectors are matched before the cache is asked.
            object: Projection::scan("object", texts.iter().copied()).with(&[
                "/apiVersion",
                "/kind",
                "/metadata/name",
                "/metadata/namespace",
            ]),
            namespace: Projection::scan("namespaceObject", texts.iter().copied()),
            params: Projection::scan("params", texts.iter().copied()),
        }
    }
}

struct ParamRef {
    name: Option<String>,
    namespace: Option<String>,
    selector: Option<Value>,
    deny_when_missing: bool,
}

struct Binding {
    name: String,
    policy: usize,
    param_ref: Option<ParamRef>,
    match_resources: Option<MatchResources>,
    severity: Severity,
}

/// The ValidatingAdmissionPolicies and bindings of the configuration, compiled once.
pub(crate) struct AdmissionPolicies {
    policies: Vec<Policy>,
    bindings: Vec<Binding>,
    /// Other objects of the policy files: params (ConfigMaps, custom kinds).
    objects: Vec<Value>,
    library: CelLibrary,
    /// Verdicts per (binding, object key, params key, namespace key): objects that differ only
    /// in what the binding's policy does not read are evaluated once.
    cache: super::VerdictCache<(usize, Arc<str>, String, String)>,
}

/// What a set of objects offers to the policies: namespaces' labels and candidate params.
#[derive(Default)]
pub(crate) struct Prepared {
    namespaces: HashMap<String, Value>,
    objects: Vec<Value>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn resource_rules(v: Option<&Value>) -> Vec<ResourceRule> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| ResourceRule {
            api_groups: strings(r.get("apiGroups")),
            api_versions: strings(r.get("apiVersions")),
            resources: strings(r.get("resources")),
            operations: strings(r.get("operations")),
            resource_names: strings(r.get("resourceNames")),
            scope: r
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("*")
                .to_owned(),
        })
        .collect()
}

fn match_resources(v: &Value) -> MatchResources {
    MatchResources {
        namespace_selector: v.get("namespaceSelector").cloned(),
        object_selector: v.get("objectSelector").cloned(),
        rules: resource_rules(v.get("resourceRules")),
        exclude: resource_rules(v.get("excludeResourceRules")),
    }
}

/// The YAML files under the configured paths.
fn yaml_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PolicyError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            super::walk(p, &mut out, &|n| {
                n.ends_with(".yaml") || n.ends_with(".yml")
            })
            .map_err(|e| PolicyError::plain(format!("{}: {e}", p.display())))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(PolicyError::plain(format!(
                "{}: [policies] admission: no such file or folder",
                p.display()
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Where in the file a function call of an expression is: the expression's own location moved
/// to `needle` when the expression is found there verbatim (plain, quoted or block scalars whose
/// lines are the expression's lines).
fn locate_in_expression(text: &str, at: &SourceLocation, needle: &str) -> SourceLocation {
    let end = (at.offset + at.len.max(1)).min(text.len());
    let scalar = text.get(at.offset..end).unwrap_or("");
    // Block scalars: the span covers the indicator; search the block's lines too.
    let search_end = if scalar.starts_with('|') || scalar.starts_with('>') {
        text[at.offset..]
            .find("\n\n")
            .map_or(text.len(), |i| at.offset + i)
            .max(end)
    } else {
        end
    };
    if let Some(i) = text.get(at.offset..search_end).and_then(|s| s.find(needle)) {
        let offset = at.offset + i;
        let (line, column) = line_col(text, offset);
        return SourceLocation {
            file: at.file.clone(),
            line,
            column,
            offset,
            len: needle.len(),
        };
    }
    at.clone()
}

struct Loader<'a> {
    library: &'a CelLibrary,
    doc: &'a YamlDocument,
    text: &'a str,
}

impl Loader<'_> {
    fn compile(&self, pointer: &str, text: &str) -> Result<Expr, PolicyError> {
        let at = self.doc.locate(pointer);
        let program = self.library.compile(text).map_err(|e| {
            let first = e.errors.first();
            let location = first
                .map(|p| {
                    // The parser's line is 1-based, its column 0-based: the rest of that line
                    // of the expression, found in the file, is where the error is.
                    let (line, column) = (p.pos.0.max(1) as usize, p.pos.1.max(0) as usize);
                    let needle: String = text
                        .lines()
                        .nth(line - 1)
                        .map_or(String::new(), |l| l.chars().skip(column).take(24).collect());
                    if needle.trim().is_empty() {
                        at.clone()
                    } else {
                        locate_in_expression(self.text, &at, needle.trim())
                    }
                })
                .unwrap_or_else(|| at.clone());
            let msg = first.map_or_else(|| e.to_string(), |p| p.msg.clone());
            located(location, format!("CEL syntax error in `{text}`: {msg}"))
        })?;
        if let Some(name) = self.library.unsupported(&program) {
            let location = locate_in_expression(self.text, &at, &name);
            let what = if name == "authorizer" {
                "the variable `authorizer` needs a cluster's authorizer: not available offline"
                    .to_owned()
            } else {
                format!(
                    "CEL function `{name}` is not supported by edgefleet (standard library, \
                     strings, lists, regex, url, quantity and optional types are)"
                )
            };
            return Err(located(location, format!("{what}, in `{text}`")));
        }
        Ok(Expr {
            text: text.to_owned(),
            program,
        })
    }
}

impl AdmissionPolicies {
    pub(crate) fn load(
        paths: &[PathBuf],
        base: &Path,
        rules: &mut Vec<PolicyRule>,
    ) -> Result<Option<Self>, PolicyError> {
        let files = yaml_files(paths)?;
        if files.is_empty() {
            return Ok(None);
        }
        let library = CelLibrary::new();
        let mut policies: Vec<Policy> = Vec::new();
        let mut raw_bindings: Vec<(Value, SourceLocation)> = Vec::new();
        let mut objects = Vec::new();
        for file in &files {
            let shown = source::display_path(file, base);
            let text = source::read_source(file).map_err(|d| located(d.location, d.message))?;
            let docs =
                source::parse_yaml(&shown, &text).map_err(|d| located(d.location, d.message))?;
            for doc in docs {
                if !matches!(doc.root.value, YamlNode::Map(_)) {
                    continue;
                }
                let v = doc.to_json();
                let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
                let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
                let admission = api.starts_with(API_GROUP);
                match kind {
                    "ValidatingAdmissionPolicy" if admission => {
                        let loader = Loader {
                            library: &library,
                            doc: &doc,
                            text: &text,
                        };
                        let policy = read_policy(&loader, &v, rules.len())?;
                        let location = doc.locate_key("/metadata/name");
                        rules.push(policy_rule(&policy, &v, location));
                        policies.push(policy);
                    }
                    "ValidatingAdmissionPolicyBinding" if admission => {
                        raw_bindings.push((v, doc.locate("/spec/policyName")));
                    }
                    _ => objects.push(v),
                }
            }
        }
        let mut bindings = Vec::new();
        let mut levels: Vec<Option<Severity>> = vec![None; policies.len()];
        for (v, at) in raw_bindings {
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let policy_name = v
                .pointer("/spec/policyName")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(policy) = policies.iter().position(|p| p.name == policy_name) else {
                return Err(located(
                    at,
                    format!(
                        "binding `{name}` names ValidatingAdmissionPolicy `{policy_name}`, which no \
                         [policies] admission file defines"
                    ),
                ));
            };
            let actions = strings(v.pointer("/spec/validationActions"));
            let mut severity = None;
            for a in &actions {
                let s = match a.as_str() {
                    "Deny" => Severity::Error,
                    "Warn" => Severity::Warning,
                    "Audit" => Severity::Note,
                    other => {
                        return Err(located(
                            at,
                            format!(
                                "binding `{name}`: unknown validationAction `{other}` (Deny, Warn, Audit)"
                            ),
                        ));
                    }
                };
                severity = severity.max(Some(s));
            }
            let Some(severity) = severity else {
                return Err(located(
                    at,
                    format!("binding `{name}` has no validationActions (Deny, Warn or Audit)"),
                ));
            };
            levels[policy] = levels[policy].max(Some(severity));
            let param_ref = v.pointer("/spec/paramRef").map(|p| ParamRef {
                name: p.get("name").and_then(Value::as_str).map(str::to_owned),
                namespace: p
                    .get("namespace")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                selector: p.get("selector").cloned(),
                deny_when_missing: p.get("parameterNotFoundAction").and_then(Value::as_str)
                    != Some("Allow"),
            });
            bindings.push(Binding {
                name,
                policy,
                param_ref,
                match_resources: v.pointer("/spec/matchResources").map(match_resources),
                severity,
            });
        }
        for (p, level) in policies.iter().zip(levels) {
            let rule = &mut rules[p.rule];
            rule.default_level = match level {
                Some(Severity::Error) => Level::Error,
                Some(Severity::Warning) => Level::Warning,
                Some(Severity::Note) => Level::Note,
                None => Level::Off,
            };
        }
        Ok(Some(Self {
            policies,
            bindings,
            objects,
            library,
            cache: super::VerdictCache::new(),
        }))
    }

    /// Namespaces and candidate params of one input set.
    pub(crate) fn prepare(&self, manifests: &[Manifest]) -> Prepared {
        let mut namespaces = HashMap::new();
        for m in manifests {
            if m.kind() == "Namespace"
                && let Some(n) = m.value.pointer("/metadata/name").and_then(Value::as_str)
            {
                namespaces.insert(n.to_owned(), m.value.clone());
            }
        }
        let wanted: Vec<&(String, String)> = self
            .policies
            .iter()
            .filter_map(|p| p.param_kind.as_ref())
            .collect();
        let objects = manifests
            .iter()
            .filter(|m| {
                wanted
                    .iter()
                    .any(|(a, k)| m.api_version() == a && m.kind() == k)
            })
            .map(|m| m.value.clone())
            .collect();
        Prepared {
            namespaces,
            objects,
        }
    }

    /// Every binding on one object.
    pub(crate) fn check(&self, m: &Manifest, prepared: &Prepared, out: &mut Vec<Verdict>) {
        let object = &m.value;
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let cluster_scoped = kube_basics::kinds::is_cluster_scoped_api(m.api_version(), m.kind());
        let ns_object = if cluster_scoped || namespace.is_empty() {
            None
        } else {
            Some(
                prepared
                    .namespaces
                    .get(namespace)
                    .cloned()
                    .unwrap_or_else(|| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})),
            )
        };
        let mut cel_object: Option<CelValue> = None;
        // Per policy, made when a binding of it first matches: (object key, namespace key).
        let mut keys: Vec<Option<(Arc<str>, String)>> = vec![None; self.policies.len()];
        for (bi, b) in self.bindings.iter().enumerate() {
            let policy = &self.policies[b.policy];
            if !matches(
                &policy.constraints,
                object,
                cluster_scoped,
                ns_object.as_ref(),
                true,
            ) || !b
                .match_resources
                .as_ref()
                .is_none_or(|r| matches(r, object, cluster_scoped, ns_object.as_ref(), false))
            {
                continue;
            }
            let params: Vec<Option<&Value>> = match (&policy.param_kind, &b.param_ref) {
                (Some(kind), Some(r)) => {
                    let found = self.find_params(kind, r, namespace, prepared);
                    if found.is_empty() {
                        if r.deny_when_missing {
                            out.push(Verdict {
                                rule: policy.rule,
                                pointer: String::new(),
                                message: format!(
                                    "no params found for binding `{}` of ValidatingAdmissionPolicy `{}` (parameterNotFoundAction: Deny)",
                                    b.name, policy.name
                                ),
                                severity: Some(b.severity),
                            });
                        }
                        continue;
                    }
                    found.into_iter().map(Some).collect()
                }
                _ => vec![None],
            };
            let reads = &policy.reads;
            let cacheable = !reads.object.is_whole() && !reads.namespace.is_whole();
            for p in params {
                if !cacheable {
                    out.extend(self.evaluate(
                        policy,
                        b,
                        &mut cel_object,
                        object,
                        p,
                        ns_object.as_ref(),
                    ));
                    continue;
                }
                let (object_key, ns_key) = keys[b.policy]
                    .get_or_insert_with(|| {
                        let ns = ns_object
                            .as_ref()
                            .map(|n| reads.namespace.key(n))
                            .unwrap_or_default();
                        (Arc::from(reads.object.key(object)), ns)
                    })
                    .clone();
                let key = (
                    bi,
                    object_key,
                    p.map(|p| reads.params.key(p)).unwrap_or_default(),
                    ns_key,
                );
                let hit = self.cache.get(&key);
                let verdicts = match hit {
                    Some(v) => v,
                    None => {
                        let v = Arc::new(self.evaluate(
                            policy,
                            b,
                            &mut cel_object,
                            object,
                            p,
                            ns_object.as_ref(),
                        ));
                        self.cache.insert(key, v.clone());
                        v
                    }
                };
                out.extend(verdicts.iter().cloned());
            }
        }
    }

    fn find_params<'a>(
        &'a self,
        (api, kind): &(String, String),
        r: &ParamRef,
        object_namespace: &str,
        prepared: &'a Prepared,
    ) -> Vec<&'a Value> {
        let namespace = r.namespace.as_deref().unwrap_or(object_namespace);
        prepared
            .objects
            .iter()
            .chain(self.objects.iter())
            .filter(|o| {
                o.get("apiVersion").and_then(Value::as_str) == Some(api)
                    && o.get("kind").and_then(Value::as_str) == Some(kind)
            })
            .filter(|o| {
                let ns = o
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                kube_basics::kinds::is_cluster_scoped_api(api, kind)
                    || namespace.is_empty()
                    || ns == namespace
                    || ns.is_empty()
            })
            .filter(|o| match (&r.name, &r.selector) {
                (Some(name), _) => {
                    o.pointer("/metadata/name").and_then(Value::as_str) == Some(name)
                }
                (None, Some(sel)) => selects(Some(sel), &labels(o)),
                (None, None) => false,
            })
            .take(if r.name.is_some() { 1 } else { usize::MAX })
            .collect()
    }

    fn evaluate(
        &self,
        policy: &Policy,
        binding: &Binding,
        cel_object: &mut Option<CelValue>,
        json_object: &Value,
        params: Option<&Value>,
        namespace: Option<&Value>,
    ) -> Vec<Verdict> {
        let mut out = Vec::new();
        let root = self.library.context();
        let mut ctx = root.new_inner_scope();
        let object = cel_object
            .get_or_insert_with(|| cel::to_value(json_object).unwrap_or(CelValue::Null))
            .clone();
        ctx.add_variable_from_value("object", object);
        ctx.add_variable_from_value("oldObject", CelValue::Null);
        ctx.add_variable_from_value(
            "params",
            params.map_or(CelValue::Null, |p| {
                cel::to_value(p).unwrap_or(CelValue::Null)
            }),
        );
        ctx.add_variable_from_value(
            "namespaceObject",
            namespace.map_or(CelValue::Null, |n| {
                cel::to_value(n).unwrap_or(CelValue::Null)
            }),
        );
        ctx.add_variable_from_value(
            "request",
            cel::to_value(request(json_object)).unwrap_or(CelValue::Null),
        );
        let error = |out: &mut Vec<Verdict>, what: &str, e: &Expr, err: String| {
            if policy.fail_closed {
                out.push(Verdict {
                    rule: policy.rule,
                    pointer: String::new(),
                    message: format!(
                        "{what} `{}` failed: {err} (failurePolicy: Fail, binding `{}`)",
                        e.text, binding.name
                    ),
                    severity: Some(binding.severity),
                });
            }
        };
        let mut variables: HashMap<String, CelValue> = HashMap::new();
        for (name, e) in &policy.variables {
            ctx.add_variable_from_value("variables", variables.clone());
            match e.program.execute(&ctx) {
                Ok(v) => {
                    variables.insert(name.clone(), v);
                }
                Err(err) => {
                    error(&mut out, "variable", e, err.to_string());
                    return out;
                }
            }
        }
        ctx.add_variable_from_value("variables", variables);
        for (_, e) in &policy.conditions {
            match e.program.execute(&ctx) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => return out,
                Ok(other) => {
                    error(
                        &mut out,
                        "matchCondition",
                        e,
                        format!("gave {} instead of a bool", type_name(&other)),
                    );
                    return out;
                }
                Err(err) => {
                    error(&mut out, "matchCondition", e, err.to_string());
                    return out;
                }
            }
        }
        for v in &policy.validations {
            let pointer = v
                .field_path
                .as_deref()
                .map(field_path_pointer)
                .unwrap_or_default();
            match v.expr.program.execute(&ctx) {
                Ok(CelValue::Bool(true)) => {}
                Ok(CelValue::Bool(false)) => {
                    let from_expr =
                        v.message_expr
                            .as_ref()
                            .and_then(|m| match m.program.execute(&ctx) {
                                Ok(CelValue::String(s))
                                    if !s.trim().is_empty() && !s.contains('\n') =>
                                {
                                    Some(s.to_string())
                                }
                                _ => None,
                            });
                    let message = from_expr
                        .or_else(|| v.message.clone())
                        .unwrap_or_else(|| format!("failed expression: {}", v.expr.text));
                    out.push(Verdict {
                        rule: policy.rule,
                        pointer,
                        message,
                        severity: Some(binding.severity),
                    });
                }
                Ok(other) => error(
                    &mut out,
                    "validation",
                    &v.expr,
                    format!("gave {} instead of a bool", type_name(&other)),
                ),
                Err(err) => error(&mut out, "validation", &v.expr, err.to_string()),
            }
        }
        out
    }
}

fn type_name(v: &CelValue) -> String {
    format!("{:?}", v.type_of())
}

/// `spec.template.spec.containers[0].image` → `/spec/template/spec/containers/0/image`; map
/// keys in brackets (`metadata.labels['app.kubernetes.io/name']`) as one token.
fn field_path_pointer(path: &str) -> String {
    let mut out = String::new();
    let mut token = String::new();
    let mut chars = path.trim_start_matches('.').chars().peekable();
    let flush = |token: &mut String, out: &mut String| {
        if !token.is_empty() {
            out.push('/');
            out.push_str(&token.replace('~', "~0").replace('/', "~1"));
            token.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut token, &mut out),
            '[' => {
                flush(&mut token, &mut out);
                let mut inner = String::new();
                for d in chars.by_ref() {
                    if d == ']' {
                        break;
                    }
                    inner.push(d);
                }
                token = inner.trim_matches(|q| q == '\'' || q == '"').to_owned();
                flush(&mut token, &mut out);
            }
            c => token.push(c),
        }
    }
    flush(&mut token, &mut out);
    out
}

fn labels(o: &Value) -> BTreeMap<String, String> {
    o.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
fn group_version(api: &str) -> (&str, &str) {
    api.rsplit_once('/').unwrap_or(("", api))
}

/// The resource (plural) of a kind, as the API server names it.
pub(crate) fn resource_of(kind: &str) -> String {
    let k = kind.to_ascii_lowercase();
    if k == "endpoints" {
        return k;
    }
    if k.ends_with('s') || k.ends_with('x') || k.ends_with("ch") || k.ends_with("sh") {
        format!("{k}es")
    } else if let Some(stem) = k.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        format!("{stem}ies")
    } else {
        format!("{k}s")
    }
}

fn request(object: &Value) -> Value {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, version) = group_version(api);
    let name = object
        .pointer("/metadata/name")
        .cloned()
        .unwrap_or(Value::Null);
    let namespace = object
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(Value::Null);
    json!({
        "kind": {"group": group, "version": version, "kind": kind},
        "resource": {"group": group, "version": version, "resource": resource_of(kind)},
        "requestKind": {"group": group, "version": version, "kind": kind},
        "requestResource": {"group": group, "version": version, "resource": resource_of(kind)},
        "name": name,
        "namespace": namespace,
        "operation": "CREATE",
        "userInfo": {"username": "edgefleet-lint", "groups": ["system:authenticated"]},
        "dryRun": true,
        "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
    })
}

fn any_or(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

fn rule_matches(r: &ResourceRule, object: &Value, cluster_scoped: bool) -> bool {
    let api = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    let (group, version) = group_version(api);
    let resource = resource_of(kind);
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ops_ok = r.operations.is_empty() || any_or(&r.operations, "CREATE");
    let scope_ok = match r.scope.as_str() {
        "Cluster" => cluster_scoped,
        "Namespaced" => !cluster_scoped,
        _ => true,
    };
    any_or(&r.api_groups, group)
        && any_or(&r.api_versions, version)
        && r.resources
            .iter()
            .any(|x| x == "*" || *x == resource || x == "*/*")
        && ops_ok
        && scope_ok
        && (r.resource_names.is_empty() || r.resource_names.iter().any(|n| n == name))
}

fn matches(
    m: &MatchResources,
    object: &Value,
    cluster_scoped: bool,
    namespace: Option<&Value>,
    policy: bool,
) -> bool {
    // A policy must list its resources; a binding without resourceRules takes the policy's.
    if (policy || !m.rules.is_empty())
        && !m
            .rules
            .iter()
            .any(|r| rule_matches(r, object, cluster_scoped))
    {
        return false;
    }
    if m.exclude
        .iter()
        .any(|r| rule_matches(r, object, cluster_scoped))
    {
        return false;
    }
    if let Some(sel) = &m.object_selector
        && !selects(Some(sel), &labels(object))
    {
        return false;
    }
    if let Some(sel) = &m.namespace_selector {
        // Cluster-scoped objects other than Namespaces are not subject to namespaceSelector.
        let ns_labels = match (namespace, object.get("kind").and_then(Value::as_str)) {
            (_, Some("Namespace")) => Some(labels(object)),
            (Some(ns), _) => Some(labels(ns)),
            (None, _) => None,
        };
        if let Some(l) = ns_labels
            && !selects(Some(sel), &l)
        {
            return false;
        }
    }
    true
}

fn read_policy(loader: &Loader<'_>, v: &Value, rule: usize) -> Result<Policy, PolicyError> {
    let name = v
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if name.is_empty() {
        return Err(located(
            loader.doc.locate("/metadata"),
            "ValidatingAdmissionPolicy without metadata.name",
        ));
    }
    let spec = v.get("spec").cloned().unwrap_or(Value::Null);
    let param_kind = spec.get("paramKind").map(|p| {
        (
            p.get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            p.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        )
    });
    let named = |field: &str| -> Result<Vec<(String, Expr)>, PolicyError> {
        let mut out = Vec::new();
        for (i, c) in spec
            .get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let n = c
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let text = c.get("expression").and_then(Value::as_str).unwrap_or("");
            out.push((
                n,
                loader.compile(&format!("/spec/{field}/{i}/expression"), text)?,
            ));
        }
        Ok(out)
    };
    let conditions = named("matchConditions")?;
    let variables = named("variables")?;
    let mut validations = Vec::new();
    for (i, val) in spec
        .get("validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let text = val.get("expression").and_then(Value::as_str).unwrap_or("");
        let expr = loader.compile(&format!("/spec/validations/{i}/expression"), text)?;
        let message_expr = match val.get("messageExpression").and_then(Value::as_str) {
            Some(t) => {
                Some(loader.compile(&format!("/spec/validations/{i}/messageExpression"), t)?)
            }
            None => None,
        };
        validations.push(Validation {
            expr,
            message: val
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned),
            message_expr,
            field_path: val
                .get("fieldPath")
                .and_then(Value::as_str)
                .map(str::to_owned),
        });
    }
    let texts: Vec<&str> = conditions
        .iter()
        .map(|(_, e)| e)
        .chain(variables.iter().map(|(_, e)| e))
        .chain(
            validations
                .iter()
                .flat_map(|v| std::iter::once(&v.expr).chain(v.message_expr.as_ref())),
        )
        .map(|e| e.text.as_str())
        .collect();
    let reads = Reads::of(&texts);
    Ok(Policy {
        reads,
        name,
        param_kind,
        constraints: spec
            .get("matchConstraints")
            .map(match_resources)
            .unwrap_or_default(),
        conditions,
        variables,
        validations,
        fail_closed: spec.get("failurePolicy").and_then(Value::as_str) != Some("Ignore"),
        rule,
    })
}

fn policy_rule(p: &Policy, v: &Value, location: SourceLocation) -> PolicyRule {
    let annotation = |k: &str| {
        v.pointer(&format!("/metadata/annotations/{}", k.replace('/', "~1")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let summary = annotation("edgefleet.io/summary")
        .unwrap_or_else(|| format!("ValidatingAdmissionPolicy `{}`", p.name));
    let mut docs = String::new();
    if let Some(d) = annotation("edgefleet.io/description").or_else(|| annotation("description")) {
        docs.push_str(d.trim_end());
        docs.push_str("\n\n");
    }
    docs.push_str(&format!(
        "Defined at {location} (ValidatingAdmissionPolicy, CEL). Validations:\n\n"
    ));
    for val in &p.validations {
        docs.push_str(&format!("- `{}`", val.expr.text.trim()));
        if let Some(m) = &val.message {
            docs.push_str(&format!(": {m}"));
        }
        docs.push('\n');
    }
    PolicyRule::new(
        format!("admission/{}", p.name),
        Level::Error,
        summary,
        docs,
        location,
    )
}
