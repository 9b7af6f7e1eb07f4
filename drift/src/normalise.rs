//! What is removed from both sides before they are compared: fields only the API server or the
//! GitOps applier writes, which say nothing about what the site runs.
//!
//! - `status`;
//! - `metadata`: `managedFields`, `uid`, `resourceVersion`, `generation`, `creationTimestamp`,
//!   `selfLink`, and the `kubectl.kubernetes.io/last-applied-configuration` annotation;
//! - Argo CD's tracking: the `argocd.argoproj.io/tracking-id` annotation and the
//!   `app.kubernetes.io/instance` label (its default tracking label);
//! - maps left empty by the above (`annotations: {}`), as the API server omits them;
//! - a Secret's `stringData`, moved into `data` (base64) as the API server stores it.

use base64::Engine;
use serde_json::{Map, Value};

pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
pub const ARGOCD_TRACKING_ANNOTATION: &str = "argocd.argoproj.io/tracking-id";
pub const ARGOCD_TRACKING_LABEL: &str = "app.kubernetes.io/instance";

const SERVER_METADATA: [&str; 6] = [
    "managedFields",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// Removes what is never compared (see the module documentation), in place.
pub fn normalise(object: &mut Value) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    map.remove("status");
    if map.get("kind").and_then(Value::as_str) == Some("Secret") {
        move_string_data(map);
    }
    let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    for field in SERVER_METADATA {
        metadata.remove(field);
    }
    for (field, key) in [
        ("annotations", LAST_APPLIED_ANNOTATION),
        ("annotations", ARGOCD_TRACKING_ANNOTATION),
        ("labels", ARGOCD_TRACKING_LABEL),
    ] {
        if let Some(m) = metadata.get_mut(field).and_then(Value::as_object_mut) {
            m.remove(key);
        }
    }
    for field in ["annotations", "labels"] {
        if metadata
            .get(field)
            .is_some_and(|v| v.is_null() || v.as_object().is_some_and(Map::is_empty))
        {
            metadata.remove(field);
        }
    }
}

/// `stringData` is write-only: the API server merges it into `data`, base64-encoded.
fn move_string_data(secret: &mut Map<String, Value>) {
    let Some(Value::Object(strings)) = secret.remove("stringData") else {
        return;
    };
    let data = secret
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    if !data.is_object() {
        *data = Value::Object(Map::new());
    }
    if let Some(data) = data.as_object_mut() {
        for (k, v) in strings {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            data.insert(
                k,
                Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_fields_and_tracking_are_dropped() {
        let mut live = json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "collector",
                "namespace": "edge-telemetry",
                "uid": "0b8f7c2e-5d7a-4c1e-9a57-0e4f2d7c9b11",
                "resourceVersion": "48213",
                "generation": 1,
                "creationTimestamp": "2026-11-30T08:12:40Z",
                "selfLink": "/api/v1/namespaces/edge-telemetry/configmaps/collector",
                "labels": {"app.kubernetes.io/instance": "collector-rig-nsea-042", "app": "collector"},
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"v1\"}\n",
                    "argocd.argoproj.io/tracking-id": "collector-rig-nsea-042:/ConfigMap:edge-telemetry/collector"
                },
                "managedFields": [{"manager": "argocd-controller", "operation": "Apply", "fieldsV1": {}}]
            },
            "data": {"a": "b"},
            "status": {"whatever": true}
        });
        normalise(&mut live);
        assert_eq!(
            live,
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "collector", "namespace": "edge-telemetry", "labels": {"app": "collector"}},
                "data": {"a": "b"}
            })
        );
    }

    #[test]
    fn string_data_becomes_data() {
        let mut secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"old": "eA=="}, "stringData": {"token": "abc"}});
        normalise(&mut secret);
        assert_eq!(secret["data"], json!({"old": "eA==", "token": "YWJj"}));
        assert!(secret.get("stringData").is_none());
    }
}
