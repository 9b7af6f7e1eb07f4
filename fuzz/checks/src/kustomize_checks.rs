//! The renderer (crate `kustomize`): its patchers, and a full render of a small tree in memory.

use std::path::Path;

use serde_json::Value;

use crate::empty_patch::Expect;
use crate::{parts, roundtrip};

fn yaml_value(bytes: &[u8]) -> Option<Value> {
    let text = std::str::from_utf8(bytes).ok()?;
    serde_saphyr::from_str_with_options(text, kustomize::fuzzing::parse_options()).ok()
}

/// The strategic-merge and JSON 6902 patchers: the first byte chooses which; then a target and a
/// patch, NUL-separated, as YAML. Never a panic; an empty JSON 6902 patch (`[]`) changes
/// nothing; an empty strategic merge patch (`{}`) does what kubectl kustomize's merge does
/// ([`crate::empty_patch`]: it rewrites lists merged by keys, nothing else); a patched object
/// still prints as YAML that reads back as the same value.
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
    let smp = mode % 2 == 0;
    if target.is_object() {
        if smp {
            let mut same = target.clone();
            let result =
                kustomize::fuzzing::strategic_merge(&mut same, &Value::Object(Default::default()));
            check_empty_patch(&target, result.map(|()| &same));
        } else {
            let mut same = target.clone();
            if kustomize::fuzzing::json6902(&mut same, &Value::Array(Vec::new())).is_ok() {
                assert_eq!(same, target, "an empty JSON 6902 patch changed the target");
            }
        }
    }
    type Patcher = fn(&mut Value, &Value) -> Result<(), String>;
    let apply: Patcher = if smp {
        kustomize::fuzzing::strategic_merge
    } else {
        kustomize::fuzzing::json6902
    };
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

/// An empty strategic merge patch on `target` gave `result`: it must be what kubectl kustomize
/// makes of the object ([`crate::empty_patch`]: it rewrites lists merged by keys, nothing else).
pub fn check_empty_patch(target: &Value, result: Result<&Value, String>) {
    match (crate::empty_patch::expected(target), result) {
        (Expect::Value(want), Ok(got)) => assert!(
            *got == want,
            "an empty patch changed the target otherwise than kubectl kustomize does:\n  \
             target: {target}\n  result: {got}\n  kubectl: {want}"
        ),
        (Expect::Value(want), Err(e)) => {
            panic!("an empty patch failed ({e}) where kubectl kustomize gives {want}")
        }
        (Expect::Refused, Ok(got)) => panic!(
            "an empty patch merged a keyed list holding an element without its key (refused by \
             design): {got}"
        ),
        (Expect::Refused, Err(_)) | (Expect::Unknown, _) => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(containers: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"paused": null, "template": {"spec": {"containers": containers}}}})
    }

    fn fails(target: &Value, result: Result<&Value, String>) -> bool {
        std::panic::catch_unwind(|| check_empty_patch(target, result)).is_err()
    }

    /// The check accepts what kubectl does and nothing else: a wrong winner, a lost or changed
    /// element, a lost null of the object, a merge that should have been refused.
    #[test]
    fn the_empty_patch_check_fails_on_any_other_change() {
        let target = deployment(json!([
            {"name": "side", "image": "s1"}, {"name": "web", "image": "w"},
            {"name": "side", "image": "s2"}]));
        let kubectl =
            deployment(json!([{"name": "side", "image": "s2"}, {"name": "web", "image": "w"}]));
        assert!(!fails(&target, Ok(&kubectl)));
        let mut unmerged = target.clone();
        let mut mutants = vec![
            deployment(json!([{"name": "side", "image": "s1"}, {"name": "web", "image": "w"}])),
            deployment(json!([{"name": "web", "image": "w"}, {"name": "side", "image": "s2"}])),
            deployment(json!([{"name": "side", "image": "s2"}])),
            deployment(json!([{"name": "side", "image": "s2"}, {"name": "web", "image": "w2"}])),
            target.clone(),
        ];
        let mut no_null = kubectl.clone();
        no_null["spec"].as_object_mut().unwrap().remove("paused");
        mutants.push(no_null);
        for m in &mutants {
            assert!(fails(&target, Ok(m)), "accepted {m}");
        }
        assert!(fails(&target, Err("refused".into())));
        // An object without keyed duplicates stays exactly as it is.
        let plain = deployment(json!([{"name": "a", "args": [null, "x"]}]));
        assert!(!fails(&plain, Ok(&plain)));
        let mut changed = plain.clone();
        changed["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["x"]);
        assert!(fails(&plain, Ok(&changed)));
        // A list with an element missing its key must be refused, not merged.
        let keyless = deployment(json!([{"name": "a"}, {"image": "b"}]));
        assert!(fails(&keyless, Ok(&keyless)));
        assert!(!fails(&keyless, Err("refused".into())));
        unmerged["kind"] = json!("Thing");
        unmerged["apiVersion"] = json!("x.io/v1");
        // A custom resource's lists are replaced by a patch, never merged: unchanged.
        assert!(!fails(&unmerged, Ok(&unmerged)));
    }
}
