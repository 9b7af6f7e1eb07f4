//! The fast reader of rendered YAML agrees with the reference parser on everything the default
//! catalogue renders for a synthetic fleet, and covers nearly all of it.

use edgefleet_overlays::catalogue::{Catalogue, Part, parse_rendered};
use edgefleet_overlays::plan::{
    backhaul_context, buffer_for, hardware_context, platform_context, region_context, site_context,
    site_workloads,
};
use edgefleet_overlays::yaml;
use kube_basics::fastyaml;
use serde_json::json;

#[test]
fn fast_path_matches_the_reference_on_a_synthetic_fleet() {
    let dir = tempfile::tempdir().unwrap();
    for f in edgefleet_inventory::synth::synthesize(300, 11) {
        let p = dir.path().join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, f.content).unwrap();
    }
    let fleet = edgefleet_inventory::load_inventory(dir.path()).unwrap();
    let catalogue = Catalogue::builtin();
    let (mut fast, mut lines, mut written, mut total) = (0usize, 0usize, 0usize, 0usize);
    let mut check = |text: Option<String>| {
        let Some(text) = text else { return };
        total += 1;
        let reference = parse_rendered(&text).unwrap();
        // The line-based first tier alone, which takes nearly every site patch.
        if let Some(docs) = fastyaml::parse_block_stream(&text) {
            lines += 1;
            assert_eq!(
                docs, reference,
                "line reader and reference readings differ on:\n{text}"
            );
        }
        // What the planner writes of a site patch, read and written in one pass: the same
        // bytes as written from the values, exactly when the line reader takes the text.
        let one_pass = yaml::block_stream_to_yaml(&text);
        assert_eq!(
            one_pass.is_some(),
            fastyaml::parse_block_stream(&text).is_some(),
            "{text}"
        );
        if let Some(docs) = one_pass {
            written += 1;
            let texts: Vec<&str> = docs.iter().map(|(yaml, _)| yaml.as_str()).collect();
            let expected: Vec<String> = reference.iter().map(yaml::to_yaml).collect();
            assert_eq!(
                texts, expected,
                "one-pass and value writing differ on:\n{text}"
            );
        }
        if let Some(docs) = fastyaml::parse_stream(&text) {
            fast += 1;
            assert_eq!(
                docs, reference,
                "fast and reference readings differ on:\n{text}"
            );
        }
    };
    for site in &fleet.sites {
        let hardware = fleet.hardware_of(site);
        let backhaul = fleet.backhaul_of(site);
        let region = fleet.region_of(site);
        for w in site_workloads(site, &catalogue) {
            let buffer = buffer_for(w, site, backhaul, hardware);
            let ctx = json!({
                "site": site_context(site),
                "hardware": hardware_context(hardware),
                "backhaul": backhaul_context(backhaul),
                "region": region_context(region),
                "platform": fleet
                    .platform_of(site)
                    .map_or(serde_json::Value::Null, |p| platform_context(p, hardware)),
                "buffer": serde_json::to_value(&buffer).unwrap(),
            });
            // Site patches are the hot path (one per site and workload); the other parts are
            // rendered once per workload or profile, so only their agreement matters.
            for part in Part::ALL {
                let text = catalogue.render_text(&w.name, part, &ctx).unwrap();
                if part == Part::Site {
                    check(text);
                } else if let Some(text) = text
                    && let Some(docs) = fastyaml::parse_stream(&text)
                {
                    assert_eq!(docs, parse_rendered(&text).unwrap(), "{text}");
                }
            }
        }
    }
    assert!(total > 500, "{total} site renders");
    assert!(
        fast * 10 >= total * 9,
        "the fast path read only {fast} of {total} site patches"
    );
    assert!(
        written * 10 >= total * 9,
        "the one-pass writer took only {written} of {total} site patches"
    );
    assert!(
        lines * 10 >= total * 9,
        "the line reader read only {lines} of {total} site patches"
    );
}
