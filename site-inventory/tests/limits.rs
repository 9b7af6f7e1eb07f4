//! The limits of docs/limits.md: each at the limit (accepted) and one past it (a located error).

use std::path::{Path, PathBuf};

use edgefleet_inventory::limits::{
    MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES, MAX_SITES, MAX_STRING_BYTES,
};
use edgefleet_inventory::source::parse_yaml;

fn parse(text: &str) -> Result<usize, (u32, u32, String)> {
    parse_yaml(Path::new("f.yaml"), text)
        .map(|docs| docs.len())
        .map_err(|d| (d.location.line, d.location.column, d.message))
}

#[test]
fn documents_per_file() {
    assert_eq!(
        parse(&"---\na: 1\n".repeat(MAX_DOCUMENTS)),
        Ok(MAX_DOCUMENTS)
    );
    // (A stream that ends with `---` holds one more, empty, document.)
    let (line, _, message) = parse(&"---\na: 1\n".repeat(MAX_DOCUMENTS + 1)).unwrap_err();
    assert!(
        message.contains("documents") && message.contains("limits.md"),
        "{message}"
    );
    assert!(line as usize >= 2 * MAX_DOCUMENTS, "line {line}");
}

#[test]
fn nesting_depth_flow_and_block() {
    let flow = |n: usize| format!("a: {}{}\n", "[".repeat(n), "]".repeat(n));
    // The top-level mapping is one level.
    assert_eq!(parse(&flow(MAX_DEPTH - 1)), Ok(1));
    let (line, column, message) = parse(&flow(MAX_DEPTH)).unwrap_err();
    assert!(message.contains("nested deeper"), "{message}");
    assert_eq!(line, 1);
    assert!(column as usize >= MAX_DEPTH, "column {column}");
    let block = |n: usize| {
        let mut s = String::new();
        for i in 0..n {
            s.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
        }
        s.push_str(&format!("{}v: 1\n", "  ".repeat(n)));
        s
    };
    assert_eq!(parse(&block(MAX_DEPTH - 1)), Ok(1));
    let (line, _, message) = parse(&block(MAX_DEPTH)).unwrap_err();
    assert!(message.contains("nested deeper"), "{message}");
    assert!(line as usize >= MAX_DEPTH, "line {line}");
}

#[test]
fn alias_expansion() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (i, name) in ["b", "c", "d", "e", "f", "g"].iter().enumerate() {
        let prev = ["a", "b", "c", "d", "e", "f"][i];
        bomb.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    let started = std::time::Instant::now();
    let (line, _, message) = parse(&bomb).unwrap_err();
    assert!(message.contains("alias"), "{message}");
    assert!(line >= 2, "line {line}");
    // Refused by counting, not by running out of memory (a loose bound, not a benchmark).
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn string_length() {
    let at_limit = format!("k: {}\n", "x".repeat(MAX_STRING_BYTES));
    assert_eq!(parse(&at_limit), Ok(1));
    let text = format!("k: v\nlong: {}\n", "x".repeat(MAX_STRING_BYTES + 1));
    let (line, column, message) = parse(&text).unwrap_err();
    assert_eq!((line, column), (2, 7));
    assert!(message.contains("1 MiB"), "{message}");
    let key = format!("\"{}\": v\n", "k".repeat(MAX_STRING_BYTES + 1));
    assert_eq!(parse(&key).unwrap_err().0, 1);
}

fn inventory_with_sites(n: usize) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet/site-inventory");
    let mut files: Vec<(PathBuf, String)> = ["profiles.yaml", "regions.yaml", "rollout.yaml"]
        .iter()
        .map(|f| {
            (
                PathBuf::from(f),
                std::fs::read_to_string(root.join(f)).unwrap(),
            )
        })
        .collect();
    let mut csv = String::from("id,region,hardware,backhaul,wave\n");
    for i in 0..n {
        csv.push_str(&format!("s-{i},eu-north,jetson-orin-nx,vsat-2m,canary\n"));
    }
    files.push((PathBuf::from("sites.csv"), csv));
    files
}

#[test]
fn number_of_sites() {
    let root = Path::new("inv");
    let fleet = edgefleet_inventory::load_sources(root, &inventory_with_sites(MAX_SITES));
    assert_eq!(
        fleet.map(|f| f.sites.len()).map_err(|d| d.to_string()),
        Ok(MAX_SITES)
    );
    let errors =
        edgefleet_inventory::load_sources(root, &inventory_with_sites(MAX_SITES + 1)).unwrap_err();
    let d = &errors.0[0];
    assert!(d.message.contains("sites"), "{}", d.message);
    assert_eq!(
        (&*d.location.file, d.location.line),
        (Path::new("sites.csv"), MAX_SITES as u32 + 2)
    );
}

#[test]
fn file_size() {
    let files = vec![(
        PathBuf::from("big.yaml"),
        " ".repeat(MAX_FILE_BYTES as usize + 1),
    )];
    let errors = edgefleet_inventory::load_sources(Path::new("inv"), &files).unwrap_err();
    let d = &errors.0[0];
    assert!(d.message.contains("64 MiB"), "{}", d.message);
    assert_eq!((d.location.line, d.location.column), (1, 1));
}
