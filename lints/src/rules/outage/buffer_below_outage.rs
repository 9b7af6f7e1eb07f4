use serde_json::Value;

use super::{
    Declared, OUTAGE_BUFFER, OUTAGE_BUFFER_VOLUME, annotation_ptr, bytes, bytes_for, kept_rate,
    show_bytes, show_kbps, show_seconds,
};
use crate::manifest::Manifest;
use crate::rule::{Check, RuleOptions, Violation};
use crate::site::SiteContext;

crate::declare_rule! {
    /// ## What it does
    /// Fleet-aware (`edgefleet lint --fleet`). For a workload that declares the data it sends
    /// upstream (annotations, see `docs/outage.md`):
    ///
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     edgefleet.io/upstream-kbps: "256"          # rate while connected, kbit/s
    ///     edgefleet.io/upstream-keep-ratio: "0.25"   # optional: share kept at the source
    ///     edgefleet.io/outage-buffer: 7911Mi         # what it can hold while the link is down
    ///     edgefleet.io/outage-buffer-volume: queue   # optional: the emptyDir holding it
    /// ```
    ///
    /// it reports, at a site whose backhaul can drop (`max_outage` above zero):
    /// - an `edgefleet.io/outage-buffer` smaller than the kept rate (rate × keep ratio) × the
    ///   backhaul's `max_outage` — the policy of `edgefleet generate`
    ///   (`edgefleet_inventory::OutageBuffer`: 1 kbit = 1000 bits, 1 Mi = 1,048,576 bytes);
    /// - an upstream rate with no `edgefleet.io/outage-buffer` at all;
    /// - an `emptyDir.sizeLimit` of the named volume below the buffer (the kubelet evicts the
    ///   pod when the queue outgrows its volume), or a volume name the pod does not have;
    /// - an annotation value that is not a size.
    ///
    /// The finding points at the line that sets the buffer (or the volume's `sizeLimit`) and
    /// names the site, its backhaul and its `max_outage`.
    ///
    /// ## Why it matters at an edge site
    /// While the backhaul is down, telemetry, metrics and device messages pile up on the site. A
    /// queue sized as a constant holds a fibre site's 15-minute outage and drops most of a
    /// satellite site's 72 hours: the data from the very incidents you will want to look at is
    /// gone, silently, and nobody is there to notice.
    ///
    /// ## Example
    /// At a site on `vsat-2m` (`max_outage: 72h`), 256 kbit/s needs 256,000 / 8 × 259,200 =
    /// 8,294,400,000 bytes (7911Mi):
    /// ```yaml
    ///     edgefleet.io/upstream-kbps: "256"
    ///     edgefleet.io/outage-buffer: 512Mi
    /// ```
    ///
    /// ## Fix
    /// Size the queue from the site's outage (the generated trees do: `buffer.mib` in the
    /// templates), or reduce the data at the source (sampling, aggregation) and declare the
    /// kept share in `edgefleet.io/upstream-keep-ratio`. When the site's disk cannot hold it,
    /// give the workload a larger `buffer_disk_share`, reduce at the source, or accept the loss
    /// with a reasoned `edgefleet.io/ignore`.
    pub static RULE = {
        id: "outage/buffer-below-outage",
        level: Warning,
        summary: "Outage buffer smaller than the upstream rate × the site's max backhaul outage",
        check: Check::Site(check),
    };
}

fn check(
    _: &RuleOptions,
    site: &SiteContext,
    manifests: &[Manifest],
    out: &mut Vec<(usize, Violation)>,
) {
    let link = &site.backhaul;
    let outage = link.max_outage.seconds;
    for (i, m) in manifests.iter().enumerate() {
        let buffer = match bytes(m, OUTAGE_BUFFER) {
            Declared::Valid(b) => Some(b),
            Declared::Absent => None,
            Declared::Invalid(why) => {
                out.push((
                    i,
                    Violation::at(annotation_ptr(OUTAGE_BUFFER), why)
                        .help("write the buffer's capacity as a Kubernetes quantity"),
                ));
                continue;
            }
        };
        if let Some(buffer) = buffer {
            check_volume(m, buffer, i, out);
        }
        if !link.can_drop() {
            continue;
        }
        // An invalid rate or keep ratio is `outage/upstream-exceeds-link`'s to report.
        let Some((rate, keep, kept)) = kept_rate(m) else {
            continue;
        };
        if kept <= 0.0 {
            continue;
        }
        let needed = bytes_for(kept, outage);
        let rate_text = if keep < 1.0 {
            format!(
                "{} kept of {} ({}%)",
                show_kbps(kept),
                show_kbps(rate),
                (keep * 1000.0).round() / 10.0
            )
        } else {
            show_kbps(rate)
        };
        let Some(buffer) = buffer else {
            out.push((
                i,
                Violation::at(
                    annotation_ptr(super::UPSTREAM_KBPS),
                    format!(
                        "{} sends {rate_text} upstream but declares no `{OUTAGE_BUFFER}`; backhaul `{}` can be down for {}, which takes {}",
                        m.object,
                        link.name,
                        link.max_outage,
                        show_bytes(needed)
                    ),
                )
                .help("give the workload a persistent queue sized for the outage and declare it"),
            ));
            continue;
        };
        // A small relative tolerance: the generator sizes in whole MiB from the same numbers.
        if buffer >= needed * (1.0 - 1e-9) {
            continue;
        }
        let holds = buffer / (kept * 1000.0 / 8.0);
        out.push((
            i,
            Violation::at(
                annotation_ptr(OUTAGE_BUFFER),
                format!(
                    "outage buffer {} holds {} of {rate_text}, but backhaul `{}` can be down for {}: needs {}",
                    show_bytes(buffer),
                    show_seconds(holds),
                    link.name,
                    link.max_outage,
                    show_bytes(needed)
                ),
            )
            .help(format!(
                "size the buffer for {} at this site, or reduce the data at the source and declare the kept share in `{}`",
                show_bytes(needed),
                super::KEEP_RATIO
            )),
        ));
    }
}

/// The emptyDir volume named by `edgefleet.io/outage-buffer-volume` must be able to hold the
/// buffer.
fn check_volume(m: &Manifest, buffer: f64, i: usize, out: &mut Vec<(usize, Violation)>) {
    let Some(name) = m.annotation(OUTAGE_BUFFER_VOLUME) else {
        return;
    };
    let Some(pod) = m.pod_spec() else {
        return;
    };
    let volumes = pod.spec.get("volumes").and_then(Value::as_array);
    let found = volumes.and_then(|v| {
        v.iter()
            .position(|vol| vol.get("name").and_then(Value::as_str) == Some(name))
    });
    let Some(index) = found else {
        out.push((
            i,
            Violation::at(
                annotation_ptr(OUTAGE_BUFFER_VOLUME),
                format!("{} names volume `{name}` for its outage buffer, but its pod has no such volume", m.object),
            )
            .help("name the volume that stores the queue"),
        ));
        return;
    };
    let ptr = format!("{}/volumes/{index}/emptyDir/sizeLimit", pod.pointer);
    let Some(limit) = m.value.pointer(&ptr) else {
        return;
    };
    let text = match limit {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return,
    };
    let Ok(q) = edgefleet_inventory::units::Quantity::parse(&text) else {
        return;
    };
    if q.value < buffer * (1.0 - 1e-9) {
        out.push((
            i,
            Violation::at(
                ptr,
                format!(
                    "volume `{name}` is limited to {text}, below the outage buffer of {} it stores: the pod is evicted before the queue is full",
                    show_bytes(buffer)
                ),
            )
            .help("set the volume's sizeLimit to at least the buffer plus the queue's own overhead"),
        ));
    }
}
