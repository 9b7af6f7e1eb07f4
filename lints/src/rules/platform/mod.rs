//! Fleet-aware rules about the platform a site runs (`platforms:` in the inventory, see
//! `docs/platforms.md`): the APIs its distribution serves, the RuntimeClasses its nodes have
//! (containers, WebAssembly, confidential VMs), and its workload identity. A site without a
//! declared platform is not judged by them.

pub mod api_not_served;
pub(crate) mod apis;
pub mod runtime_class_not_installed;
pub mod svid_ttl_below_outage;
pub mod tee_required;
pub mod wasm_without_runtime;

use edgefleet_inventory::platform::well_known_runtime;
use edgefleet_inventory::{PlatformProfile, RuntimeKind};
use serde_json::Value;

use crate::manifest::Manifest;

/// Pod annotation with which crun and WasmEdge mark a pod whose image is a Wasm module.
pub const WASM_VARIANT_ANNOTATION: &str = "module.wasm.image/variant";

/// The pod's `runtimeClassName` and its pointer.
pub(crate) fn runtime_class(m: &Manifest) -> Option<(String, String)> {
    let pod = m.pod_spec()?;
    let name = pod.spec.get("runtimeClassName")?.as_str()?;
    Some((name.to_owned(), format!("{}/runtimeClassName", pod.pointer)))
}

/// What a RuntimeClass runs at this site: its kind in the inventory, else the kind its usual
/// name stands for.
pub(crate) fn runtime_kind(platform: &PlatformProfile, name: &str) -> Option<RuntimeKind> {
    platform
        .runtime_classes
        .get(name)
        .map(|r| r.kind)
        .or_else(|| well_known_runtime(name))
}

/// Where a pod says it runs WebAssembly: its `runtimeClassName` when that names a Wasm runtime,
/// else the `module.wasm.image/variant` annotation of the pod (template).
pub(crate) fn wasm_marker(platform: &PlatformProfile, m: &Manifest) -> Option<String> {
    if let Some((name, ptr)) = runtime_class(m)
        && runtime_kind(platform, &name) == Some(RuntimeKind::Wasm)
    {
        return Some(ptr);
    }
    let pod = m.pod_spec()?;
    let meta = pod.pointer.strip_suffix("/spec").unwrap_or("");
    let annotations = m
        .value
        .pointer(&format!("{meta}/metadata/annotations"))
        .and_then(Value::as_object)?;
    annotations
        .contains_key(WASM_VARIANT_ANNOTATION)
        .then(|| format!("{meta}/metadata/annotations/module.wasm.image~1variant"))
}
