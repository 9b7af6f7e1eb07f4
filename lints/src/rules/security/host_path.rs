use serde_json::Value;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};

crate::declare_rule! {
    /// ## What it does
    /// Reports a pod volume of type `hostPath`.
    ///
    /// ## Why it matters at an edge site
    /// A hostPath volume reads and writes the node's own filesystem: a container can fill the
    /// node's only disk (and stop the kubelet), or read credentials of the node. Data written
    /// there also ties the pod to one node, which breaks when the node is replaced.
    ///
    /// ## Example
    /// ```yaml
    ///   volumes:
    ///     - name: data
    ///       hostPath: {path: /var/lib/agent}
    /// ```
    ///
    /// ## Fix
    /// Use a PersistentVolumeClaim (local-path provisioner) or an `emptyDir` with a
    /// `sizeLimit`.
    pub static RULE = {
        id: "security/host-path",
        level: Warning,
        summary: "Pod mounts a hostPath volume",
        check: Check::Object(check),
    };
}

fn check(_: &RuleOptions, m: &Manifest, out: &mut Vec<Violation>) {
    let Some(pod) = m.pod_spec() else {
        return;
    };
    let Some(volumes) = pod.spec.get("volumes").and_then(Value::as_array) else {
        return;
    };
    for (i, v) in volumes.iter().enumerate() {
        if let Some(hp) = v.get("hostPath") {
            let path = hp.get("path").and_then(Value::as_str).unwrap_or("?");
            let name = v.get("name").and_then(Value::as_str).unwrap_or("?");
            out.push(
                Violation::at(
                    format!("{}/volumes/{i}/hostPath", pod.pointer),
                    format!("volume `{name}` mounts the node's path `{path}`"),
                )
                .help("use a PersistentVolumeClaim or an emptyDir with a sizeLimit"),
            );
        }
    }
}
