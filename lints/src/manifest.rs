//! One Kubernetes object read from YAML, with the source tree that locates its fields.

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::YamlDocument;
use serde_json::Value;

use crate::finding::ObjectRef;
use crate::trace::{Trace, TracedLocation};

/// Where a manifest's fields are located.
#[derive(Debug)]
pub enum ManifestSource {
    /// Read from a file: the document's own tree.
    Parsed(YamlDocument),
    /// Rendered from a site overlay: traced back to the files that set each field.
    Rendered(Trace),
}

/// A Kubernetes object as the rules see it: a YAML document that is a mapping, or an object
/// rendered from a site overlay.
#[derive(Debug)]
pub struct Manifest {
    pub source: ManifestSource,
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
        let object = object_ref(&value);
        Self {
            source: ManifestSource::Parsed(doc),
            value,
            object,
        }
    }

    /// An object rendered from an overlay, located through its trace.
    pub fn rendered(value: Value, trace: Trace) -> Self {
        let object = object_ref(&value);
        Self {
            source: ManifestSource::Rendered(trace),
            value,
            object,
        }
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
        self.locate_traced(pointer).location
    }

    /// [`locate`](Self::locate), with a note when a rendered field could only be placed at its
    /// object (set by something edgefleet cannot attribute to a file).
    pub fn locate_traced(&self, pointer: &str) -> TracedLocation {
        match &self.source {
            ManifestSource::Parsed(doc) => TracedLocation {
                location: if pointer.is_empty() {
                    self.object_location(doc)
                } else {
                    doc.locate_key(pointer)
                },
                note: None,
            },
            ManifestSource::Rendered(trace) => trace.locate(&self.value, pointer),
        }
    }

    /// Where the object starts: its `kind` key when present, else the document.
    fn object_location(&self, doc: &YamlDocument) -> SourceLocation {
        if self.value.get("kind").is_some() {
            doc.locate_key("/kind")
        } else {
            doc.locate("")
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

fn object_ref(value: &Value) -> ObjectRef {
    let text = |p: &str| value.pointer(p).and_then(Value::as_str).map(str::to_owned);
    ObjectRef {
        kind: text("/kind").unwrap_or_else(|| "(no kind)".to_owned()),
        namespace: text("/metadata/namespace"),
        name: text("/metadata/name").unwrap_or_else(|| "(no name)".to_owned()),
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
            kube_basics::pointer::push(&mut s, p);
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
