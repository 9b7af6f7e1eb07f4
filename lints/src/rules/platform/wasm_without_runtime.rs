use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a WebAssembly pod at a site whose
    /// platform has no Wasm runtime. A pod is WebAssembly when its `runtimeClassName` names a
    /// Wasm runtime (a class the platform marks `wasm`, or one of the usual names: `spin`,
    /// `wasmtime-spin-v2`, `wasmedge`, `wasmtime`, `wasmer`, `wws`, `lunatic`, `slight`), or
    /// when its pod template has the `module.wasm.image/variant` annotation with which crun and
    /// WasmEdge mark Wasm images. The finding is at the class or the annotation.
    ///
    /// ## Why it matters at an edge site
    /// A Wasm module is not a Linux binary: runc cannot start it, and without a containerd
    /// shim for it the pod never runs. Wasm workloads are chosen for the smallest boxes, which
    /// are also the ones most often installed without the shim.
    ///
    /// ## Example
    /// At a site whose platform lists `[runc]`:
    /// ```yaml
    /// spec:
    ///   runtimeClassName: wasmtime-spin-v2
    /// ```
    ///
    /// ## Fix
    /// Install a Wasm shim on the site's nodes and list its RuntimeClass in the platform
    /// profile, or keep the workload off the site.
    pub static RULE = {
        id: "platform/wasm-without-runtime",
        level: Error,
        summary: "WebAssembly workload at a site with no Wasm runtime",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let Some(platform) = &site.platform else {
        return;
    };
    if platform.has_wasm_runtime() {
        return;
    }
    for (i, m) in manifests.iter().enumerate() {
        let Some(ptr) = super::wasm_marker(platform, m) else {
            continue;
        };
        out.push((
            i,
            Violation::at(
                ptr,
                format!(
                    "{} runs WebAssembly, and platform `{}` ({}) has no Wasm runtime",
                    m.object.kind,
                    platform.name,
                    platform.describe()
                ),
            )
            .help("install a Wasm containerd shim (Spin, WasmEdge, wasmtime) and list its RuntimeClass in the platform profile, or keep the workload off the site"),
        ));
    }
}
