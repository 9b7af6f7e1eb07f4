//! Name references: after prefixes, suffixes, namespaces and content hashes rename objects,
//! every field that names one (a `configMapRef`, a volume's `secret`, a RoleBinding's `roleRef`
//! and subjects, a webhook's service, ...) follows it, as Kustomize's name-reference transformer
//! does with its built-in `nameReference` configuration.
//!
//! Kustomize's rules, followed here (measured against kubectl, Kustomize v5.8.1):
//! - a field names an object when one of the object's *previous* ids (kept at each rename, see
//!   [`Resource::prev_ids`]) has that name and a kind the rule allows;
//! - a referrer only sees objects it could refer to: cluster-scoped ones, ones in its own
//!   namespace, and for a RoleBinding the namespaces its ServiceAccount subjects name;
//! - a `roleRef` follows its `kind` and `apiGroup`; ServiceAccounts are seen from any namespace,
//!   other namespaced objects only from their own;
//! - among several candidates, the one renamed with the referrer's prefixes and suffixes wins;
//!   none means the field stays, and several different ones are an error;
//! - a mapping (`subjects` item, webhook `service`) with a `namespace` looks among the objects
//!   first in that original namespace, then in that current one, and takes the new name and
//!   namespace (of any subject kind, as kustomize does).

use std::collections::HashMap;

use serde_json::Value;

use super::field_spec::{split_path, visit};
use crate::Resource;
use crate::resource::CLUSTER_SCOPE;

/// Group, version, kind; an empty field matches anything (kustomize's `Gvk.IsSelected`).
#[derive(Clone, Copy)]
struct Gvk {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
}

impl Gvk {
    fn selects(&self, group: &str, version: &str, kind: &str) -> bool {
        (self.group.is_empty() || self.group == group)
            && (self.version.is_empty() || self.version == version)
            && (self.kind.is_empty() || self.kind == kind)
    }
}

const fn gvk(group: &'static str, version: &'static str, kind: &'static str) -> Gvk {
    Gvk {
        group,
        version,
        kind,
    }
}

/// One rule of the name-reference configuration: objects selected by `target` are named at
/// `path` in objects selected by `referrer`.
struct Rule {
    target: Gvk,
    referrer: Gvk,
    path: Vec<String>,
    /// The path ends with `roleRef/name`: the referrer's `roleRef` kind must match too.
    role_ref: bool,
    /// A rule from a custom configuration or CRD: a scalar where the path needs a mapping is
    /// an error, as in kustomize.
    strict: bool,
}

/// A string kept for the life of the process (custom rules reuse the `'static` table types;
/// each distinct group, version or kind is stored once).
fn intern(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: std::sync::LazyLock<Mutex<HashSet<&'static str>>> =
        std::sync::LazyLock::new(Mutex::default);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(s) = seen.get(s) {
        return s;
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    seen.insert(leaked);
    leaked
}

/// The rules a custom configuration adds (see `crate::config`).
fn custom_rules(c: &crate::config::Config) -> Vec<Rule> {
    let mut v = Vec::new();
    for nr in &c.name_reference {
        let target = gvk(intern(&nr.group), intern(&nr.version), intern(&nr.kind));
        for fs in &nr.referrers {
            let o = |x: &Option<String>| intern(x.as_deref().unwrap_or_default());
            v.push(Rule {
                target,
                referrer: gvk(o(&fs.group), o(&fs.version), o(&fs.kind)),
                role_ref: fs.path.join("/").ends_with("roleRef/name"),
                path: fs.path.clone(),
                strict: true,
            });
        }
    }
    v
}

/// Whether kustomize's built-in `nameReference` table already holds `fs` for objects of
/// `group`/`version`/`kind` (`Some(create)`, always false there).
pub(crate) fn builtin_name_reference(
    group: &str,
    version: &str,
    kind: &str,
    fs: &super::FieldSpec,
) -> Option<bool> {
    let sel = |have: &str, want: &Option<String>| want.as_deref().is_none_or(|w| w == have);
    rules()
        .iter()
        .any(|r| {
            r.target.group == group
                && r.target.version == version
                && r.target.kind == kind
                && sel(r.referrer.group, &fs.group)
                && sel(r.referrer.version, &fs.version)
                && sel(r.referrer.kind, &fs.kind)
                && r.path == fs.path
        })
        .then_some(false)
}

/// Kustomize's built-in `nameReference` configuration, in its order.
fn rules() -> Vec<Rule> {
    let mut v = Vec::new();
    let mut add = |target: Gvk, referrer: Gvk, path: &str| {
        v.push(Rule {
            target,
            referrer,
            role_ref: path.ends_with("roleRef/name"),
            path: split_path(path),
            strict: false,
        });
    };
    for k in [
        "Deployment",
        "ReplicationController",
        "ReplicaSet",
        "StatefulSet",
    ] {
        add(
            gvk("", "", k),
            gvk("", "", "HorizontalPodAutoscaler"),
            "spec/scaleTargetRef/name",
        );
    }
    // Pod specs of the workload kinds (a Pod's rules name `version: v1`).
    let pod_specs: [(Gvk, &str); 8] = [
        (gvk("", "v1", "Pod"), "spec"),
        (gvk("", "", "PodTemplate"), "template/spec"),
        (gvk("", "", "Deployment"), "spec/template/spec"),
        (gvk("", "", "ReplicaSet"), "spec/template/spec"),
        (gvk("", "", "DaemonSet"), "spec/template/spec"),
        (gvk("", "", "StatefulSet"), "spec/template/spec"),
        (gvk("", "", "Job"), "spec/template/spec"),
        (
            gvk("", "", "CronJob"),
            "spec/jobTemplate/spec/template/spec",
        ),
    ];
    let cm = gvk("", "v1", "ConfigMap");
    for (referrer, base) in pod_specs {
        let paths = [
            "volumes/configMap/name",
            "containers/env/valueFrom/configMapKeyRef/name",
            "initContainers/env/valueFrom/configMapKeyRef/name",
            "containers/envFrom/configMapRef/name",
            "initContainers/envFrom/configMapRef/name",
            "volumes/projected/sources/configMap/name",
        ];
        for p in paths {
            add(cm, referrer, &format!("{base}/{p}"));
        }
    }
    add(cm, gvk("", "", "Node"), "spec/configSource/configMap");
    add(cm, gvk("", "", "Role"), "rules/resourceNames");
    add(cm, gvk("", "", "ClusterRole"), "rules/resourceNames");
    add(
        cm,
        gvk("", "", "Ingress"),
        "metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap",
    );
    let secret = gvk("", "v1", "Secret");
    for (referrer, base) in pod_specs {
        let paths = [
            "volumes/secret/secretName",
            "containers/env/valueFrom/secretKeyRef/name",
            "initContainers/env/valueFrom/secretKeyRef/name",
            "containers/envFrom/secretRef/name",
            "initContainers/envFrom/secretRef/name",
            "imagePullSecrets/name",
            "volumes/projected/sources/secret/name",
        ];
        for p in paths {
            add(secret, referrer, &format!("{base}/{p}"));
        }
    }
    let ingress = gvk("", "", "Ingress");
    add(secret, ingress, "spec/tls/secretName");
    for a in [
        "ingress.kubernetes.io\\/auth-secret",
        "nginx.ingress.kubernetes.io\\/auth-secret",
        "nginx.ingress.kubernetes.io\\/auth-tls-secret",
    ] {
        add(secret, ingress, &format!("metadata/annotations/{a}"));
    }
    add(
        secret,
        gvk("", "", "ServiceAccount"),
        "imagePullSecrets/name",
    );
    for p in [
        "parameters/secretName",
        "parameters/adminSecretName",
        "parameters/userSecretName",
        "parameters/secretRef",
    ] {
        add(secret, gvk("", "", "StorageClass"), p);
    }
    add(secret, gvk("", "", "Role"), "rules/resourceNames");
    add(secret, gvk("", "", "ClusterRole"), "rules/resourceNames");
    add(
        secret,
        gvk("serving.knative.dev", "v1", "Service"),
        "spec/template/spec/containers/env/valueFrom/secretKeyRef/name",
    );
    add(
        secret,
        gvk("", "", "PersistentVolume"),
        "spec/azureFile/secretName",
    );
    let service = gvk("", "v1", "Service");
    add(service, gvk("apps", "", "StatefulSet"), "spec/serviceName");
    for p in [
        "spec/rules/http/paths/backend/serviceName",
        "spec/backend/serviceName",
        "spec/rules/http/paths/backend/service/name",
        "spec/defaultBackend/service/name",
    ] {
        add(service, ingress, p);
    }
    add(
        service,
        gvk("apiregistration.k8s.io", "", "APIService"),
        "spec/service/name",
    );
    for k in [
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
    ] {
        add(
            service,
            gvk("admissionregistration.k8s.io", "", k),
            "webhooks/clientConfig/service",
        );
    }
    let rbac = "rbac.authorization.k8s.io";
    add(
        gvk(rbac, "", "Role"),
        gvk(rbac, "", "RoleBinding"),
        "roleRef/name",
    );
    for k in ["RoleBinding", "ClusterRoleBinding"] {
        add(
            gvk(rbac, "", "ClusterRole"),
            gvk(rbac, "", k),
            "roleRef/name",
        );
    }
    let sa = gvk("", "v1", "ServiceAccount");
    for k in ["RoleBinding", "ClusterRoleBinding"] {
        add(sa, gvk(rbac, "", k), "subjects");
    }
    add(sa, gvk("", "", "Pod"), "spec/serviceAccountName");
    for (k, p) in [
        ("StatefulSet", "spec/template/spec"),
        ("Deployment", "spec/template/spec"),
        ("ReplicationController", "spec/template/spec"),
        ("CronJob", "spec/jobTemplate/spec/template/spec"),
        ("Job", "spec/template/spec"),
        ("DaemonSet", "spec/template/spec"),
    ] {
        add(sa, gvk("", "", k), &format!("{p}/serviceAccountName"));
    }
    let pvc = gvk("", "v1", "PersistentVolumeClaim");
    add(
        pvc,
        gvk("", "", "Pod"),
        "spec/volumes/persistentVolumeClaim/claimName",
    );
    for (k, p) in [
        ("StatefulSet", "spec/template/spec"),
        ("Deployment", "spec/template/spec"),
        ("ReplicationController", "spec/template/spec"),
        ("CronJob", "spec/jobTemplate/spec/template/spec"),
        ("Job", "spec/template/spec"),
        ("DaemonSet", "spec/template/spec"),
    ] {
        add(
            pvc,
            gvk("", "", k),
            &format!("{p}/volumes/persistentVolumeClaim/claimName"),
        );
    }
    let pv = gvk("", "v1", "PersistentVolume");
    add(pv, gvk("", "", "PersistentVolumeClaim"), "spec/volumeName");
    add(pv, gvk("", "", "ClusterRole"), "rules/resourceNames");
    let sc = gvk("storage.k8s.io", "v1", "StorageClass");
    add(sc, gvk("", "", "PersistentVolume"), "spec/storageClassName");
    add(
        sc,
        gvk("", "", "PersistentVolumeClaim"),
        "spec/storageClassName",
    );
    add(
        sc,
        gvk("", "", "StatefulSet"),
        "spec/volumeClaimTemplates/spec/storageClassName",
    );
    let pc = gvk("scheduling.k8s.io", "v1", "PriorityClass");
    add(pc, gvk("", "", "Pod"), "spec/priorityClassName");
    for (k, p) in [
        ("StatefulSet", "spec/template/spec"),
        ("Deployment", "spec/template/spec"),
        ("ReplicationController", "spec/template/spec"),
        ("CronJob", "spec/jobTemplate/spec/template/spec"),
        ("Job", "spec/template/spec"),
        ("DaemonSet", "spec/template/spec"),
    ] {
        add(pc, gvk("", "", k), &format!("{p}/priorityClassName"));
    }
    // Kustomize writes this rule's group as `networking.k8s.io/v1`, which no object has: an
    // IngressClass is never followed (measured).
    add(
        gvk("networking.k8s.io/v1", "v1", "IngressClass"),
        ingress,
        "spec/ingressClassName",
    );
    let adm = "admissionregistration.k8s.io";
    add(
        gvk(adm, "", "ValidatingAdmissionPolicy"),
        gvk(adm, "", "ValidatingAdmissionPolicyBinding"),
        "spec/policyName",
    );
    v
}

/// The rules, indexed by the referrer kind they name (every rule names one).
fn rules_by_referrer_kind() -> &'static HashMap<&'static str, Vec<Rule>> {
    static TABLE: std::sync::OnceLock<HashMap<&'static str, Vec<Rule>>> =
        std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<Rule>> = HashMap::new();
        for r in rules() {
            m.entry(r.referrer.kind).or_default().push(r);
        }
        m
    })
}

/// What the fix-up needs to know of each object (names do not change during it).
struct Info {
    group: String,
    version: String,
    kind: String,
    name: String,
    /// `metadata.namespace` as written (`""` when absent).
    namespace: String,
    cluster: bool,
    /// Effective namespace now, and of the original id.
    effective: String,
    original_effective: String,
    /// Kinds and names of the previous ids.
    prev: Vec<(String, String)>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
}

impl Info {
    fn of(r: &Resource) -> Self {
        let (group, version) = r.group_version();
        let original_effective = match r.prev_ids.first() {
            None => r.effective_namespace().to_owned(),
            Some(p) if kube_basics::kinds::kustomize_cluster_scoped(r.api_version(), &p.kind) => {
                CLUSTER_SCOPE.to_owned()
            }
            Some(p) if p.namespace.is_empty() => "default".to_owned(),
            Some(p) => p.namespace.clone(),
        };
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: r.kind().to_owned(),
            name: r.name().to_owned(),
            namespace: r.namespace().unwrap_or_default().to_owned(),
            cluster: r.is_cluster_scoped(),
            effective: r.effective_namespace().to_owned(),
            original_effective,
            prev: r
                .prev_ids
                .iter()
                .map(|p| (p.kind.clone(), p.name.clone()))
                .collect(),
            prefixes: r.prefixes.clone(),
            suffixes: r.suffixes.clone(),
        }
    }

    fn prev_selected_by(&self, g: &Gvk) -> bool {
        self.prev
            .iter()
            .any(|(kind, _)| g.selects(&self.group, &self.version, kind))
    }

    fn renamed_like(&self, o: &Info) -> bool {
        same_ending(&self.prefixes, &o.prefixes) && same_ending(&self.suffixes, &o.suffixes)
    }

    fn id(&self) -> String {
        let gv = if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        };
        if self.namespace.is_empty() {
            format!("{gv} {} {}", self.kind, self.name)
        } else {
            format!("{gv} {} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Whether one list ends with the other (both empty counts; one empty and not the other not).
fn same_ending(a: &[String], b: &[String]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.is_empty() {
        return long.is_empty();
    }
    long.ends_with(short)
}

/// The referrer being fixed, as the rules see it.
struct Referrer<'a> {
    info: &'a Info,
    /// For a RoleBinding: the namespaces its ServiceAccount subjects name.
    subject_namespaces: Vec<String>,
    /// `roleRef`'s apiGroup and kind, when both are given.
    role_ref: Option<(String, String)>,
}

impl Referrer<'_> {
    /// Kustomize's `SubsetThatCouldBeReferencedByResource`.
    fn can_see(&self, c: &Info) -> bool {
        self.info.cluster
            || c.cluster
            || c.effective == self.info.effective
            || self.subject_namespaces.contains(&c.namespace)
    }
}

struct Fixer<'a> {
    infos: &'a [Info],
    /// Objects by each of their previous names.
    by_prev_name: HashMap<&'a str, Vec<usize>>,
}

impl Fixer<'_> {
    /// Kustomize's `selectReferral`: the object `old` names, `None` when none (or none that is
    /// unambiguous by kustomize's rules and identical), an error when several differ.
    fn select(
        &self,
        old: &str,
        pool: &[usize],
        rule: &Rule,
        referrer: &Referrer<'_>,
        with_namespace: bool,
    ) -> Result<Option<usize>, String> {
        let mut cands: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&i| {
                let c = &self.infos[i];
                c.prev.iter().any(|(_, n)| n == old)
                    && c.prev_selected_by(&rule.target)
                    && (!rule.role_ref
                        || referrer.role_ref.as_ref().is_none_or(|(g, k)| {
                            c.prev.iter().any(|(kind, _)| {
                                (g.is_empty() || *g == c.group) && (k.is_empty() || kind == k)
                            })
                        }))
                    && (referrer.info.cluster
                        || c.cluster
                        || c.kind == "ServiceAccount"
                        || c.effective == referrer.info.effective)
            })
            .collect();
        if cands.len() == 1 {
            return Ok(Some(cands[0]));
        }
        cands.retain(|&i| self.infos[i].renamed_like(referrer.info));
        match cands.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            [first, rest @ ..] => {
                let f = &self.infos[*first];
                let same = rest.iter().all(|&i| {
                    let c = &self.infos[i];
                    c.name == f.name && (!with_namespace || c.namespace == f.namespace)
                });
                if same {
                    Ok(Some(*first))
                } else {
                    let ids: Vec<String> = cands.iter().map(|&i| self.infos[i].id()).collect();
                    Err(format!(
                        "found multiple possible referrals: {}",
                        ids.join(", ")
                    ))
                }
            }
        }
    }

    /// The objects `referrer` can see that may be named `old`.
    fn pool(&self, old: &str, referrer: &Referrer<'_>) -> Vec<usize> {
        self.by_prev_name
            .get(old)
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&i| referrer.can_see(&self.infos[i]))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn set_scalar(
        &self,
        s: &mut String,
        rule: &Rule,
        referrer: &Referrer<'_>,
    ) -> Result<(), String> {
        let pool = self.pool(s, referrer);
        if pool.is_empty() {
            return Ok(());
        }
        if let Some(i) = self.select(s, &pool, rule, referrer, false)? {
            s.clone_from(&self.infos[i].name);
        }
        Ok(())
    }

    fn set_mapping(
        &self,
        m: &mut serde_json::Map<String, Value>,
        rule: &Rule,
        referrer: &Referrer<'_>,
    ) -> Result<(), String> {
        let Some(name) = m.get("name") else {
            return Err("path config error; no 'name' field in node".into());
        };
        let Some(old) = scalar_text(name) else {
            return Ok(());
        };
        let mut pool = self.pool(&old, referrer);
        if pool.is_empty() {
            return Ok(());
        }
        if let Some(ns) = m.get("namespace").and_then(scalar_text) {
            // The objects in that original namespace if the referrer sees any, else those in
            // that current namespace.
            let by_original = self.infos.iter().any(|c| {
                c.original_effective != CLUSTER_SCOPE
                    && c.original_effective == ns
                    && referrer.can_see(c)
            });
            pool.retain(|&i| {
                let c = &self.infos[i];
                if by_original {
                    c.original_effective == ns
                } else {
                    c.effective != CLUSTER_SCOPE && c.effective == ns
                }
            });
        }
        let Some(i) = self.select(&old, &pool, rule, referrer, true)? else {
            return Ok(());
        };
        let t = &self.infos[i];
        if t.name == old && t.namespace.is_empty() {
            return Ok(());
        }
        m.insert("name".into(), Value::String(t.name.clone()));
        if !t.namespace.is_empty() {
            m.insert("namespace".into(), Value::String(t.namespace.clone()));
        }
        Ok(())
    }

    fn set(&self, leaf: &mut Value, rule: &Rule, referrer: &Referrer<'_>) -> Result<(), String> {
        match leaf {
            Value::String(s) => self.set_scalar(s, rule, referrer),
            Value::Object(m) => self.set_mapping(m, rule, referrer),
            Value::Array(items) => {
                for item in items {
                    match item {
                        Value::String(s) => self.set_scalar(s, rule, referrer)?,
                        Value::Object(m) => self.set_mapping(m, rule, referrer)?,
                        Value::Null => {}
                        Value::Bool(_) | Value::Number(_) => {}
                        Value::Array(_) => {
                            return Err(
                                "is expected to be either a string or a map of string".into()
                            );
                        }
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Rewrites references (ConfigMap and Secret names in pod specs, RoleBinding subjects, ...)
/// to objects renamed by the build, by kustomize's rules (see the module documentation).
/// An error when a reference could mean several objects with different names.
pub fn fix_name_references(
    resources: &mut [Resource],
    custom: Option<&crate::config::Config>,
) -> Result<(), String> {
    // Only an object with previous ids can be a reference's target.
    if resources.iter().all(|r| r.prev_ids.is_empty()) {
        return Ok(());
    }
    let table = rules_by_referrer_kind();
    let custom = custom.map(custom_rules).unwrap_or_default();
    let infos: Vec<Info> = resources.iter().map(Info::of).collect();
    let mut by_prev_name: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, info) in infos.iter().enumerate() {
        for (j, (_, name)) in info.prev.iter().enumerate() {
            if info.prev[..j].iter().all(|(_, n)| n != name) {
                by_prev_name.entry(name.as_str()).or_default().push(i);
            }
        }
    }
    let fixer = Fixer {
        infos: &infos,
        by_prev_name,
    };
    for (i, r) in resources.iter_mut().enumerate() {
        let info = &infos[i];
        let original_kind = r.original_kind().to_owned();
        let builtin = table
            .get(original_kind.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        if builtin.is_empty() && custom.is_empty() {
            continue;
        }
        let mut referrer: Option<Referrer<'_>> = None;
        for rule in builtin.iter().chain(custom.iter()) {
            if !rule
                .referrer
                .selects(&info.group, &info.version, &original_kind)
            {
                continue;
            }
            let referrer = referrer.get_or_insert_with(|| referrer_of(r, info));
            let mut result = Ok(());
            let mut leaf = |leaf: &mut Value| {
                if result.is_ok() {
                    result = fixer.set(leaf, rule, referrer);
                }
            };
            if rule.strict {
                if let Err(e) = visit_strict(&mut r.value, &rule.path, &mut leaf) {
                    result = Err(e);
                }
            } else {
                visit(&mut r.value, &rule.path, false, &mut leaf);
            }
            result.map_err(|e| {
                format!(
                    "updating name reference in '{}' field of '{}': {e}",
                    rule.path.join("/"),
                    info.id()
                )
            })?;
        }
    }
    Ok(())
}

/// [`visit`] without creating, where a scalar on the way is kustomize's "expected sequence or
/// mapping node" error.
fn visit_strict(
    v: &mut Value,
    path: &[String],
    leaf: &mut dyn FnMut(&mut Value),
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        leaf(v);
        return Ok(());
    };
    match v {
        Value::Array(items) => {
            for item in items {
                visit_strict(item, path, leaf)?;
            }
            Ok(())
        }
        Value::Object(m) => {
            let (key, _) = super::segment(first);
            match m.get_mut(key) {
                Some(child) => visit_strict(child, rest, leaf),
                None => Ok(()),
            }
        }
        Value::Null => Ok(()),
        _ => Err(format!(
            "considering field '{}': expected sequence or mapping node",
            path.join("/")
        )),
    }
}

fn referrer_of<'a>(r: &Resource, info: &'a Info) -> Referrer<'a> {
    let mut subject_namespaces = Vec::new();
    if r.kind() == "RoleBinding"
        && let Some(Value::Array(subjects)) = r.value.get("subjects")
    {
        for s in subjects {
            if s.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                && let Some(ns) = s.get("namespace").and_then(Value::as_str)
            {
                subject_namespaces.push(ns.to_owned());
            }
        }
    }
    let role_ref = r.value.get("roleRef").and_then(|rr| {
        let g = rr.get("apiGroup").and_then(scalar_text)?;
        let k = rr.get("kind").and_then(scalar_text)?;
        Some((g, k))
    });
    Referrer {
        info,
        subject_namespaces,
        role_ref,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::metadata::{namespace, prefix_suffix};
    use crate::transform::test_support::*;
    use serde_json::json;

    #[test]
    fn prefix_and_references() {
        let mut rs = vec![
            deployment(),
            res(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}})),
            res(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "sa"}})),
            res(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "b"}, "roleRef": {"kind": "ClusterRole", "name": "r"},
                "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": "default"}]}),
            ),
        ];
        namespace(&mut rs, "ns").unwrap();
        prefix_suffix(&mut rs, "p-", "-s");
        fix_name_references(&mut rs, None).unwrap();
        let d = &rs[0].value["spec"]["template"]["spec"];
        assert_eq!(d["serviceAccountName"], "p-sa-s");
        assert_eq!(d["volumes"][0]["configMap"]["name"], "p-cfg-s");
        assert_eq!(
            d["containers"][0]["envFrom"][0]["configMapRef"]["name"],
            "p-cfg-s"
        );
        assert_eq!(
            rs[3].value["subjects"][0],
            json!({"kind": "ServiceAccount", "name": "p-sa-s", "namespace": "ns"})
        );
        // roleRef to a ClusterRole not in the build is left alone
        assert_eq!(rs[3].value["roleRef"]["name"], "r");
    }
}
