//! Reading the inventory's `platforms:` profiles (the schema has checked their shape) and the
//! sites' references to them.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::Origin;
use crate::model::Site;
use crate::platform::{
    Distribution, Identity, KubeMinor, PlatformProfile, RuntimeClass, RuntimeKind, Tee,
    known_versions, kubernetes_minor_of, parse_kubernetes_minor, well_known_runtime,
};
use crate::source::SourceLocation;
use crate::units::Duration;

/// One platform profile. Problems are reported at their field; the profile is still returned
/// (with a stand-in for what was wrong), so the sites that use it are not reported again.
pub(crate) fn parse(
    name: &str,
    v: &Value,
    origin: &Origin,
    location: SourceLocation,
    diags: &mut Diagnostics,
) -> Option<PlatformProfile> {
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default();
    let distribution = Distribution::parse(text("distribution"))?;
    let version = text("version").to_owned();
    let known = known_versions(distribution);
    if !known.contains(&version.as_str()) {
        diags.push(
            Diagnostic::new(
                origin.field("version"),
                format!(
                    "platform `{name}`: {distribution} {version} is not a release edgefleet knows (known: {})",
                    known.join(", ")
                ),
            )
            .with_help("the lint tables of served APIs cover these releases; see docs/platforms.md"),
        );
    }
    let cluster = v.get("kubernetes").and_then(Value::as_str);
    let minors = || {
        crate::platform::KUBERNETES_MINORS
            .map(|m| KubeMinor(m).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let kubernetes = match (distribution.runs_on_cluster(), cluster) {
        (true, Some(k)) => parse_kubernetes_minor(k).unwrap_or_else(|| {
            diags.push(Diagnostic::new(
                origin.field("kubernetes"),
                format!(
                    "platform `{name}`: Kubernetes {k} is not a minor edgefleet knows (known: {})",
                    minors()
                ),
            ));
            KubeMinor(*crate::platform::KUBERNETES_MINORS.end())
        }),
        (true, None) => {
            diags.push(
                Diagnostic::new(
                    origin.field("distribution"),
                    format!(
                        "platform `{name}`: {distribution} runs on a Kubernetes cluster; give its version with `kubernetes:`"
                    ),
                )
                .with_help("e.g. `kubernetes: \"1.31\"`: the cluster's API server decides which APIs the site serves"),
            );
            KubeMinor(*crate::platform::KUBERNETES_MINORS.end())
        }
        (false, Some(_)) => {
            diags.push(Diagnostic::new(
                origin.field("kubernetes"),
                format!(
                    "platform `{name}`: the Kubernetes version of {distribution} follows from its release; remove `kubernetes:`"
                ),
            ));
            kubernetes_minor_of(distribution, &version)
                .unwrap_or(KubeMinor(*crate::platform::KUBERNETES_MINORS.end()))
        }
        (false, None) => kubernetes_minor_of(distribution, &version)
            .unwrap_or(KubeMinor(*crate::platform::KUBERNETES_MINORS.end())),
    };

    let mut runtime_classes = BTreeMap::new();
    for (i, item) in v
        .get("runtime_classes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (class, kind) = match item {
            Value::String(n) => (n.clone(), None),
            other => (
                other
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                other.get("kind").and_then(Value::as_str),
            ),
        };
        let kind = match kind {
            Some("wasm") => RuntimeKind::Wasm,
            Some("confidential-sev-snp") => RuntimeKind::Confidential(Tee::SevSnp),
            Some("confidential-tdx") => RuntimeKind::Confidential(Tee::Tdx),
            Some("confidential-se") => RuntimeKind::Confidential(Tee::Se),
            Some(_) => RuntimeKind::Container,
            None => well_known_runtime(&class).unwrap_or(RuntimeKind::Container),
        };
        if runtime_classes.contains_key(&class) {
            diags.push(Diagnostic::new(
                origin.field(&format!("runtime_classes/{i}")),
                format!("platform `{name}`: RuntimeClass `{class}` is listed twice"),
            ));
            continue;
        }
        runtime_classes.insert(class.clone(), RuntimeClass { name: class, kind });
    }

    let identity = v.get("identity").map(|id| {
        let ttl_text = id.get("svid_ttl").and_then(Value::as_str).unwrap_or("0");
        let svid_ttl_location = origin.field("identity/svid_ttl");
        let svid_ttl = Duration::parse(ttl_text).unwrap_or_else(|msg| {
            diags.push(Diagnostic::new(svid_ttl_location.clone(), msg));
            Duration {
                text: String::new(),
                seconds: 0,
            }
        });
        Identity {
            trust_domain: id
                .get("trust_domain")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            svid_ttl,
            svid_ttl_location,
        }
    });

    Some(PlatformProfile {
        name: name.to_owned(),
        distribution,
        version,
        kubernetes,
        runtime_classes,
        identity,
        location,
    })
}

/// Every site's `platform` names a profile.
pub(crate) fn check_sites(
    sites: &[Site],
    platforms: &BTreeMap<String, PlatformProfile>,
    diags: &mut Diagnostics,
) {
    for site in sites {
        let Some(name) = &site.platform else { continue };
        if platforms.contains_key(name) {
            continue;
        }
        let known = if platforms.is_empty() {
            "none are defined".to_owned()
        } else {
            format!(
                "known: {}",
                platforms.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        };
        diags.push(Diagnostic::new(
            site.source.field("platform"),
            format!("unknown platform profile `{name}` ({known})"),
        ));
    }
}
