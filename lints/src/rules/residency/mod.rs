//! Data residency at a site: where each workload's data goes, judged against the fleet's zones,
//! endpoint catalogue and data-class policy (the inventory's `residency:` section).
//!
//! What is read (see `docs/residency.md`):
//! - a workload's data classes: the `edgefleet.io/data-class` label or annotation (a comma list)
//!   on the object or its pod template;
//! - its endpoints: container `env` values that are a URL, `host:port` or an IP literal, and the
//!   values of the ConfigMaps it mounts or reads (in its namespace): a whole value that is an
//!   endpoint, the well-known fields of YAML/JSON configs (OpenTelemetry exporter `endpoint`,
//!   Prometheus `remote_write[].url`, an S3 `endpoint`, an MQTT bridge `address`) and the
//!   `address` / `addresses` lines of a mosquitto bridge.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, LazyLock, Mutex};

use edgefleet_inventory::residency::{Endpoint, EndpointZone};
use edgefleet_inventory::source;
use serde_json::Value;

use crate::manifest::{Manifest, ManifestSource};
use crate::site::SiteContext;

pub mod endpoint_outside_zone;
pub mod missing_egress_policy;
pub mod unknown_endpoint;
pub mod zone_restricted_workload;

/// Label or annotation naming the classes of data a workload handles (`personal,video-raw`).
pub const DATA_CLASS: &str = "edgefleet.io/data-class";
/// Annotation restricting a workload to sites of these zones (`EEA` or `EEA,CH`).
pub const ALLOWED_ZONES: &str = "edgefleet.io/allowed-zones";

/// Where the pod template's metadata is, for workload kinds.
fn template_metadata_pointer(m: &Manifest) -> Option<&'static str> {
    match m.kind() {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some("/spec/template/metadata"),
        "CronJob" => Some("/spec/jobTemplate/spec/template/metadata"),
        _ => None,
    }
}

/// A label or annotation value on the object or its pod template, with its pointer.
fn metadata_values(m: &Manifest, key: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bases = vec![("/metadata", m.value.get("metadata"))];
    if let Some(pointer) = template_metadata_pointer(m) {
        bases.push((pointer, m.value.pointer(pointer)));
    }
    for (base, metadata) in bases {
        let Some(metadata) = metadata else {
            continue;
        };
        for field in ["labels", "annotations"] {
            if let Some(v) = metadata
                .get(field)
                .and_then(|f| f.get(key))
                .and_then(Value::as_str)
            {
                out.push((
                    v.to_owned(),
                    format!("{base}/{field}/{}", kube_basics::pointer::escape(key)),
                ));
            }
        }
    }
    out
}

/// The data classes an object declares, each with where it is declared first.
pub(crate) fn data_classes(m: &Manifest) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (value, pointer) in metadata_values(m, DATA_CLASS) {
        for class in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            out.entry(class.to_owned())
                .or_insert_with(|| pointer.clone());
        }
    }
    out
}

/// The zones an object is restricted to (`edgefleet.io/allowed-zones`), with the pointer of the
/// annotation; `None` when it is not restricted.
pub(crate) fn allowed_zones(m: &Manifest) -> Option<(BTreeSet<String>, String)> {
    let (value, pointer) = metadata_values(m, ALLOWED_ZONES).into_iter().next()?;
    let zones = value
        .split(',')
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .map(str::to_owned)
        .collect();
    Some((zones, pointer))
}

/// The overlay folder a rendered object came from (`telemetry-collector` for
/// `sites/eu-north/rig-1/telemetry-collector/kustomization.yaml`).
pub(crate) fn overlay_name(m: &Manifest) -> Option<String> {
    match &m.source {
        ManifestSource::Rendered(trace) => trace
            .fallback
            .file
            .parent()?
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        ManifestSource::Parsed(_) => None,
    }
}

/// An endpoint a manifest sends data to.
pub(crate) struct FoundEndpoint {
    /// Index of the manifest that sets it.
    pub index: usize,
    /// The field that sets it.
    pub pointer: String,
    /// What sets it, for messages: "env EDGEFLEET_TELEMETRY_ENDPOINT of container `otelcol`".
    pub what: String,
    pub endpoint: Endpoint,
    /// The data classes that flow there, each with the object that declares it.
    pub classes: BTreeMap<String, String>,
}

/// The object's namespace, for matching references (unset is its own namespace).
fn namespace(m: &Manifest) -> &str {
    m.value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn name(m: &Manifest) -> &str {
    m.value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// ConfigMaps a pod spec mounts or reads.
fn config_maps_used(m: &Manifest) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some(pod) = m.pod_spec() else {
        return out;
    };
    let mut add = |v: Option<&Value>| {
        if let Some(n) = v.and_then(Value::as_str) {
            out.insert(n.to_owned());
        }
    };
    for vol in pod
        .spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        add(vol.pointer("/configMap/name"));
        for src in vol
            .pointer("/projected/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(src.pointer("/configMap/name"));
        }
    }
    for c in m.containers() {
        for e in c
            .get(&["envFrom"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(e.pointer("/configMapRef/name"));
        }
        for e in c
            .get(&["env"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            add(e.pointer("/valueFrom/configMapKeyRef/name"));
        }
    }
    out
}

/// Every endpoint the site's objects send data to, with the classes that flow there. Objects
/// that declare no class (and ConfigMaps no classed workload reads) are still listed, with no
/// class: the rules judge only classed data.
pub(crate) fn endpoints(manifests: &[Manifest]) -> Vec<FoundEndpoint> {
    let mut out = Vec::new();
    // ConfigMap (namespace, name) → classes of the workloads that read it.
    let mut readers: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
    for m in manifests {
        let classes = data_classes(m);
        if classes.is_empty() {
            continue;
        }
        for cm in config_maps_used(m) {
            let entry = readers.entry((namespace(m).to_owned(), cm)).or_default();
            for class in classes.keys() {
                entry
                    .entry(class.clone())
                    .or_insert_with(|| m.object.to_string());
            }
        }
    }
    for (index, m) in manifests.iter().enumerate() {
        let own: BTreeMap<String, String> = data_classes(m)
            .into_keys()
            .map(|c| (c, m.object.to_string()))
            .collect();
        for c in m.containers() {
            for (i, e) in c
                .get(&["env"])
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(value) = e.get("value").and_then(Value::as_str) else {
                    continue;
                };
                let Some(endpoint) = Endpoint::parse(value) else {
                    continue;
                };
                let var = e.get("name").and_then(Value::as_str).unwrap_or("?");
                out.push(FoundEndpoint {
                    index,
                    pointer: c.ptr(&["env", &i.to_string(), "value"]),
                    what: format!("env {var} of {}", c.label()),
                    endpoint,
                    classes: own.clone(),
                });
            }
        }
        if m.kind() == "ConfigMap" {
            let mut classes = own.clone();
            if let Some(r) = readers.get(&(namespace(m).to_owned(), name(m).to_owned())) {
                for (class, by) in r {
                    classes.entry(class.clone()).or_insert_with(|| by.clone());
                }
            }
            for (key, value) in m
                .value
                .get("data")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let Some(text) = value.as_str() else {
                    continue;
                };
                for (field, found) in config_endpoints_cached(text).iter().cloned() {
                    let what = match field {
                        None => format!("ConfigMap key `{key}`"),
                        Some(f) => format!("ConfigMap key `{key}` ({f})"),
                    };
                    let pointer = format!("/data/{}", kube_basics::pointer::escape(key));
                    out.push(FoundEndpoint {
                        index,
                        pointer,
                        what,
                        endpoint: found.1,
                        classes: classes.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Config values found in a run: the same ConfigMap (a base's collector config) reaches every
/// site, and two rules read it at each. Bounded: past this many distinct values, or for values
/// above this size, nothing more is kept.
const CONFIG_CACHE_ENTRIES: usize = 4096;
const CONFIG_CACHE_MAX_TEXT: usize = 64 * 1024;

type ConfigEndpoints = Arc<Vec<(Option<String>, (String, Endpoint))>>;

static CONFIG_CACHE: LazyLock<Mutex<HashMap<String, ConfigEndpoints>>> =
    LazyLock::new(Default::default);

/// [`config_endpoints`], read once per distinct value.
fn config_endpoints_cached(text: &str) -> ConfigEndpoints {
    if text.len() > CONFIG_CACHE_MAX_TEXT {
        return Arc::new(config_endpoints(text));
    }
    if let Some(found) = CONFIG_CACHE.lock().ok().and_then(|c| c.get(text).cloned()) {
        return found;
    }
    let found = Arc::new(config_endpoints(text));
    if let Ok(mut cache) = CONFIG_CACHE.lock()
        && cache.len() < CONFIG_CACHE_ENTRIES
    {
        cache.insert(text.to_owned(), found.clone());
    }
    found
}

/// Endpoints in one ConfigMap value: the whole value, the well-known fields of a YAML or JSON
/// config, or the `address` lines of a mosquitto bridge. Each with the field's name.
fn config_endpoints(text: &str) -> Vec<(Option<String>, (String, Endpoint))> {
    let mut out = Vec::new();
    if let Some(e) = Endpoint::parse(text) {
        out.push((None, (text.trim().to_owned(), e)));
        return out;
    }
    if !text.contains('\n') && !text.trim_start().starts_with('{') {
        return out;
    }
    if looks_like_yaml(text)
        && let Ok(docs) = source::parse_yaml(std::path::Path::new("<configmap>"), text)
    {
        for doc in docs {
            let json = doc.to_json();
            if json.is_object() {
                walk_config(&json, &mut Vec::new(), &mut out);
            }
        }
        if !out.is_empty() {
            return out;
        }
    }
    // mosquitto.conf: `address host[:port][ host[:port]...]` in a bridge section.
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if !matches!(words.next(), Some("address" | "addresses")) {
            continue;
        }
        for word in words {
            if let Some(e) =
                Endpoint::parse(word).or_else(|| Endpoint::parse(&format!("x://{word}")))
            {
                out.push((Some("MQTT bridge address".to_owned()), (word.to_owned(), e)));
            }
        }
    }
    out
}

/// Whether a config text can hold a YAML or JSON mapping: a `{` document, or a line with a
/// `key:` entry. Line-oriented configs (mosquitto.conf: `address host:port`) are not worth handing
/// to the YAML parser, whose error path is the slow one.
fn looks_like_yaml(text: &str) -> bool {
    text.trim_start().starts_with('{')
        || text.lines().any(|line| {
            let line = line.trim();
            !line.starts_with('#') && (line.ends_with(':') || line.contains(": "))
        })
}

/// The well-known endpoint fields of collector, Prometheus, object-store and bridge configs.
fn walk_config(
    v: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Option<String>, (String, Endpoint))>,
) {
    if path.len() > 64 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                path.push(k.clone());
                walk_config(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(i.to_string());
                walk_config(child, path, out);
                path.pop();
            }
        }
        Value::String(s) => {
            let Some(field) = well_known_field(path) else {
                return;
            };
            // A host without scheme or port is an endpoint in these fields.
            let endpoint = Endpoint::parse(s).or_else(|| {
                (!s.contains("://") && !s.contains("${"))
                    .then(|| Endpoint::parse(&format!("x://{}", s.trim())))
                    .flatten()
            });
            if let Some(e) = endpoint {
                out.push((Some(field), (s.clone(), e)));
            }
        }
        _ => {}
    }
}

fn well_known_field(path: &[String]) -> Option<String> {
    let last = path.last()?.as_str();
    let lower: Vec<String> = path.iter().map(|p| p.to_ascii_lowercase()).collect();
    let has = |seg: &str| lower.iter().any(|p| p == seg);
    let joined = path.join(".");
    match last {
        // OpenTelemetry collector: exporters.<name>.endpoint (and signal-specific endpoints).
        "endpoint" | "traces_endpoint" | "logs_endpoint" | "metrics_endpoint"
            if lower.first().is_some_and(|p| p == "exporters") =>
        {
            Some(format!("OTLP exporter {joined}"))
        }
        // Prometheus / vmagent: remote_write[].url.
        "url" if lower.iter().any(|p| p == "remote_write") => {
            Some(format!("Prometheus remote_write {joined}"))
        }
        "endpoint" if has("s3") => Some(format!("S3 endpoint {joined}")),
        "address" | "addresses" | "server" if has("bridge") => {
            Some(format!("MQTT bridge {joined}"))
        }
        _ => None,
    }
}

/// `a site in NO (zone EEA)`.
pub(crate) fn site_text(site: &SiteContext) -> String {
    format!(
        "a site in {} (zone {})",
        site.region.jurisdiction, site.region.zone
    )
}

/// The zone of an endpoint.
pub(crate) fn zone_of(site: &SiteContext, e: &Endpoint) -> EndpointZone {
    site.residency.zone_of(&e.host)
}

#[cfg(test)]
mod tests {
    use super::config_endpoints;

    fn hosts(text: &str) -> Vec<String> {
        config_endpoints(text)
            .into_iter()
            .map(|(_, (_, e))| e.host.to_string())
            .collect()
    }

    #[test]
    fn config_values_yield_their_well_known_endpoints_only() {
        let otel = "receivers:\n  otlp: {protocols: {grpc: {endpoint: 0.0.0.0:4317}}}\nextensions:\n  health_check: {endpoint: 0.0.0.0:13133}\nexporters:\n  otlphttp: {endpoint: https://otlp.eu.example.net}\n  otlp/b: {endpoint: \"collector.example.org:4317\"}\n";
        assert_eq!(
            hosts(otel),
            ["otlp.eu.example.net", "collector.example.org"]
        );
        let prom = "remote_write:\n  - url: https://prom.example.com/api/v1/write\nscrape_configs:\n  - static_configs: [{targets: [\"10.0.0.1:9100\"]}]\n";
        assert_eq!(hosts(prom), ["prom.example.com"]);
        let mosquitto = "connection up\naddress a.example.net:8883 b.example.net\ntopic # out 1\n";
        assert_eq!(hosts(mosquitto), ["a.example.net", "b.example.net"]);
        assert_eq!(hosts("https://s3.example.net"), ["s3.example.net"]);
        assert!(hosts("listener 1883\nallow_anonymous true\n").is_empty());
    }

    #[test]
    fn hostile_config_values_do_not_panic() {
        let deep = format!("{}x{}", "[".repeat(10_000), "]".repeat(10_000));
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
        for text in [
            deep.as_str(),
            bomb,
            "exporters: {x: {endpoint: \"https://[::1\"}}\n",
            "address \u{0}:1 é:2 [::1]:99999\n",
            "{\"exporters\": {\"x\": {\"endpoint\": 12}}}\n",
            ":\n- - -\n  ? ]\n",
        ] {
            let _ = config_endpoints(text);
        }
    }
}
