//! Reading and checking the inventory's `residency:` section (the schema has checked its shape).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Region;
use crate::residency::{
    ANY_ZONE, AllowedZone, EVERY_SITE_ZONE, Endpoint, Host, Residency, SAME_ZONE,
};
use crate::source::SourceLocation;

type Locate<'a> = dyn Fn(&str) -> SourceLocation + 'a;

/// The default residency when the inventory declares none, after checking that no endpoint host
/// is claimed by regions of two zones.
pub(crate) fn derived(regions: &BTreeMap<String, Region>, diags: &mut Diagnostics) -> Residency {
    check_region_hosts(regions, diags);
    Residency::derived(regions)
}

/// The declared section, checked against the regions: every error names its place.
pub(crate) fn parse(
    v: &Value,
    field: &Locate<'_>,
    key: &Locate<'_>,
    location: SourceLocation,
    regions: &BTreeMap<String, Region>,
    region_fields: &BTreeMap<String, (SourceLocation, SourceLocation)>,
    diags: &mut Diagnostics,
) -> Residency {
    let mut r = Residency {
        declared: true,
        location: Some(location),
        ..Residency::default()
    };
    for (i, class) in v
        .get("confidential")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(class) = class.as_str() {
            r.confidential
                .insert(class.to_owned(), field(&format!("confidential/{i}")));
        }
    }
    let reserved = [SAME_ZONE, ANY_ZONE];
    for (zone, list) in v
        .get("zones")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if reserved.contains(&zone.as_str()) {
            diags.push(Diagnostic::new(
                key(&format!("zones/{}", kube_basics::pointer::escape(zone))),
                format!("`{zone}` is a policy keyword and cannot name a zone"),
            ));
            continue;
        }
        let set = r.zones.entry(zone.clone()).or_default();
        for j in list
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            set.insert(j.to_owned());
        }
    }
    let declared = r.zones.keys().cloned().collect::<Vec<_>>().join(", ");
    let known_zones = || declared.clone();

    // Every region's zone is declared, and holds the region's jurisdiction.
    for region in regions.values() {
        let (zone_at, jurisdiction_at) = region_fields
            .get(&region.name)
            .cloned()
            .unwrap_or_else(|| (region.location.clone(), region.location.clone()));
        match r.zones.get(&region.zone) {
            None => diags.push(Diagnostic::new(
                zone_at,
                format!(
                    "region `{}`: zone `{}` is not declared in `residency.zones` (declared: {})",
                    region.name,
                    region.zone,
                    known_zones()
                ),
            )),
            Some(members) if !members.contains(&region.jurisdiction) => diags.push(
                Diagnostic::new(
                    jurisdiction_at,
                    format!(
                        "region `{}`: jurisdiction `{}` is not in its zone `{}` ({})",
                        region.name,
                        region.jurisdiction,
                        region.zone,
                        members.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                )
                .with_help("add the jurisdiction to the zone in `residency.zones`, or give the region the zone it belongs to"),
            ),
            Some(_) => {}
        }
    }

    // The catalogue: declared zones, names only (an IP literal can never be judged in a zone).
    for (host, zone) in v
        .get("endpoints")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let path = format!("endpoints/{}", kube_basics::pointer::escape(host));
        let zone = zone.as_str().unwrap_or_default();
        let name = host.strip_prefix("*.").unwrap_or(host);
        match Endpoint::parse(&format!("x://{name}")).map(|e| e.host) {
            Some(Host::Name(_)) => {}
            Some(Host::Ip(_)) => {
                diags.push(
                    Diagnostic::new(
                        key(&path),
                        format!("`{host}`: an IP literal cannot be placed in a zone; catalogue host names"),
                    )
                    .with_help("an endpoint given by IP is always judged unknown"),
                );
                continue;
            }
            None => {
                diags.push(Diagnostic::new(
                    key(&path),
                    format!("`{host}` is not a host name (e.g. otlp.eu-north.example.net or *.example.net)"),
                ));
                continue;
            }
        }
        if !r.zones.contains_key(zone) {
            diags.push(Diagnostic::new(
                field(&path),
                format!(
                    "endpoint `{host}`: zone `{zone}` is not declared (declared: {})",
                    known_zones()
                ),
            ));
            continue;
        }
        r.endpoints
            .insert(host.to_ascii_lowercase(), zone.to_owned());
    }
    // A region's endpoint is in the region's zone; the catalogue may repeat it, not contradict it.
    for region in regions.values() {
        for url in region.endpoints.values() {
            let Some(Endpoint {
                host: Host::Name(h),
                ..
            }) = Endpoint::parse(url)
            else {
                continue;
            };
            if let Some(zone) = r.endpoints.get(&h)
                && *zone != region.zone
            {
                let at = v
                    .get("endpoints")
                    .and_then(Value::as_object)
                    .and_then(|m| m.keys().find(|k| k.eq_ignore_ascii_case(&h)))
                    .map_or_else(
                        || region.location.clone(),
                        |k| field(&format!("endpoints/{}", kube_basics::pointer::escape(k))),
                    );
                diags.push(
                    Diagnostic::new(
                        at,
                        format!(
                            "endpoint `{h}` is placed in zone `{zone}`, but region `{}` (zone `{}`) uses it",
                            region.name, region.zone
                        ),
                    )
                    .with_related(region.location.clone(), "the region")
                    .with_help("a region's endpoints are in its zone: fix the catalogue or the region"),
                );
            }
        }
    }
    check_region_hosts(regions, diags);
    r.add_region_endpoints(regions);

    // The policy: declared zones or the keywords.
    for (class, by_zone) in v
        .get("policy")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut parsed = BTreeMap::new();
        for (site_zone, list) in by_zone.as_object().into_iter().flatten() {
            let base = format!(
                "policy/{}/{}",
                kube_basics::pointer::escape(class),
                kube_basics::pointer::escape(site_zone)
            );
            if site_zone != EVERY_SITE_ZONE && !r.zones.contains_key(site_zone) {
                diags.push(Diagnostic::new(
                    key(&base),
                    format!(
                        "policy of `{class}`: site zone `{site_zone}` is not declared (declared: {}; `*` for every other zone)",
                        known_zones()
                    ),
                ));
                continue;
            }
            let mut allowed = Vec::new();
            for (i, z) in list.as_array().into_iter().flatten().enumerate() {
                let z = z.as_str().unwrap_or_default();
                if !reserved.contains(&z) && !r.zones.contains_key(z) {
                    diags.push(Diagnostic::new(
                        field(&format!("{base}/{i}")),
                        format!(
                            "policy of `{class}`: endpoint zone `{z}` is not declared (declared: {}; or `{SAME_ZONE}`, `{ANY_ZONE}`)",
                            known_zones()
                        ),
                    ));
                    continue;
                }
                allowed.push(AllowedZone::parse(z));
            }
            parsed.insert(site_zone.clone(), allowed);
        }
        r.policy.insert(class.clone(), parsed);
    }
    r
}

/// Two regions of different zones may not share an endpoint host: its zone would be ambiguous.
fn check_region_hosts(regions: &BTreeMap<String, Region>, diags: &mut Diagnostics) {
    let mut seen: BTreeMap<String, &Region> = BTreeMap::new();
    for region in regions.values() {
        for url in region.endpoints.values() {
            let Some(Endpoint {
                host: Host::Name(h),
                ..
            }) = Endpoint::parse(url)
            else {
                continue;
            };
            match seen.get(&h) {
                Some(first) if first.zone != region.zone => diags.push(
                    Diagnostic::new(
                        region.location.clone(),
                        format!(
                            "region `{}` (zone `{}`) uses endpoint host `{h}`, which region `{}` in zone `{}` uses too",
                            region.name, region.zone, first.name, first.zone
                        ),
                    )
                    .with_related(first.location.clone(), "the other region"),
                ),
                Some(_) => {}
                None => {
                    seen.insert(h, region);
                }
            }
        }
    }
}
