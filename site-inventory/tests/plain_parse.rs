//! The located fast path (`parse_plain_stream`) must give exactly the reference parser's tree —
//! values and spans — whenever it answers, and must hand doubtful input back.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::source::{parse_plain_stream, parse_reference, parse_yaml};

fn reference(
    text: &str,
) -> Vec<edgefleet_inventory::source::Located<edgefleet_inventory::source::YamlNode>> {
    let file: Arc<Path> = Arc::from(Path::new("case.yaml"));
    parse_reference(&file, text).unwrap_or_else(|e| panic!("reference refused {text:?}: {e:?}"))
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

#[test]
fn agrees_with_the_reference_parser_on_every_yaml_file_of_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["examples", "lints/tests/fixtures", "tests/fixtures"] {
        yaml_files(&root.join(dir), &mut files);
    }
    files.sort();
    assert!(files.len() > 100, "only {} YAML files found", files.len());
    let (mut answered, mut refused) = (0, Vec::new());
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let file: Arc<Path> = Arc::from(path.as_path());
        match parse_plain_stream(&text) {
            Some(fast) => {
                let slow = parse_reference(&file, &text).unwrap_or_else(|e| {
                    panic!(
                        "{}: fast path read what the reference refuses: {e:?}",
                        path.display()
                    )
                });
                assert_eq!(fast, slow, "{}", path.display());
                answered += 1;
            }
            None => refused.push(path.strip_prefix(&root).unwrap().display().to_string()),
        }
    }
    // The fast path is worth having only if it reads the ordinary files: everything the example
    // fleet and the lint fixtures hold, comments included, except the deliberately broken ones.
    for must in [
        "examples/fleet/site-inventory/profiles.yaml",
        "examples/fleet/site-inventory/regions.yaml",
        "examples/fleet/site-inventory/sites/offshore.yaml",
        "lints/tests/fixtures/probes/missing-liveness.yaml",
        "lints/tests/fixtures/security/privileged.yaml",
    ] {
        assert!(
            !refused.iter().any(|r| r == must),
            "fast path refused {must}"
        );
    }
    assert!(
        answered * 10 >= files.len() * 9,
        "fast path answered {answered} of {} files; refused {refused:?}",
        files.len()
    );
}

#[test]
fn agrees_on_awkward_but_plain_cases() {
    for text in [
        "a: 1\nb: [x, \"y\", 'z']\nc: {d: -2, e: 1.5}\n",
        "kind: Deployment\nspec:\n  containers:\n  - name: x\n    resources: {limits: {cpu: 500m, memory: 64Mi}}\n",
        "data:\n  conf: |\n    line one\n    line two\n  other: >-\n    folded\n    text\n",
        "a: ~\nb: null\nc:\nd: true\ne: false\nf: /path/x\ng: value with spaces\n",
        "---\na: 1\n---\nb: 2\n",
        "# leading comment\na: 1 # trailing\n# between\nb:\n  - x # item\n",
        "url: https://x.example.net:8443/v1\nzero: 0\nneg: -17\nbig: 18446744073709551\n",
        "20-site.conf: x\nv: 25.10-py3\nq: 9921Mi\nr: -5s\ns: ../../base\nt: .hidden\n",
        "version: 0.139.0\nip: 10.0.0.1\nneg: -1.2.3\ndots: 1..2\n",
        "name: \"ünïcödé ✓\"\nnext: 日本語の値\nafter: [é, 😀]\n",
        "a: 1\r\nb:\r\n  c: x\r\n",
        "\"quoted key\": 'single ''q'''\nplain key: \"esc \\t \\u00e9\"\n",
        "- a\n- - b\n  - c\n- {k: v}\n- []\n- {}\n",
        "s: 'multi\n  line'\nt: plain\n  continued\n",
    ] {
        let fast = parse_plain_stream(text).unwrap_or_else(|| panic!("fast path refused {text:?}"));
        assert_eq!(fast, reference(text), "{text:?}");
    }
}

#[test]
fn anything_beyond_the_plain_subset_goes_to_the_reference_parser() {
    // Doubtful scalars are covered in `kube_basics::scalar`; one stands for them here.
    let structural = [
        "anchor: &x 1\nalias: *x\n",
        "tagged: !!str 1\n",
        "dup: 1\ndup: 2\n",
        "<<: {merged: 1}\n",
        "1: non-string key\n",
        "doc: 1\n---\n",
        "broken: [1\n",
        "",
        "word: yes\n",
    ];
    for text in structural {
        assert_eq!(parse_plain_stream(text), None, "{text:?}");
    }
    // Deep nesting is left to the reference parser, which bounds it.
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert_eq!(parse_plain_stream(&deep), None);
    // A large mapping with a duplicate key far apart is still refused.
    let mut big: String = (0..500).map(|i| format!("k{i}: {i}\n")).collect();
    big.push_str("k7: again\n");
    assert_eq!(parse_plain_stream(&big), None);
    assert!(parse_yaml(Path::new("big.yaml"), &big).is_err());
}
