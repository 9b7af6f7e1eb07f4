//! Data residency: which jurisdictions form a zone, which zone each known endpoint is in, and
//! where each class of data from a site in a zone may be sent.
//!
//! The inventory's `residency:` section declares it (see `docs/residency.md`); without one, a
//! strict default is derived from the regions (see [`Residency::derived`]).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::model::Region;
use crate::source::SourceLocation;

/// Policy keyword: the zone of the site the data comes from.
pub const SAME_ZONE: &str = "same";
/// Policy keyword: any endpoint, known or not.
pub const ANY_ZONE: &str = "any";
/// Policy key for the site zones a class does not name.
pub const EVERY_SITE_ZONE: &str = "*";

/// The data classes of the default policy, strictest first.
pub const DEFAULT_CLASSES: [&str; 4] = ["personal", "video-raw", "telemetry", "public"];

/// The residency rules of a fleet.
#[derive(Debug, Clone, Default)]
pub struct Residency {
    /// Zone → the ISO 3166-1 alpha-2 jurisdictions it is made of.
    pub zones: BTreeMap<String, BTreeSet<String>>,
    /// Endpoint catalogue: host (lowercase; `*.example.net` for every subdomain) → zone. Holds the
    /// hosts of every region's `endpoints` too (in the region's zone).
    pub endpoints: BTreeMap<String, String>,
    /// Data class → site zone (or `*`) → where its data may go.
    pub policy: BTreeMap<String, BTreeMap<String, Vec<AllowedZone>>>,
    /// Data classes that may only be processed inside a trusted execution environment (a
    /// confidential runtime class on TEE hardware), with where each was declared.
    pub confidential: BTreeMap<String, SourceLocation>,
    /// `false` when no `residency:` section was written and this is the derived default.
    pub declared: bool,
    /// Where the section was written.
    pub location: Option<SourceLocation>,
}

/// One entry of a policy's list of allowed endpoint zones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedZone {
    /// The zone of the site the data comes from.
    Same,
    /// Anywhere, including endpoints the catalogue does not know.
    Any,
    Zone(String),
}

impl AllowedZone {
    pub fn parse(s: &str) -> Self {
        match s {
            SAME_ZONE => AllowedZone::Same,
            ANY_ZONE => AllowedZone::Any,
            z => AllowedZone::Zone(z.to_owned()),
        }
    }
}

/// What the policy says about one class of data leaving a site of one zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// Any endpoint is fine: the class is not restricted there.
    pub any: bool,
    /// The zones its endpoints may be in (the site's own when the policy says `same`).
    pub zones: BTreeSet<String>,
    /// The class is not in the policy: judged as `[same]`.
    pub undeclared_class: bool,
}

impl Allowed {
    /// Restricted: an endpoint the catalogue does not know cannot be judged allowed.
    pub fn restricted(&self) -> bool {
        !self.any
    }

    /// `EEA` or `EEA, CH`, for messages.
    pub fn zones_text(&self) -> String {
        if self.any {
            return "any zone".to_owned();
        }
        self.zones.iter().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// Where an endpoint points, as far as the catalogue can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointZone {
    /// On the site itself (loopback, the unspecified address, a cluster-internal service name):
    /// data that never leaves the site.
    Local,
    /// In the catalogue (or a region's endpoints).
    Known(String),
    /// An IP literal or a name the catalogue lacks: its zone cannot be known.
    Unknown,
}

impl Residency {
    /// The default when the inventory has no `residency:` section: one zone per region `zone`
    /// (made of its regions' jurisdictions), the regions' endpoints as the catalogue, and the
    /// classes `personal`, `video-raw` and `telemetry` kept in the site's zone while `public`
    /// may go anywhere.
    pub fn derived(regions: &BTreeMap<String, Region>) -> Self {
        let mut r = Residency::default();
        for region in regions.values() {
            r.zones
                .entry(region.zone.clone())
                .or_default()
                .insert(region.jurisdiction.clone());
        }
        r.add_region_endpoints(regions);
        for class in DEFAULT_CLASSES {
            let allowed = if class == "public" {
                AllowedZone::Any
            } else {
                AllowedZone::Same
            };
            r.policy.insert(
                class.to_owned(),
                [(EVERY_SITE_ZONE.to_owned(), vec![allowed])].into(),
            );
        }
        r
    }

    /// Puts the hosts of every region's endpoints in the catalogue, in the region's zone, where
    /// the catalogue does not already name them (conflicts are checked by the loader).
    pub fn add_region_endpoints(&mut self, regions: &BTreeMap<String, Region>) {
        for region in regions.values() {
            for url in region.endpoints.values() {
                if let Some(Endpoint {
                    host: Host::Name(h),
                    ..
                }) = Endpoint::parse(url)
                {
                    self.endpoints
                        .entry(h)
                        .or_insert_with(|| region.zone.clone());
                }
            }
        }
    }

    /// The zone a host is in: the catalogue's exact entry, else the longest `*.suffix` entry.
    pub fn zone_of(&self, host: &Host) -> EndpointZone {
        match host {
            Host::Ip(ip) if ip.is_loopback() || ip.is_unspecified() => EndpointZone::Local,
            Host::Ip(_) => EndpointZone::Unknown,
            Host::Name(name) => {
                if name == "localhost" || is_cluster_internal(name) {
                    return EndpointZone::Local;
                }
                if let Some(z) = self.endpoints.get(name.as_str()) {
                    return EndpointZone::Known(z.clone());
                }
                let mut best: Option<(&str, &str)> = None;
                for (pattern, zone) in &self.endpoints {
                    let Some(suffix) = pattern.strip_prefix("*.") else {
                        continue;
                    };
                    let matches = name
                        .strip_suffix(suffix)
                        .is_some_and(|head| head.len() > 1 && head.ends_with('.'));
                    if matches && best.is_none_or(|(b, _)| suffix.len() > b.len()) {
                        best = Some((suffix, zone));
                    }
                }
                best.map_or(EndpointZone::Unknown, |(_, z)| {
                    EndpointZone::Known(z.to_owned())
                })
            }
        }
    }

    /// Where data of `class` from a site in `site_zone` may go. A class the policy does not
    /// name is judged as `[same]` (a typo in a class must not open the gate).
    pub fn allowed(&self, class: &str, site_zone: &str) -> Allowed {
        let Some(by_zone) = self.policy.get(class) else {
            return Allowed {
                any: false,
                zones: [site_zone.to_owned()].into(),
                undeclared_class: true,
            };
        };
        let list = by_zone
            .get(site_zone)
            .or_else(|| by_zone.get(EVERY_SITE_ZONE));
        let mut allowed = Allowed {
            any: false,
            zones: BTreeSet::new(),
            undeclared_class: false,
        };
        // A class that names zones but not this one (and no `*`): nothing may leave the site.
        for z in list.into_iter().flatten() {
            match z {
                AllowedZone::Any => allowed.any = true,
                AllowedZone::Same => {
                    allowed.zones.insert(site_zone.to_owned());
                }
                AllowedZone::Zone(z) => {
                    allowed.zones.insert(z.clone());
                }
            }
        }
        allowed
    }
}

/// `name` (one label: a Service in the namespace), `name.ns`, `name.ns.svc`, or under
/// `.svc.cluster.local`: resolved by the cluster's DNS to something on the site.
fn is_cluster_internal(name: &str) -> bool {
    !name.contains('.')
        || name.ends_with(".svc")
        || name.ends_with(".svc.cluster.local")
        || name.ends_with(".cluster.local")
}

/// The host part of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name, lowercase, without a trailing dot.
    Name(String),
    Ip(std::net::IpAddr),
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Name(n) => f.write_str(n),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// An endpoint found in a value: `scheme://host[:port][/path]`, `host:port` or a bare IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: Host,
    pub port: Option<u16>,
}

impl Endpoint {
    /// Reads an endpoint from a whole value. `None` when the value is not one: text with spaces,
    /// a template reference (`${env:X}`, `$(X)`), a name without a scheme or port (too ambiguous:
    /// a site id looks the same), an invalid host.
    pub fn parse(value: &str) -> Option<Self> {
        let v = value.trim();
        if v.is_empty() || v.len() > 2048 || v.chars().any(char::is_whitespace) {
            return None;
        }
        if v.contains("${") || v.contains("$(") || v.contains("{{") || v.contains("%{") {
            return None;
        }
        let (authority, had_scheme) = match v.split_once("://") {
            Some((scheme, rest)) => {
                let ok = scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
                if !ok {
                    return None;
                }
                let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                (&rest[..end], true)
            }
            None => (v, false),
        };
        // Credentials are not part of the host.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(authority)?;
        let host = parse_host(host)?;
        if !had_scheme && port.is_none() && !matches!(host, Host::Ip(_)) {
            return None;
        }
        Some(Endpoint { host, port })
    }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`; a bare IPv6 without brackets is the host alone.
fn split_host_port(a: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = a.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some((inside, port));
    }
    if a.matches(':').count() > 1 {
        return Some((a, None));
    }
    match a.split_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((a, None)),
    }
}

fn parse_host(h: &str) -> Option<Host> {
    if let Ok(ip) = h.parse::<Ipv4Addr>() {
        return Some(Host::Ip(ip.into()));
    }
    if let Ok(ip) = h.parse::<Ipv6Addr>() {
        return Some(Host::Ip(ip.into()));
    }
    let name = h.strip_suffix('.').unwrap_or(h).to_ascii_lowercase();
    let valid = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    // All-digit dotted names that are not valid IPv4 (`1.2.3`, `300.1.1.1`) are not hosts.
    let numeric = name.chars().all(|c| c.is_ascii_digit() || c == '.');
    (valid && !numeric).then_some(Host::Name(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> Option<String> {
        Endpoint::parse(s).map(|e| e.host.to_string())
    }

    #[test]
    fn endpoints_are_read_from_urls_host_ports_and_ip_literals() {
        assert_eq!(
            host("https://otlp.eu-north.example.net"),
            Some("otlp.eu-north.example.net".into())
        );
        assert_eq!(
            host("https://user:pw@Prom.EU.example.net.:9090/api/v1/write?x=1"),
            Some("prom.eu.example.net".into())
        );
        assert_eq!(
            host("mqtt.eu-north.example.net:8883"),
            Some("mqtt.eu-north.example.net".into())
        );
        assert_eq!(host("10.20.30.40"), Some("10.20.30.40".into()));
        assert_eq!(
            host("http://[2001:db8::1]:4318"),
            Some("2001:db8::1".into())
        );
        assert_eq!(host("2001:db8::7"), Some("2001:db8::7".into()));
        for not_an_endpoint in [
            "30s",
            "gzip",
            "rig-nsea-042",
            "64MiB",
            "1.5",
            "1.2.3",
            "${env:EDGEFLEET_TELEMETRY_ENDPOINT}",
            "$(EDGEFLEET_METRICS_ENDPOINT)",
            "a b://c",
            "https://",
            "https://[::1",
            "host:port",
            "host:99999",
            "://x",
            "",
        ] {
            assert_eq!(host(not_an_endpoint), None, "{not_an_endpoint}");
        }
    }

    #[test]
    fn hostile_strings_do_not_panic() {
        for s in [
            "é://ü:1",
            "https://é.example.net",
            "[[[]]]:",
            "https://@@@",
            "x://[::1]:",
            "\u{0}:1",
            "https://a..b",
            &"a.".repeat(2000),
        ] {
            let _ = Endpoint::parse(s);
        }
        assert_eq!(host("https://é.example.net"), None);
    }

    #[test]
    fn catalogue_lookup_treats_ip_literals_and_unknown_names_as_unknown() {
        let mut r = Residency::default();
        r.endpoints
            .insert("otlp.eu.example.net".into(), "EEA".into());
        r.endpoints.insert("*.us.example.com".into(), "US".into());
        r.endpoints
            .insert("*.secure.us.example.com".into(), "GOV".into());
        let zone = |s: &str| r.zone_of(&Endpoint::parse(s).unwrap().host);
        assert_eq!(
            zone("https://otlp.eu.example.net"),
            EndpointZone::Known("EEA".into())
        );
        assert_eq!(
            zone("https://a.us.example.com"),
            EndpointZone::Known("US".into())
        );
        assert_eq!(
            zone("https://a.secure.us.example.com"),
            EndpointZone::Known("GOV".into())
        );
        // The wildcard covers subdomains only, and a suffix must end at a label boundary.
        assert_eq!(zone("https://us.example.com"), EndpointZone::Unknown);
        assert_eq!(zone("https://evilus.example.com"), EndpointZone::Unknown);
        assert_eq!(
            zone("https://otlp.eu.example.net.evil.io"),
            EndpointZone::Unknown
        );
        assert_eq!(zone("https://10.20.30.40:4318"), EndpointZone::Unknown);
        assert_eq!(zone("https://[2001:db8::1]"), EndpointZone::Unknown);
        assert_eq!(zone("http://127.0.0.1:8080"), EndpointZone::Local);
        assert_eq!(zone("0.0.0.0:4317"), EndpointZone::Local);
        assert_eq!(zone("http://mqtt-broker:1883"), EndpointZone::Local);
        assert_eq!(
            zone("http://vm.edge-metrics.svc.cluster.local:8429"),
            EndpointZone::Local
        );
    }

    #[test]
    fn policy_same_any_named_zones_and_undeclared_classes() {
        let mut r = Residency::default();
        r.policy.insert(
            "telemetry".into(),
            [
                ("*".to_owned(), vec![AllowedZone::Same]),
                (
                    "CH".to_owned(),
                    vec![AllowedZone::Same, AllowedZone::Zone("EEA".into())],
                ),
            ]
            .into(),
        );
        r.policy.insert(
            "public".into(),
            [("*".to_owned(), vec![AllowedZone::Any])].into(),
        );
        r.policy.insert(
            "personal".into(),
            [("EEA".to_owned(), vec![AllowedZone::Same])].into(),
        );
        let t = r.allowed("telemetry", "US");
        assert!(t.restricted() && t.zones == ["US".to_owned()].into());
        assert_eq!(r.allowed("telemetry", "CH").zones_text(), "CH, EEA");
        assert!(!r.allowed("public", "SG").restricted());
        // Named for EEA only: from SG nothing may leave.
        let p = r.allowed("personal", "SG");
        assert!(p.restricted() && p.zones.is_empty());
        let u = r.allowed("biometric", "SG");
        assert!(u.undeclared_class && u.zones == ["SG".to_owned()].into());
    }
}
