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

mod matching;
mod read;

use matching::{labels, matches, request};
use read::{Loader, match_resources, policy_rule, read_policy, strings, yaml_files};

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
