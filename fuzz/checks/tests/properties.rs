//! Property tests on stable (proptest) for the invariants the fuzz targets check, with inputs
//! built to reach deep: structured values rather than random bytes. Small case counts keep the
//! suite fast; fuzzing (docs/fuzzing.md) searches much longer.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Strings that are hard to print as YAML: indicators, quotes, line breaks, Unicode.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9 :#'\"{}\\[\\],&*!|>%@`?~=<-]{0,12}",
        "\\PC{0,8}",
        prop::sample::select(vec![
            "",
            "~",
            "null",
            "true",
            "no",
            "on",
            "1e3",
            "0x1f",
            "0o7",
            ".inf",
            "-",
            "---",
            "...",
            "- x",
            "? x",
            "a: b",
            "#c",
            " lead",
            "trail ",
            "line\nbreak",
            "\ttab",
            "\u{85}",
            "\u{2028}",
            "\u{feff}bom",
            "<<",
            "12:30",
            "0.0.0.0:4317",
            "'",
            "\"",
        ])
        .prop_map(str::to_owned),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Number(i.into())),
        any::<u64>().prop_map(|u| Value::Number(u.into())),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        tricky_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One line of a kustomization-like text: an indentation, a node start (dashes, a key) and a
/// value written in any style YAML has (plain, quoted, flow, anchored, block, commented).
fn kustomization_line() -> impl Strategy<Value = String> {
    let indent = prop::sample::select(vec!["", " ", "  ", "   ", "    ", "      "]);
    let start = prop::sample::select(vec![
        "",
        "- ",
        "- - ",
        "resources: ",
        "resources:",
        "- path: ",
        "  key: ",
        "files:",
        "-",
        "? ",
        ": ",
        "a #b: ",
        "<<: ",
    ]);
    let value = prop_oneof![
        tricky_string(),
        prop::sample::select(vec![
            "../base",
            "../../bases/app",
            "key=../env/site.env",
            "\"../quoted path\"",
            "'../single ''q'''",
            "[../a, \"../b c\", {p: ../d}]",
            "&x ../anchored",
            "*x",
            "|",
            "|-",
            "|+",
            "|2",
            ">",
            ">-",
            "../a # comment",
            "!!str ../tagged",
            "\"",
            "'",
            "[",
            "on",
            "yes",
            "017",
            "\"\"",
        ])
        .prop_map(str::to_owned),
    ];
    (indent, start, value).prop_map(|(i, s, v)| format!("{i}{s}{v}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Texts made of kustomization-like lines: `diff` finds every string the parser reads, and
    /// its plain reader, when it answers, reads what the parser reads.
    #[test]
    fn diff_finds_every_string_of_a_kustomization(
        lines in prop::collection::vec(kustomization_line(), 1..12),
        crlf in any::<bool>(),
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        edgefleet_fuzz_checks::diff_paths(text.as_bytes());
    }

    /// Any value, printed by the generator's emitter (block YAML with quotes and block scalars):
    /// `diff` finds every string in it.
    #[test]
    fn diff_finds_every_string_of_printed_values(v in value()) {
        let map = Value::Object([("resources".to_owned(), v)].into_iter().collect());
        let yaml = edgefleet_overlays::yaml::to_yaml(&map);
        edgefleet_fuzz_checks::diff_paths(yaml.as_bytes());
    }

    /// The emitters round-trip any value, and both readers agree with the reference parser on
    /// what they print.
    #[test]
    fn emitters_roundtrip_and_readers_agree(v in value()) {
        let map = Value::Object([("k".to_owned(), v)].into_iter().collect());
        let yaml = edgefleet_overlays::yaml::to_yaml(&map);
        edgefleet_fuzz_checks::emit(serde_json::to_string(&map).unwrap().as_bytes());
        edgefleet_fuzz_checks::yaml(yaml.as_bytes());
    }

    /// Inventory values from anywhere (ids, labels, regions) never panic the loader, and every
    /// error points at the right line and column of the file that holds it.
    #[test]
    fn inventory_errors_are_located(
        id in tricky_string(),
        label in tricky_string(),
        region in prop::sample::select(vec!["eu-north", "nowhere", ""]),
        wave in tricky_string(),
    ) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/fleet/site-inventory");
        let profiles = std::fs::read_to_string(root.join("profiles.yaml")).unwrap();
        let regions = std::fs::read_to_string(root.join("regions.yaml")).unwrap();
        let site = serde_json::json!({"sites": [{
            "id": id, "region": region, "hardware": "jetson-orin-nx", "backhaul": "vsat-2m",
            "wave": wave, "labels": {"team": label},
        }]});
        let sites = edgefleet_overlays::yaml::to_yaml(&site);
        let data = [profiles.as_bytes(), regions.as_bytes(), sites.as_bytes()].join(&0u8);
        edgefleet_fuzz_checks::inventory(&data);
    }

    /// Any bytes: the YAML and signature checks never fail on them.
    #[test]
    fn arbitrary_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        edgefleet_fuzz_checks::yaml(&data);
        edgefleet_fuzz_checks::signature(&data);
        edgefleet_fuzz_checks::diff_paths(&data);
    }
}
