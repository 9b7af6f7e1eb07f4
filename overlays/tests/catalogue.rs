//! The workload catalogue: the built-in one renders every part for realistic sites, and broken
//! catalogues fail with errors that name the file.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use edgefleet_overlays::catalogue::{Catalogue, CatalogueError, Part, WorkloadMeta};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Sample contexts (the variables of docs/templates.md)
// ---------------------------------------------------------------------------------------------

/// A small ARM box without GPU on a 72 h satellite link.
fn small_arm_on_satellite() -> Value {
    json!({
        "site": {
            "id": "rig-nsea-042", "region": "eu-north", "hardware": "arm-4c-4g",
            "backhaul": "vsat-512k", "wave": "canary", "cluster": "rig-nsea-042",
            "labels": {"tier": "canary"}, "annotations": {}, "location": "North Sea, block 34/7",
        },
        "hardware": {
            "name": "arm-4c-4g", "arch": "arm64", "cpu": "4", "memory": "3584Mi",
            "ephemeral_storage": "32Gi", "cpu_millis": 4000, "memory_mib": 3584,
            "ephemeral_storage_mib": 32768, "accelerators": {}, "gpu": 0, "power_watts": 15,
        },
        "backhaul": {
            "name": "vsat-512k", "bandwidth_kbps": 512, "metered": true, "latency_ms": 650,
            "max_outage": "72h", "max_outage_seconds": 259200, "can_drop": true,
        },
        "region": {
            "name": "eu-north", "jurisdiction": "NO", "zone": "EEA",
            "endpoints": {
                "telemetry": "https://otlp.eu-north.example.net",
                "metrics": "https://prom.eu-north.example.net/api/v1/write",
                "object_store": "https://s3.eu-north.example.net",
                "mqtt_bridge": "mqtts://mqtt.eu-north.example.net:8883",
            },
        },
        // No platform declared: templates place the workload as on upstream Kubernetes.
        "platform": null,
    })
}

/// A GPU box on fibre, in a region without an MQTT bridge.
fn gpu_box_on_fibre() -> Value {
    json!({
        "site": {
            "id": "store-0815", "region": "us-east", "hardware": "xeon-gpu",
            "backhaul": "fibre-1g", "wave": "wave-2", "cluster": "store-0815",
            "labels": {}, "annotations": {"ops.example.com/contact": "noc"}, "location": "",
        },
        "hardware": {
            "name": "xeon-gpu", "arch": "amd64", "cpu": "16", "memory": "64Gi",
            "ephemeral_storage": "1Ti", "cpu_millis": 16000, "memory_mib": 65536,
            "ephemeral_storage_mib": 1048576, "accelerators": {"nvidia.com/gpu": 1}, "gpu": 1,
            "power_watts": 450,
        },
        "backhaul": {
            "name": "fibre-1g", "bandwidth_kbps": 1000000, "metered": false, "latency_ms": 8,
            "max_outage": "15m", "max_outage_seconds": 900, "can_drop": true,
        },
        "region": {
            "name": "us-east", "jurisdiction": "US", "zone": "US",
            "endpoints": {
                "telemetry": "https://otlp.us-east.example.net",
                "metrics": "https://prom.us-east.example.net/api/v1/write",
            },
        },
        "platform": null,
    })
}

/// A sample on a KubeEdge edge node, with Spin and a SEV-SNP confidential runtime (the `platform`
/// variable as the planner builds it with `plan::platform_context`).
fn on_kubeedge(mut sample: Value) -> Value {
    sample["platform"] = json!({
        "name": "kubeedge-corridor", "distribution": "kubeedge", "version": "1.21",
        "kubernetes": "1.31", "kubernetes_minor": 31,
        "runtime_classes": [
            {"name": "runc", "kind": "container", "tee": null},
            {"name": "spin", "kind": "wasm", "tee": null},
            {"name": "kata-qemu-snp", "kind": "confidential", "tee": "sev-snp"},
        ],
        "wasm_runtime": "spin", "confidential_runtime": "kata-qemu-snp",
        "identity": {"trust_domain": "edge.example.net", "svid_ttl": "96h", "svid_ttl_seconds": 345600},
    });
    sample
}

/// The `buffer` variable as docs/templates.md defines it (the generator computes the same with
/// `edgefleet_inventory::OutageBuffer`).
fn buffer_for(meta: &WorkloadMeta, ctx: &Value) -> Value {
    let Some(d) = meta.upstream_demand() else {
        return json!({
            "enabled": false, "upstream_kbps": 0, "link_budget_kbps": 0, "reduce": false,
            "keep_ratio": 1.0, "effective_kbps": 0.0, "required_mib": 0, "mib": 0,
            "bounded_by_disk": false,
        });
    };
    let bandwidth = ctx["backhaul"]["bandwidth_kbps"].as_f64().unwrap();
    let outage = ctx["backhaul"]["max_outage_seconds"].as_f64().unwrap();
    let disk = ctx["hardware"]["ephemeral_storage_mib"].as_f64().unwrap();
    let budget = (bandwidth * d.link_share).floor();
    let up = d.upstream_kbps as f64;
    let reduce = up > budget;
    let keep = if reduce {
        ((budget / 2.0 / up * 1000.0).floor() / 1000.0).max(0.001)
    } else {
        1.0
    };
    let effective = up * keep;
    let required = (effective * 1000.0 / 8.0 * outage / 1048576.0).ceil() as u64;
    let bound = (disk * d.buffer_disk_share).floor() as u64;
    json!({
        "enabled": true, "upstream_kbps": d.upstream_kbps, "link_budget_kbps": budget as u64,
        "reduce": reduce, "keep_ratio": keep, "effective_kbps": effective,
        "required_mib": required, "mib": required.max(d.buffer_min_mib).min(bound),
        "bounded_by_disk": required > bound,
    })
}

fn ctx_for(catalogue: &Catalogue, workload: &str, base: &Value) -> Value {
    let mut ctx = base.clone();
    ctx["buffer"] = buffer_for(catalogue.get(workload).unwrap(), base);
    ctx
}

fn render(c: &Catalogue, workload: &str, part: Part, base: &Value) -> Vec<Value> {
    c.render(workload, part, &ctx_for(c, workload, base))
        .unwrap_or_else(|e| panic!("{workload} {part}: {e}"))
}

fn id(doc: &Value) -> (String, String, String) {
    (
        doc["apiVersion"].as_str().unwrap().to_owned(),
        doc["kind"].as_str().unwrap().to_owned(),
        doc["metadata"]["name"].as_str().unwrap().to_owned(),
    )
}

/// The pod spec of a workload object (or patch), if it has one.
fn pod_spec(doc: &Value) -> Option<&Value> {
    doc.get("spec")?.get("template")?.get("spec")
}

fn env_of<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
}

/// CPU in millicores and memory in MiB from the quantities the templates write.
fn millis(q: &Value) -> u64 {
    let s = q.as_str().unwrap();
    s.strip_suffix('m')
        .map(|n| n.parse().unwrap())
        .unwrap_or_else(|| s.parse::<u64>().unwrap() * 1000)
}

fn mib(q: &Value) -> u64 {
    let s = q.as_str().unwrap();
    if let Some(n) = s.strip_suffix("Mi") {
        n.parse().unwrap()
    } else if let Some(n) = s.strip_suffix("Gi") {
        n.parse::<u64>().unwrap() * 1024
    } else {
        panic!("unexpected memory quantity {s}")
    }
}

// ---------------------------------------------------------------------------------------------
// The built-in catalogue
// ---------------------------------------------------------------------------------------------

const WORKLOADS: [&str; 6] = [
    "badge-verifier",
    "inference-server",
    "metrics-agent",
    "mqtt-broker",
    "sensor-filter",
    "telemetry-collector",
];

/// The workloads a site runs only when it lists them (they need a Wasm or a confidential runtime).
const OPT_IN: [&str; 2] = ["badge-verifier", "sensor-filter"];

#[test]
fn builtin_catalogue_has_six_workloads_two_of_them_opt_in() {
    let c = Catalogue::builtin();
    let names: Vec<&str> = c.workloads().map(|w| w.name.as_str()).collect();
    assert_eq!(names, WORKLOADS);
    let opt_in: Vec<&str> = c
        .workloads()
        .filter(|w| w.opt_in)
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(opt_in, OPT_IN);
    for w in c.workloads() {
        assert!(w.has_part(Part::Base), "{}", w.name);
        assert!(w.raw.is_object());
        assert!(
            !w.images.is_empty(),
            "{}: images listed in workload.yaml",
            w.name
        );
        for image in w.images.values() {
            assert!(image.name.starts_with("registry.example.com/"), "{image:?}");
        }
    }
    let telemetry = c.get("telemetry-collector").unwrap();
    assert_eq!(telemetry.namespace, "edge-telemetry");
    assert!(telemetry.upstream_demand().is_some());
    assert!(
        c.get("inference-server")
            .unwrap()
            .upstream_demand()
            .is_none()
    );
    assert!(c.get("nope").is_none());
}

#[test]
fn catalogue_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Catalogue>();
}

#[test]
fn every_part_renders_mappings_that_target_base_objects() {
    let c = Catalogue::builtin();
    for sample in [
        small_arm_on_satellite(),
        gpu_box_on_fibre(),
        on_kubeedge(small_arm_on_satellite()),
    ] {
        let platform = !sample["platform"].is_null();
        for w in WORKLOADS {
            let base = render(&c, w, Part::Base, &sample);
            assert!(!base.is_empty());
            let base_ids: BTreeSet<_> = base.iter().map(id).collect();
            assert_eq!(
                base_ids.len(),
                base.len(),
                "{w}: duplicate objects in the base"
            );
            // The main object carries the workload's name.
            assert!(
                base.iter().any(|d| d["metadata"]["name"] == w
                    && matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet"))),
                "{w}"
            );
            for part in [Part::Hardware, Part::Backhaul, Part::Region, Part::Site] {
                let docs = render(&c, w, part, &sample);
                // A site patch may only adapt the workload to a platform: on plain Kubernetes
                // it can be empty.
                if part != Part::Site || platform {
                    assert_eq!(
                        docs.is_empty(),
                        !c.get(w).unwrap().has_part(part),
                        "{w} {part}"
                    );
                }
                for doc in &docs {
                    assert!(doc.is_object());
                    assert!(
                        base_ids.contains(&id(doc)),
                        "{w} {part}: patch {:?} names no object of the base",
                        id(doc)
                    );
                }
            }
        }
    }
}

#[test]
fn base_containers_follow_the_edge_rules() {
    let c = Catalogue::builtin();
    let sample = small_arm_on_satellite();
    for w in WORKLOADS {
        let meta = c.get(w).unwrap();
        for doc in render(&c, w, Part::Base, &sample) {
            let Some(spec) = pod_spec(&doc) else { continue };
            assert_eq!(spec["securityContext"]["runAsNonRoot"], true, "{w}");
            for container in spec["containers"].as_array().unwrap() {
                let name = container["name"].as_str().unwrap();
                let image = container["image"].as_str().unwrap();
                let (repo, digest) = image.split_once("@sha256:").expect("pinned by digest");
                assert_eq!(digest.len(), 64);
                assert!(digest.bytes().all(|b| b.is_ascii_hexdigit()));
                assert!(
                    meta.images
                        .values()
                        .any(|i| i.reference() == image && i.name == repo),
                    "{w}/{name}: image {image} is listed in workload.yaml"
                );
                assert_eq!(container["imagePullPolicy"], "IfNotPresent");
                let res = &container["resources"];
                for key in ["cpu", "memory"] {
                    assert!(
                        res["requests"][key].is_string(),
                        "{w}/{name} requests.{key}"
                    );
                    assert!(res["limits"][key].is_string(), "{w}/{name} limits.{key}");
                }
                let readiness = &container["readinessProbe"];
                let liveness = &container["livenessProbe"];
                assert!(readiness.is_object() && liveness.is_object(), "{w}/{name}");
                assert_ne!(readiness, liveness, "{w}/{name}: two different probes");
                let ports: BTreeSet<_> = container["ports"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                for probe in [readiness, liveness, &container["startupProbe"]] {
                    for kind in ["httpGet", "tcpSocket"] {
                        if let Some(port) = probe[kind]["port"].as_str() {
                            assert!(ports.contains(port), "{w}/{name}: probe on a declared port");
                        }
                    }
                }
                let sc = &container["securityContext"];
                assert_eq!(sc["runAsNonRoot"], true);
                assert_eq!(sc["allowPrivilegeEscalation"], false);
                assert_eq!(sc["readOnlyRootFilesystem"], true);
                assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
                assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
            }
            let labels = &doc["spec"]["template"]["metadata"]["labels"];
            assert_eq!(labels["app.kubernetes.io/name"], w);
            assert_eq!(labels["app.kubernetes.io/part-of"], "edgefleet");
        }
    }
}

#[test]
fn gpu_is_requested_only_on_gpu_hardware() {
    let c = Catalogue::builtin();
    let gpu_of = |sample: &Value| {
        let docs = render(&c, "inference-server", Part::Hardware, sample);
        let spec = pod_spec(&docs[0]).unwrap().clone();
        (
            spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"].clone(),
            spec,
        )
    };
    let (none, arm) = gpu_of(&small_arm_on_satellite());
    assert!(none.is_null());
    assert_eq!(arm["nodeSelector"], json!({"kubernetes.io/arch": "arm64"}));
    assert!(arm.get("tolerations").is_none());
    let (one, gpu) = gpu_of(&gpu_box_on_fibre());
    assert_eq!(one, "1");
    assert_eq!(gpu["nodeSelector"]["kubernetes.io/arch"], "amd64");
    assert_eq!(gpu["nodeSelector"]["nvidia.com/gpu.present"], "true");
    assert_eq!(gpu["tolerations"][0]["key"], "nvidia.com/gpu");
    // No other workload asks for an accelerator, even on the GPU box.
    for w in WORKLOADS {
        for part in Part::ALL {
            let text =
                serde_json::to_string(&render(&c, w, part, &small_arm_on_satellite())).unwrap();
            assert!(!text.contains("nvidia.com/gpu"), "{w} {part}");
        }
    }
}

#[test]
fn requests_fit_the_small_box_with_headroom() {
    let c = Catalogue::builtin();
    for sample in [small_arm_on_satellite(), gpu_box_on_fibre()] {
        let cpu = sample["hardware"]["cpu_millis"].as_u64().unwrap();
        let mem = sample["hardware"]["memory_mib"].as_u64().unwrap();
        let (mut cpu_req, mut mem_req, mut cpu_lim, mut mem_lim) = (0, 0, 0, 0);
        // The workloads every site runs unless it lists its own (opt-in ones are chosen per site).
        for w in WORKLOADS.into_iter().filter(|w| !OPT_IN.contains(w)) {
            for doc in render(&c, w, Part::Hardware, &sample) {
                let Some(spec) = pod_spec(&doc) else { continue };
                let Some(containers) = spec["containers"].as_array() else {
                    continue;
                };
                for container in containers {
                    let r = &container["resources"];
                    let (rc, rm) = (millis(&r["requests"]["cpu"]), mib(&r["requests"]["memory"]));
                    let (lc, lm) = (millis(&r["limits"]["cpu"]), mib(&r["limits"]["memory"]));
                    assert!(lc >= rc && lm >= rm, "{w}: limits ≥ requests");
                    cpu_req += rc;
                    mem_req += rm;
                    cpu_lim += lc;
                    mem_lim += lm;
                }
            }
        }
        assert!(
            cpu_req * 100 <= cpu * 60,
            "cpu requests {cpu_req}m of {cpu}m"
        );
        assert!(
            mem_req * 100 <= mem * 60,
            "memory requests {mem_req}Mi of {mem}Mi"
        );
        assert!(cpu_lim <= cpu, "cpu limits {cpu_lim}m of {cpu}m");
        assert!(mem_lim <= mem, "memory limits {mem_lim}Mi of {mem}Mi");
    }
}

#[test]
fn outage_settings_follow_the_backhaul() {
    let c = Catalogue::builtin();
    let sat = render(
        &c,
        "telemetry-collector",
        Part::Backhaul,
        &small_arm_on_satellite(),
    );
    let otel = &pod_spec(&sat[0]).unwrap()["containers"][0];
    assert_eq!(env_of(otel, "EDGEFLEET_RETRY_MAX_ELAPSED"), Some("259200s"));
    assert_eq!(env_of(otel, "EDGEFLEET_COMPRESSION"), Some("zstd"));
    let fibre = render(
        &c,
        "telemetry-collector",
        Part::Backhaul,
        &gpu_box_on_fibre(),
    );
    let otel = &pod_spec(&fibre[0]).unwrap()["containers"][0];
    assert_eq!(env_of(otel, "EDGEFLEET_RETRY_MAX_ELAPSED"), Some("900s"));
    assert_eq!(env_of(otel, "EDGEFLEET_COMPRESSION"), Some("gzip"));
}

#[test]
fn reduce_turns_on_sampling_and_longer_scrapes() {
    let c = Catalogue::builtin();
    let sat = small_arm_on_satellite();
    let ctx = ctx_for(&c, "telemetry-collector", &sat);
    assert_eq!(
        ctx["buffer"]["reduce"], true,
        "256 kbit/s does not fit a quarter of 512"
    );
    assert_eq!(ctx["buffer"]["keep_ratio"], 0.25);
    let site = c.render("telemetry-collector", Part::Site, &ctx).unwrap();
    let otel = &pod_spec(&site[0]).unwrap()["containers"][0];
    assert_eq!(env_of(otel, "EDGEFLEET_SAMPLING_PERCENTAGE"), Some("25.0"));
    assert_eq!(env_of(otel, "EDGEFLEET_SITE_ID"), Some("rig-nsea-042"));
    // The sampler is in the traces and logs pipelines of the collector's config.
    let base = c.render("telemetry-collector", Part::Base, &ctx).unwrap();
    let cm = base.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    let config: Value =
        serde_saphyr::from_str(cm["data"]["collector.yaml"].as_str().unwrap()).unwrap();
    for pipeline in ["traces", "logs"] {
        let processors = &config["service"]["pipelines"][pipeline]["processors"];
        assert!(
            processors
                .as_array()
                .unwrap()
                .contains(&json!("probabilistic_sampler"))
        );
    }
    assert_eq!(
        config["exporters"]["otlphttp"]["sending_queue"]["storage"],
        "file_storage"
    );
    // The queue and its disk follow the buffer.
    let mib = ctx["buffer"]["mib"].as_u64().unwrap();
    assert_eq!(
        env_of(otel, "EDGEFLEET_QUEUE_SIZE"),
        Some((mib * 2).to_string().as_str())
    );
    let volume = &pod_spec(&site[0]).unwrap()["volumes"][0];
    assert_eq!(volume["name"], "queue");
    assert_eq!(
        volume["emptyDir"]["sizeLimit"],
        format!("{}Mi", mib + mib.div_ceil(4) + 32)
    );

    let fibre = gpu_box_on_fibre();
    let site = render(&c, "telemetry-collector", Part::Site, &fibre);
    let otel = &pod_spec(&site[0]).unwrap()["containers"][0];
    assert_eq!(env_of(otel, "EDGEFLEET_SAMPLING_PERCENTAGE"), Some("100"));

    // The metrics agent scrapes less often instead.
    let interval = |sample: &Value| {
        let site = render(&c, "metrics-agent", Part::Site, sample);
        env_of(
            &pod_spec(&site[0]).unwrap()["containers"][0],
            "EDGEFLEET_SCRAPE_INTERVAL",
        )
        .unwrap()
        .to_owned()
    };
    assert_eq!(interval(&fibre), "30s");
    assert_eq!(interval(&sat), "30s", "64 kbit/s fits 15% of 512");
    let mut narrow = sat.clone();
    narrow["backhaul"]["bandwidth_kbps"] = json!(256);
    let buffer = &ctx_for(&c, "metrics-agent", &narrow)["buffer"];
    assert_eq!(
        (buffer["reduce"].clone(), buffer["keep_ratio"].as_f64()),
        (json!(true), Some(0.296))
    );
    assert_eq!(interval(&narrow), "102s", "30 s / 0.296, rounded up");
}

#[test]
fn mqtt_bridge_follows_the_region() {
    let c = Catalogue::builtin();
    let conf = |sample: &Value| {
        let docs = render(&c, "mqtt-broker", Part::Site, sample);
        let cm = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
        cm["data"]["20-site.conf"].as_str().unwrap().to_owned()
    };
    let sat = conf(&small_arm_on_satellite());
    assert!(
        sat.contains("\naddress mqtt.eu-north.example.net:8883\n"),
        "{sat}"
    );
    assert!(
        sat.contains("\ntopic telemetry/# out 1 \"\" edgefleet/rig-nsea-042/\n"),
        "{sat}"
    );
    assert!(sat.contains("\nbridge_certfile "));
    let fibre = conf(&gpu_box_on_fibre());
    assert!(
        !fibre.contains("connection"),
        "no bridge without region.endpoints.mqtt_bridge"
    );
    assert!(fibre.contains("max_queued_bytes "));

    // A bridge URL that would add a directive is refused, naming the template.
    let mut bad = small_arm_on_satellite();
    bad["region"]["endpoints"]["mqtt_bridge"] =
        json!("mqtts://evil.example.net\nallow_anonymous true");
    let err = c
        .render("mqtt-broker", Part::Site, &ctx_for(&c, "mqtt-broker", &bad))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("templates/mqtt-broker/site.yaml.j2:"),
        "{text}"
    );
    assert!(text.contains("mqtt_bridge must be"), "{text}");
    for url in [
        "https://mqtt.example.net",
        "mqtts://user:pw@mqtt.example.net",
        "mqtt://a b",
    ] {
        bad["region"]["endpoints"]["mqtt_bridge"] = json!(url);
        let ctx = ctx_for(&c, "mqtt-broker", &bad);
        assert!(c.render("mqtt-broker", Part::Site, &ctx).is_err(), "{url}");
    }
    let mut bad = small_arm_on_satellite();
    bad["site"]["id"] = json!("x\ninclude_dir /tmp");
    let ctx = ctx_for(&c, "mqtt-broker", &bad);
    let err = c
        .render("mqtt-broker", Part::Site, &ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("must be a DNS-1123 label"), "{err}");
}

#[test]
fn missing_variable_names_the_template_and_line() {
    let c = Catalogue::builtin();
    let mut ctx = ctx_for(&c, "telemetry-collector", &small_arm_on_satellite());
    ctx["site"].as_object_mut().unwrap().remove("id");
    let err = c
        .render("telemetry-collector", Part::Site, &ctx)
        .unwrap_err();
    assert!(
        matches!(err, CatalogueError::Template { line: Some(_), .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("templates/telemetry-collector/site.yaml.j2:"),
        "{text}"
    );
    assert!(text.contains("site.id"), "{text}");

    // A part only sees its own variables: the hardware patch cannot use the site.
    let err = c
        .render("telemetry-collector", Part::Hardware, &json!({"site": {}}))
        .unwrap_err();
    assert!(err.to_string().contains("hardware"), "{err}");
}

/// Whether `s` occurs, whole, as a string value somewhere in `v`.
fn has_string(v: &Value, s: &str) -> bool {
    match v {
        Value::String(x) => x == s,
        Value::Array(a) => a.iter().any(|x| has_string(x, s)),
        Value::Object(o) => o.values().any(|x| has_string(x, s)),
        _ => false,
    }
}

#[test]
fn hostile_strings_stay_values() {
    let c = Catalogue::builtin();
    let hostile =
        "a\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: x}\n\"'{{ x }}#\u{85}\u{2028}";
    let sample = small_arm_on_satellite();
    for w in WORKLOADS {
        for part in Part::ALL {
            let ctx = ctx_for(&c, w, &sample);
            let clean = c.render(w, part, &ctx).unwrap();
            let mut ctx = ctx.clone();
            // Free text of the site (the planner writes it as annotations; templates may use it)...
            ctx["site"]["location"] = json!(hostile);
            ctx["site"]["annotations"] = json!({"x": hostile});
            ctx["site"]["labels"] = json!({hostile: hostile});
            // ...and region values that templates do print, as environment values.
            ctx["region"]["endpoints"]["telemetry"] = json!(hostile);
            ctx["region"]["endpoints"]["metrics"] = json!(hostile);
            if w == "mqtt-broker" {
                // Refused outright: see mqtt_bridge_follows_the_region.
                ctx["region"]["endpoints"]
                    .as_object_mut()
                    .unwrap()
                    .remove("mqtt_bridge");
            }
            let dirty = c
                .render(w, part, &ctx)
                .unwrap_or_else(|e| panic!("{w} {part}: {e}"));
            assert_eq!(clean.len(), dirty.len(), "{w} {part}: no new document");
            let text = serde_json::to_string(&dirty).unwrap();
            assert!(!text.contains("\"Secret\""), "{w} {part}");
            if part == Part::Region
                && !dirty.is_empty()
                && w != "inference-server"
                && w != "mqtt-broker"
            {
                assert!(
                    has_string(&Value::Array(dirty), hostile),
                    "{w}: the value round-trips"
                );
            }
        }
    }
    // vmagent pastes the region name and site id into its scrape config as text: refused.
    for (part, var) in [(Part::Region, "region"), (Part::Site, "site")] {
        let mut ctx = ctx_for(&c, "metrics-agent", &sample);
        ctx[var][if var == "site" { "id" } else { "name" }] = json!(hostile);
        let err = c
            .render("metrics-agent", part, &ctx)
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be a DNS-1123 label"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// Catalogues on disk
// ---------------------------------------------------------------------------------------------

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

const META: &str = "name: demo\ndescription: demo\nnamespace: demo\n";
const BASE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ workload.name }}\n";

fn load_err(files: &[(&str, &str)]) -> (tempfile::TempDir, CatalogueError) {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    let err = Catalogue::load(dir.path()).unwrap_err();
    (dir, err)
}

#[test]
fn a_catalogue_loads_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo/workload.yaml", META);
    write(dir.path(), "demo/base.yaml.j2", BASE);
    write(
        dir.path(),
        "demo/site.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  annotations: {{ site.annotations }}\ndata:\n  where: {{ site.location }}\n",
    );
    write(dir.path(), "README.md", "not a workload");
    let c = Catalogue::load(dir.path()).unwrap();
    assert_eq!(c.workloads().len(), 1);
    assert!(
        c.render("demo", Part::Hardware, &json!({}))
            .unwrap()
            .is_empty()
    );
    let docs = c.render("demo", Part::Base, &json!({})).unwrap();
    assert_eq!(docs[0]["metadata"]["name"], "demo");

    // Hostile keys and values in a map are data too.
    let hostile = "x\n---\nkind: Secret\nmetadata: {name: x}";
    let ctx =
        json!({"site": {"location": hostile, "annotations": {hostile: hostile, "b": "}} {{"}}});
    let docs = c.render("demo", Part::Site, &ctx).unwrap();
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0]["data"]["where"], hostile);
    assert_eq!(
        docs[0]["metadata"]["annotations"],
        ctx["site"]["annotations"]
    );

    let err = c.render("nope", Part::Base, &json!({})).unwrap_err();
    assert!(
        err.to_string().contains("unknown workload \"nope\""),
        "{err}"
    );
    let err = c.render("demo", Part::Base, &json!([])).unwrap_err();
    assert!(matches!(err, CatalogueError::Context(_)));
}

#[test]
fn bad_workload_yaml_points_at_line_and_column() {
    let (dir, err) = load_err(&[
        (
            "demo/workload.yaml",
            "name: other\ndescription: d\nnamespace: demo\n",
        ),
        ("demo/base.yaml.j2", BASE),
    ]);
    let path = dir.path().join("demo/workload.yaml");
    assert_eq!(err.path(), Some(path.as_path()));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:1:7: name \"other\" must equal the folder name \"demo\"",
            path.display()
        )
    );

    let (_, err) = load_err(&[
        (
            "demo/workload.yaml",
            "name: demo\ndescription: d\nnamespace: demo\nupstream_kbps: lots\n",
        ),
        ("demo/base.yaml.j2", BASE),
    ]);
    assert!(
        matches!(err, CatalogueError::Metadata { line: 4, .. }),
        "{err}"
    );

    let (_, err) = load_err(&[("Demo/workload.yaml", META), ("Demo/base.yaml.j2", BASE)]);
    assert!(err.to_string().contains("DNS-1123"), "{err}");

    let (_, err) = load_err(&[
        (
            "demo/workload.yaml",
            "name: demo\ndescription: d\nnamespace: demo\nimages:\n  x: {name: r/x, digest: \"sha256:abc\"}\n",
        ),
        ("demo/base.yaml.j2", BASE),
    ]);
    assert!(
        matches!(err, CatalogueError::Metadata { line: 5, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("64 lower-case hex"), "{err}");

    let (_, err) = load_err(&[
        (
            "demo/workload.yaml",
            "name: demo\ndescription: d\nnamespace: demo\nupstream_kbps: 10\n",
        ),
        ("demo/base.yaml.j2", BASE),
    ]);
    assert!(err.to_string().contains("link_share"), "{err}");
}

#[test]
fn layout_errors_name_the_file() {
    let (dir, err) = load_err(&[("demo/workload.yaml", META)]);
    assert_eq!(
        err.path(),
        Some(dir.path().join("demo/base.yaml.j2").as_path())
    );
    assert!(
        err.to_string()
            .contains("every workload needs a base template"),
        "{err}"
    );

    let (dir, err) = load_err(&[("demo/base.yaml.j2", BASE)]);
    assert_eq!(err.path(), Some(dir.path().join("demo").as_path()));
    assert!(err.to_string().contains("missing workload.yaml"), "{err}");

    let (dir, err) = load_err(&[
        ("demo/workload.yaml", META),
        ("demo/base.yaml.j2", BASE),
        ("demo/hardwear.yaml.j2", BASE),
    ]);
    assert_eq!(
        err.path(),
        Some(dir.path().join("demo/hardwear.yaml.j2").as_path())
    );

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "empty");
    let err = Catalogue::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("no workload"), "{err}");

    let err = Catalogue::load(&dir.path().join("missing")).unwrap_err();
    assert!(matches!(err, CatalogueError::Io { .. }), "{err}");
}

#[test]
fn template_errors_name_the_file_and_line() {
    // Syntax error, at load.
    let (dir, err) = load_err(&[
        ("demo/workload.yaml", META),
        (
            "demo/base.yaml.j2",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ workload.name }\n",
        ),
    ]);
    let path = dir.path().join("demo/base.yaml.j2");
    assert_eq!(err.path(), Some(path.as_path()));
    assert_eq!(err.line(), Some(4), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("{}:4: syntax error", path.display())),
        "{err}"
    );

    // The safe filter and autoescape blocks, at load, even in a branch never taken.
    for bad in [
        "{% if false %}{{ workload.name | safe }}{% endif %}",
        "{% autoescape false %}{{ workload.name }}{% endautoescape %}",
        "{% filter safe %}x{% endfilter %}",
    ] {
        let (_, err) = load_err(&[
            ("demo/workload.yaml", META),
            ("demo/base.yaml.j2", &format!("{BASE}data:\n  x: {bad}\n")),
        ]);
        assert_eq!(err.line(), Some(6), "{bad}: {err}");
        assert!(err.to_string().contains("not allowed"), "{err}");
    }

    // Output that is not YAML: the template line that produced it.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo/workload.yaml", META);
    write(
        dir.path(),
        "demo/base.yaml.j2",
        &format!("{BASE}data:\n  cpu: {{{{ workload.name }}}}m\n"),
    );
    write(dir.path(), "demo/region.yaml.j2", "- {{ region.name }}\n");
    write(
        dir.path(),
        "demo/site.yaml.j2",
        &format!("{BASE}---\n---\n{{{{ site.id }}}}\n"),
    );
    write(
        dir.path(),
        "demo/hardware.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
    );
    let c = Catalogue::load(dir.path()).unwrap();
    let err = c.render("demo", Part::Base, &json!({})).unwrap_err();
    assert!(
        matches!(
            err,
            CatalogueError::RenderedYaml {
                line: Some(6),
                output_line: 6,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("base.yaml.j2:6: rendered output is not valid YAML"),
        "{err}"
    );

    // Documents that are not objects: which one, in which template.
    let err = c
        .render("demo", Part::Region, &json!({"region": {"name": "r"}}))
        .unwrap_err();
    assert!(
        matches!(err, CatalogueError::Document { document: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("region.yaml.j2: document 1: is a sequence"),
        "{err}"
    );
    let err = c
        .render("demo", Part::Site, &json!({"site": {"id": "s"}}))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("site.yaml.j2: document 2: is a string"),
        "{err}"
    );
    let err = c
        .render("demo", Part::Hardware, &json!({"hardware": {}}))
        .unwrap_err();
    assert!(err.to_string().contains("has no metadata.name"), "{err}");
}

#[test]
fn helpers_fail_and_checksums() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "demo/workload.yaml", META);
    write(
        dir.path(),
        "demo/_lib.j2",
        "{% macro greet(x) %}{{ \"hi \" ~ x }}{% endmacro %}",
    );
    write(
        dir.path(),
        "demo/base.yaml.j2",
        "{% import \"_lib.j2\" as lib %}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\ndata:\n  a: {{ lib.greet(workload.name) }}\n  b: {{ \"abc\" | sha256 }}\n  c: {{ {\"k\": [1, \"v\"]} | toyaml }}\n",
    );
    write(
        dir.path(),
        "demo/site.yaml.j2",
        "{% if site.id == \"bad\" %}{{ fail(\"site \" ~ site.id ~ \" is not allowed\") }}{% endif %}\n",
    );
    let c = Catalogue::load(dir.path()).unwrap();
    let docs = c.render("demo", Part::Base, &json!({})).unwrap();
    assert_eq!(docs[0]["data"]["a"], "hi demo");
    assert_eq!(
        docs[0]["data"]["b"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let c_text = docs[0]["data"]["c"].as_str().unwrap();
    let back: Value = serde_saphyr::from_str(c_text).unwrap();
    assert_eq!(back, json!({"k": [1, "v"]}));
    assert!(
        c.render("demo", Part::Site, &json!({"site": {"id": "ok"}}))
            .unwrap()
            .is_empty()
    );
    let err = c
        .render("demo", Part::Site, &json!({"site": {"id": "bad"}}))
        .unwrap_err();
    assert!(err.to_string().contains("site.yaml.j2:1:"), "{err}");
    assert!(err.to_string().contains("site bad is not allowed"), "{err}");
}
