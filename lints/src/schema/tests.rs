use super::*;
use serde_json::json;

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "telemetry-agent", "namespace": "edge", "labels": {"app": "telemetry-agent"}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "telemetry-agent"}},
            "template": {
                "metadata": {"labels": {"app": "telemetry-agent"}},
                "spec": {
                    "containers": [{
                        "name": "agent",
                        "image": "registry.example.com/edge/telemetry-agent@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                        "imagePullPolicy": "IfNotPresent",
                        "ports": [{"containerPort": 4317, "protocol": "TCP"}],
                        "resources": {
                            "requests": {"cpu": "100m", "memory": "128Mi"},
                            "limits": {"cpu": 1, "memory": "256Mi"}
                        },
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
                        "livenessProbe": {"tcpSocket": {"port": 4317}, "periodSeconds": 10}
                    }]
                }
            }
        }
    })
}

fn application_set() -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": {"name": "telemetry-agent-eu-north", "namespace": "argocd"},
        "spec": {
            "goTemplate": true,
            "goTemplateOptions": ["missingkey=error"],
            "generators": [{
                "git": {
                    "repoURL": "https://git.example.com/fleet.git",
                    "revision": "main",
                    "files": [{"path": "sites/eu-north/*/site.json"}]
                }
            }],
            "strategy": {
                "type": "RollingSync",
                "rollingSync": {"steps": [
                    {"matchExpressions": [{"key": "wave", "operator": "In", "values": ["canary"]}]},
                    {"matchExpressions": [{"key": "wave", "operator": "In", "values": ["main"]}], "maxUpdate": "25%"},
                    {"matchExpressions": [{"key": "wave", "operator": "In", "values": ["offline"]}], "maxUpdate": 10}
                ]}
            },
            "syncPolicy": {"preserveResourcesOnDeletion": true, "applicationsSync": "create-update"},
            "template": {
                "metadata": {
                    "name": "telemetry-agent-{{.site}}",
                    "labels": {"wave": "{{.wave}}", "edgefleet.io/site": "{{.site}}"},
                    "annotations": {"argocd.argoproj.io/manifest-generate-paths": "."}
                },
                "spec": {
                    "project": "edge",
                    "source": {
                        "repoURL": "https://git.example.com/fleet.git",
                        "targetRevision": "main",
                        "path": "sites/eu-north/{{.site}}/telemetry-agent"
                    },
                    "destination": {"name": "{{.cluster}}", "namespace": "edge"},
                    "syncPolicy": {
                        "automated": {"prune": true, "selfHeal": true},
                        "retry": {"limit": 10, "backoff": {"duration": "30s", "factor": 2, "maxDuration": "1h"}}
                    }
                }
            }
        }
    })
}

fn application() -> Value {
    json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "telemetry-agent-rig-nsea-042", "namespace": "argocd", "labels": {"wave": "canary"}},
        "spec": {
            "project": "edge",
            "source": {
                "repoURL": "https://git.example.com/fleet.git",
                "targetRevision": "main",
                "path": "sites/eu-north/rig-nsea-042/telemetry-agent"
            },
            "destination": {"server": "https://10.0.0.1:6443", "namespace": "edge"},
            "syncPolicy": {"automated": {"prune": true}, "syncOptions": ["CreateNamespace=true"]}
        }
    })
}

fn only_violation(result: Result<(), Vec<SchemaViolation>>) -> SchemaViolation {
    let violations = result.expect_err("expected a schema violation");
    assert_eq!(violations.len(), 1, "{violations:#?}");
    violations.into_iter().next().unwrap()
}

#[test]
fn valid_deployment_passes() {
    assert_eq!(validate_kubernetes(&deployment()), Ok(()));
    assert_eq!(validate(&deployment()), Ok(()));
}

#[test]
fn unknown_container_field_points_at_the_container() {
    let mut obj = deployment();
    obj["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    let v = only_violation(validate_kubernetes(&obj));
    assert_eq!(v.kind, ViolationKind::Invalid);
    assert_eq!(v.instance_path, "/spec/template/spec/containers/0");
    assert!(v.message.contains("imagePullPolicyy"), "{v}");
    assert_eq!(
        v.to_string(),
        format!("/spec/template/spec/containers/0: {}", v.message)
    );
}

#[test]
fn wrong_type_is_reported_where_it_is() {
    let mut obj = deployment();
    obj["spec"]["replicas"] = json!("three");
    let v = only_violation(validate_kubernetes(&obj));
    assert_eq!(v.instance_path, "/spec/replicas");
    assert!(v.message.contains("integer"), "{v}");

    let mut obj = deployment();
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(true);
    let v = only_violation(validate_kubernetes(&obj));
    assert_eq!(
        v.instance_path,
        "/spec/template/spec/containers/0/ports/0/containerPort"
    );
}

#[test]
fn missing_required_field_fails() {
    let mut obj = deployment();
    obj["spec"]["template"]["spec"]["containers"][0]
        .as_object_mut()
        .unwrap()
        .remove("name");
    let v = only_violation(validate_kubernetes(&obj));
    assert_eq!(v.instance_path, "/spec/template/spec/containers/0");
    assert!(v.message.contains("name"), "{v}");
}

#[test]
fn unknown_kind_is_a_distinct_clear_error() {
    let obj = json!({"apiVersion": "v1", "kind": "Deploymnet", "metadata": {"name": "x"}});
    let v = only_violation(validate_kubernetes(&obj));
    assert!(v.is_unknown_kind());
    assert!(
        v.message.contains("Deploymnet") && v.message.contains("`v1`"),
        "{v}"
    );

    // Same file name, wrong capitalisation or group: still unknown, not "invalid".
    for (api_version, kind) in [
        ("apps/v1", "deployment"),
        ("apps.example.com/v1", "Deployment"),
        ("apps/v1beta1", "Deployment"),
        ("v1", "Container"),
        ("cert-manager.io/v1", "Certificate"),
        ("../../etc/v1", "Passwd"),
    ] {
        let obj = json!({"apiVersion": api_version, "kind": kind});
        let v = only_violation(validate(&obj));
        assert_eq!(
            v.kind,
            ViolationKind::UnknownKind,
            "{api_version} {kind}: {v}"
        );
        assert!(!has_schema(api_version, kind));
    }
    let v = only_violation(validate(
        &json!({"apiVersion": "cert-manager.io/v1", "kind": "Certificate"}),
    ));
    assert!(v.message.contains("custom resource"), "{v}");

    let v = only_validation_of(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout"}));
    assert!(v.is_unknown_kind(), "{v}");
}

fn only_validation_of(obj: Value) -> SchemaViolation {
    only_violation(validate(&obj))
}

#[test]
fn missing_type_information_is_reported() {
    let v = only_validation_of(json!({"kind": "ConfigMap"}));
    assert_eq!(v.kind, ViolationKind::MissingTypeInfo);
    assert!(v.message.contains("apiVersion"), "{v}");
    let v = only_validation_of(json!({"apiVersion": "v1", "kind": 3}));
    assert_eq!(v.kind, ViolationKind::MissingTypeInfo);
    assert_eq!(v.instance_path, "/kind");
    assert_eq!(
        only_validation_of(json!(["not", "an", "object"])).kind,
        ViolationKind::MissingTypeInfo
    );
}

#[test]
fn every_builtin_kind_the_fleet_uses_has_a_schema() {
    let kinds = [
        ("apps/v1", "Deployment"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "StatefulSet"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "ServiceAccount"),
        ("v1", "Namespace"),
        ("v1", "PersistentVolumeClaim"),
        ("v1", "LimitRange"),
        ("v1", "ResourceQuota"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("networking.k8s.io/v1", "NetworkPolicy"),
        ("networking.k8s.io/v1", "Ingress"),
        ("policy/v1", "PodDisruptionBudget"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ("autoscaling/v1", "HorizontalPodAutoscaler"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("storage.k8s.io/v1", "StorageClass"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        (
            "admissionregistration.k8s.io/v1",
            "ValidatingWebhookConfiguration",
        ),
        ("internal.apiserver.k8s.io/v1alpha1", "StorageVersion"),
        ("argoproj.io/v1alpha1", "Application"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("argoproj.io/v1alpha1", "AppProject"),
    ];
    for (api_version, kind) in kinds {
        assert!(has_schema(api_version, kind), "{api_version} {kind}");
        // A bare object of the kind compiles and validates (nothing is required at the root).
        let obj = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}});
        let result = validate(&obj);
        if let Err(violations) = &result {
            assert!(
                violations.iter().all(|v| v.kind == ViolationKind::Invalid),
                "{api_version} {kind}: {violations:?}"
            );
        }
    }
}

#[test]
fn other_builtin_kinds_validate() {
    let objects = [
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}}),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
               "spec": {"selector": {"app": "a"}, "ports": [{"port": 80, "targetPort": "http"}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "n"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"port": 443}]}]}}),
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "p"},
               "spec": {"maxUnavailable": "50%", "selector": {"matchLabels": {"app": "a"}}}}),
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "j"},
               "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
    ];
    for obj in objects {
        assert_eq!(validate(&obj), Ok(()), "{obj}");
    }
    let bad = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": 1}});
    assert_eq!(only_validation_of(bad).instance_path, "/data/a");
}

#[test]
fn valid_application_set_passes() {
    assert_eq!(validate_argocd(&application_set()), Ok(()));
    assert_eq!(validate(&application_set()), Ok(()));
}

#[test]
fn misspelt_application_set_field_fails() {
    let mut obj = application_set();
    let spec = obj["spec"].as_object_mut().unwrap();
    let options = spec.remove("goTemplateOptions").unwrap();
    spec.insert("goTemplateOption".into(), options);
    let v = only_violation(validate_argocd(&obj));
    assert_eq!(v.kind, ViolationKind::Invalid);
    assert_eq!(v.instance_path, "/spec");
    assert!(v.message.contains("goTemplateOption"), "{v}");

    // Deeper: a misspelt step field inside the RollingSync strategy.
    let mut obj = application_set();
    obj["spec"]["strategy"]["rollingSync"]["steps"][1]["maxUpdates"] = json!(1);
    let v = only_violation(validate_argocd(&obj));
    assert_eq!(v.instance_path, "/spec/strategy/rollingSync/steps/1");
}

#[test]
fn application_set_types_and_required_fields() {
    let mut obj = application_set();
    obj["spec"]["goTemplate"] = json!("true");
    assert_eq!(
        only_violation(validate_argocd(&obj)).instance_path,
        "/spec/goTemplate"
    );

    let mut obj = application_set();
    obj["spec"]["strategy"]["rollingSync"]["steps"][0]["maxUpdate"] = json!(1.5);
    assert!(validate_argocd(&obj).is_err());

    let mut obj = application_set();
    obj["spec"].as_object_mut().unwrap().remove("template");
    let v = only_violation(validate_argocd(&obj));
    assert_eq!(v.instance_path, "/spec");
    assert!(v.message.contains("template"), "{v}");

    // templatePatch is a string when present.
    let mut obj = application_set();
    obj["spec"]["templatePatch"] = json!("spec:\n  project: other\n");
    assert_eq!(validate_argocd(&obj), Ok(()));

    // ObjectMeta is checked strictly at the root (the API server does).
    let mut obj = application_set();
    obj["metadata"]["labelz"] = json!({"a": "b"});
    assert_eq!(
        only_violation(validate_argocd(&obj)).instance_path,
        "/metadata"
    );

    // Wrong apiVersion for an Argo CD kind.
    let mut obj = application_set();
    obj["apiVersion"] = json!("argoproj.io/v1beta1");
    assert!(only_violation(validate(&obj)).is_unknown_kind());
}

#[test]
fn valid_application_passes_and_typos_fail() {
    assert_eq!(validate_argocd(&application()), Ok(()));
    let mut obj = application();
    obj["spec"]["source"]["targetRevison"] = json!("main");
    assert_eq!(
        only_violation(validate_argocd(&obj)).instance_path,
        "/spec/source"
    );
    // Helm values are free-form (preserve-unknown-fields) but valuesObject is an object.
    let mut obj = application();
    obj["spec"]["source"]["helm"] = json!({"valuesObject": {"anything": {"goes": [1, 2]}}});
    assert_eq!(validate_argocd(&obj), Ok(()));
}

#[test]
fn valid_app_project_passes() {
    let obj = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "edge", "namespace": "argocd"},
        "spec": {
            "sourceRepos": ["https://git.example.com/fleet.git"],
            "destinations": [{"server": "*", "namespace": "edge"}],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}]
        }
    });
    assert_eq!(validate(&obj), Ok(()));
}

#[test]
fn crd_conversion_follows_api_server_semantics() {
    let schema = json!({
        "type": "object",
        "properties": {
            "count": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
            "maybe": {"type": "string", "nullable": true, "enum": ["a", "b"]},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
            "list": {"type": "array", "x-kubernetes-list-type": "atomic", "items": {"type": "object", "properties": {"a": {"type": "string"}}}}
        }
    });
    let converted = convert_openapi(&schema, true, "").unwrap();
    assert_eq!(converted["additionalProperties"], json!(false));
    assert_eq!(
        converted["properties"]["count"],
        json!({"type": ["integer", "string"]})
    );
    assert_eq!(
        converted["properties"]["maybe"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        converted["properties"]["maybe"]["enum"],
        json!(["a", "b", null])
    );
    assert!(
        converted["properties"]["free"]
            .get("additionalProperties")
            .is_none()
    );
    assert_eq!(
        converted["properties"]["labels"]["additionalProperties"],
        json!({"type": "string"})
    );
    assert_eq!(
        converted["properties"]["ratio"]["exclusiveMinimum"],
        json!(0)
    );
    assert!(converted["properties"]["ratio"].get("minimum").is_none());
    assert_eq!(
        converted["properties"]["list"]["items"]["additionalProperties"],
        json!(false)
    );

    let err = convert_openapi(&json!({"type": "string", "x-new-thing": 1}), true, "").unwrap_err();
    assert!(err.contains("x-new-thing"), "{err}");
}

#[test]
fn every_embedded_crd_converts_and_compiles() {
    for (kind, _) in ARGOCD_CRDS {
        argocd_validator(ARGOCD_API_VERSION, kind).unwrap_or_else(|v| panic!("{kind}: {v}"));
    }
}

#[test]
fn validators_are_compiled_once_and_shared() {
    let a = kube_validator("apps/v1", "Deployment").unwrap() as *const Validator;
    let b = kube_validator("apps/v1", "Deployment").unwrap() as *const Validator;
    assert_eq!(a, b);
    let a = argocd_validator(ARGOCD_API_VERSION, "Application").unwrap() as *const Validator;
    let b = argocd_validator(ARGOCD_API_VERSION, "Application").unwrap() as *const Validator;
    assert_eq!(a, b);

    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    assert_send_sync(kube_validator("apps/v1", "Deployment").unwrap());
    assert_send_sync(kube_registry().unwrap());

    // Concurrent first use of the same and of different kinds.
    std::thread::scope(|scope| {
        for i in 0..4 {
            scope.spawn(move || {
                for _ in 0..50 {
                    assert_eq!(validate(&deployment()), Ok(()));
                    if i % 2 == 0 {
                        assert_eq!(validate(&application()), Ok(()));
                    }
                }
            });
        }
    });
}

#[test]
fn long_messages_do_not_dump_the_value() {
    let mut obj = deployment();
    obj["spec"]["replicas"] = json!("9".repeat(2000));
    let v = only_violation(validate(&obj));
    assert_eq!(v.instance_path, "/spec/replicas");
    assert!(v.message.len() <= MAX_MESSAGE_LEN, "{v}");
    assert!(v.message.contains("integer"), "{v}");
}

#[test]
fn sarif_schema_validates_reports() {
    let log = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"name": "edgefleet", "rules": [{"id": "EF001"}]}},
            "results": [{
                "ruleId": "EF001",
                "level": "error",
                "message": {"text": "image not pinned by digest"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": "out/bases/agent/deployment.yaml"},
                    "region": {"startLine": 12, "startColumn": 5}
                }}]
            }]
        }]
    });
    assert_eq!(validate_sarif(&log), Ok(()));
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = json!("fatal");
    let violations = validate_sarif(&bad).unwrap_err();
    assert!(
        violations
            .iter()
            .any(|v| v.instance_path == "/runs/0/results/0/level"),
        "{violations:?}"
    );
}
