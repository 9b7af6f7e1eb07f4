//! Bad inventories: every error names the file, line and column, and all of a file's errors come
//! at once.

use std::path::Path;

use edgefleet_inventory::{Diagnostics, load_inventory};

const PROFILES: &str = "\
hardware:
  box: {arch: arm64, allocatable: {cpu: \"4\", memory: 8Gi, ephemeral-storage: 64Gi}}
backhaul:
  lte: {bandwidth_kbps: 20000, max_outage: 6h}
regions:
  eu: {jurisdiction: NO, zone: EEA, endpoints: {telemetry: \"https://t.eu.example.net\", metrics: \"https://m.eu.example.net\"}}
rollout:
  waves: [{name: canary}, {name: main}]
";

fn inventory(
    files: &[(&str, &str)],
) -> (
    tempfile::TempDir,
    Result<edgefleet_inventory::Fleet, Diagnostics>,
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("profiles.yaml"), PROFILES).unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let r = load_inventory(dir.path());
    (dir, r)
}

/// The single error's `file:line:col`, relative to the inventory folder, and its message.
fn errors(dir: &Path, r: Result<edgefleet_inventory::Fleet, Diagnostics>) -> Vec<(String, String)> {
    let d = r.expect_err("inventory should be rejected");
    d.iter()
        .map(|e| {
            let file = e
                .location
                .file
                .strip_prefix(dir)
                .unwrap()
                .display()
                .to_string();
            (
                format!("{file}:{}:{}", e.location.line, e.location.column),
                e.message.clone(),
            )
        })
        .collect()
}

#[test]
fn a_good_inventory_loads() {
    let (_d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - {id: s-1, region: eu, hardware: box, backhaul: lte, wave: canary}\n",
    )]);
    assert_eq!(r.unwrap().sites.len(), 1);
}

#[test]
fn malformed_yaml_points_at_the_break() {
    let (d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - id: a\n    region: [eu\n    wave: x\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].0.starts_with("sites.yaml:"), "{e:?}");
    assert!(e[0].1.starts_with("invalid YAML"), "{e:?}");
    let line: u32 = e[0].0.split(':').nth(1).unwrap().parse().unwrap();
    assert!((3..=5).contains(&line), "{e:?}");
}

#[test]
fn unknown_profile_points_at_the_field() {
    let (d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - id: s-1\n    region: eu\n    hardware: jetson\n    backhaul: lte\n    wave: canary\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(
        e,
        vec![(
            "sites.yaml:4:15".to_owned(),
            "unknown hardware profile `jetson` (known: box)".to_owned()
        )]
    );
}

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let site = "sites:\n  - {id: s-1, region: eu, hardware: box, backhaul: lte, wave: canary}\n";
    let (d, r) = inventory(&[("a.yaml", site), ("b.yaml", site)]);
    let diags = r.expect_err("duplicate");
    let first = diags.iter().next().unwrap();
    assert_eq!(first.message, "site id `s-1` is used twice");
    let (loc, note) = first.related.as_deref().unwrap();
    assert_eq!(note, "first used");
    let files = [&first.location.file, &loc.file]
        .map(|f| f.strip_prefix(d.path()).unwrap().display().to_string());
    assert_eq!(files, ["b.yaml", "a.yaml"]);
    assert_eq!((first.location.line, first.location.column), (2, 10));
    assert!(first.to_string().contains("a.yaml:2:10"), "{first}");
}

#[test]
fn invalid_ids_are_refused_with_a_reason() {
    let (d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - {id: ../x, region: eu, hardware: box, backhaul: lte, wave: canary}\n  - {id: UPPER, region: eu, hardware: box, backhaul: lte, wave: canary}\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0, "sites.yaml:2:10");
    assert!(e[0].1.contains("\"../x\" is not a valid name"), "{e:?}");
    assert_eq!(e[1].0, "sites.yaml:3:10");
    assert!(e[1].1.contains("\"UPPER\" is not a valid name"), "{e:?}");
}

#[test]
fn all_errors_of_a_file_at_once() {
    let (d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - {id: s-1, region: nowhere, hardware: box, backhaul: lte, wave: canary}\n  - {id: s-2, region: eu, hardware: box, backhaul: lte, wave: late, colour: red}\n  - {id: s-3, region: eu, hardware: box, backhaul: lte}\n",
    )]);
    let e = errors(d.path(), r);
    // Structural errors of some sites do not hide the reference errors of the others.
    assert_eq!(e.len(), 3, "{e:?}");
    assert_eq!(e[0].0, "sites.yaml:2:23");
    assert_eq!(e[0].1, "unknown region `nowhere` (known: eu)");
    assert_eq!(e[1].0, "sites.yaml:3:69");
    assert!(e[1].1.starts_with("unknown field `colour`"));
    assert_eq!(e[2].0, "sites.yaml:4:5");
    assert_eq!(e[2].1, "missing required field `wave`");
}

#[test]
fn site_errors_are_located_in_any_document_at_any_index() {
    // Sites are checked one at a time: an error of the twelfth site of a second document is
    // still placed at its field, and a broken key beside the sites still stops the file.
    let mut second = String::from("---\nsites:\n");
    for i in 0..12 {
        let extra = if i == 11 { ", colour: red" } else { "" };
        second.push_str(&format!(
            "  - {{id: s-{i}, region: eu, hardware: box, backhaul: lte, wave: main{extra}}}\n"
        ));
    }
    let (d, r) = inventory(&[(
        "sites.yaml",
        &format!(
            "sites:\n  - {{id: a-1, region: eu, hardware: box, backhaul: lte, wave: main}}\n{second}"
        ),
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "sites.yaml:16:70");
    assert!(e[0].1.starts_with("unknown field `colour`"), "{e:?}");

    let (d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - {id: s-1, region: eu, hardware: box, backhaul: lte, wave: main, colour: red}\n  - {id: s-2, region: nowhere, hardware: box, backhaul: lte, wave: main}\nsights: []\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0, "sites.yaml:2:69");
    assert!(e[0].1.starts_with("unknown field `colour`"), "{e:?}");
    assert_eq!(e[1].0, "sites.yaml:4:1");
    assert!(e[1].1.starts_with("unknown field `sights`"), "{e:?}");
}

#[test]
fn csv_missing_column_points_at_the_header() {
    let (d, r) = inventory(&[("sites.csv", "id,region,hardware,backhaul\ns-1,eu,box,lte\n")]);
    let e = errors(d.path(), r);
    assert_eq!(
        e,
        vec![(
            "sites.csv:1:1".to_owned(),
            "missing column `wave` in the header".to_owned()
        )]
    );
}

#[test]
fn csv_cells_are_located() {
    let (d, r) = inventory(&[(
        "sites.csv",
        "id,region,hardware,backhaul,wave\ns-1,eu,box,lte,canary\n\"s-2\",eu,gpu-box,lte,canary\nBAD,eu,box,lte,canary\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0, "sites.csv:3:10");
    assert!(e[0].1.starts_with("unknown hardware profile `gpu-box`"));
    assert_eq!(e[1].0, "sites.csv:4:1");
    assert!(e[1].1.contains("\"BAD\" is not a valid name"));
}

/// Windows line ends: cells are located on their line, at their column.
#[test]
fn csv_cells_are_located_with_crlf_line_ends() {
    let (d, r) = inventory(&[(
        "sites.csv",
        "id,region,hardware,backhaul,wave\r\ns-1,eu,box,lte,canary\r\ns-2,eu,gpu-box,lte,canary\r\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "sites.csv:3:8", "{e:?}");
}

/// Old Mac line ends: a lone CR ends a record and a line, for the CSV reader and for locations.
#[test]
fn csv_rows_after_lone_carriage_returns_are_located() {
    let (d, r) = inventory(&[(
        "sites.csv",
        "id,region,hardware,backhaul,wave\rs-1,eu,box,lte,canary\r\ns-2,eu,gpu-box,lte,canary\rBAD,eu,box,lte,canary\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].0, "sites.csv:3:8", "{e:?}");
    assert!(e[0].1.starts_with("unknown hardware profile `gpu-box`"));
    assert_eq!(e[1].0, "sites.csv:4:1");
    assert!(e[1].1.contains("\"BAD\" is not a valid name"));
}

/// A header prepended to a file with a byte order mark: the mark still opens the document, and
/// is invisible on its line (columns as the YAML parser counts them).
#[test]
fn a_byte_order_mark_after_a_comment_is_not_a_column() {
    let (d, r) = inventory(&[(
        "sites.yaml",
        "# Copyright header\n\u{feff}\u{feff}sites:\n  - {id: s-1, region: eu, hardware: gpu-box, backhaul: lte, wave: canary}\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "sites.yaml:3:37", "{e:?}");
    assert!(
        e[0].1.starts_with("unknown hardware profile `gpu-box`"),
        "{e:?}"
    );
}

#[test]
fn hostile_label_value_is_a_clear_error() {
    let (d, r) = inventory(&[(
        "sites.yaml",
        "sites:\n  - id: s-1\n    region: eu\n    hardware: box\n    backhaul: lte\n    wave: canary\n    labels: {tier: \"a\\n---\\nkind: Secret\"}\n",
    )]);
    let e = errors(d.path(), r);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].0, "sites.yaml:7:20");
    assert!(
        e[0].1.contains("is not a valid Kubernetes label value"),
        "{e:?}"
    );
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..12 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    let (d, r) = inventory(&[("bomb.yaml", &bomb)]);
    let e = errors(d.path(), r);
    assert!(e[0].0.starts_with("bomb.yaml:"), "{e:?}");
}

#[test]
fn missing_folder_and_empty_inventory_are_errors() {
    let r = load_inventory(Path::new("/nonexistent/edgefleet-inventory"));
    assert!(
        r.unwrap_err()
            .to_string()
            .contains("/nonexistent/edgefleet-inventory:1:1: cannot read the inventory")
    );
    let (d, r) = inventory(&[]);
    let e = errors(d.path(), r);
    assert_eq!(e[0].1, "the inventory has no sites");
}
