//! The invariants behind edgefleet's fuzz targets, one function per target.
//!
//! Each function takes the raw bytes a fuzzer (or a corpus file) gives it and **panics** when an
//! invariant breaks; any input at all is fair (most are rejected early, which is fine). The
//! cargo-fuzz package in `fuzz/` calls these from its targets on nightly; `tests/replay.rs`
//! replays every corpus file through them on stable, in the normal test suite, so a crash once
//! found stays fixed. See `docs/fuzzing.md`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::Diagnostics;
use edgefleet_inventory::source::{
    Located, SourceLocation, YamlNode, line_col, parse_plain_stream, parse_reference, parse_yaml,
};

pub mod diff_paths;
pub mod empty_patch;
pub mod kustomize_checks;
pub mod reporters;

pub use diff_paths::diff_paths;
pub use kustomize_checks::{patch, render};

/// A fuzz target's check: any bytes, a panic when an invariant breaks.
pub type Check = fn(&[u8]);

/// Every fuzz target: its name (the folder of its corpus) and its check.
pub const TARGETS: &[(&str, Check)] = &[
    ("inventory", inventory),
    ("yaml", yaml),
    ("signature", signature),
    ("reporters", reporters::reporters),
    ("emit", emit),
    ("patch", patch),
    ("render", render),
    ("diff_paths", diff_paths),
];

/// Splits fuzz input into at most `max` parts at NUL bytes (a file per part, for instance).
pub fn parts(data: &[u8], max: usize) -> Vec<&[u8]> {
    data.splitn(max, |b| *b == 0).collect()
}

// ---------------------------------------------------------------------------------------------
// inventory

/// Inventory loading from YAML and CSV: parts separated by NUL are files (`f0.yaml`, `f1.csv`,
/// ...; a part whose first line has a comma and no colon is CSV). Loading never panics; every
/// error names one of the files (or the inventory root) at a line and column that match its byte
/// offset; and the result does not depend on the order the files are given in.
pub fn inventory(data: &[u8]) {
    let root = Path::new("inv");
    let mut files = Vec::new();
    for (i, part) in parts(data, 4).into_iter().enumerate() {
        let Ok(text) = std::str::from_utf8(part) else {
            return;
        };
        let first = text.lines().next().unwrap_or("");
        let ext = if first.contains(',') && !first.contains(':') {
            "csv"
        } else {
            "yaml"
        };
        files.push((root.join(format!("f{i}.{ext}")), text.to_owned()));
    }
    let forward = edgefleet_inventory::load_sources(root, &files);
    if let Err(diagnostics) = &forward {
        assert!(!diagnostics.is_empty(), "an error without a diagnostic");
        check_diagnostics(root, &files, diagnostics);
    }
    files.reverse();
    let backward = edgefleet_inventory::load_sources(root, &files);
    assert_eq!(
        summary(&forward),
        summary(&backward),
        "the result depends on the order of the files"
    );
}

fn summary(result: &Result<edgefleet_inventory::Fleet, Diagnostics>) -> Vec<String> {
    match result {
        Ok(fleet) => fleet
            .sites
            .iter()
            .map(|s| format!("{} {} {} {}", s.id, s.region, s.hardware, s.backhaul))
            .collect(),
        Err(d) => d.0.iter().map(|d| format!("error {d}")).collect(),
    }
}

fn check_diagnostics(root: &Path, files: &[(PathBuf, String)], diagnostics: &Diagnostics) {
    for d in &diagnostics.0 {
        check_location(root, files, &d.location, &d.message);
        if let Some((related, _)) = d.related.as_deref() {
            check_location(root, files, related, &d.message);
        }
    }
}

fn check_location(root: &Path, files: &[(PathBuf, String)], at: &SourceLocation, message: &str) {
    assert!(
        at.line >= 1 && at.column >= 1,
        "{at}: {message}: line and column start at 1"
    );
    if &*at.file == root {
        return;
    }
    let (_, text) = files
        .iter()
        .find(|(p, _)| p.as_path() == &*at.file)
        .unwrap_or_else(|| panic!("{at}: {message}: names a file that was not loaded"));
    assert!(
        at.offset <= text.len(),
        "{at}: {message}: offset {} past the end ({} bytes)",
        at.offset,
        text.len()
    );
    assert_eq!(
        line_col(text, at.offset),
        (at.line, at.column),
        "{at}: {message}: line:column does not match byte offset {}",
        at.offset
    );
}

// ---------------------------------------------------------------------------------------------
// YAML readers

/// Both YAML readers against the reference parser (serde-saphyr), a differential target:
/// - the located reader's fast path (`parse_plain_stream`), when it answers, gives exactly the
///   reference's tree, values and spans, and the reference accepts the text;
/// - the renderer's fast reader (`fastyaml::parse_stream`), when it answers, gives the same JSON
///   values as the reference with the renderer's options;
/// - `parse_yaml` never panics and its error points inside the text.
pub fn yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file: Arc<Path> = Arc::from(Path::new("f.yaml"));
    if let Some(fast) = parse_plain_stream(text) {
        match parse_reference(&file, text) {
            Ok(reference) => assert!(
                same_nodes(&fast, &reference),
                "fast path and reference differ on {text:?}:\nfast: {fast:?}\nreference: {reference:?}"
            ),
            Err(e) => panic!("the fast path read what the reference refuses ({e}): {text:?}"),
        }
    }
    match parse_yaml(&file, text) {
        Ok(docs) => {
            for doc in &docs {
                check_spans(text, &doc.root);
            }
        }
        Err(d) => {
            let files = vec![(file.to_path_buf(), text.to_owned())];
            check_location(Path::new(""), &files, &d.location, &d.message);
        }
    }
    if let Some(fast) = kube_basics::fastyaml::parse_stream(text) {
        let reference: Result<Vec<serde_json::Value>, _> =
            serde_saphyr::from_multiple_with_options(text, render_options());
        match reference {
            Ok(reference) => {
                let reference: Vec<_> = reference.into_iter().filter(|v| !v.is_null()).collect();
                let fast: Vec<_> = fast.into_iter().filter(|v| !v.is_null()).collect();
                assert_eq!(
                    fast, reference,
                    "fast reader and reference differ on {text:?}"
                );
            }
            Err(e) => panic!("the fast reader read what the reference refuses ({e}): {text:?}"),
        }
    }
}

/// The renderer's parser options (what `kustomize` reads every file with).
fn render_options() -> serde_saphyr::Options {
    kustomize::fuzzing::parse_options()
}

/// Equal trees; floats compare by bits so that NaN equals NaN.
fn same_nodes(a: &[Located<YamlNode>], b: &[Located<YamlNode>]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_node(a, b))
}

fn same_node(a: &Located<YamlNode>, b: &Located<YamlNode>) -> bool {
    if a.span != b.span {
        return false;
    }
    match (&a.value, &b.value) {
        (YamlNode::Float(x), YamlNode::Float(y)) => x.to_bits() == y.to_bits() || x == y,
        (YamlNode::Seq(x), YamlNode::Seq(y)) => same_nodes(x, y),
        (YamlNode::Map(x), YamlNode::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && same_node(va, vb))
        }
        (x, y) => x == y,
    }
}

fn check_spans(text: &str, node: &Located<YamlNode>) {
    let span = &node.span;
    assert!(
        span.offset <= text.len() && span.line >= 1 && span.column >= 1,
        "span {span:?} outside the text {text:?}"
    );
    assert_eq!(
        line_col(text, span.offset),
        (span.line, span.column),
        "span {span:?}: line:column does not match the byte offset in {text:?}"
    );
    match &node.value {
        YamlNode::Seq(items) => items.iter().for_each(|i| check_spans(text, i)),
        YamlNode::Map(entries) => entries.iter().for_each(|(k, v)| {
            assert!(k.span.offset <= text.len(), "key span {:?} outside", k.span);
            assert_eq!(
                line_col(text, k.span.offset),
                (k.span.line, k.span.column),
                "key span {:?}: line:column does not match the byte offset in {text:?}",
                k.span
            );
            check_spans(text, v);
        }),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// signature material

/// Signature material (docs/signatures.md) from a registry export: the first byte chooses what
/// the rest is read as: `cosign download signature` JSON lines, an OCI layout's `index.json`
/// (blobs are the following NUL-separated parts, found by their SHA-256), a PEM key or
/// certificate, or raw DER for the certificate walker. Never a panic; errors name a place.
pub fn signature(data: &[u8]) {
    use edgefleet_lints::signature::{
        certificate_spki, key_from_pem, parse_download_lines, parse_layout,
    };
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => match parse_download_lines(rest.to_vec(), "m/sha256-x.json") {
            Ok(signatures) => assert!(!signatures.is_empty(), "no signature and no error"),
            Err((origin, reason)) => {
                assert!(origin.starts_with("m/sha256-x.json"), "{origin}: {reason}");
                assert!(!reason.is_empty(), "{origin}: an empty reason");
            }
        },
        1 => {
            let mut items = parts(rest, 8).into_iter();
            let index = items.next().unwrap_or_default();
            let blobs: Vec<(String, Vec<u8>)> = items
                .map(|b| {
                    let hex: String = sha2::Digest::finalize(sha2::Digest::chain_update(
                        sha2::Sha256::default(),
                        b,
                    ))
                    .iter()
                    .map(|x| format!("{x:02x}"))
                    .collect();
                    (hex, b.to_vec())
                })
                .collect();
            let fetch = |hex: &str| -> Result<Vec<u8>, (String, String)> {
                blobs
                    .iter()
                    .find(|(h, _)| h.eq_ignore_ascii_case(hex))
                    .map(|(_, b)| b.clone())
                    .ok_or_else(|| (format!("m/blobs/{hex}"), "no such file".to_owned()))
            };
            let digest = format!("sha256:{}", "a".repeat(64));
            if let Err((origin, reason)) = parse_layout(index, Path::new("m/l"), &digest, &fetch) {
                assert!(origin.starts_with("m/"), "{origin}: {reason}");
                assert!(!reason.is_empty(), "{origin}: an empty reason");
            }
        }
        2 => {
            if let Ok(pem) = std::str::from_utf8(rest) {
                let _ = key_from_pem(pem);
            }
        }
        _ => {
            if let Some(spki) = certificate_spki(rest) {
                // What the walker hands back lies inside the certificate.
                let start = spki.as_ptr() as usize - rest.as_ptr() as usize;
                assert!(start + spki.len() <= rest.len());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// emitters

/// The value a fuzz input stands for: the input read as YAML when it is (any structure), with the
/// raw text as a key and as a string value around it (any string).
pub fn value_from(data: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(data).into_owned();
    let parsed: serde_json::Value =
        serde_saphyr::from_str_with_options(&text, render_options()).unwrap_or_default();
    let mut map = serde_json::Map::new();
    map.insert(
        text.clone(),
        serde_json::Value::Array(vec![serde_json::Value::String(text), parsed]),
    );
    serde_json::Value::Object(map)
}

/// Both emitters round-trip: the generator's (`overlays::yaml`) and the renderer's
/// (`render::emit`, Kustomize's layout) print any value as YAML that the reference parser reads
/// back as the same value, in one document, so no string can inject structure or a document.
pub fn emit(data: &[u8]) {
    let value = value_from(data);
    roundtrip(
        "generator",
        &value,
        &edgefleet_overlays::yaml::to_yaml(&value),
    );
    // U+0085, U+2028 and U+2029 are line breaks to the YAML 1.1 emitter kubectl uses (and so to
    // the renderer, which prints its bytes) but not to the YAML 1.2 reference parser: such text
    // does not read back the same through this parser.
    if kustomize::emit::find_unprintable(&value).is_none()
        && !has_yaml11_break(&value)
        && !has_overflowing_float(&value)
    {
        roundtrip("renderer", &value, &kustomize::emit::emit_document(&value));
    }
}

/// Nesting depth in collections, as the readers count it (a scalar is 0, `{a: []}` is 2).
pub(crate) fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn roundtrip(emitter: &str, value: &serde_json::Value, yaml: &str) {
    // Deeper values print, but no reader of edgefleet reads them back: past the depth limit
    // (docs/limits.md) the reader refuses the file with a located error, by design. A fuzz
    // value gets there when the input is nested just under the limit and then wrapped.
    if depth(value) > kube_basics::limits::MAX_DEPTH {
        return;
    }
    let back: Vec<serde_json::Value> =
        serde_saphyr::from_multiple_with_options(yaml, render_options()).unwrap_or_else(|e| {
            panic!("the {emitter} emitter printed YAML the parser refuses ({e}):\n{yaml}")
        });
    assert_eq!(
        back.len(),
        1,
        "the {emitter} emitter printed {} documents:\n{yaml}",
        back.len()
    );
    if emitter == "renderer" {
        // The renderer prints what kubectl prints after its JSON round trip, which is not
        // always the value it was given: merge keys (`<<`) are dropped, an integral float
        // prints as an integer, -0 as 0. What must hold: the value it printed is a fixed point
        // (printing what was read back gives the same bytes), and where the value has no merge
        // key, the same value with numbers compared as numbers.
        let again = kustomize::emit::emit_document(&back[0]);
        assert_eq!(
            again, yaml,
            "the renderer emitter prints what it printed differently"
        );
        if !has_merge_key(value) {
            assert!(
                same_numbers(&back[0], value),
                "the renderer emitter changed the value:\n{yaml}\n  read back: {:?}\n  value: {value:?}",
                back[0]
            );
        }
    } else {
        assert_eq!(
            &back[0], value,
            "the {emitter} emitter changed the value:\n{yaml}"
        );
    }
}

pub(crate) fn has_yaml11_break(v: &serde_json::Value) -> bool {
    let breaks = |s: &str| s.contains(['\u{85}', '\u{2028}', '\u{2029}']);
    match v {
        serde_json::Value::String(s) => breaks(s),
        serde_json::Value::Object(m) => m.iter().any(|(k, v)| breaks(k) || has_yaml11_break(v)),
        serde_json::Value::Array(a) => a.iter().any(has_yaml11_break),
        _ => false,
    }
}

/// A string that is a float literal too large for a 64-bit float (`5e881`). kubectl's YAML
/// library reads such a plain scalar as a string and prints the string plain, so the renderer
/// prints it plain as well (byte for byte as kubectl); edgefleet's readers refuse it with a
/// located error (a non-finite float) instead of reading a string, so such text does not read
/// back through them (docs/fuzzing.md, "Runs").
pub(crate) fn has_overflowing_float(v: &serde_json::Value) -> bool {
    let overflows = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'e' | b'E' | b'.' | b'+' | b'-'))
            && s.parse::<f64>().is_ok_and(f64::is_infinite)
    };
    match v {
        serde_json::Value::String(s) => overflows(s),
        serde_json::Value::Object(m) => m
            .iter()
            .any(|(k, v)| overflows(k) || has_overflowing_float(v)),
        serde_json::Value::Array(a) => a.iter().any(has_overflowing_float),
        _ => false,
    }
}

fn has_merge_key(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(m) => m.iter().any(|(k, v)| k == "<<" || has_merge_key(v)),
        serde_json::Value::Array(a) => a.iter().any(has_merge_key),
        _ => false,
    }
}

/// Equal values, numbers compared by what they are (`1.0` and `1`, `-0.0` and `0` are equal);
/// two integers are compared exactly.
pub(crate) fn same_numbers(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if (x.is_f64() || y.is_f64())
                && let (Some(x), Some(y)) = (x.as_f64(), y.as_f64())
            {
                x == y
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_numbers(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_numbers(v, w)))
        }
        _ => a == b,
    }
}
