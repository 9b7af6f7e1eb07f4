use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). Reports a workload (an object with a pod
    /// template) whose data class (`edgefleet.io/data-class`) the inventory's residency policy
    /// lists under `confidential:`, when it would not run in a trusted execution environment
    /// at the site:
    /// - the site's hardware profile has no `tee`;
    /// - the site's platform has no confidential RuntimeClass for that TEE (`kata-qemu-snp` on
    ///   SEV-SNP, `kata-qemu-tdx` on TDX, or a class marked `confidential-*`);
    /// - the pod's `runtimeClassName` is missing or is not such a class.
    ///
    /// The finding is at the `runtimeClassName` when there is one, else at the data class.
    ///
    /// ## Why it matters at an edge site
    /// An edge box sits in a store room or a rig's container, where anyone with a screwdriver
    /// can read its memory or its disk. A confidential VM keeps the data encrypted in memory and
    /// releases keys only to an attested workload; a pod in an ordinary container exposes the
    /// personal data the policy meant to protect, and nothing at the site says so.
    ///
    /// ## Example
    /// At a site whose hardware has SEV-SNP and whose platform lists `kata-qemu-snp`, with
    /// `residency: {confidential: [biometric]}`:
    /// ```yaml
    /// metadata:
    ///   annotations: {edgefleet.io/data-class: biometric}
    /// spec:
    ///   runtimeClassName: runc
    /// ```
    ///
    /// ## Fix
    /// Run the workload with the site's confidential RuntimeClass (the catalogue's confidential
    /// workload picks it from the platform), or keep it off sites without TEE hardware.
    pub static RULE = {
        id: "platform/tee-required",
        level: Error,
        summary: "Data that must stay in a TEE is processed outside a confidential runtime at the site",
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
    let required = &site.residency.confidential;
    if required.is_empty() {
        return;
    }
    for (i, m) in manifests.iter().enumerate() {
        if m.pod_spec().is_none() {
            continue;
        }
        let classes = crate::rules::residency::data_classes(m);
        let Some((class, class_ptr)) = classes.iter().find(|(c, _)| required.contains_key(*c))
        else {
            continue;
        };
        let hw = &site.hardware;
        let Some(tee) = hw.tee else {
            out.push((
                i,
                Violation::at(
                    class_ptr.clone(),
                    format!(
                        "data class `{class}` must be processed in a TEE, and hardware `{}` has none",
                        hw.name
                    ),
                )
                .help("keep the workload off this site, or run it where the hardware has SEV-SNP or TDX"),
            ));
            continue;
        };
        let offered: Vec<&str> = platform
            .confidential_runtimes()
            .filter(|r| r.kind.tee() == Some(tee))
            .map(|r| r.name.as_str())
            .collect();
        if offered.is_empty() {
            out.push((
                i,
                Violation::at(
                    class_ptr.clone(),
                    format!(
                        "data class `{class}` must be processed in a TEE, and platform `{}` has no confidential RuntimeClass for the site's {tee}",
                        platform.name
                    ),
                )
                .help("install the confidential-containers runtime for the site's TEE and list it in the platform profile"),
            ));
            continue;
        }
        match super::runtime_class(m) {
            Some((name, _)) if offered.contains(&name.as_str()) => {}
            Some((name, ptr)) => out.push((
                i,
                Violation::at(
                    ptr,
                    format!(
                        "data class `{class}` must be processed in a TEE; RuntimeClass `{name}` is not a confidential runtime for the site's {tee} (it has {})",
                        offered.join(", ")
                    ),
                )
                .help(format!("set runtimeClassName: {}", offered[0])),
            )),
            None => out.push((
                i,
                Violation::at(
                    class_ptr.clone(),
                    format!(
                        "data class `{class}` must be processed in a TEE; the pod has no runtimeClassName and runs in an ordinary container (the site has {})",
                        offered.join(", ")
                    ),
                )
                .help(format!("set runtimeClassName: {}", offered[0])),
            )),
        }
    }
}
