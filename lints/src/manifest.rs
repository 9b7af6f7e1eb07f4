//! One Kubernetes object read from YAML, with the source tree that locates its fields.

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::YamlDocument;
use serde_json::Value;

use crate::finding::ObjectRef;

/// A YAML document that is a mapping, as the rules see it.
#[derive(Debug)]
pub struct Manifest {
    pub doc: YamlDocument,
    /// The document as JSON (what the rules read).
    pub value: Value,
    /// `kind`, `metadata.namespace` and `metadata.name`, with placeholders when missing.
    pub object: ObjectRef,
}

/// A pod template found inside a workload object.
pub struct PodSpec<'a> {
    /// JSON pointer of the pod spec inside the object, e.g. `/spec/template/spec`.
    pub pointer: String,
    pub spec: &'a Value,
}

/// A container (or init container) of a pod spec.
pub struct Container<'a> {
    /// JSON pointer of the container, e.g. `/spec/template/spec/containers/0`.
    pub pointer: String,
    pub value: &'a Value,
    pub name: &'a str,
    pub init: bool,
}

impl Manifest {
    pub fn new(doc: YamlDocument) -> Self {
        let value = doc.to_json();
        let text = |p: &str| value.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let object = ObjectRef {
            kind: text("/kind").unwrap_or_else(|| "(no kind)".to_owned()),
            namespace: text("/metadata/namespace"),
            name: text("/metadata/name").unwrap_or_else(|| "(no name)".to_owned()),
        };
        Self { doc, value, object }
    }

    pub fn kind(&self) -> &str {
        self.value.get("kind").and_then(Value::as_str).unwrap_or("")
    }

    pub fn api_version(&self) -> &str {
        self.value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// The location of the field at `pointer`: its key when it is a mapping entry, the item when
    /// it is a sequence item, the closest existing ancestor when it does not exist.
    pub fn locate(&self, pointer: &str) -> SourceLocation {
        if pointer.is_empty() {
            return self.object_location();
        }
        self.doc.locate_key(pointer)
    }

    /// Where the object starts: its `kind` key when present, else the document.
    pub fn object_location(&self) -> SourceLocation {
        if self.value.get("kind").is_some() {
            self.doc.locate_key("/kind")
        } else {
            self.doc.locate("")
        }
    }

    /// An annotation of the object.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value
            .get("metadata")?
            .get("annotations")?
            .get(key)?
            .as_str()
    }

    /// The pod spec this object runs, if it is a workload.
    pub fn pod_spec(&self) -> Option<PodSpec<'_>> {
        let pointer = match self.kind() {
            "Pod" => "/spec",
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job" => "/spec/template/spec",
            "CronJob" => "/spec/jobTemplate/spec/template/spec",
            _ => return None,
        };
        let spec = self.value.pointer(pointer)?;
        spec.is_object().then(|| PodSpec {
            pointer: pointer.to_owned(),
            spec,
        })
    }

    /// `true` for workloads meant to keep running (not Jobs, CronJobs or run-once Pods).
    pub fn is_long_running(&self) -> bool {
        match self.kind() {
            "Job" | "CronJob" => false,
            "Pod" => !matches!(
                self.value
                    .pointer("/spec/restartPolicy")
                    .and_then(Value::as_str),
                Some("Never" | "OnFailure")
            ),
            _ => self.pod_spec().is_some(),
        }
    }

    /// Containers then init containers of the pod spec.
    pub fn containers(&self) -> Vec<Container<'_>> {
        let Some(pod) = self.pod_spec() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (field, init) in [("containers", false), ("initContainers", true)] {
            let Some(items) = pod.spec.get(field).and_then(Value::as_array) else {
                continue;
            };
            for (i, value) in items.iter().enumerate() {
                if !value.is_object() {
                    continue;
                }
                out.push(Container {
                    pointer: format!("{}/{field}/{i}", pod.pointer),
                    value,
                    name: value.get("name").and_then(Value::as_str).unwrap_or("?"),
                    init,
                });
            }
        }
        out
    }
}

impl Container<'_> {
    /// The string at a path under the container, e.g. `["securityContext", "privileged"]`.
    pub fn get(&self, path: &[&str]) -> Option<&Value> {
        let mut v = self.value;
        for p in path {
            v = v.get(p)?;
        }
        Some(v)
    }

    /// JSON pointer of a field under the container.
    pub fn ptr(&self, path: &[&str]) -> String {
        let mut s = self.pointer.clone();
        for p in path {
            s.push('/');
            s.push_str(&p.replace('~', "~0").replace('/', "~1"));
        }
        s
    }

    pub fn label(&self) -> String {
        if self.init {
            format!("init container `{}`", self.name)
        } else {
            format!("container `{}`", self.name)
        }
    }
}
