//! JSON 6902 patches as Kustomize v5 applies them (evanphx/json-patch v4): RFC 6902 operations
//! plus v4's departures (negative indexes, `replace` of a missing key adds it, `test` of a
//! missing key against `null` passes).

use kube_basics::pointer::unescape;
use serde_json::Value;

/// Applies a JSON 6902 patch (a list of operations) to `target` as Kustomize does (it uses
/// evanphx/json-patch v4). The operations are applied in order with the `json-patch` crate, after
/// mapping the v4 library's departures from RFC 6902 (each checked against kubectl):
/// - negative array indexes count from the end (`/list/-1` is the last element; for `add` it
///   appends);
/// - `replace` of a missing key in an existing map adds it;
/// - `test` of a missing key passes when the expected value is `null`.
///
/// On an error `target` is left unchanged.
pub fn json6902(target: &mut Value, ops: &Value) -> Result<(), String> {
    let Value::Array(list) = ops else {
        return Err("a JSON 6902 patch must be a list of operations".to_owned());
    };
    let mut doc = target.clone();
    for (i, op) in list.iter().enumerate() {
        let Some(m) = op.as_object() else {
            return Err(format!("operation {i} is not a map"));
        };
        let kind = match m.get("op").and_then(Value::as_str) {
            Some(k @ ("add" | "remove" | "replace" | "move" | "copy" | "test")) => k,
            Some(other) => return Err(format!("operation {i}: unknown op `{other}`")),
            None => return Err(format!("operation {i} has no `op`")),
        };
        let Some(path) = m.get("path").and_then(Value::as_str) else {
            return Err(format!("operation {i} ({kind}) has no `path`"));
        };
        let mut op = m.clone();
        let path = resolve_negative(&doc, path, kind == "add")
            .map_err(|e| format!("operation {i} ({kind} {path}): {e}"))?;
        if let Some(from) = m.get("from").and_then(Value::as_str) {
            let from = resolve_negative(&doc, from, false)
                .map_err(|e| format!("operation {i} ({kind} from {from}): {e}"))?;
            op.insert("from".into(), Value::String(from));
        }
        let missing_key_in_map = || -> bool {
            let (parent, key) = match path.rfind('/') {
                Some(idx) => (&path[..idx], unescape(&path[idx + 1..])),
                None => return false,
            };
            doc.pointer(parent)
                .and_then(Value::as_object)
                .is_some_and(|m| !m.contains_key(&key))
        };
        match kind {
            "replace" if missing_key_in_map() => {
                op.insert("op".into(), Value::String("add".into()));
            }
            "test" if m.get("value").is_none_or(Value::is_null) && missing_key_in_map() => {
                continue;
            }
            _ => {}
        }
        op.insert("path".into(), Value::String(path.clone()));
        let patch: json_patch::Patch =
            serde_json::from_value(Value::Array(vec![Value::Object(op)]))
                .map_err(|e| format!("operation {i}: invalid JSON 6902 operation: {e}"))?;
        json_patch::patch(&mut doc, &patch)
            .map_err(|e| format!("operation {i} ({kind} {path}) does not apply: {e}"))?;
    }
    *target = doc;
    Ok(())
}
/// Rewrites negative array indexes of a JSON pointer against `doc` (evanphx/json-patch v4).
fn resolve_negative(doc: &Value, pointer: &str, is_add: bool) -> Result<String, String> {
    if !pointer.contains("/-") {
        return Ok(pointer.to_owned());
    }
    let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
    let mut out = String::new();
    let mut cur = Some(doc);
    for (n, tok) in tokens.iter().enumerate() {
        let last = n + 1 == tokens.len();
        let mut tok = (*tok).to_owned();
        if let Some(Value::Array(items)) = cur
            && let Ok(idx) = tok.parse::<i64>()
            && idx < 0
        {
            let len = items.len() as i64 + i64::from(last && is_add);
            let resolved = len + idx;
            if resolved < 0 {
                return Err(format!("index {idx} is out of bounds"));
            }
            tok = resolved.to_string();
        }
        cur = match cur {
            Some(Value::Object(m)) => m.get(&unescape(&tok)),
            Some(Value::Array(items)) => tok.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        out.push('/');
        out.push_str(&tok);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json6902_basics() {
        let mut t = json!({"a": {"b": [1, 2]}});
        json6902(&mut t, &json!([{"op": "add", "path": "/a/b/-", "value": 3}, {"op": "test", "path": "/a/b/0", "value": 1}])).unwrap();
        assert_eq!(t, json!({"a": {"b": [1, 2, 3]}}));
        assert!(json6902(&mut t, &json!([{"op": "add", "path": "/x/y", "value": 1}])).is_err());
        assert!(json6902(&mut t, &json!([{"op": "frob", "path": "/a"}])).is_err());
        json6902(&mut t, &json!([{"op": "remove", "path": "/a/b/-1"}, {"op": "replace", "path": "/a/c", "value": 1},
            {"op": "test", "path": "/a/nope", "value": null}, {"op": "add", "path": "/a/b/-1", "value": 9}])).unwrap();
        assert_eq!(t, json!({"a": {"b": [1, 2, 9], "c": 1}}));
    }
}
