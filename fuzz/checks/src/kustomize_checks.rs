//! The renderer (crate `kustomize`): its patchers, and a full render of a small tree in memory.

use std::path::Path;

use serde_json::Value;

use crate::{parts, roundtrip};

fn yaml_value(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    serde_saphyr::from_str_with_options(text, kustomize::fuzzing::parse_options()).ok()
}

/// The strategic-merge and JSON 6902 patchers: the first byte chooses which; then a target and a
/// patch, NUL-separated, as YAML. Never a panic; an empty patch changes nothing; a patched
/// object still prints as YAML that reads back as the same value.
pub fn patch(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let items = parts(rest, 2);
    let (Some(target), Some(patch)) = (
        items.first().and_then(|b| yaml_value(b)),
        items.get(1).and_then(|b| yaml_value(b)),
    ) else {
        return;
    };
    type Patcher = fn(&mut Value, &Value) -> Result<(), String>;
    let (apply, empty): (Patcher, Value) = if mode % 2 == 0 {
        (
            kustomize::fuzzing::strategic_merge,
            Value::Object(Default::default()),
        )
    } else {
        (kustomize::fuzzing::json6902, Value::Array(Vec::new()))
    };
    if target.is_object() {
        let mut same = target.clone();
        if apply(&mut same, &empty).is_ok() {
            // Kustomize drops null elements of merge-keyed lists (`ports: [null]` becomes
            // `ports: []`; checked against `kubectl kustomize`) and keeps them in lists of
            // scalars (`args: [null, a]`): nulls in lists of mappings may go, nothing else.
            assert_eq!(
                without_nulls_in_lists_of_mappings(same),
                without_nulls_in_lists_of_mappings(target.clone()),
                "an empty patch changed the target"
            );
        }
    }
    let mut patched = target.clone();
    // A null result is a deleted object (`$patch: delete`): the renderer drops it, prints nothing.
    if apply(&mut patched, &patch).is_ok()
        && !patched.is_null()
        && kustomize::emit::find_unprintable(&patched).is_none()
        && !crate::has_yaml11_break(&patched)
        && !crate::has_overflowing_float(&patched)
    {
        roundtrip(
            "renderer",
            &patched,
            &kustomize::emit::emit_document(&patched),
        );
    }
}

/// `v` with the null elements removed from every list whose other elements are all mappings.
fn without_nulls_in_lists_of_mappings(v: Value) -> Value {
    match v {
        Value::Array(items) => {
            let mappings_only = items.iter().all(|i| i.is_null() || i.is_object());
            Value::Array(
                items
                    .into_iter()
                    .filter(|i| !(mappings_only && i.is_null()))
                    .map(without_nulls_in_lists_of_mappings)
                    .collect(),
            )
        }
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, without_nulls_in_lists_of_mappings(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Files of the in-memory tree a render fuzz input fills, in order (NUL-separated parts).
pub const RENDER_FILES: [&str; 6] = [
    "/app/kustomization.yaml",
    "/app/deploy.yaml",
    "/app/patch.yaml",
    "/base/kustomization.yaml",
    "/base/base.yaml",
    "/component/kustomization.yaml",
];

/// Kustomization loading and the full render of a small tree in memory (through the renderer's
/// `FileSystem` trait): never a panic; an error has a message; a render is deterministic (a
/// second renderer prints the same bytes) and its output reads back as one document per object,
/// equal to the objects.
pub fn render(data: &[u8]) {
    let mut fs = kustomize::fs::MemoryFs::new();
    for (path, content) in RENDER_FILES.iter().zip(parts(data, RENDER_FILES.len())) {
        fs.add_file(path, content.to_vec());
    }
    let first = kustomize::Renderer::with_fs(fs.clone()).build(Path::new("/app"));
    let second = kustomize::Renderer::with_fs(fs).build(Path::new("/app"));
    match (first, second) {
        (Ok(a), Ok(b)) => {
            let yaml = kustomize::to_yaml(&a);
            assert_eq!(
                yaml,
                kustomize::to_yaml(&b),
                "two renders of one tree differ"
            );
            let values: Vec<&Value> = a.iter().map(|r| &r.value).collect();
            if values.iter().all(|v| {
                kustomize::emit::find_unprintable(v).is_none()
                    && !crate::has_yaml11_break(v)
                    && !crate::has_overflowing_float(v)
            }) {
                let back: Vec<Value> = serde_saphyr::from_multiple_with_options(
                    &yaml,
                    kustomize::fuzzing::parse_options(),
                )
                .unwrap_or_else(|e| panic!("rendered YAML does not parse ({e}):\n{yaml}"));
                // Numbers as numbers: the renderer prints an integral float as kubectl does
                // (`1.0` as `1`), which reads back as an integer.
                let back: Vec<&Value> = back.iter().filter(|v| !v.is_null()).collect();
                assert!(
                    back.len() == values.len()
                        && back
                            .iter()
                            .zip(&values)
                            .all(|(b, v)| crate::same_numbers(b, v)),
                    "rendered YAML reads back differently:\n{yaml}\n  read back: {back:?}\n  objects: {values:?}"
                );
            }
        }
        (Err(a), Err(b)) => {
            assert!(!a.to_string().is_empty(), "an error without a message");
            assert_eq!(a.to_string(), b.to_string(), "two renders fail differently");
        }
        (a, b) => panic!(
            "two renders of one tree disagree: {:?} vs {:?}",
            a.map(|r| r.len()).map_err(|e| e.to_string()),
            b.map(|r| r.len()).map_err(|e| e.to_string())
        ),
    }
}
