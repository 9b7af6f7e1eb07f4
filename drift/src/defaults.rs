//! Fields the API server (or a built-in admission plugin or controller) fills in when Git leaves
//! them out. A live field that Git does not set and that holds its default is never drift.
//!
//! Each rule names the path of the field (`**` any prefix, `[]` any list element, `*` any key,
//! `a|b` either name), the kinds it applies to (none: every kind) and the value the server
//! writes. Values are checked, not only names: `imagePullPolicy: Always` on an image pinned by
//! digest is not the default and is reported when nothing else (`managedFields`) says who set it.
//! docs/drift.md lists the same table; a test keeps the two in step.

use serde_json::{Value, json};

use crate::managed::Step;
use crate::quantity::same_quantity;

/// The value the server writes.
#[derive(Debug, Clone)]
pub(crate) enum ServerValue {
    /// Any value (allocated or chosen by the cluster: a cluster IP, a bound volume name).
    Any,
    /// Exactly this JSON value.
    Is(fn() -> Value),
    /// An empty map (`securityContext: {}`, `resources: {}`).
    EmptyMap,
    /// The value of a sibling field (`targetPort` = `port`, `serviceAccount` =
    /// `serviceAccountName`).
    SameAs(&'static str),
    /// `Always` for an image with the `latest` tag or none (and no digest), `IfNotPresent`
    /// otherwise.
    ImagePullPolicy,
    /// A request copied from the limit of the same resource.
    RequestFromLimit,
    /// Only these keys of a map (labels, annotations) hold values the server or a controller
    /// adds.
    Keys(&'static [&'static str]),
}

/// One default: where, for which kinds, which value.
pub(crate) struct Rule {
    pub(crate) path: &'static str,
    pub(crate) kinds: &'static [&'static str],
    pub(crate) default: ServerValue,
}

const fn rule(path: &'static str, kinds: &'static [&'static str], default: ServerValue) -> Rule {
    Rule {
        path,
        kinds,
        default,
    }
}

const ALL: &[&str] = &[];
#[cfg(test)]
const CONTAINERS: &str = "**.containers|initContainers|ephemeralContainers.[]";
const WORKLOADS_WITH_HISTORY: &[&str] = &["Deployment", "StatefulSet", "DaemonSet"];

/// The defaults table. Paths under a container start with `**.containers|initContainers|
/// ephemeralContainers.[]` (written `<container>` in docs/drift.md).
pub(crate) static RULES: &[Rule] = &[
    // metadata
    rule("metadata.namespace", ALL, ServerValue::Any),
    rule("metadata.finalizers", ALL, ServerValue::Any),
    rule(
        "metadata.annotations.*",
        ALL,
        ServerValue::Keys(&[
            "deployment.kubernetes.io/revision",
            "deprecated.daemonset.template.generation",
            "pv.kubernetes.io/bind-completed",
            "pv.kubernetes.io/bound-by-controller",
            "volume.beta.kubernetes.io/storage-provisioner",
            "volume.kubernetes.io/storage-provisioner",
            "volume.kubernetes.io/selected-node",
        ]),
    ),
    rule(
        "metadata.labels.*",
        ALL,
        ServerValue::Keys(&["kubernetes.io/metadata.name"]),
    ),
    rule(
        "**.template.metadata.creationTimestamp",
        ALL,
        ServerValue::Is(|| Value::Null),
    ),
    // pod specs (a Pod, or the template of a workload)
    rule(
        "**.spec.dnsPolicy",
        ALL,
        ServerValue::Is(|| json!("ClusterFirst")),
    ),
    rule(
        "**.spec.restartPolicy",
        ALL,
        ServerValue::Is(|| json!("Always")),
    ),
    rule(
        "**.spec.schedulerName",
        ALL,
        ServerValue::Is(|| json!("default-scheduler")),
    ),
    rule("**.spec.securityContext", ALL, ServerValue::EmptyMap),
    rule(
        "**.spec.terminationGracePeriodSeconds",
        ALL,
        ServerValue::Is(|| json!(30)),
    ),
    rule(
        "**.spec.serviceAccount",
        ALL,
        ServerValue::SameAs("serviceAccountName"),
    ),
    rule(
        "**.spec.enableServiceLinks",
        ALL,
        ServerValue::Is(|| json!(true)),
    ),
    rule("**.spec.priority", ALL, ServerValue::Any),
    rule(
        "**.preemptionPolicy",
        ALL,
        ServerValue::Is(|| json!("PreemptLowerPriority")),
    ),
    // containers
    rule(
        "**.containers|initContainers|ephemeralContainers.[].imagePullPolicy",
        ALL,
        ServerValue::ImagePullPolicy,
    ),
    rule(
        "**.containers|initContainers|ephemeralContainers.[].terminationMessagePath",
        ALL,
        ServerValue::Is(|| json!("/dev/termination-log")),
    ),
    rule(
        "**.containers|initContainers|ephemeralContainers.[].terminationMessagePolicy",
        ALL,
        ServerValue::Is(|| json!("File")),
    ),
    rule(
        "**.containers|initContainers|ephemeralContainers.[].resources",
        ALL,
        ServerValue::EmptyMap,
    ),
    rule(
        "**.containers|initContainers|ephemeralContainers.[].resources.requests.*",
        ALL,
        ServerValue::RequestFromLimit,
    ),
    rule(
        "**.ports.[].protocol",
        ALL,
        ServerValue::Is(|| json!("TCP")),
    ),
    rule(
        "**.livenessProbe|readinessProbe|startupProbe.timeoutSeconds",
        ALL,
        ServerValue::Is(|| json!(1)),
    ),
    rule(
        "**.livenessProbe|readinessProbe|startupProbe.periodSeconds",
        ALL,
        ServerValue::Is(|| json!(10)),
    ),
    rule(
        "**.livenessProbe|readinessProbe|startupProbe.successThreshold",
        ALL,
        ServerValue::Is(|| json!(1)),
    ),
    rule(
        "**.livenessProbe|readinessProbe|startupProbe.failureThreshold",
        ALL,
        ServerValue::Is(|| json!(3)),
    ),
    rule("**.httpGet.scheme", ALL, ServerValue::Is(|| json!("HTTP"))),
    rule(
        "**.fieldRef.apiVersion",
        ALL,
        ServerValue::Is(|| json!("v1")),
    ),
    rule(
        "**.resourceFieldRef.divisor",
        ALL,
        ServerValue::Is(|| json!("0")),
    ),
    // volumes
    rule(
        "**.volumes.[].configMap|secret|projected|downwardAPI.defaultMode",
        ALL,
        ServerValue::Is(|| json!(420)),
    ),
    rule(
        "**.volumes.[].hostPath.type",
        ALL,
        ServerValue::Is(|| json!("")),
    ),
    rule(
        "**.volumeMode",
        ALL,
        ServerValue::Is(|| json!("Filesystem")),
    ),
    // workloads
    rule(
        "spec.replicas",
        &["Deployment", "ReplicaSet", "StatefulSet"],
        ServerValue::Is(|| json!(1)),
    ),
    rule(
        "spec.revisionHistoryLimit",
        WORKLOADS_WITH_HISTORY,
        ServerValue::Is(|| json!(10)),
    ),
    rule(
        "spec.progressDeadlineSeconds",
        &["Deployment"],
        ServerValue::Is(|| json!(600)),
    ),
    rule(
        "spec.strategy.type",
        &["Deployment"],
        ServerValue::Is(|| json!("RollingUpdate")),
    ),
    rule(
        "spec.strategy.rollingUpdate.maxSurge|maxUnavailable",
        &["Deployment"],
        ServerValue::Is(|| json!("25%")),
    ),
    rule(
        "spec.updateStrategy.type",
        &["StatefulSet", "DaemonSet"],
        ServerValue::Is(|| json!("RollingUpdate")),
    ),
    rule(
        "spec.updateStrategy.rollingUpdate.partition",
        &["StatefulSet"],
        ServerValue::Is(|| json!(0)),
    ),
    rule(
        "spec.updateStrategy.rollingUpdate.maxUnavailable",
        &["DaemonSet"],
        ServerValue::Is(|| json!(1)),
    ),
    rule(
        "spec.updateStrategy.rollingUpdate.maxSurge",
        &["DaemonSet"],
        ServerValue::Is(|| json!(0)),
    ),
    rule(
        "spec.podManagementPolicy",
        &["StatefulSet"],
        ServerValue::Is(|| json!("OrderedReady")),
    ),
    rule(
        "spec.persistentVolumeClaimRetentionPolicy.whenDeleted|whenScaled",
        &["StatefulSet"],
        ServerValue::Is(|| json!("Retain")),
    ),
    rule(
        "spec.volumeClaimTemplates.[].apiVersion",
        &["StatefulSet"],
        ServerValue::Is(|| json!("v1")),
    ),
    rule(
        "spec.volumeClaimTemplates.[].kind",
        &["StatefulSet"],
        ServerValue::Is(|| json!("PersistentVolumeClaim")),
    ),
    rule(
        "spec.volumeClaimTemplates.[].metadata.creationTimestamp",
        &["StatefulSet"],
        ServerValue::Is(|| Value::Null),
    ),
    rule(
        "spec.volumeClaimTemplates.[].status",
        &["StatefulSet"],
        ServerValue::Any,
    ),
    rule("spec.backoffLimit", &["Job"], ServerValue::Is(|| json!(6))),
    rule(
        "spec.completions|parallelism",
        &["Job"],
        ServerValue::Is(|| json!(1)),
    ),
    rule(
        "spec.completionMode",
        &["Job"],
        ServerValue::Is(|| json!("NonIndexed")),
    ),
    rule(
        "spec.suspend",
        &["Job", "CronJob"],
        ServerValue::Is(|| json!(false)),
    ),
    rule(
        "spec.podReplacementPolicy",
        &["Job"],
        ServerValue::Is(|| json!("TerminatingOrFailed")),
    ),
    rule("spec.selector", &["Job"], ServerValue::Any),
    rule(
        "spec.template.metadata.labels.*",
        &["Job"],
        ServerValue::Keys(&[
            "controller-uid",
            "job-name",
            "batch.kubernetes.io/controller-uid",
            "batch.kubernetes.io/job-name",
        ]),
    ),
    rule(
        "spec.concurrencyPolicy",
        &["CronJob"],
        ServerValue::Is(|| json!("Allow")),
    ),
    rule(
        "spec.successfulJobsHistoryLimit",
        &["CronJob"],
        ServerValue::Is(|| json!(3)),
    ),
    rule(
        "spec.failedJobsHistoryLimit",
        &["CronJob"],
        ServerValue::Is(|| json!(1)),
    ),
    // services
    rule(
        "spec.type",
        &["Service"],
        ServerValue::Is(|| json!("ClusterIP")),
    ),
    rule(
        "spec.sessionAffinity",
        &["Service"],
        ServerValue::Is(|| json!("None")),
    ),
    rule(
        "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
        &["Service"],
        ServerValue::Is(|| json!(10800)),
    ),
    rule("spec.clusterIP", &["Service"], ServerValue::Any),
    rule("spec.clusterIPs", &["Service"], ServerValue::Any),
    rule("spec.ipFamilies", &["Service"], ServerValue::Any),
    rule(
        "spec.ipFamilyPolicy",
        &["Service"],
        ServerValue::Is(|| json!("SingleStack")),
    ),
    rule(
        "spec.internalTrafficPolicy|externalTrafficPolicy",
        &["Service"],
        ServerValue::Is(|| json!("Cluster")),
    ),
    rule(
        "spec.allocateLoadBalancerNodePorts",
        &["Service"],
        ServerValue::Is(|| json!(true)),
    ),
    rule("spec.healthCheckNodePort", &["Service"], ServerValue::Any),
    rule("spec.ports.[].nodePort", &["Service"], ServerValue::Any),
    rule(
        "spec.ports.[].targetPort",
        &["Service"],
        ServerValue::SameAs("port"),
    ),
    // other kinds
    rule("spec.policyTypes", &["NetworkPolicy"], ServerValue::Any),
    rule(
        "spec.volumeName|storageClassName",
        &["PersistentVolumeClaim"],
        ServerValue::Any,
    ),
    rule("spec.finalizers", &["Namespace"], ServerValue::Any),
    rule("type", &["Secret"], ServerValue::Is(|| json!("Opaque"))),
    rule("secrets", &["ServiceAccount"], ServerValue::Any),
    rule("spec.ingressClassName", &["Ingress"], ServerValue::Any),
    rule(
        "reclaimPolicy",
        &["StorageClass"],
        ServerValue::Is(|| json!("Delete")),
    ),
    rule(
        "volumeBindingMode",
        &["StorageClass"],
        ServerValue::Is(|| json!("Immediate")),
    ),
    rule(
        "spec.conversion.strategy",
        &["CustomResourceDefinition"],
        ServerValue::Is(|| json!("None")),
    ),
];

/// A path step as the table's patterns name it.
fn segment<'a>(step: &'a Step<'a>) -> &'a str {
    match step {
        Step::Field(f) => f,
        Step::Item(..) => "[]",
    }
}

/// Whether a pattern (`**.spec.dnsPolicy`) names the path.
fn path_matches(pattern: &str, path: &[Step<'_>]) -> bool {
    let parts: Vec<&str> = pattern.split('.').collect();
    // `*` and keys holding dots (annotations): the last pattern segment `*` takes one step
    // whatever its text.
    let (anywhere, parts) = match parts.split_first() {
        Some((&"**", rest)) => (true, rest),
        _ => (false, &parts[..]),
    };
    if path.len() < parts.len() || !anywhere && path.len() != parts.len() {
        return false;
    }
    let tail = &path[path.len() - parts.len()..];
    parts.iter().zip(tail).all(|(p, step)| {
        let s = segment(step);
        *p == "*" || p.split('|').any(|alt| alt == s)
    })
}

/// Whether a live field Git does not set holds the value the server would have written.
/// `ancestors` are the live values from the object down to the field's parent.
pub(crate) fn is_default(
    kind: &str,
    path: &[Step<'_>],
    value: &Value,
    ancestors: &[&Value],
) -> bool {
    RULES.iter().any(|r| {
        (r.kinds.is_empty() || r.kinds.contains(&kind))
            && path_matches(r.path, path)
            && holds(&r.default, path, value, ancestors)
    })
}

fn holds(default: &ServerValue, path: &[Step<'_>], value: &Value, ancestors: &[&Value]) -> bool {
    let parent = ancestors.last().copied();
    match default {
        ServerValue::Any => true,
        ServerValue::Is(v) => {
            let want = v();
            *value == want || crate::compare::same_scalar(value, &want)
        }
        ServerValue::EmptyMap => value.as_object().is_some_and(|m| m.is_empty()),
        ServerValue::SameAs(sibling) => parent
            .and_then(|p| p.get(*sibling))
            .is_some_and(|s| s == value || crate::compare::same_scalar(s, value)),
        ServerValue::ImagePullPolicy => {
            let Some(image) = parent.and_then(|p| p.get("image")).and_then(Value::as_str) else {
                return false;
            };
            let r = kube_basics::image::ImageRef::parse(image);
            let latest = r.tag == Some("latest") || r.tag.is_none() && r.digest.is_none();
            value == if latest { "Always" } else { "IfNotPresent" }
        }
        ServerValue::RequestFromLimit => {
            // ancestors: …, container, resources, requests
            let Some(Step::Field(name)) = path.last() else {
                return false;
            };
            let resources = ancestors.len().checked_sub(2).map(|i| ancestors[i]);
            resources
                .and_then(|r| r.pointer(&format!("/limits/{}", kube_basics::pointer::escape(name))))
                .is_some_and(|limit| limit == value || same_quantity(limit, value))
        }
        ServerValue::Keys(keys) => match path.last() {
            Some(Step::Field(k)) => keys.contains(k),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(fields: &[&'static str]) -> Vec<Step<'static>> {
        static ITEM: Value = Value::Null;
        fields
            .iter()
            .map(|f| {
                if *f == "[]" {
                    Step::Item(&ITEM, 0)
                } else {
                    Step::Field(f)
                }
            })
            .collect()
    }

    #[test]
    fn patterns_match_at_any_depth_and_by_alternative() {
        assert!(path_matches(
            "**.spec.dnsPolicy",
            &path(&["spec", "template", "spec", "dnsPolicy"])
        ));
        assert!(path_matches(
            "**.spec.dnsPolicy",
            &path(&["spec", "dnsPolicy"])
        ));
        assert!(!path_matches(
            "spec.replicas",
            &path(&["spec", "template", "spec", "replicas"])
        ));
        assert!(path_matches(
            CONTAINERS,
            &path(&["spec", "template", "spec", "initContainers", "[]"])
        ));
        assert!(path_matches(
            "metadata.annotations.*",
            &path(&[
                "metadata",
                "annotations",
                "deployment.kubernetes.io/revision"
            ])
        ));
    }

    #[test]
    fn values_are_checked_not_only_names() {
        let container = json!({"name": "app", "image": "registry.example.com/app@sha256:ab"});
        let p = path(&[
            "spec",
            "template",
            "spec",
            "containers",
            "[]",
            "imagePullPolicy",
        ]);
        assert!(is_default(
            "Deployment",
            &p,
            &json!("IfNotPresent"),
            &[&container]
        ));
        assert!(!is_default(
            "Deployment",
            &p,
            &json!("Always"),
            &[&container]
        ));
        let latest = json!({"name": "app", "image": "nginx"});
        assert!(is_default("Deployment", &p, &json!("Always"), &[&latest]));
        let tagged = json!({"name": "app", "image": "nginx:latest@sha256:ab"});
        assert!(is_default("Deployment", &p, &json!("Always"), &[&tagged]));

        let replicas = path(&["spec", "replicas"]);
        assert!(is_default("Deployment", &replicas, &json!(1), &[]));
        assert!(!is_default("Deployment", &replicas, &json!(3), &[]));
        assert!(!is_default("DaemonSet", &replicas, &json!(1), &[]));
    }

    #[test]
    fn requests_copied_from_limits_and_target_ports_copied_from_ports() {
        let resources = json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1Gi"}});
        let requests = &resources["requests"];
        let container = json!({});
        let p = path(&["spec", "containers", "[]", "resources", "requests", "cpu"]);
        assert!(is_default(
            "Pod",
            &p,
            &json!("1000m"),
            &[&container, &resources, requests]
        ));
        assert!(!is_default(
            "Pod",
            &p,
            &json!("500m"),
            &[&container, &resources, requests]
        ));

        let port = json!({"port": 4317, "targetPort": 4317});
        let p = path(&["spec", "ports", "[]", "targetPort"]);
        assert!(is_default("Service", &p, &json!(4317), &[&port]));
        assert!(!is_default("Service", &p, &json!(8080), &[&port]));
    }

    /// docs/drift.md lists every default of the table.
    #[test]
    fn every_default_is_documented() {
        // Table cells escape `|` as `\|`.
        let docs = include_str!("../../docs/drift.md").replace("\\|", "|");
        for r in RULES {
            let shown = r.path.replace(&format!("{CONTAINERS}."), "<container>.");
            assert!(
                docs.contains(&format!("`{shown}`")),
                "docs/drift.md does not list `{shown}`"
            );
        }
    }
}
