//! The outage rules on generated fleets: the generator and the linter agree (a 300-site synthetic
//! fleet has no `outage/*` finding), and a site whose buffer or certificate falls short of its
//! backhaul's outage is found at its line, while a site on a link that barely drops is not.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use edgefleet_e2e::{
    describe as text, findings, generate_fleet, line_of, lint_fleet_json,
    run_edgefleet as edgefleet, sites_of, synth_inventory, workspace_root,
};

/// Replaces `from` (which must occur once) in a file.
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{} should hold {from:?} once:\n{text}",
        path.display()
    );
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn overlay(out: &Path, region: &str, site: &str, workload: &str) -> PathBuf {
    out.join("sites")
        .join(region)
        .join(site)
        .join(workload)
        .join("kustomization.yaml")
}

#[test]
fn a_synthetic_fleet_of_300_sites_passes_every_outage_rule() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    synth_inventory(300, 1, &inventory);
    generate_fleet(&inventory, &workspace_root().join("templates"), &out);

    // The generator declared what the rules judge: every telemetry collector has a buffer, and
    // on a 72h VSAT link at the collector's default 256 kbit/s it is 256,000 / 8 × 259,200 =
    // 8,294,400,000 bytes = 7,910.2 MiB, configured as 7911Mi (computed by hand, not by edgefleet).
    let fleet = edgefleet_inventory::load_inventory(&inventory).expect("synthetic inventory loads");
    let (mut collectors, mut vsat_default) = (0, 0);
    for site in &fleet.sites {
        let file = overlay(&out, &site.region, &site.id, "telemetry-collector");
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        collectors += 1;
        assert!(
            text.contains("edgefleet.io/outage-buffer:"),
            "{}",
            file.display()
        );
        if site.backhaul == "vsat-2m" && site.overrides.is_empty() {
            vsat_default += 1;
            assert!(
                text.contains("edgefleet.io/outage-buffer: 7911Mi"),
                "{}:\n{text}",
                file.display()
            );
        }
    }
    assert!(collectors > 250, "{collectors} telemetry collectors");
    assert!(vsat_default > 0, "the synthetic fleet has no VSAT site");

    let (code, doc) = lint_fleet_json(&out, &inventory);
    assert_ne!(code, Some(2), "{}", doc["summary"]);
    let found = findings(&doc, "outage/");
    assert!(
        found.is_empty(),
        "the generator and the linter disagree on the outage rules: {found:#?}"
    );
}

#[test]
fn a_short_buffer_or_certificate_is_found_at_its_site_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let inventory = workspace_root().join("examples/fleet/site-inventory");
    generate_fleet(&inventory, &workspace_root().join("templates"), &out);

    // rig-nsea-042: VSAT, 72h. Its collector's buffer (7911Mi, see above) becomes 512Mi.
    // rig-nsea-043, same link, is left alone: its 1024 kbit/s override is above its budget of
    // 2048 × 0.25 = 512 kbit/s, so the generator keeps 0.25 (256 kbit/s) and needs 7911Mi too.
    let short = overlay(&out, "eu-north", "rig-nsea-042", "telemetry-collector");
    edit(
        &short,
        "edgefleet.io/outage-buffer: 7911Mi",
        "edgefleet.io/outage-buffer: 512Mi",
    );
    let reduced = std::fs::read_to_string(overlay(
        &out,
        "eu-north",
        "rig-nsea-043",
        "telemetry-collector",
    ))
    .unwrap();
    assert!(
        reduced.contains("edgefleet.io/outage-buffer: 7911Mi"),
        "{reduced}"
    );
    assert!(
        reduced.contains("edgefleet.io/upstream-keep-ratio: \"0.25\""),
        "{reduced}"
    );

    // The same 24h-renewal Certificate at rig-nsea-042 (72h outage) and at a fibre store (15m).
    let cert = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata:\n  name: bridge-client\nspec:\n  secretName: bridge-client-tls\n  issuerRef: {name: site-ca, kind: ClusterIssuer}\n  duration: 2160h\n  renewBefore: 24h\n";
    for (region, site) in [
        ("eu-north", "rig-nsea-042"),
        ("eu-central", "store-de-munich-0508"),
    ] {
        let k = overlay(&out, region, site, "mqtt-broker");
        std::fs::write(k.with_file_name("bridge-client.yaml"), cert).unwrap();
        edit(
            &k,
            "resources:\n- ../../../../bases/mqtt-broker\n",
            "resources:\n- ../../../../bases/mqtt-broker\n- bridge-client.yaml\n",
        );
    }

    let (code, doc) = lint_fleet_json(&out, &inventory);
    assert_eq!(code, Some(1), "{doc:#}");
    let found = findings(&doc, "outage/");
    let rules: BTreeSet<&str> = found.iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert_eq!(
        rules,
        BTreeSet::from([
            "outage/buffer-below-outage",
            "outage/certificate-renew-before"
        ]),
        "{found:#?}"
    );
    for f in &found {
        assert_eq!(
            sites_of(&[f]),
            BTreeSet::from(["rig-nsea-042".to_owned()]),
            "{f:#}"
        );
    }

    let buffer = found
        .iter()
        .find(|f| f["rule"] == "outage/buffer-below-outage")
        .unwrap();
    assert_eq!(
        Path::new(buffer["file"].as_str().unwrap()),
        short,
        "{buffer:#}"
    );
    let message = buffer["message"].as_str().unwrap();
    for part in [
        "512Mi",
        "vsat-2m",
        "72h",
        "needs 7911Mi",
        "[site rig-nsea-042]",
    ] {
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
    // The buffer is set in the overlay's inline patch: the finding is at its line there.
    assert_eq!(
        line_of(buffer).trim(),
        "edgefleet.io/outage-buffer: 512Mi",
        "{buffer:#}"
    );
    assert_eq!(buffer["severity"], "warning");

    let renewal = found
        .iter()
        .find(|f| f["rule"] == "outage/certificate-renew-before")
        .unwrap();
    assert!(
        renewal["file"]
            .as_str()
            .unwrap()
            .ends_with("rig-nsea-042/mqtt-broker/bridge-client.yaml"),
        "{renewal:#}"
    );
    assert_eq!(line_of(renewal).trim(), "renewBefore: 24h", "{renewal:#}");
    assert_eq!(renewal["severity"], "error");
}

#[test]
fn a_disk_bounded_buffer_is_said_by_the_generator_and_the_linter() {
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    let out = tmp.path().join("out");
    let example = workspace_root().join("examples/fleet/site-inventory");
    std::fs::create_dir_all(&inventory).unwrap();
    for entry in [
        "profiles.yaml",
        "regions.yaml",
        "rollout.yaml",
        "platforms.yaml",
        "sites",
    ] {
        let from = example.join(entry);
        if from.is_dir() {
            std::fs::create_dir_all(inventory.join(entry)).unwrap();
            for f in std::fs::read_dir(&from).unwrap() {
                let f = f.unwrap();
                std::fs::copy(f.path(), inventory.join(entry).join(f.file_name())).unwrap();
            }
        } else {
            std::fs::copy(&from, inventory.join(entry)).unwrap();
        }
    }
    // The Jetson boxes (the VSAT rigs) get 8Gi of disk: the collector may use a fifth,
    // 8192 × 0.2 = 1638 MiB, of the 7911 MiB a 72h outage at 256 kbit/s takes.
    edit(
        &inventory.join("profiles.yaml"),
        "ephemeral-storage: 100Gi}",
        "ephemeral-storage: 8Gi}",
    );
    let o = edgefleet(&[
        "generate",
        "--inventory",
        inventory.to_str().unwrap(),
        "--templates",
        workspace_root().join("templates").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(
            "warning: site rig-nsea-042: telemetry-collector gets a 1638 MiB outage buffer"
        ) && stderr.contains("needs 7911 MiB"),
        "{}",
        text(&o)
    );

    let (code, doc) = lint_fleet_json(&out, &inventory);
    assert_eq!(code, Some(1), "{doc:#}");
    let found = findings(&doc, "outage/");
    let collector = found
        .iter()
        .find(|f| {
            f["file"]
                .as_str()
                .unwrap()
                .ends_with("rig-nsea-042/telemetry-collector/kustomization.yaml")
        })
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(collector["rule"], "outage/buffer-below-outage");
    let message = collector["message"].as_str().unwrap();
    assert!(
        message.contains("outage buffer 1638Mi") && message.contains("needs 7911Mi"),
        "{message}"
    );
    // Every outage finding is at a VSAT rig on a Jetson; never at the fibre, LTE or LEO sites.
    let rigs = BTreeSet::from([
        "rig-gulf-007".to_owned(),
        "rig-nsea-042".to_owned(),
        "rig-nsea-043".to_owned(),
    ]);
    for f in &found {
        assert!(sites_of(&[f]).is_subset(&rigs), "{f:#}");
    }
}
