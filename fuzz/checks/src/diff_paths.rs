//! `diff_paths`: the readers `edgefleet diff` finds an overlay's folders with
//! (`fleet/src/diff/deps.rs`).
//!
//! `diff` renders only the overlays a change can reach, found by trying every string of each
//! kustomization as a path. A string it misses is an overlay it does not render: a site reported
//! unchanged when it changed. So, for a kustomization the reference parser reads (serde-saphyr
//! with the options kustomizations are read with, `kustomize::fuzzing::parse_options`):
//!
//! - every string value (keys are not paths), and the part after the first `=` of each (the
//!   `key=path` entries of generators), is among `strings(text)`; the set may hold more. Left out
//!   of the check: the empty string and URLs (`://`), which name no file of a tree and which
//!   `strings` drops on purpose, and strings holding a line break (`\n`, `\r`): no file or folder
//!   of a planned tree has one in its name (block scalars, cut out before parsing, give their
//!   lines instead);
//! - when the plain reader answers (`simple_scalars(text) == Some(v)`), the reference parser
//!   reads the text, and its scalar values, in order, are `v`: a string as itself, any other
//!   scalar as a text that reads alone as the same value. Nulls and empty strings (`key:`,
//!   `key: ""`, which the reader skips) are left out of the reference's list, and the reader's
//!   plain `null`, `~` (which it keeps) are skipped unless that string is what comes next.
//!
//! And none of the three readers panics, on any bytes.

use serde_json::Value;

use edgefleet_fleet::fuzzing::{cut_block_scalars, simple_scalars, strings};

/// The check of the `diff_paths` target: one kustomization, any bytes.
pub fn diff_paths(data: &[u8]) {
    let found = strings(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cut_block_scalars(text);
    let simple = simple_scalars(text);
    let reference = parse(text);

    if let Some(value) = &reference {
        let mut values = Vec::new();
        string_values(value, &mut values);
        for s in values {
            let after = s.split_once('=').map(|(_, v)| v);
            for candidate in std::iter::once(s).chain(after) {
                if is_path_like(candidate) {
                    assert!(
                        found.iter().any(|f| f == candidate),
                        "diff would miss the string {candidate:?} of this kustomization: \
                         strings() gives {found:?}"
                    );
                }
            }
        }
    }

    if let Some(got) = simple {
        let Some(value) = &reference else {
            panic!(
                "the plain reader read {got:?} from text the reference parser refuses: {:?}",
                reference_error(text)
            );
        };
        let mut expected = Vec::new();
        scalars(value, &mut expected);
        // The reader keeps a plain `null` or `~`, which the reference reads as a null (left out
        // of `expected`): skip such an entry unless it is the string expected next (`'~'`).
        let mut want = expected.iter().peekable();
        for g in &got {
            match want.peek() {
                Some(e) if matches_scalar(g, e) => {
                    want.next();
                }
                _ if matches!(g.as_str(), "null" | "Null" | "NULL" | "~") => {}
                _ => panic!(
                    "the plain reader read {g:?} where the reference parser reads {:?} \
                     (all: {got:?} against {expected:?})",
                    want.peek()
                ),
            }
        }
        assert!(
            want.peek().is_none(),
            "the plain reader read {got:?}, the reference parser {expected:?}"
        );
    }
}

/// Whether the reader's text `g` is the reference's scalar `e`: a string as itself, any other
/// scalar as a text that reads alone as the same value.
fn matches_scalar(g: &str, e: &Value) -> bool {
    match e {
        Value::String(s) => s == g,
        other => parse(g).as_ref() == Some(other),
    }
}

/// The text as the reference parser reads a kustomization, `None` when it refuses it.
fn parse(text: &str) -> Option<Value> {
    serde_saphyr::from_str_with_options::<Value>(text, kustomize::fuzzing::parse_options()).ok()
}

fn reference_error(text: &str) -> String {
    match serde_saphyr::from_str_with_options::<Value>(text, kustomize::fuzzing::parse_options()) {
        Ok(_) => String::new(),
        Err(e) => e.to_string(),
    }
}

/// A string `diff` must try as a path (see the module's documentation).
fn is_path_like(s: &str) -> bool {
    !s.is_empty() && !s.contains("://") && !s.contains(['\n', '\r'])
}

/// Every string value (not keys) of `value`, in order.
fn string_values<'v>(value: &'v Value, out: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| string_values(v, out)),
        Value::Object(map) => map.values().for_each(|v| string_values(v, out)),
        _ => {}
    }
}

/// Every scalar value (not keys) of `value` but nulls and empty strings, in order.
fn scalars<'v>(value: &'v Value, out: &mut Vec<&'v Value>) {
    match value {
        Value::Null => {}
        Value::String(s) if s.is_empty() => {}
        Value::Array(items) => items.iter().for_each(|v| scalars(v, out)),
        Value::Object(map) => map.values().for_each(|v| scalars(v, out)),
        other => out.push(other),
    }
}
