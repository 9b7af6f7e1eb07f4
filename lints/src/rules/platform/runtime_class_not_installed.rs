use edgefleet_inventory::RuntimeKind;

use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a pod (template) whose
    /// `runtimeClassName` is not one of the RuntimeClasses the site's platform lists under
    /// `runtime_classes` in the inventory. A WebAssembly class at a site with no Wasm runtime
    /// at all is left to `platform/wasm-without-runtime`, which says so.
    ///
    /// ## Why it matters at an edge site
    /// The API server admits a pod whose RuntimeClass does not exist, and then nothing runs it:
    /// the pod stays `Pending` (or fails with `RuntimeHandler not found` where the class exists
    /// but the node's containerd has no such handler). The GPU, Wasm or confidential runtime a
    /// workload was written for is a node install, different at every kind of site.
    ///
    /// ## Example
    /// At a site whose platform lists `[runc, nvidia]`:
    /// ```yaml
    /// spec:
    ///   runtimeClassName: kata-qemu-tdx
    /// ```
    ///
    /// ## Fix
    /// Use a RuntimeClass the site has (the catalogue's templates pick one from the site's
    /// platform), install the runtime and add it to the platform profile, or keep the workload
    /// off the site.
    pub static RULE = {
        id: "platform/runtime-class-not-installed",
        level: Error,
        summary: "Pod uses a RuntimeClass the site's platform does not have",
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
    for (i, m) in manifests.iter().enumerate() {
        let Some((name, ptr)) = super::runtime_class(m) else {
            continue;
        };
        if platform.runtime_classes.contains_key(&name) {
            continue;
        }
        let kind = super::runtime_kind(platform, &name);
        if kind == Some(RuntimeKind::Wasm) && !platform.has_wasm_runtime() {
            continue;
        }
        let installed: Vec<&str> = platform
            .runtime_classes
            .keys()
            .map(String::as_str)
            .collect();
        out.push((
            i,
            Violation::at(
                ptr,
                format!(
                    "RuntimeClass `{name}` is not installed at the site: platform `{}` has {}",
                    platform.name,
                    if installed.is_empty() {
                        "none listed".to_owned()
                    } else {
                        installed.join(", ")
                    }
                ),
            )
            .help("use one of the site's RuntimeClasses, or add the runtime to the platform profile once the nodes have it"),
        ));
    }
}
