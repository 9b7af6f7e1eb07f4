//! What a real API server returns for a rendered object after the GitOps applier applied it.
//!
//! Written from Kubernetes' own defaulting (`pkg/apis/core/v1/defaults.go`, `apps/v1`,
//! `batch/v1`, `networking/v1`), admission (service accounts, default tolerations, the default
//! storage class of k3s) and the controllers' status updates, independently of edgefleet's
//! normaliser: the drift tests use it as the "in sync" cluster, so it must be as noisy as a real
//! one. Every object gets `uid`, `resourceVersion`, `creationTimestamp`, `managedFields` (the
//! applier with operation `Update` and the `last-applied-configuration` annotation, as
//! client-side `kubectl apply` writes them; `kube-controller-manager` for status), ArgoCD's
//! tracking annotation, and quantities re-serialised canonically. Deployments, StatefulSets and
//! DaemonSets bring the objects their controllers create (ReplicaSets, ControllerRevisions,
//! Pods), Services their EndpointSlices and Endpoints, all carrying the fleet's labels.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value, json};

use crate::quantity;

/// Who applied the objects, and when.
#[derive(Clone, Debug)]
pub struct Applier {
    /// The field manager of the applier (`argocd-controller` for ArgoCD).
    pub manager: String,
    /// The ArgoCD application, for the tracking annotation
    /// (`argocd.argoproj.io/tracking-id`); `None`: no tracking annotation.
    pub app: Option<String>,
    /// `creationTimestamp` and the managed-fields times (RFC 3339).
    pub time: String,
}

impl Default for Applier {
    fn default() -> Self {
        Applier {
            manager: "argocd-controller".to_owned(),
            app: None,
            time: "2026-11-30T08:00:00Z".to_owned(),
        }
    }
}

/// The time the controllers last updated status.
const STATUS_TIME: &str = "2026-11-30T08:00:07Z";
/// The manager that writes status and controller-owned fields.
pub const CONTROLLER_MANAGER: &str = "kube-controller-manager";

/// A stable UID from the object's identity (the server's objects must look alike across runs).
pub fn uid_for(parts: &[&str]) -> String {
    let mut a = DefaultHasher::new();
    parts.hash(&mut a);
    let x = a.finish();
    let mut b = DefaultHasher::new();
    (x, parts).hash(&mut b);
    let y = b.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        0x8000 | ((y >> 48) & 0x3fff),
        y & 0xffff_ffff_ffff
    )
}

/// `count` characters of Kubernetes' safe alphabet (the one of `pod-template-hash` and of the
/// random suffixes of generated names), from a seed.
fn safe_chars(seed: &str, count: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = DefaultHasher::new();
    seed.hash(&mut h);
    let mut x = h.finish();
    let mut out = String::new();
    for i in 0..count {
        if i % 12 == 11 {
            let mut h = DefaultHasher::new();
            (x, i).hash(&mut h);
            x = h.finish();
        }
        out.push(ALPHABET[(x % ALPHABET.len() as u64) as usize] as char);
        x /= ALPHABET.len() as u64;
    }
    out
}

fn api_version(obj: &Value) -> &str {
    obj.get("apiVersion").and_then(Value::as_str).unwrap_or("")
}

fn kind(obj: &Value) -> &str {
    obj.get("kind").and_then(Value::as_str).unwrap_or("")
}

fn name(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn namespace(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/namespace").and_then(Value::as_str)
}

fn obj_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("made an object")
}

fn entry<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    obj_mut(m.entry(key.to_owned()).or_insert_with(|| json!({})))
}

fn default(m: &mut Map<String, Value>, key: &str, value: Value) {
    m.entry(key.to_owned()).or_insert(value);
}

fn group_of(api_version: &str) -> &str {
    api_version.split_once('/').map(|(g, _)| g).unwrap_or("")
}

/// Kinds whose registry strategy keeps `metadata.generation`.
fn has_generation(kind: &str) -> bool {
    matches!(
        kind,
        "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "CronJob"
            | "NetworkPolicy"
            | "Ingress"
            | "PodDisruptionBudget"
            | "HorizontalPodAutoscaler"
            | "PriorityClass"
            | "CustomResourceDefinition"
    )
}

/// The applier's view of an object: what it applied, as `kubectl apply` records it.
fn last_applied(desired: &Value) -> String {
    let mut v = desired.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
        && let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut)
    {
        ann.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    sort_keys(&mut v);
    let mut text = serde_json::to_string(&v).unwrap_or_default();
    text.push('\n');
    text
}

fn sort_keys(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, mut val) in entries {
                sort_keys(&mut val);
                m.insert(k, val);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// managedFields (fieldsV1)

/// Map fields whose keys are data, not schema: they list their own path (`.`) in fieldsV1.
fn is_map_type(field: &str) -> bool {
    matches!(
        field,
        "labels"
            | "annotations"
            | "data"
            | "binaryData"
            | "stringData"
            | "nodeSelector"
            | "limits"
            | "requests"
            | "matchLabels"
            | "selector"
    )
}

/// Fields that are atomic in the Kubernetes schema: owned as a whole.
fn is_atomic(field: &str, parent_field: &str) -> bool {
    (field == "selector" && parent_field == "spec-workload")
        || field == "command"
        || field == "args"
}

/// The key that identifies an element of an associative list, in fieldsV1 spelling
/// (`k:{"name":"app"}`), or `None` for a set or atomic list.
pub fn element_key(field: &str, element: &Value) -> Option<String> {
    let m = element.as_object()?;
    let keys: &[&str] = match field {
        "ports" if m.contains_key("containerPort") => &["containerPort", "protocol"],
        "ports" if m.contains_key("port") => &["port", "protocol"],
        "containers"
        | "initContainers"
        | "env"
        | "volumes"
        | "volumeMounts"
        | "imagePullSecrets"
        | "volumeClaimTemplates" => &["name"],
        "tolerations" | "ingress" | "egress" | "rules" | "subjects" => return None,
        _ if m.contains_key("name") => &["name"],
        _ => return None,
    };
    let mut key = Map::new();
    for k in keys {
        let v = match m.get(*k) {
            Some(v) => v.clone(),
            None if *k == "protocol" => json!("TCP"),
            None => return None,
        };
        key.insert((*k).to_owned(), v);
    }
    Some(format!("k:{}", Value::Object(key)))
}

/// The fieldsV1 set of `value` (its own subfields), as a map.
pub fn fields_of(value: &Value, field: &str) -> Value {
    match value {
        Value::Object(m) if !is_atomic(field, "") => {
            let mut out = Map::new();
            if is_map_type(field) && !m.is_empty() {
                out.insert(".".to_owned(), json!({}));
            }
            for (k, v) in m {
                if field.is_empty() && matches!(k.as_str(), "apiVersion" | "kind" | "status") {
                    continue;
                }
                out.insert(format!("f:{k}"), fields_of(v, k));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut out = Map::new();
            for item in items {
                if let Some(key) = element_key(field, item) {
                    let mut sub = fields_of(item, "");
                    if let Some(sub_map) = sub.as_object_mut() {
                        let mut with_dot = Map::new();
                        with_dot.insert(".".to_owned(), json!({}));
                        with_dot.extend(std::mem::take(sub_map));
                        *sub_map = with_dot;
                    }
                    out.insert(key, sub);
                } else {
                    // Sets and atomic lists: owned as a whole.
                    return json!({});
                }
            }
            Value::Object(out)
        }
        _ => json!({}),
    }
}

fn managed_entry(
    manager: &str,
    operation: &str,
    api_version: &str,
    time: &str,
    fields: Value,
    subresource: Option<&str>,
) -> Value {
    let mut e = json!({
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    });
    if let Some(s) = subresource {
        e["subresource"] = json!(s);
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Defaults

fn default_probe(p: &mut Value) {
    let m = obj_mut(p);
    if let Some(get) = m.get_mut("httpGet").and_then(Value::as_object_mut) {
        default(get, "path", json!("/"));
        default(get, "scheme", json!("HTTP"));
    }
    if let Some(grpc) = m.get_mut("grpc").and_then(Value::as_object_mut) {
        default(grpc, "service", json!(""));
    }
    default(m, "timeoutSeconds", json!(1));
    default(m, "periodSeconds", json!(10));
    default(m, "successThreshold", json!(1));
    default(m, "failureThreshold", json!(3));
}

/// `imagePullPolicy` by the tag rule: `Always` for `:latest` or no tag (and no digest).
pub fn pull_policy(image: &str) -> &'static str {
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

fn canonical_quantities(m: &mut Map<String, Value>) {
    for v in m.values_mut() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if let Some(c) = quantity::canonical(&text) {
            *v = Value::String(c);
        }
    }
}

fn default_resources(r: &mut Value) {
    let m = obj_mut(r);
    for key in ["limits", "requests"] {
        if let Some(q) = m.get_mut(key).and_then(Value::as_object_mut) {
            canonical_quantities(q);
        }
    }
}

fn default_env(env: &mut Value) {
    for e in env.as_array_mut().into_iter().flatten() {
        if let Some(field_ref) = e
            .pointer_mut("/valueFrom/fieldRef")
            .and_then(Value::as_object_mut)
        {
            default(field_ref, "apiVersion", json!("v1"));
        }
        if let Some(rf) = e
            .pointer_mut("/valueFrom/resourceFieldRef")
            .and_then(Value::as_object_mut)
        {
            default(rf, "divisor", json!("0"));
            if let Some(d) = rf.get_mut("divisor") {
                let text = match d {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => String::new(),
                };
                if let Some(c) = quantity::canonical(&text) {
                    *d = json!(c);
                }
            }
        }
    }
}

fn default_container(c: &mut Value, is_pod: bool) {
    let m = obj_mut(c);
    let image = m
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    default(m, "imagePullPolicy", json!(pull_policy(&image)));
    default(m, "terminationMessagePath", json!("/dev/termination-log"));
    default(m, "terminationMessagePolicy", json!("File"));
    default(m, "resources", json!({}));
    if let Some(r) = m.get_mut("resources") {
        default_resources(r);
        if is_pod {
            // A Pod's missing requests default to its limits.
            let r = obj_mut(r);
            if let Some(limits) = r.get("limits").and_then(Value::as_object).cloned() {
                let requests = entry(r, "requests");
                for (k, v) in limits {
                    requests.entry(k).or_insert(v);
                }
            }
        }
    }
    for p in m
        .get_mut("ports")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        default(obj_mut(p), "protocol", json!("TCP"));
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = m.get_mut(probe) {
            default_probe(p);
        }
    }
    if let Some(env) = m.get_mut("env") {
        default_env(env);
    }
}

fn default_volume(v: &mut Value) {
    let m = obj_mut(v);
    for source in ["configMap", "secret", "projected", "downwardAPI"] {
        if let Some(s) = m.get_mut(source).and_then(Value::as_object_mut) {
            default(s, "defaultMode", json!(420));
        }
    }
    if let Some(items) = m
        .get_mut("downwardAPI")
        .and_then(|d| d.get_mut("items"))
        .and_then(Value::as_array_mut)
    {
        for i in items {
            if let Some(f) = i.get_mut("fieldRef").and_then(Value::as_object_mut) {
                default(f, "apiVersion", json!("v1"));
            }
        }
    }
    if let Some(h) = m.get_mut("hostPath").and_then(Value::as_object_mut) {
        default(h, "type", json!(""));
    }
    if let Some(e) = m.get_mut("emptyDir").and_then(Value::as_object_mut)
        && let Some(limit) = e.get_mut("sizeLimit")
    {
        let text = match limit {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        if let Some(c) = quantity::canonical(&text) {
            *limit = json!(c);
        }
    }
}

/// PodSpec defaults; `is_pod` adds what only Pods get (admission, the scheduler).
fn default_pod_spec(spec: &mut Value, is_pod: bool, node: &str) {
    let m = obj_mut(spec);
    default(m, "restartPolicy", json!("Always"));
    default(m, "terminationGracePeriodSeconds", json!(30));
    default(m, "dnsPolicy", json!("ClusterFirst"));
    default(m, "securityContext", json!({}));
    default(m, "schedulerName", json!("default-scheduler"));
    // The deprecated `serviceAccount` mirrors `serviceAccountName`.
    if let Some(sa) = m.get("serviceAccountName").cloned() {
        default(m, "serviceAccount", sa);
    }
    for list in ["containers", "initContainers"] {
        for c in m
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            default_container(c, is_pod);
        }
    }
    for v in m
        .get_mut("volumes")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        default_volume(v);
    }
    if is_pod {
        default(m, "serviceAccountName", json!("default"));
        default(m, "serviceAccount", json!("default"));
        default(m, "nodeName", json!(node));
        default(m, "enableServiceLinks", json!(true));
        default(m, "preemptionPolicy", json!("PreemptLowerPriority"));
        default(m, "priority", json!(0));
        let tolerations = m
            .entry("tolerations".to_owned())
            .or_insert_with(|| json!([]));
        if let Some(t) = tolerations.as_array_mut() {
            for key in [
                "node.kubernetes.io/not-ready",
                "node.kubernetes.io/unreachable",
            ] {
                t.push(json!({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}));
            }
        }
        // The service-account admission plugin's projected token volume.
        let volume = format!("kube-api-access-{}", safe_chars(node, 5));
        let volumes = m.entry("volumes".to_owned()).or_insert_with(|| json!([]));
        if let Some(v) = volumes.as_array_mut() {
            v.push(json!({
                "name": volume,
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                    ]
                }
            }));
        }
        for c in m
            .get_mut("containers")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let mounts = obj_mut(c)
                .entry("volumeMounts".to_owned())
                .or_insert_with(|| json!([]));
            if let Some(mounts) = mounts.as_array_mut() {
                mounts.push(json!({
                    "name": volume,
                    "readOnly": true,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"
                }));
            }
        }
    }
}

fn default_template(template: &mut Value) {
    let t = obj_mut(template);
    // An empty `metadata.creationTimestamp: null` is what a template carries on the wire.
    let meta = entry(t, "metadata");
    default(meta, "creationTimestamp", Value::Null);
    if let Some(spec) = t.get_mut("spec") {
        default_pod_spec(spec, false, "");
    }
}

fn default_pvc_spec(spec: &mut Value) {
    let m = obj_mut(spec);
    default(m, "volumeMode", json!("Filesystem"));
    default(m, "storageClassName", json!("local-path"));
    if let Some(r) = m.get_mut("resources") {
        default_resources(r);
    }
}

/// The defaults of `obj`'s kind, in place (spec only; status is separate).
fn apply_defaults(obj: &mut Value, site: &str) {
    let kind = kind(obj).to_owned();
    let group = group_of(api_version(obj)).to_owned();
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match (group.as_str(), kind.as_str()) {
        ("apps", "Deployment") => {
            let spec = entry(root, "spec");
            default(spec, "replicas", json!(1));
            default(spec, "revisionHistoryLimit", json!(10));
            default(spec, "progressDeadlineSeconds", json!(600));
            default(
                spec,
                "strategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
            );
            if let Some(s) = spec.get_mut("strategy").and_then(Value::as_object_mut)
                && s.get("type").and_then(Value::as_str) == Some("RollingUpdate")
            {
                let ru = entry(s, "rollingUpdate");
                default(ru, "maxUnavailable", json!("25%"));
                default(ru, "maxSurge", json!("25%"));
            }
            if let Some(t) = spec.get_mut("template") {
                default_template(t);
            }
        }
        ("apps", "StatefulSet") => {
            let spec = entry(root, "spec");
            default(spec, "replicas", json!(1));
            default(spec, "podManagementPolicy", json!("OrderedReady"));
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
            );
            default(spec, "revisionHistoryLimit", json!(10));
            default(
                spec,
                "persistentVolumeClaimRetentionPolicy",
                json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
            );
            if let Some(t) = spec.get_mut("template") {
                default_template(t);
            }
            for vct in spec
                .get_mut("volumeClaimTemplates")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                let m = obj_mut(vct);
                default(m, "apiVersion", json!("v1"));
                default(m, "kind", json!("PersistentVolumeClaim"));
                default(entry(m, "metadata"), "creationTimestamp", Value::Null);
                if let Some(s) = m.get_mut("spec") {
                    default_pvc_spec(s);
                    obj_mut(s).remove("storageClassName");
                }
                default(m, "status", json!({"phase": "Pending"}));
            }
        }
        ("apps", "DaemonSet") => {
            let spec = entry(root, "spec");
            default(
                spec,
                "updateStrategy",
                json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}),
            );
            default(spec, "revisionHistoryLimit", json!(10));
            if let Some(t) = spec.get_mut("template") {
                default_template(t);
            }
        }
        ("batch", "Job") => {
            let uid = uid_for(&[site, "batch/v1", "Job", name_in(root)]);
            let job_name = name_in(root).to_owned();
            let spec = entry(root, "spec");
            default(spec, "parallelism", json!(1));
            default(spec, "completions", json!(1));
            default(spec, "backoffLimit", json!(6));
            default(spec, "completionMode", json!("NonIndexed"));
            default(spec, "suspend", json!(false));
            default(spec, "podReplacementPolicy", json!("TerminatingOrFailed"));
            default(
                spec,
                "selector",
                json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
            );
            if let Some(t) = spec.get_mut("template") {
                let labels = entry(entry(obj_mut(t), "metadata"), "labels");
                for (k, v) in [
                    ("batch.kubernetes.io/controller-uid", &uid),
                    ("batch.kubernetes.io/job-name", &job_name),
                    ("controller-uid", &uid),
                    ("job-name", &job_name),
                ] {
                    default(labels, k, json!(v));
                }
                default_template(t);
            }
        }
        ("batch", "CronJob") => {
            let spec = entry(root, "spec");
            default(spec, "concurrencyPolicy", json!("Allow"));
            default(spec, "suspend", json!(false));
            default(spec, "successfulJobsHistoryLimit", json!(3));
            default(spec, "failedJobsHistoryLimit", json!(1));
            if let Some(t) = spec
                .get_mut("jobTemplate")
                .and_then(|j| j.pointer_mut("/spec/template"))
            {
                default_template(t);
            }
            if let Some(jt) = spec.get_mut("jobTemplate").and_then(Value::as_object_mut) {
                default(entry(jt, "metadata"), "creationTimestamp", Value::Null);
            }
        }
        ("", "Pod") => {
            if let Some(spec) = root.get_mut("spec") {
                default_pod_spec(spec, true, &format!("{site}-node-1"));
            }
        }
        ("", "Service") => {
            let ip = service_ip(site, name_in(root));
            let spec = entry(root, "spec");
            default(spec, "type", json!("ClusterIP"));
            default(spec, "clusterIP", json!(ip));
            let cluster_ip = spec.get("clusterIP").cloned().unwrap_or(json!(ip));
            default(spec, "clusterIPs", json!([cluster_ip]));
            default(spec, "ipFamilies", json!(["IPv4"]));
            default(spec, "ipFamilyPolicy", json!("SingleStack"));
            default(spec, "sessionAffinity", json!("None"));
            default(spec, "internalTrafficPolicy", json!("Cluster"));
            let ty = spec
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("ClusterIP")
                .to_owned();
            if ty == "NodePort" || ty == "LoadBalancer" {
                default(spec, "externalTrafficPolicy", json!("Cluster"));
            }
            if ty == "LoadBalancer" {
                default(spec, "allocateLoadBalancerNodePorts", json!(true));
            }
            for (i, p) in spec
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let p = obj_mut(p);
                default(p, "protocol", json!("TCP"));
                // targetPort defaults to port (headless Services too).
                let port = p.get("port").cloned().unwrap_or(json!(0));
                default(p, "targetPort", port);
                if ty == "NodePort" || ty == "LoadBalancer" {
                    default(p, "nodePort", json!(30000 + (i as u64 * 7 + 1) % 2767));
                }
            }
        }
        ("", "PersistentVolumeClaim") => {
            if let Some(spec) = root.get_mut("spec") {
                default_pvc_spec(spec);
            }
            let volume = format!("pvc-{}", uid_for(&[site, "pv", name_in(root)]));
            if let Some(spec) = root.get_mut("spec").and_then(Value::as_object_mut) {
                default(spec, "volumeName", json!(volume));
            }
            let meta = entry(root, "metadata");
            let finalizers = meta
                .entry("finalizers".to_owned())
                .or_insert_with(|| json!([]));
            if let Some(f) = finalizers.as_array_mut()
                && !f.iter().any(|x| x == "kubernetes.io/pvc-protection")
            {
                f.push(json!("kubernetes.io/pvc-protection"));
            }
            let ann = entry(meta, "annotations");
            default(ann, "pv.kubernetes.io/bind-completed", json!("yes"));
            default(ann, "pv.kubernetes.io/bound-by-controller", json!("yes"));
            default(
                ann,
                "volume.beta.kubernetes.io/storage-provisioner",
                json!("rancher.io/local-path"),
            );
            default(
                ann,
                "volume.kubernetes.io/storage-provisioner",
                json!("rancher.io/local-path"),
            );
            default(
                ann,
                "volume.kubernetes.io/selected-node",
                json!(format!("{site}-node-1")),
            );
        }
        ("", "Namespace") => {
            let n = name_in(root).to_owned();
            let meta = entry(root, "metadata");
            default(
                entry(meta, "labels"),
                "kubernetes.io/metadata.name",
                json!(n),
            );
            default(entry(root, "spec"), "finalizers", json!(["kubernetes"]));
        }
        ("networking.k8s.io", "NetworkPolicy") => {
            let spec = entry(root, "spec");
            if !spec.contains_key("policyTypes") {
                let mut types = vec![json!("Ingress")];
                if spec.contains_key("egress") {
                    types.push(json!("Egress"));
                }
                spec.insert("policyTypes".to_owned(), json!(types));
            }
            for dir in ["ingress", "egress"] {
                for rule in spec
                    .get_mut(dir)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    for p in rule
                        .get_mut("ports")
                        .and_then(Value::as_array_mut)
                        .into_iter()
                        .flatten()
                    {
                        default(obj_mut(p), "protocol", json!("TCP"));
                    }
                }
            }
        }
        ("", "ResourceQuota") | ("", "LimitRange") => {
            if let Some(spec) = root.get_mut("spec") {
                canonical_everywhere(spec);
            }
        }
        _ => {
            // Any pod template in an unknown kind still gets pod defaults.
            if let Some(t) = root.get_mut("spec").and_then(|s| s.get_mut("template"))
                && t.get("spec").is_some_and(|s| s.get("containers").is_some())
            {
                default_template(t);
            }
        }
    }
}

fn canonical_everywhere(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                if matches!(
                    k.as_str(),
                    "hard" | "max" | "min" | "default" | "defaultRequest" | "limits" | "requests"
                ) && let Some(q) = val.as_object_mut()
                {
                    canonical_quantities(q);
                } else {
                    canonical_everywhere(val);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(canonical_everywhere),
        _ => {}
    }
}

fn name_in(root: &Map<String, Value>) -> &str {
    root.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn service_ip(site: &str, name: &str) -> String {
    let mut h = DefaultHasher::new();
    (site, name).hash(&mut h);
    let x = h.finish();
    format!("10.43.{}.{}", (x >> 8) % 256, (x % 253) + 2)
}

// ---------------------------------------------------------------------------------------------
// Status

fn replicas_of(obj: &Value) -> i64 {
    obj.pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn condition(ty: &str, reason: &str, message: &str) -> Value {
    json!({
        "type": ty,
        "status": "True",
        "lastUpdateTime": STATUS_TIME,
        "lastTransitionTime": STATUS_TIME,
        "reason": reason,
        "message": message,
    })
}

fn status_for(obj: &Value, revision: &str) -> Option<Value> {
    let n = replicas_of(obj);
    let group = group_of(api_version(obj));
    Some(match (group, kind(obj)) {
        ("apps", "Deployment") => json!({
            "observedGeneration": 1,
            "replicas": n,
            "updatedReplicas": n,
            "readyReplicas": n,
            "availableReplicas": n,
            "conditions": [
                condition("Available", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                condition("Progressing", "NewReplicaSetAvailable",
                    &format!("ReplicaSet \"{}-{revision}\" has successfully progressed.", name(obj))),
            ],
        }),
        ("apps", "ReplicaSet") => json!({
            "replicas": n, "fullyLabeledReplicas": n, "readyReplicas": n,
            "availableReplicas": n, "observedGeneration": 1,
        }),
        ("apps", "StatefulSet") => json!({
            "observedGeneration": 1,
            "replicas": n,
            "readyReplicas": n,
            "currentReplicas": n,
            "updatedReplicas": n,
            "currentRevision": format!("{}-{revision}", name(obj)),
            "updateRevision": format!("{}-{revision}", name(obj)),
            "collisionCount": 0,
            "availableReplicas": n,
        }),
        ("apps", "DaemonSet") => json!({
            "currentNumberScheduled": 1,
            "numberMisscheduled": 0,
            "desiredNumberScheduled": 1,
            "numberReady": 1,
            "observedGeneration": 1,
            "updatedNumberScheduled": 1,
            "numberAvailable": 1,
        }),
        ("", "Service") => json!({"loadBalancer": {}}),
        ("", "PersistentVolumeClaim") => {
            let storage = obj
                .pointer("/spec/resources/requests/storage")
                .cloned()
                .unwrap_or(json!("1Gi"));
            json!({"phase": "Bound", "accessModes": obj.pointer("/spec/accessModes").cloned().unwrap_or(json!(["ReadWriteOnce"])), "capacity": {"storage": storage}})
        }
        ("", "Namespace") => json!({"phase": "Active"}),
        ("batch", "CronJob") => json!({}),
        ("batch", "Job") => json!({
            "startTime": STATUS_TIME, "completionTime": STATUS_TIME, "succeeded": 1,
            "ready": 0, "terminating": 0, "uncountedTerminatedPods": {},
            "conditions": [condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods")],
        }),
        ("", "Pod") => {
            let containers: Vec<Value> = obj
                .pointer("/spec/containers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    let image = c.get("image").cloned().unwrap_or(json!(""));
                    json!({
                        "name": c.get("name").cloned().unwrap_or(json!("")),
                        "state": {"running": {"startedAt": STATUS_TIME}},
                        "lastState": {},
                        "ready": true,
                        "restartCount": 0,
                        "image": image,
                        "imageID": format!("{}@sha256:{}", image.as_str().unwrap_or("").split('@').next().unwrap_or(""), "0".repeat(64)),
                        "containerID": format!("containerd://{}", "1".repeat(64)),
                        "started": true,
                    })
                })
                .collect();
            json!({
                "phase": "Running",
                "conditions": [
                    {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": STATUS_TIME},
                    {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": STATUS_TIME},
                    {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": STATUS_TIME},
                    {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": STATUS_TIME},
                    {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": STATUS_TIME},
                ],
                "hostIP": "10.0.0.11",
                "hostIPs": [{"ip": "10.0.0.11"}],
                "podIP": "10.42.0.17",
                "podIPs": [{"ip": "10.42.0.17"}],
                "startTime": STATUS_TIME,
                "containerStatuses": containers,
                "qosClass": "Burstable",
            })
        }
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// The object as served

/// `desired` as the API server serves it after the applier applied it (no owned objects; see
/// [`served_objects`]). `site` seeds the uids and addresses.
pub fn as_served(desired: &Value, applier: &Applier, site: &str) -> Value {
    let mut obj = desired.clone();
    let api = api_version(desired).to_owned();
    let kind = kind(desired).to_owned();
    let name = name(desired).to_owned();
    let ns = namespace(desired).unwrap_or("").to_owned();
    let revision = pod_template_hash(desired);

    // What the applier owns: what it sent, plus the annotations it adds itself.
    let mut sent = desired.clone();
    {
        let ann = entry(entry(obj_mut(&mut sent), "metadata"), "annotations");
        ann.insert(
            "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
            json!(""),
        );
        if let Some(app) = &applier.app {
            ann.insert("argocd.argoproj.io/tracking-id".to_owned(), json!(app));
        }
    }
    let applier_fields = fields_of(&sent, "");

    apply_defaults(&mut obj, site);
    let status = status_for(&obj, &revision);
    let root = obj_mut(&mut obj);
    let meta = entry(root, "metadata");
    {
        let ann = entry(meta, "annotations");
        if let Some(app) = &applier.app {
            let group = group_of(&api);
            ann.insert(
                "argocd.argoproj.io/tracking-id".to_owned(),
                json!(format!("{app}:{group}/{kind}:{ns}/{name}")),
            );
        }
        ann.insert(
            "kubectl.kubernetes.io/last-applied-configuration".to_owned(),
            json!(last_applied(desired)),
        );
        if kind == "Deployment" {
            ann.insert("deployment.kubernetes.io/revision".to_owned(), json!("1"));
        }
    }
    meta.insert(
        "uid".to_owned(),
        json!(uid_for(&[site, &api, &kind, &ns, &name])),
    );
    meta.insert("resourceVersion".to_owned(), json!("1"));
    if has_generation(&kind) {
        meta.insert("generation".to_owned(), json!(1));
    }
    meta.insert("creationTimestamp".to_owned(), json!(applier.time));
    let mut managed = vec![managed_entry(
        &applier.manager,
        "Update",
        &api,
        &applier.time,
        applier_fields,
        None,
    )];
    if kind == "Deployment" {
        managed.push(managed_entry(
            CONTROLLER_MANAGER,
            "Update",
            &api,
            STATUS_TIME,
            json!({"f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}}}),
            None,
        ));
    }
    if let Some(status) = &status {
        let fields = fields_of(&json!({"status": status}), "");
        managed.push(managed_entry(
            CONTROLLER_MANAGER,
            "Update",
            &api,
            STATUS_TIME,
            fields,
            Some("status"),
        ));
    }
    entry(root, "metadata").insert("managedFields".to_owned(), Value::Array(managed));
    if let Some(status) = status {
        root.insert("status".to_owned(), status);
    }
    obj
}

/// `pod-template-hash`: 10 safe characters from the template.
fn pod_template_hash(obj: &Value) -> String {
    let template = obj
        .pointer("/spec/template")
        .map(|t| t.to_string())
        .unwrap_or_default();
    safe_chars(&template, 10)
}

fn owner_ref(owner: &Value, controller: bool) -> Value {
    json!({
        "apiVersion": api_version(owner),
        "kind": kind(owner),
        "name": name(owner),
        "uid": owner.pointer("/metadata/uid").cloned().unwrap_or(json!("")),
        "controller": controller,
        "blockOwnerDeletion": true,
    })
}

fn template_labels(obj: &Value) -> Map<String, Value> {
    obj.pointer("/spec/template/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
/// An object a controller created: controller-owned, every field managed by
/// `kube-controller-manager`.
fn controller_object(
    api: &str,
    kind: &str,
    name: &str,
    namespace: Option<&str>,
    site: &str,
    labels: Map<String, Value>,
    annotations: Option<Map<String, Value>>,
    owner: &Value,
    body: Map<String, Value>,
) -> Value {
    let mut meta = Map::new();
    meta.insert("name".to_owned(), json!(name));
    if let Some(ns) = namespace {
        meta.insert("namespace".to_owned(), json!(ns));
    }
    meta.insert(
        "uid".to_owned(),
        json!(uid_for(&[site, api, kind, namespace.unwrap_or(""), name])),
    );
    meta.insert("resourceVersion".to_owned(), json!("1"));
    if has_generation(kind) {
        meta.insert("generation".to_owned(), json!(1));
    }
    meta.insert("creationTimestamp".to_owned(), json!(STATUS_TIME));
    meta.insert("labels".to_owned(), Value::Object(labels));
    if let Some(a) = annotations {
        meta.insert("annotations".to_owned(), Value::Object(a));
    }
    meta.insert(
        "ownerReferences".to_owned(),
        json!([owner_ref(owner, true)]),
    );
    let mut obj = Map::new();
    obj.insert("apiVersion".to_owned(), json!(api));
    obj.insert("kind".to_owned(), json!(kind));
    obj.insert("metadata".to_owned(), Value::Object(meta));
    obj.extend(body);
    let mut obj = Value::Object(obj);
    apply_defaults(&mut obj, site);
    let status = status_for(&obj, "");
    let mut spec_fields = obj.clone();
    if let Some(m) = spec_fields
        .pointer_mut("/metadata")
        .and_then(Value::as_object_mut)
    {
        for k in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "name",
            "namespace",
        ] {
            m.remove(k);
        }
    }
    let mut managed = vec![managed_entry(
        CONTROLLER_MANAGER,
        "Update",
        api,
        STATUS_TIME,
        fields_of(&spec_fields, ""),
        None,
    )];
    if let Some(status) = &status {
        let manager = if kind == "Pod" {
            "k3s"
        } else {
            CONTROLLER_MANAGER
        };
        managed.push(managed_entry(
            manager,
            "Update",
            api,
            STATUS_TIME,
            fields_of(&json!({"status": status}), ""),
            Some("status"),
        ));
    }
    let root = obj_mut(&mut obj);
    entry(root, "metadata").insert("managedFields".to_owned(), Value::Array(managed));
    if let Some(status) = status {
        root.insert("status".to_owned(), status);
    }
    obj
}

/// What the controllers create for a served object: a Deployment's ReplicaSet and Pods, a
/// StatefulSet's or DaemonSet's ControllerRevision and Pods, a Service's EndpointSlice and
/// Endpoints (the endpoints controllers copy the Service's labels; `Endpoints` carry no owner
/// reference on a real cluster).
pub fn owned_objects(served: &Value, site: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let ns = namespace(served);
    let group = group_of(api_version(served));
    let n = replicas_of(served).max(0) as usize;
    let hash = pod_template_hash(served);
    let template_spec = served
        .pointer("/spec/template/spec")
        .cloned()
        .unwrap_or(json!({}));
    let pod =
        |pod_name: &str, labels: Map<String, Value>, owner: &Value, extra: &[(&str, Value)]| {
            let mut spec = template_spec.clone();
            for (k, v) in extra {
                obj_mut(&mut spec).insert((*k).to_owned(), v.clone());
            }
            let mut body = Map::new();
            body.insert("spec".to_owned(), spec);
            controller_object("v1", "Pod", pod_name, ns, site, labels, None, owner, body)
        };
    match (group, kind(served)) {
        ("apps", "Deployment") => {
            let rs_name = format!("{}-{hash}", name(served));
            let mut labels = template_labels(served);
            labels.insert("pod-template-hash".to_owned(), json!(hash));
            let mut selector = served
                .pointer("/spec/selector")
                .cloned()
                .unwrap_or(json!({}));
            obj_mut(&mut selector);
            entry(obj_mut(&mut selector), "matchLabels")
                .insert("pod-template-hash".to_owned(), json!(hash));
            let mut template = served
                .pointer("/spec/template")
                .cloned()
                .unwrap_or(json!({}));
            entry(entry(obj_mut(&mut template), "metadata"), "labels")
                .insert("pod-template-hash".to_owned(), json!(hash));
            let mut annotations = Map::new();
            annotations.insert(
                "deployment.kubernetes.io/desired-replicas".to_owned(),
                json!(n.to_string()),
            );
            annotations.insert(
                "deployment.kubernetes.io/max-replicas".to_owned(),
                json!((n + n.div_ceil(4)).to_string()),
            );
            annotations.insert("deployment.kubernetes.io/revision".to_owned(), json!("1"));
            let mut body = Map::new();
            body.insert(
                "spec".to_owned(),
                json!({"replicas": n, "selector": selector, "template": template}),
            );
            let rs = controller_object(
                "apps/v1",
                "ReplicaSet",
                &rs_name,
                ns,
                site,
                labels.clone(),
                Some(annotations),
                served,
                body,
            );
            for i in 0..n {
                let pod_name = format!("{rs_name}-{}", safe_chars(&format!("{rs_name}/{i}"), 5));
                out.push(pod(&pod_name, labels.clone(), &rs, &[]));
            }
            out.insert(0, rs);
        }
        ("apps", "StatefulSet") | ("apps", "DaemonSet") => {
            let is_sts = kind(served) == "StatefulSet";
            let rev_name = format!("{}-{hash}", name(served));
            let mut labels = template_labels(served);
            labels.insert("controller-revision-hash".to_owned(), json!(rev_name));
            let mut body = Map::new();
            body.insert(
                "data".to_owned(),
                json!({"spec": {"template": served.pointer("/spec/template").cloned().unwrap_or(json!({}))}}),
            );
            body.insert("revision".to_owned(), json!(1));
            let mut rev_labels = template_labels(served);
            rev_labels.insert(
                "controller-revision-hash".to_owned(),
                json!(if is_sts {
                    rev_name.clone()
                } else {
                    hash.clone()
                }),
            );
            out.push(controller_object(
                "apps/v1",
                "ControllerRevision",
                &rev_name,
                ns,
                site,
                rev_labels,
                None,
                served,
                body,
            ));
            let count = if is_sts { n } else { 1 };
            for i in 0..count {
                let mut labels = labels.clone();
                let (pod_name, extra) = if is_sts {
                    let pod_name = format!("{}-{i}", name(served));
                    labels.insert(
                        "apps.kubernetes.io/pod-index".to_owned(),
                        json!(i.to_string()),
                    );
                    labels.insert(
                        "statefulset.kubernetes.io/pod-name".to_owned(),
                        json!(pod_name),
                    );
                    let mut extra = vec![("hostname", json!(pod_name))];
                    if let Some(svc) = served.pointer("/spec/serviceName") {
                        extra.push(("subdomain", svc.clone()));
                    }
                    (pod_name, extra)
                } else {
                    labels.insert("controller-revision-hash".to_owned(), json!(hash));
                    labels.insert("pod-template-generation".to_owned(), json!("1"));
                    (
                        format!("{}-{}", name(served), safe_chars(name(served), 5)),
                        vec![],
                    )
                };
                out.push(pod(&pod_name, labels, served, &extra));
            }
        }
        ("", "Service") => {
            let has_selector = served
                .pointer("/spec/selector")
                .is_some_and(|s| s.as_object().is_some_and(|m| !m.is_empty()));
            if !has_selector {
                return out;
            }
            let svc_labels = served
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let ports: Vec<Value> = served
                .pointer("/spec/ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let port = match p.get("targetPort") {
                        Some(Value::Number(n)) => json!(n),
                        _ => p.get("port").cloned().unwrap_or(json!(0)),
                    };
                    let mut m = Map::new();
                    if let Some(n) = p.get("name") {
                        m.insert("name".to_owned(), n.clone());
                    }
                    m.insert("port".to_owned(), port);
                    m.insert(
                        "protocol".to_owned(),
                        p.get("protocol").cloned().unwrap_or(json!("TCP")),
                    );
                    Value::Object(m)
                })
                .collect();
            let mut slice_labels = svc_labels.clone();
            slice_labels.insert(
                "endpointslice.kubernetes.io/managed-by".to_owned(),
                json!("endpointslice-controller.k8s.io"),
            );
            slice_labels.insert("kubernetes.io/service-name".to_owned(), json!(name(served)));
            let mut body = Map::new();
            body.insert("addressType".to_owned(), json!("IPv4"));
            body.insert(
                "endpoints".to_owned(),
                json!([{"addresses": ["10.42.0.17"], "conditions": {"ready": true, "serving": true, "terminating": false}, "nodeName": format!("{site}-node-1")}]),
            );
            body.insert("ports".to_owned(), json!(ports));
            out.push(controller_object(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                &format!("{}-{}", name(served), safe_chars(name(served), 5)),
                ns,
                site,
                slice_labels,
                None,
                served,
                body,
            ));
            let mut endpoints = controller_object(
                "v1",
                "Endpoints",
                name(served),
                ns,
                site,
                svc_labels,
                None,
                served,
                {
                    let mut b = Map::new();
                    b.insert(
                        "subsets".to_owned(),
                        json!([{"addresses": [{"ip": "10.42.0.17", "nodeName": format!("{site}-node-1")}], "ports": ports}]),
                    );
                    b
                },
            );
            if let Some(m) = endpoints
                .pointer_mut("/metadata")
                .and_then(Value::as_object_mut)
            {
                m.remove("ownerReferences");
                entry(m, "annotations").insert(
                    "endpoints.kubernetes.io/last-change-trigger-time".to_owned(),
                    json!(STATUS_TIME),
                );
            }
            out.push(endpoints);
        }
        _ => {}
    }
    out
}

/// A site's objects as served: each desired object as the API server returns it, then what
/// the controllers made from it.
pub fn served_objects(site: &str, desired: &[Value], applier: &Applier) -> Vec<Value> {
    let mut out = Vec::new();
    for d in desired {
        let served = as_served(d, applier, site);
        let owned = owned_objects(&served, site);
        out.push(served);
        out.extend(owned);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Changes made on site

/// The fieldsV1 path of `pointer` in `obj` (`/spec/template/spec/containers/0/env` →
/// `f:spec`/`f:template`/`f:spec`/`f:containers`/`k:{"name":"app"}`/`f:env`), or `None` when the
/// pointer leaves the object.
pub fn fields_path(obj: &Value, pointer: &str) -> Option<Vec<String>> {
    let mut path = Vec::new();
    let mut cur = Some(obj);
    let mut last_field = String::new();
    for raw in pointer.split('/').skip(1) {
        let seg = raw.replace("~1", "/").replace("~0", "~");
        match cur {
            Some(Value::Array(items)) => {
                let i: usize = seg.parse().ok()?;
                let item = items.get(i)?;
                path.push(element_key(&last_field, item).unwrap_or_else(|| format!("i:{i}")));
                cur = Some(item);
            }
            Some(Value::Object(m)) => {
                path.push(format!("f:{seg}"));
                cur = m.get(&seg);
                last_field = seg;
            }
            _ => {
                path.push(format!("f:{seg}"));
                cur = None;
                last_field = seg;
            }
        }
    }
    Some(path)
}

fn set_pointer(obj: &mut Value, pointer: &str, value: Value) -> bool {
    let segs: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = segs.split_last() else {
        return false;
    };
    let mut cur = obj;
    for seg in parents {
        cur = match cur {
            Value::Array(items) => match seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            Value::Object(m) => m.entry(seg.clone()).or_insert_with(|| json!({})),
            _ => return false,
        };
    }
    match cur {
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => items[i] = value,
            Ok(i) if i == items.len() => items.push(value),
            _ if last == "-" => items.push(value),
            _ => return false,
        },
        Value::Object(m) => {
            m.insert(last.clone(), value);
        }
        _ => return false,
    }
    true
}

fn remove_fields_path(fields: &mut Value, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    let Some(m) = fields.as_object_mut() else {
        return;
    };
    if rest.is_empty() {
        m.remove(first);
    } else if let Some(sub) = m.get_mut(first) {
        remove_fields_path(sub, rest);
        if sub
            .as_object()
            .is_some_and(|s| s.is_empty() || (s.len() == 1 && s.contains_key(".")))
        {
            m.remove(first);
        }
    }
}

/// Sets the field at JSON `pointer` of a served object to `value` as `manager` would
/// (`kubectl-edit`, `kubectl-patch`, …): a `managedFields` entry of that manager (operation
/// `Update`) owning the field, the field taken from the other managers, `generation` and
/// `resourceVersion` bumped. Returns `false` when the pointer cannot be set.
pub fn set_field(obj: &mut Value, pointer: &str, value: Value, manager: &str, time: &str) -> bool {
    let parent_field = pointer.rsplit('/').next().unwrap_or("").to_owned();
    if !set_pointer(obj, pointer, value.clone()) {
        return false;
    }
    let Some(path) = fields_path(obj, pointer) else {
        return false;
    };
    let leaf = fields_of(&value, &parent_field);
    let mut fields = leaf;
    for seg in path.iter().rev() {
        let mut m = Map::new();
        if seg.starts_with("k:") {
            // An element of an associative list owns its key fields too.
            let mut inner = Map::new();
            inner.insert(".".to_owned(), json!({}));
            if let Some(extra) = fields.as_object() {
                inner.extend(extra.clone());
            }
            fields = Value::Object(inner);
        }
        m.insert(seg.clone(), fields);
        fields = Value::Object(m);
    }
    let api = api_version(obj).to_owned();
    let kind = kind(obj).to_owned();
    let meta = entry(obj_mut(obj), "metadata");
    let managed = meta
        .entry("managedFields".to_owned())
        .or_insert_with(|| json!([]));
    if let Some(entries) = managed.as_array_mut() {
        for e in entries.iter_mut() {
            if e.get("manager").and_then(Value::as_str) != Some(manager)
                && let Some(f) = e.get_mut("fieldsV1")
            {
                remove_fields_path(f, &path);
            }
        }
        match entries.iter_mut().find(|e| {
            e.get("manager").and_then(Value::as_str) == Some(manager)
                && e.get("subresource").is_none()
        }) {
            Some(e) => {
                merge_fields(&mut e["fieldsV1"], &fields);
                e["time"] = json!(time);
            }
            None => entries.push(managed_entry(manager, "Update", &api, time, fields, None)),
        }
    }
    if has_generation(&kind) && pointer.starts_with("/spec") {
        let g = meta.get("generation").and_then(Value::as_i64).unwrap_or(1);
        meta.insert("generation".to_owned(), json!(g + 1));
    }
    true
}

fn merge_fields(into: &mut Value, from: &Value) {
    let (Some(a), Some(b)) = (into.as_object_mut(), from.as_object()) else {
        *into = from.clone();
        return;
    };
    for (k, v) in b {
        match a.get_mut(k) {
            Some(existing) => merge_fields(existing, v),
            None => {
                a.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "edge", "labels": {"edgefleet.io/site": "s1"}},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web", "edgefleet.io/site": "s1"}},
                    "spec": {"containers": [{
                        "name": "app",
                        "image": "registry.example.com/web:1.2",
                        "ports": [{"containerPort": 8080}],
                        "resources": {"requests": {"cpu": "0.5", "memory": "1024Mi"}, "limits": {"cpu": "1000m"}},
                        "readinessProbe": {"httpGet": {"port": 8080}}
                    }]}
                }
            }
        })
    }

    #[test]
    fn a_deployment_gets_the_api_server_defaults() {
        let served = as_served(&deployment(), &Applier::default(), "s1");
        let spec = &served["spec"];
        assert_eq!(spec["replicas"], 1);
        assert_eq!(spec["revisionHistoryLimit"], 10);
        assert_eq!(spec["progressDeadlineSeconds"], 600);
        assert_eq!(spec["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["schedulerName"], "default-scheduler");
        assert_eq!(pod["securityContext"], json!({}));
        let c = &pod["containers"][0];
        assert_eq!(c["imagePullPolicy"], "IfNotPresent");
        assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["resources"]["requests"]["cpu"], "500m");
        assert_eq!(c["resources"]["requests"]["memory"], "1Gi");
        assert_eq!(c["resources"]["limits"]["cpu"], "1");
        assert_eq!(c["readinessProbe"]["periodSeconds"], 10);
        assert_eq!(c["readinessProbe"]["httpGet"]["scheme"], "HTTP");
        assert_eq!(served["status"]["readyReplicas"], 1);
        let managers: Vec<&str> = served["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["manager"].as_str().unwrap())
            .collect();
        assert_eq!(
            managers,
            [
                "argocd-controller",
                "kube-controller-manager",
                "kube-controller-manager"
            ]
        );
        let applier = &served["metadata"]["managedFields"][0]["fieldsV1"];
        assert!(
            applier
                .pointer("/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"app\"}/f:image")
                .is_some(),
            "{applier}"
        );
        assert!(served["metadata"]["uid"].is_string());
    }

    #[test]
    fn a_deployment_brings_its_replicaset_and_pods() {
        let served = as_served(&deployment(), &Applier::default(), "s1");
        let owned = owned_objects(&served, "s1");
        assert_eq!(owned.len(), 2);
        assert_eq!(owned[0]["kind"], "ReplicaSet");
        assert_eq!(owned[1]["kind"], "Pod");
        assert_eq!(owned[1]["metadata"]["labels"]["edgefleet.io/site"], "s1");
        assert_eq!(
            owned[1]["metadata"]["ownerReferences"][0]["kind"],
            "ReplicaSet"
        );
        assert_eq!(
            owned[1]["spec"]["containers"][0]["resources"]["requests"]["cpu"],
            "500m"
        );
        assert_eq!(owned[1]["status"]["phase"], "Running");
    }

    #[test]
    fn an_edit_on_site_is_owned_by_its_manager() {
        let mut served = as_served(&deployment(), &Applier::default(), "s1");
        assert!(set_field(
            &mut served,
            "/spec/template/spec/containers/0/env",
            json!([{"name": "DEBUG", "value": "1"}]),
            "kubectl-edit",
            "2026-12-01T00:00:00Z"
        ));
        let entry = served["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["manager"] == "kubectl-edit")
            .unwrap();
        assert!(
            entry["fieldsV1"]
                .pointer("/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"app\"}/f:env/k:{\"name\":\"DEBUG\"}/f:value")
                .is_some(),
            "{entry}"
        );
        assert_eq!(served["metadata"]["generation"], 2);
        assert!(set_field(
            &mut served,
            "/spec/replicas",
            json!(3),
            "kubectl-patch",
            "t"
        ));
        let applier = &served["metadata"]["managedFields"][0]["fieldsV1"];
        assert!(applier.pointer("/f:spec/f:replicas").is_none());
    }
}
