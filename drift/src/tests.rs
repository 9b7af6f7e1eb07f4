//! The comparison against live objects written as a Kubernetes v1.33 API server returns them:
//! every default filled in, quantities in canonical form, `status`, and `managedFields` of the
//! applier, of controllers and of people. Written from what the API server does, not from the
//! normaliser.

use serde_json::{Value, json};

use crate::compare::Verdict;
use crate::desired::{DesiredObject, DesiredSite};
use crate::fleet::compare_site;
use crate::report::{ObjectStatus, SiteStatus};
use crate::rules::{DriftConfig, DriftRules, IgnoreDifferences};
use crate::{LiveSite, ObjectKey};

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("test YAML parses")
}

const IMAGE: &str = "registry.example.com/otel/opentelemetry-collector-contrib:0.139.0@sha256:4dd0836630e94b11b5689b35c5149c5baa9b331c054d4b65e3a56ff9e6fa8c4f";

/// The Deployment as Git renders it.
fn desired_deployment() -> Value {
    yaml(&format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: telemetry-collector
  namespace: edge-telemetry
  labels:
    app.kubernetes.io/name: telemetry-collector
    edgefleet.io/site: rig-nsea-042
  annotations:
    edgefleet.io/data-class: telemetry
spec:
  replicas: 1
  revisionHistoryLimit: 3
  strategy:
    type: Recreate
  selector:
    matchLabels:
      app.kubernetes.io/name: telemetry-collector
  template:
    metadata:
      labels:
        app.kubernetes.io/name: telemetry-collector
    spec:
      serviceAccountName: telemetry-collector
      containers:
        - name: collector
          image: {IMAGE}
          args: ["--config=/etc/otelcol/collector.yaml"]
          ports:
            - {{name: otlp-grpc, containerPort: 4317}}
            - {{name: otlp-http, containerPort: 4318}}
          resources:
            requests: {{cpu: 0.5, memory: 1Gi}}
            limits: {{cpu: "1", memory: 1536Mi}}
          livenessProbe:
            httpGet: {{path: /, port: 13133}}
          readinessProbe:
            httpGet: {{path: /, port: 13133}}
            initialDelaySeconds: 5
          volumeMounts:
            - {{name: config, mountPath: /etc/otelcol}}
            - {{name: queue, mountPath: /var/lib/otelcol/queue}}
      volumes:
        - name: config
          configMap: {{name: telemetry-collector}}
        - name: queue
          emptyDir: {{sizeLimit: 512Mi}}
"#
    ))
}

/// What the API server returns for it after Argo CD applied it server-side and the deployment
/// controller rolled it out.
fn live_deployment() -> Value {
    yaml(&format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: telemetry-collector
  namespace: edge-telemetry
  uid: 6c1f0a52-7d0e-4d6a-9b0f-2a8e1f3c4d5e
  resourceVersion: "918273"
  generation: 1
  creationTimestamp: "2026-11-30T08:12:40Z"
  labels:
    app.kubernetes.io/name: telemetry-collector
    app.kubernetes.io/instance: telemetry-collector-rig-nsea-042
    edgefleet.io/site: rig-nsea-042
  annotations:
    argocd.argoproj.io/tracking-id: "telemetry-collector-rig-nsea-042:apps/Deployment:edge-telemetry/telemetry-collector"
    deployment.kubernetes.io/revision: "1"
    edgefleet.io/data-class: telemetry
  managedFields:
    - manager: argocd-controller
      operation: Apply
      apiVersion: apps/v1
      time: "2026-11-30T08:12:40Z"
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata:
          f:annotations:
            f:argocd.argoproj.io/tracking-id: {{}}
            f:edgefleet.io/data-class: {{}}
          f:labels:
            f:app.kubernetes.io/instance: {{}}
            f:app.kubernetes.io/name: {{}}
            f:edgefleet.io/site: {{}}
        f:spec:
          f:replicas: {{}}
          f:revisionHistoryLimit: {{}}
          f:selector: {{}}
          f:strategy:
            f:type: {{}}
          f:template:
            f:metadata:
              f:labels:
                f:app.kubernetes.io/name: {{}}
            f:spec:
              f:containers:
                k:{{"name":"collector"}}:
                  .: {{}}
                  f:args: {{}}
                  f:image: {{}}
                  f:livenessProbe:
                    f:httpGet:
                      f:path: {{}}
                      f:port: {{}}
                  f:name: {{}}
                  f:ports:
                    k:{{"containerPort":4317,"protocol":"TCP"}}:
                      .: {{}}
                      f:containerPort: {{}}
                      f:name: {{}}
                    k:{{"containerPort":4318,"protocol":"TCP"}}:
                      .: {{}}
                      f:containerPort: {{}}
                      f:name: {{}}
                  f:readinessProbe:
                    f:httpGet:
                      f:path: {{}}
                      f:port: {{}}
                    f:initialDelaySeconds: {{}}
                  f:resources:
                    f:limits:
                      f:cpu: {{}}
                      f:memory: {{}}
                    f:requests:
                      f:cpu: {{}}
                      f:memory: {{}}
                  f:volumeMounts:
                    k:{{"mountPath":"/etc/otelcol"}}:
                      .: {{}}
                      f:mountPath: {{}}
                      f:name: {{}}
                    k:{{"mountPath":"/var/lib/otelcol/queue"}}:
                      .: {{}}
                      f:mountPath: {{}}
                      f:name: {{}}
              f:serviceAccountName: {{}}
              f:volumes:
                k:{{"name":"config"}}:
                  .: {{}}
                  f:configMap:
                    f:name: {{}}
                  f:name: {{}}
                k:{{"name":"queue"}}:
                  .: {{}}
                  f:emptyDir:
                    f:sizeLimit: {{}}
                  f:name: {{}}
    - manager: kube-controller-manager
      operation: Update
      apiVersion: apps/v1
      time: "2026-11-30T08:12:52Z"
      fieldsType: FieldsV1
      fieldsV1:
        f:metadata:
          f:annotations:
            .: {{}}
            f:deployment.kubernetes.io/revision: {{}}
    - manager: kube-controller-manager
      operation: Update
      apiVersion: apps/v1
      time: "2026-11-30T08:12:52Z"
      fieldsType: FieldsV1
      subresource: status
      fieldsV1:
        f:status:
          f:availableReplicas: {{}}
          f:replicas: {{}}
spec:
  progressDeadlineSeconds: 600
  replicas: 1
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: telemetry-collector
  strategy:
    type: Recreate
  template:
    metadata:
      creationTimestamp: null
      labels:
        app.kubernetes.io/name: telemetry-collector
    spec:
      containers:
        - args:
            - --config=/etc/otelcol/collector.yaml
          image: {IMAGE}
          imagePullPolicy: IfNotPresent
          livenessProbe:
            failureThreshold: 3
            httpGet:
              path: /
              port: 13133
              scheme: HTTP
            periodSeconds: 10
            successThreshold: 1
            timeoutSeconds: 1
          name: collector
          ports:
            - containerPort: 4317
              name: otlp-grpc
              protocol: TCP
            - containerPort: 4318
              name: otlp-http
              protocol: TCP
          readinessProbe:
            failureThreshold: 3
            httpGet:
              path: /
              port: 13133
              scheme: HTTP
            initialDelaySeconds: 5
            periodSeconds: 10
            successThreshold: 1
            timeoutSeconds: 1
          resources:
            limits:
              cpu: "1"
              memory: 1536Mi
            requests:
              cpu: 500m
              memory: 1Gi
          terminationMessagePath: /dev/termination-log
          terminationMessagePolicy: File
          volumeMounts:
            - mountPath: /etc/otelcol
              name: config
            - mountPath: /var/lib/otelcol/queue
              name: queue
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {{}}
      serviceAccount: telemetry-collector
      serviceAccountName: telemetry-collector
      terminationGracePeriodSeconds: 30
      volumes:
        - configMap:
            defaultMode: 420
            name: telemetry-collector
          name: config
        - emptyDir:
            sizeLimit: 512Mi
          name: queue
status:
  availableReplicas: 1
  observedGeneration: 1
  readyReplicas: 1
  replicas: 1
  updatedReplicas: 1
  conditions:
    - type: Available
      status: "True"
      reason: MinimumReplicasAvailable
"#
    ))
}

fn without_managed_fields(mut live: Value) -> Value {
    live["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("managedFields");
    live
}

/// Appends a `managedFields` entry.
fn managed_by(live: &mut Value, manager: &str, subresource: Option<&str>, fields: Value) {
    let mut entry = json!({
        "manager": manager,
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": "2026-12-01T02:03:04Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    });
    if let Some(s) = subresource {
        entry["subresource"] = json!(s);
    }
    live["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(entry);
}

fn drifted(verdict: Verdict) -> String {
    match verdict {
        Verdict::Drifted(diff) => diff,
        Verdict::InSync => panic!("expected drift, found the objects in sync"),
    }
}

fn rules() -> DriftRules {
    DriftRules::default()
}

fn container(v: &mut Value) -> &mut Value {
    &mut v["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn what_the_api_server_returns_for_git_is_in_sync() {
    assert_eq!(
        rules().compare(&desired_deployment(), &live_deployment()),
        Verdict::InSync
    );
}

#[test]
fn without_managed_fields_the_defaults_alone_keep_it_in_sync() {
    let live = without_managed_fields(live_deployment());
    assert_eq!(
        rules().compare(&desired_deployment(), &live),
        Verdict::InSync
    );
}

#[test]
fn a_changed_image_is_drift_and_the_diff_names_the_field() {
    let mut live = live_deployment();
    container(&mut live)["image"] =
        json!("registry.example.com/otel/opentelemetry-collector-contrib:0.140.0");
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("--- git\n+++ live\n"), "{diff}");
    assert!(
        diff.contains(&format!("-      - image: {IMAGE}"))
            || diff.contains(&format!("-        image: {IMAGE}")),
        "{diff}"
    );
    assert!(diff.contains("collector-contrib:0.140.0"), "{diff}");
    assert_eq!(
        diff.lines()
            .filter(|l| l.starts_with(['-', '+']) && !l.starts_with("---") && !l.starts_with("+++"))
            .count(),
        2,
        "only the image line differs:\n{diff}"
    );
}

#[test]
fn replicas_scaled_by_hand_are_drift_and_name_kubectl() {
    let mut live = live_deployment();
    live["spec"]["replicas"] = json!(3);
    // `kubectl scale` writes through the scale subresource as manager `kubectl`.
    managed_by(
        &mut live,
        "kubectl",
        Some("scale"),
        json!({"f:spec": {"f:replicas": {}}}),
    );
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("+++ live (set by kubectl)"), "{diff}");
    assert!(diff.contains("-  replicas: 1\n+  replicas: 3\n"), "{diff}");
}

#[test]
fn replicas_scaled_by_hand_are_drift_when_git_leaves_them_out() {
    let mut desired = desired_deployment();
    desired["spec"].as_object_mut().unwrap().remove("replicas");
    let mut live = live_deployment();
    live["spec"]["replicas"] = json!(3);
    managed_by(
        &mut live,
        "kubectl",
        Some("scale"),
        json!({"f:spec": {"f:replicas": {}}}),
    );
    let diff = drifted(rules().compare(&desired, &live));
    assert!(diff.contains("+  replicas: 3"), "{diff}");
    // Without managedFields the value still is not the default.
    let diff = drifted(rules().compare(&desired, &without_managed_fields(live)));
    assert!(diff.contains("+  replicas: 3"), "{diff}");
}

#[test]
fn an_env_var_added_by_hand_to_a_container_without_env_is_found() {
    let mut live = live_deployment();
    container(&mut live)["env"] = json!([{"name": "LOG_LEVEL", "value": "debug"}]);
    managed_by(
        &mut live,
        "kubectl-set",
        None,
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"collector\"}": {"f:env": {
                ".": {},
                "k:{\"name\":\"LOG_LEVEL\"}": {".": {}, "f:name": {}, "f:value": {}}
            }}
        }}}}}),
    );
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("set by kubectl-set"), "{diff}");
    assert!(diff.contains("+        env:"), "{diff}");
    assert!(diff.contains("+          value: debug"), "{diff}");
    // A snapshot without managedFields: still found.
    let diff = drifted(rules().compare(&desired_deployment(), &without_managed_fields(live)));
    assert!(diff.contains("+          value: debug"), "{diff}");
}

#[test]
fn fields_a_controller_or_the_applier_owns_are_not_drift() {
    let mut live = live_deployment();
    container(&mut live)["env"] = json!([{"name": "GOMAXPROCS", "value": "2"}]);
    managed_by(
        &mut live,
        "vpa-updater",
        None,
        json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"collector\"}": {"f:env": {".": {},
                "k:{\"name\":\"GOMAXPROCS\"}": {".": {}, "f:name": {}, "f:value": {}}}}
        }}}}}),
    );
    assert_eq!(
        rules().compare(&desired_deployment(), &live),
        Verdict::InSync
    );
    // The team's own operator, declared in `[drift] controller_managers`.
    let mut live = live_deployment();
    live["metadata"]["annotations"]["example.com/scraped"] = json!("true");
    managed_by(
        &mut live,
        "scrape-operator",
        None,
        json!({"f:metadata": {"f:annotations": {"f:example.com/scraped": {}}}}),
    );
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("set by scrape-operator"), "{diff}");
    let config = DriftConfig {
        controller_managers: vec!["scrape-operator".to_owned()],
        ..DriftConfig::default()
    };
    assert_eq!(
        DriftRules::new(&config)
            .unwrap()
            .compare(&desired_deployment(), &live),
        Verdict::InSync
    );
}

#[test]
fn a_non_default_value_nobody_explains_is_drift() {
    let mut live = without_managed_fields(live_deployment());
    // Pinned by digest: the default pull policy is IfNotPresent.
    container(&mut live)["imagePullPolicy"] = json!("Always");
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("+        imagePullPolicy: Always"), "{diff}");
}

#[test]
fn quantities_compare_by_value() {
    let mut desired = desired_deployment();
    let resources = &mut container(&mut desired)["resources"];
    resources["requests"] = json!({"cpu": "500m", "memory": "1024Mi"});
    resources["limits"] = json!({"cpu": "1000m", "memory": "1.5Gi"});
    assert_eq!(
        rules().compare(&desired, &live_deployment()),
        Verdict::InSync
    );
    let mut live = live_deployment();
    container(&mut live)["resources"]["limits"]["memory"] = json!("2Gi");
    let diff = drifted(rules().compare(&desired, &live));
    assert!(diff.contains("+            memory: 2Gi"), "{diff}");
    // Not in a quantity field: text is text.
    let d = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {limit: 1000m}\n");
    let l = yaml("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {limit: \"1\"}\n");
    drifted(rules().compare(&d, &l));
}

#[test]
fn a_request_copied_from_its_limit_is_a_default() {
    let mut desired = desired_deployment();
    container(&mut desired)["resources"]
        .as_object_mut()
        .unwrap()
        .remove("requests");
    let mut live = without_managed_fields(live_deployment());
    container(&mut live)["resources"]["requests"] = json!({"cpu": "1", "memory": "1536Mi"});
    assert_eq!(rules().compare(&desired, &live), Verdict::InSync);
    container(&mut live)["resources"]["requests"]["cpu"] = json!("250m");
    drifted(rules().compare(&desired, &live));
}

#[test]
fn list_elements_match_by_their_keys_not_their_position() {
    let mut live = live_deployment();
    let c = container(&mut live);
    c["ports"].as_array_mut().unwrap().reverse();
    c["volumeMounts"].as_array_mut().unwrap().reverse();
    live["spec"]["template"]["spec"]["volumes"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert_eq!(
        rules().compare(&desired_deployment(), &live),
        Verdict::InSync
    );
    // A port's protocol is part of its key: UDP 4317 is another port.
    let mut live = live_deployment();
    container(&mut live)["ports"][0]["protocol"] = json!("UDP");
    drifted(rules().compare(&desired_deployment(), &live));
}

#[test]
fn atomic_lists_compare_whole() {
    let mut live = live_deployment();
    container(&mut live)["args"] =
        json!(["--config=/etc/otelcol/collector.yaml", "--feature-gates=-x"]);
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("+        - --feature-gates=-x"), "{diff}");
}

fn desired_service() -> Value {
    yaml(
        r#"
apiVersion: v1
kind: Service
metadata: {name: telemetry-collector, namespace: edge-telemetry}
spec:
  selector: {app.kubernetes.io/name: telemetry-collector}
  ports:
    - {name: otlp-grpc, port: 4317, targetPort: otlp-grpc}
    - {name: metrics, port: 8888}
"#,
    )
}

fn live_service() -> Value {
    yaml(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: telemetry-collector
  namespace: edge-telemetry
  uid: 1d7e0c3a-1111-4b2c-8d9e-0f1a2b3c4d5e
  resourceVersion: "4242"
  creationTimestamp: "2026-11-30T08:12:40Z"
spec:
  clusterIP: 10.43.12.7
  clusterIPs: [10.43.12.7]
  internalTrafficPolicy: Cluster
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  ports:
    - {name: otlp-grpc, port: 4317, protocol: TCP, targetPort: otlp-grpc}
    - {name: metrics, port: 8888, protocol: TCP, targetPort: 8888}
  selector: {app.kubernetes.io/name: telemetry-collector}
  sessionAffinity: None
  type: ClusterIP
status:
  loadBalancer: {}
"#,
    )
}

#[test]
fn service_defaults_are_not_drift() {
    assert_eq!(
        rules().compare(&desired_service(), &live_service()),
        Verdict::InSync
    );
    let mut live = live_service();
    live["spec"]["ports"][1]["targetPort"] = json!(9999);
    let diff = drifted(rules().compare(&desired_service(), &live));
    assert!(diff.contains("targetPort: 9999"), "{diff}");
    let mut live = live_service();
    live["spec"]["sessionAffinity"] = json!("ClientIP");
    drifted(rules().compare(&desired_service(), &live));
}

#[test]
fn int_or_string_ports_compare_by_value() {
    let mut desired = desired_service();
    desired["spec"]["ports"][1]["targetPort"] = json!("8888");
    assert_eq!(rules().compare(&desired, &live_service()), Verdict::InSync);
}

/// Each default of the table, on the object it belongs to: present live, absent from Git, not
/// drift; a different value is.
#[test]
fn each_default_is_not_drift_and_another_value_is() {
    let cases: &[(&str, &str, &str, Value)] = &[
        (
            "apps/v1",
            "Deployment",
            "/spec/progressDeadlineSeconds",
            json!(600),
        ),
        (
            "apps/v1",
            "Deployment",
            "/spec/revisionHistoryLimit",
            json!(10),
        ),
        (
            "apps/v1",
            "Deployment",
            "/spec/strategy",
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
        ),
        (
            "apps/v1",
            "StatefulSet",
            "/spec/podManagementPolicy",
            json!("OrderedReady"),
        ),
        (
            "apps/v1",
            "StatefulSet",
            "/spec/updateStrategy",
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}),
        ),
        (
            "apps/v1",
            "StatefulSet",
            "/spec/persistentVolumeClaimRetentionPolicy",
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"}),
        ),
        (
            "apps/v1",
            "DaemonSet",
            "/spec/updateStrategy",
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}),
        ),
        ("batch/v1", "Job", "/spec/backoffLimit", json!(6)),
        (
            "batch/v1",
            "Job",
            "/spec/completionMode",
            json!("NonIndexed"),
        ),
        (
            "batch/v1",
            "CronJob",
            "/spec/concurrencyPolicy",
            json!("Allow"),
        ),
        (
            "batch/v1",
            "CronJob",
            "/spec/successfulJobsHistoryLimit",
            json!(3),
        ),
        ("v1", "Service", "/spec/sessionAffinity", json!("None")),
        (
            "v1",
            "Service",
            "/spec/ipFamilyPolicy",
            json!("SingleStack"),
        ),
        (
            "v1",
            "Service",
            "/spec/internalTrafficPolicy",
            json!("Cluster"),
        ),
        ("v1", "Secret", "/type", json!("Opaque")),
        (
            "v1",
            "PersistentVolumeClaim",
            "/spec/volumeMode",
            json!("Filesystem"),
        ),
    ];
    for (api_version, kind, pointer, value) in cases {
        let desired = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x", "namespace": "n"}, "spec": {"selector": {}}});
        let mut live = desired.clone();
        set(&mut live, pointer, value.clone());
        assert_eq!(
            rules().compare(&desired, &live),
            Verdict::InSync,
            "{kind} {pointer}: {value}"
        );
        let mut other = desired.clone();
        set(&mut other, pointer, json!("something-else"));
        assert!(
            matches!(rules().compare(&desired, &other), Verdict::Drifted(_)),
            "{kind} {pointer}: another value is drift"
        );
    }

    // Pod template and container defaults, with their values.
    let pod: &[(&str, Value)] = &[
        ("/dnsPolicy", json!("ClusterFirst")),
        ("/restartPolicy", json!("Always")),
        ("/schedulerName", json!("default-scheduler")),
        ("/securityContext", json!({})),
        ("/terminationGracePeriodSeconds", json!(30)),
        (
            "/containers/0/terminationMessagePath",
            json!("/dev/termination-log"),
        ),
        ("/containers/0/terminationMessagePolicy", json!("File")),
        ("/containers/0/imagePullPolicy", json!("IfNotPresent")),
        ("/containers/0/livenessProbe/timeoutSeconds", json!(1)),
        ("/containers/0/livenessProbe/periodSeconds", json!(10)),
        ("/containers/0/livenessProbe/successThreshold", json!(1)),
        ("/containers/0/livenessProbe/failureThreshold", json!(3)),
        ("/containers/0/livenessProbe/httpGet/scheme", json!("HTTP")),
        ("/containers/0/ports/0/protocol", json!("TCP")),
        (
            "/containers/0/env/0/valueFrom/fieldRef/apiVersion",
            json!("v1"),
        ),
        ("/volumes/0/secret/defaultMode", json!(420)),
    ];
    for (pointer, value) in pod {
        let desired = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"},
            "spec": {"template": {"spec": {
                "containers": [{"name": "app", "image": "registry.example.com/app:1.2",
                    "livenessProbe": {"httpGet": {"port": 8080}},
                    "ports": [{"containerPort": 8080}],
                    "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]}],
                "volumes": [{"name": "tls", "secret": {"secretName": "tls"}}]}}}});
        let mut live = desired.clone();
        set(
            &mut live,
            &format!("/spec/template/spec{pointer}"),
            value.clone(),
        );
        assert_eq!(
            rules().compare(&desired, &live),
            Verdict::InSync,
            "{pointer}: {value}"
        );
        set(
            &mut live,
            &format!("/spec/template/spec{pointer}"),
            json!(12345),
        );
        assert!(
            matches!(rules().compare(&desired, &live), Verdict::Drifted(_)),
            "{pointer}: another value is drift"
        );
    }
}

/// Sets a field by JSON pointer, creating maps on the way.
fn set(object: &mut Value, pointer: &str, value: Value) {
    let tokens: Vec<String> = kube_basics::pointer::tokens(pointer).collect();
    let mut node = object;
    for (i, t) in tokens.iter().enumerate() {
        let last = i + 1 == tokens.len();
        node = match node {
            Value::Array(a) => &mut a[t.parse::<usize>().unwrap()],
            _ => {
                let m = node.as_object_mut().unwrap();
                if last {
                    m.insert(t.clone(), value);
                    return;
                }
                m.entry(t.clone()).or_insert_with(|| json!({}))
            }
        };
        if last {
            *node = value;
            return;
        }
    }
}

#[test]
fn ignore_differences_hide_pointers_and_managers() {
    let mut live = live_deployment();
    live["spec"]["replicas"] = json!(4);
    // An autoscaler scaling through kube-controller-manager.
    managed_by(
        &mut live,
        "kube-controller-manager",
        Some("scale"),
        json!({"f:spec": {"f:replicas": {}}}),
    );
    drifted(rules().compare(&desired_deployment(), &live));
    let rule = |pointers: &[&str], managers: &[&str], name: Option<&str>| DriftConfig {
        ignore_differences: vec![IgnoreDifferences {
            group: Some("apps".to_owned()),
            kind: "Deployment".to_owned(),
            name: name.map(str::to_owned),
            namespace: None,
            json_pointers: pointers.iter().map(|s| (*s).to_owned()).collect(),
            managed_fields_managers: managers.iter().map(|s| (*s).to_owned()).collect(),
        }],
        ..DriftConfig::default()
    };
    let by_pointer = DriftRules::new(&rule(&["/spec/replicas"], &[], None)).unwrap();
    assert_eq!(
        by_pointer.compare(&desired_deployment(), &live),
        Verdict::InSync
    );
    let by_manager = DriftRules::new(&rule(&[], &["kube-controller-manager"], None)).unwrap();
    assert_eq!(
        by_manager.compare(&desired_deployment(), &live),
        Verdict::InSync
    );
    let other_object = DriftRules::new(&rule(&["/spec/replicas"], &[], Some("other"))).unwrap();
    drifted(other_object.compare(&desired_deployment(), &live));
    // Only that field: an image change is still found.
    container(&mut live)["image"] = json!("registry.example.com/x:2");
    drifted(by_pointer.compare(&desired_deployment(), &live));
    assert!(DriftRules::new(&rule(&["spec/replicas"], &[], None)).is_err());
}

fn site(objects: Vec<Value>) -> DesiredSite {
    DesiredSite {
        id: "rig-nsea-042".to_owned(),
        region: "eu-north".to_owned(),
        wave: "canary".to_owned(),
        site_json: "out/sites/eu-north/rig-nsea-042/site.json".into(),
        objects: objects
            .into_iter()
            .map(|v| DesiredObject {
                key: ObjectKey::of(&v).unwrap(),
                value: v,
                source: "out/sites/eu-north/rig-nsea-042/telemetry-collector/kustomization.yaml"
                    .into(),
            })
            .collect(),
    }
}

#[test]
fn owned_objects_are_never_extra_and_unowned_labelled_ones_are() {
    let desired = site(vec![desired_deployment(), desired_service()]);
    let mut live = LiveSite::default();
    live.objects.insert(
        ObjectKey::of(&desired_deployment()).unwrap(),
        Some(live_deployment()),
    );
    live.objects.insert(
        ObjectKey::of(&desired_service()).unwrap(),
        Some(live_service()),
    );
    let labels = json!({"app.kubernetes.io/name": "telemetry-collector", "edgefleet.io/site": "rig-nsea-042", "pod-template-hash": "7d9c8b6f5"});
    let owner = |kind: &str, name: &str| json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": "6c1f0a52-7d0e-4d6a-9b0f-2a8e1f3c4d5e", "controller": true, "blockOwnerDeletion": true}]);
    live.labelled = vec![
        live_deployment(),
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "telemetry-collector-7d9c8b6f5", "namespace": "edge-telemetry", "labels": labels, "ownerReferences": owner("Deployment", "telemetry-collector")}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "telemetry-collector-7d9c8b6f5-x2x9q", "namespace": "edge-telemetry", "labels": labels, "ownerReferences": owner("ReplicaSet", "telemetry-collector-7d9c8b6f5")}}),
        json!({"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "telemetry-collector", "namespace": "edge-telemetry", "labels": labels}}),
    ];
    let report = compare_site(&desired, Ok(live.clone()), &rules());
    assert_eq!(report.status, SiteStatus::InSync, "{report:?}");
    assert!(
        report
            .objects
            .iter()
            .all(|o| o.status == ObjectStatus::InSync)
    );

    live.labelled.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old-config", "namespace": "edge-telemetry", "labels": labels}}));
    live.objects
        .insert(ObjectKey::of(&desired_service()).unwrap(), None);
    let report = compare_site(&desired, Ok(live), &rules());
    assert_eq!(report.status, SiteStatus::Drifted);
    let statuses: Vec<(String, ObjectStatus)> = report
        .objects
        .iter()
        .map(|o| (o.key.to_string(), o.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            (
                "apps/v1 Deployment edge-telemetry/telemetry-collector".to_owned(),
                ObjectStatus::InSync
            ),
            (
                "v1 ConfigMap edge-telemetry/old-config".to_owned(),
                ObjectStatus::Extra
            ),
            (
                "v1 Service edge-telemetry/telemetry-collector".to_owned(),
                ObjectStatus::Missing
            ),
        ]
    );
}

#[test]
fn a_site_that_cannot_be_read_says_why() {
    let desired = site(vec![desired_service()]);
    let report = compare_site(
        &desired,
        Err(crate::SiteFailure::Unauthorized("403 Forbidden".to_owned())),
        &rules(),
    );
    assert_eq!(report.status, SiteStatus::Unauthorized);
    assert_eq!(report.error.as_deref(), Some("403 Forbidden"));
    assert!(report.objects.is_empty());
}

/// A source whose sites answer after a delay, or never within the run.
struct SlowSource;

impl crate::LiveSource for SlowSource {
    fn read_site(&self, site: &str, desired: &[ObjectKey]) -> Result<LiveSite, crate::SiteFailure> {
        if site == "silent" {
            std::thread::sleep(std::time::Duration::from_secs(30));
        }
        if site == "forbidden" {
            return Err(crate::SiteFailure::Unauthorized(
                "403 Forbidden: serviceaccount cannot list".to_owned(),
            ));
        }
        let mut live = LiveSite::default();
        for k in desired {
            live.objects.insert(k.clone(), Some(live_service()));
        }
        Ok(live)
    }
}

#[test]
fn a_silent_site_costs_its_timeout_and_never_stops_the_others() {
    let sites: Vec<DesiredSite> = ["a-ok", "forbidden", "silent", "z-ok"]
        .iter()
        .map(|id| DesiredSite {
            id: (*id).to_owned(),
            ..site(vec![desired_service()])
        })
        .collect();
    for jobs in [1, 4] {
        let started = std::time::Instant::now();
        let report = crate::check_fleet(
            &sites,
            std::sync::Arc::new(SlowSource),
            &rules(),
            &crate::RunOptions {
                jobs,
                timeout: std::time::Duration::from_millis(300),
                progress: None,
            },
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(10),
            "the silent site was waited for: {elapsed:?}"
        );
        let got: Vec<(&str, SiteStatus)> = report
            .sites
            .iter()
            .map(|s| (s.site.as_str(), s.status))
            .collect();
        assert_eq!(
            got,
            [
                ("a-ok", SiteStatus::InSync),
                ("forbidden", SiteStatus::Unauthorized),
                ("silent", SiteStatus::Unreachable),
                ("z-ok", SiteStatus::InSync),
            ]
        );
        assert_eq!(
            report.sites[2].error.as_deref(),
            Some("no answer within 0.3 s (--timeout)")
        );
        assert_eq!(report.exit_code(), crate::report::exit::UNREACHABLE);
    }
}

#[test]
fn a_hand_kubectl_apply_is_drift_unless_it_is_the_teams_gitops_flow() {
    let mut live = live_deployment();
    live["metadata"]["labels"]["tier"] = json!("debug");
    managed_by(
        &mut live,
        "kubectl-client-side-apply",
        None,
        json!({"f:metadata": {"f:labels": {"f:tier": {}}}}),
    );
    let diff = drifted(rules().compare(&desired_deployment(), &live));
    assert!(diff.contains("set by kubectl-client-side-apply"), "{diff}");
    assert!(diff.contains("+    tier: debug"), "{diff}");
    let config = DriftConfig {
        gitops_managers: vec!["kubectl-client-side-apply".to_owned()],
        ..DriftConfig::default()
    };
    assert_eq!(
        DriftRules::new(&config)
            .unwrap()
            .compare(&desired_deployment(), &live),
        Verdict::InSync
    );
}
