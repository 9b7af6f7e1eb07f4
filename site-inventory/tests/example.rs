use std::path::Path;

#[test]
fn example_fleet_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet/site-inventory");
    let fleet = edgefleet_inventory::load_inventory(&dir).unwrap_or_else(|d| panic!("{d}"));
    assert!(fleet.sites.len() >= 12);
    assert!(fleet.regions.len() >= 3);
    assert!(fleet.hardware.len() >= 3 && fleet.backhaul.len() >= 3);
    let store = fleet.site("store-de-berlin-0117").expect("CSV site");
    assert_eq!(store.location, "Berlin, Alexanderplatz");
    assert_eq!(store.labels["store-format"], "metro");
    assert_eq!(store.source.field("wave").line, 2);
    assert_eq!(
        fleet.rollout_step(fleet.site("rig-nsea-042").unwrap()),
        "trailing"
    );
    assert_eq!(
        fleet.rollout_step(fleet.site("fab-stuttgart-01").unwrap()),
        "canary"
    );
}
