//! The strategic merge as Kustomize v5 applies it (kyaml's `merge2` walking the target and the
//! patch together, not apimachinery's strategic merge): maps merge recursively, lists merge by
//! their schema's keys (patch-only elements first) or are replaced, `$patch` directives delete,
//! replace or merge. See the [module doc](super) for each rule checked against kubectl.

use serde_json::{Map, Value};

use super::schema::{Sch, schema_for};

/// Applies a strategic merge patch to `target` as Kustomize does.
///
/// When the patch deletes the whole object (`$patch: delete` at its top level), `target` becomes
/// `Value::Null`: the caller drops the resource.
pub fn strategic_merge(target: &mut Value, patch: &Value) -> Result<(), String> {
    check_directives(patch, &mut Vec::new())?;
    let dest = std::mem::take(target);
    let sch = schema_for(Sch::Unknown, [Some(&dest), None]);
    let merged = walk(Some(dest), Some(patch.clone()), sch, &mut Vec::new())?;
    *target = merged.map(|(v, _)| v).unwrap_or(Value::Null);
    Ok(())
}

/// Refuses the apimachinery directives Kustomize does not apply.
fn check_directives(v: &Value, path: &mut Vec<String>) -> Result<(), String> {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if k.starts_with("$setElementOrder/")
                    || k.starts_with("$deleteFromPrimitiveList/")
                    || k == "$retainKeys"
                {
                    return Err(format!(
                        "strategic merge patch directive `{k}` at `{}` is not applied by Kustomize \
                         v5 (it would copy it into the object verbatim); edgefleet refuses it: use \
                         `$patch: replace` or a JSON 6902 patch instead",
                        display_path(path)
                    ));
                }
                if k == "$patch" {
                    match child.as_str() {
                        Some("delete" | "replace" | "merge") => {}
                        _ => {
                            return Err(format!(
                                "unknown patch strategy `{}` at `{}` (expected delete, replace or merge)",
                                scalar_string(child),
                                display_path(path)
                            ));
                        }
                    }
                }
                path.push(k.clone());
                check_directives(child, path)?;
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(i.to_string());
                check_directives(child, path)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

fn display_path(path: &[String]) -> String {
    if path.is_empty() {
        "(top level)".to_owned()
    } else {
        path.join(".")
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Map,
    Seq,
    Scalar,
    Empty,
}

fn kind_of(v: &Value) -> Kind {
    match v {
        Value::Object(_) => Kind::Map,
        Value::Array(_) => Kind::Seq,
        Value::Null => Kind::Empty,
        _ => Kind::Scalar,
    }
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Map => "a map",
        Kind::Seq => "a list",
        Kind::Scalar => "a scalar",
        Kind::Empty => "null",
    }
}

/// The string kyaml compares when matching list elements (a YAML scalar's text).
pub(super) fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The text kyaml compares a merge key's value by: a scalar's text; a map or a list has none
/// (its node's value is empty), so it matches like an empty key.
fn key_text(v: &Value) -> String {
    match v {
        Value::Object(_) | Value::Array(_) => String::new(),
        other => scalar_string(other),
    }
}

/// Walks one node of (dest, origin). `None` in the result clears the field. The flag tells
/// whether the result *is* the destination node (kyaml merges in place: the merged element then
/// also replaces the original in the destination list).
type Walked = Option<(Value, bool)>;

fn walk(
    dest: Option<Value>,
    origin: Option<Value>,
    sch: Sch,
    path: &mut Vec<String>,
) -> Result<Walked, String> {
    let kind = [dest.as_ref(), origin.as_ref()]
        .into_iter()
        .flatten()
        .map(kind_of)
        .find(|k| *k != Kind::Empty)
        .unwrap_or(Kind::Empty);
    for v in [dest.as_ref(), origin.as_ref()].into_iter().flatten() {
        let k = kind_of(v);
        if k != Kind::Empty && k != kind {
            return Err(format!(
                "cannot merge {} into {} at `{}`",
                kind_name(kind_of(origin.as_ref().unwrap_or(&Value::Null))),
                kind_name(kind_of(dest.as_ref().unwrap_or(&Value::Null))),
                display_path(path)
            ));
        }
    }
    match kind {
        Kind::Map | Kind::Empty => {
            let sch = schema_for(sch, [dest.as_ref(), origin.as_ref()]);
            walk_map(dest, origin, sch, path)
        }
        Kind::Seq => {
            let associative = matches!(sch, Sch::List { merge: Some(_), .. });
            if associative {
                walk_associative(dest, origin, sch, path)
            } else {
                // Non-associative: the patch's list replaces the target's.
                Ok(match origin {
                    Some(o) => Some((o, false)),
                    None => dest.map(|d| (d, true)),
                })
            }
        }
        Kind::Scalar => Ok(match origin {
            Some(o) => Some((o, false)),
            None => dest.map(|d| (d, true)),
        }),
    }
}

/// Reads and removes a map's `$patch` directive.
fn take_map_directive(v: &mut Value) -> Option<String> {
    let m = v.as_object_mut()?;
    let d = m.get("$patch")?.as_str()?.to_owned();
    if matches!(d.as_str(), "delete" | "replace" | "merge") {
        m.shift_remove("$patch");
        Some(d)
    } else {
        None
    }
}

/// Reads and removes a list's directive element (`- $patch: replace`).
fn take_seq_directive(v: &mut Value) -> Option<String> {
    let items = v.as_array_mut()?;
    let idx = items.iter().position(|e| {
        e.as_object()
            .is_some_and(|m| m.contains_key("$patch") && m.len() == 1)
    })?;
    let d = items[idx]
        .get("$patch")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if matches!(d.as_str(), "delete" | "replace" | "merge") {
        items.remove(idx);
        Some(d)
    } else {
        None
    }
}

fn is_null_or_missing(v: Option<&Value>) -> bool {
    v.is_none_or(Value::is_null)
}

fn walk_map(
    dest: Option<Value>,
    mut origin: Option<Value>,
    sch: Sch,
    path: &mut Vec<String>,
) -> Result<Walked, String> {
    // VisitMap: decide the node the fields are merged into.
    let (mut node, is_dest, same) = if is_null_or_missing(dest.as_ref()) {
        let directive = origin.as_mut().and_then(take_map_directive);
        if directive.as_deref() == Some("delete") {
            return Ok(None);
        }
        match origin.take() {
            // An explicit null in the target with nothing in the patch stays.
            None => return Ok(dest.map(|d| (d, true))),
            Some(o) => (o, false, true),
        }
    } else if origin.as_ref().is_some_and(Value::is_null) {
        return Ok(None);
    } else {
        match origin.as_mut().and_then(take_map_directive).as_deref() {
            Some("delete") => return Ok(None),
            Some("replace") => (origin.take().unwrap_or(Value::Null), false, true),
            _ => (dest.unwrap_or(Value::Null), true, false),
        }
    };
    if node.is_null() {
        // Both missing: kyaml walks an empty map and sets nothing.
        return Ok(None);
    }
    // When the node came from the patch, kyaml walks it against itself.
    let mut origin_map = if same {
        node.as_object().cloned()
    } else {
        origin.and_then(|o| match o {
            Value::Object(m) => Some(m),
            _ => None,
        })
    };
    let mut names: Vec<String> = node
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(om) = &origin_map {
        names.extend(om.keys().cloned());
    }
    names.sort();
    names.dedup();
    for key in names {
        // Move the children out instead of cloning them: every level would otherwise copy the
        // whole subtree below it. The slot is filled again (or removed) right after.
        let d = node
            .as_object_mut()
            .and_then(|m| m.get_mut(&key))
            .map(std::mem::take);
        let o = origin_map.as_mut().and_then(|m| m.swap_remove(&key));
        path.push(key.clone());
        let val = walk(d, o, sch.field(&key), path)?;
        path.pop();
        let m = node.as_object_mut().expect("walk_map works on maps");
        match val {
            // A value, or the target's own null that the patch leaves alone (Kustomize keeps
            // `x: null` of the object; a null in the patch deletes the field).
            Some((v, is_dest)) if is_dest || !v.is_null() => {
                if let Some(slot) = m.get_mut(&key) {
                    *slot = v;
                } else {
                    m.insert(key, v);
                }
            }
            _ => {
                m.shift_remove(&key);
            }
        }
    }
    Ok(Some((node, is_dest)))
}

fn is_empty_map(v: &Value) -> bool {
    v.as_object().is_some_and(Map::is_empty)
}

/// kyaml's `FieldMatcher`: does `elem` match `key` = `value` (any value when `value` is empty)?
fn field_matches(elem: &Value, key: &str, value: &str) -> Result<bool, String> {
    if elem.is_null() {
        return Ok(false);
    }
    if key.is_empty() {
        return match elem {
            Value::Object(_) | Value::Array(_) => {
                Err("a list mixes primitive values and objects; cannot merge it".to_owned())
            }
            _ => Ok(scalar_string(elem) == value),
        };
    }
    match elem {
        Value::Object(m) => Ok(match m.get(key) {
            Some(v) => value.is_empty() || key_text(v) == value,
            None => false,
        }),
        _ => Err("a list mixes objects and other values; cannot merge it".to_owned()),
    }
}

/// kyaml's `ElementSetter`: replace the elements matching all `keys`=`values` with `element`
/// (or delete them when `element` is `None`), append when nothing matched; drops empty elements.
fn element_setter(
    list: &mut Vec<Value>,
    element: Option<&Value>,
    keys: &[String],
    values: &[String],
) -> Result<(), String> {
    let empty_key = [String::new()];
    let keys: &[String] = if keys.is_empty() { &empty_key } else { keys };
    let mapping_setter = !keys[0].is_empty() && !values.is_empty() && !values[0].is_empty();
    let mut out = Vec::with_capacity(list.len() + 1);
    let mut found_any = false;
    for elem in list.drain(..) {
        if elem.is_null() || is_empty_map(&elem) {
            continue;
        }
        if !elem.is_object() && mapping_setter {
            out.push(elem);
            continue;
        }
        let mut found = true;
        let mut matched = false;
        for (j, key) in keys.iter().enumerate() {
            if j < values.len() {
                matched = field_matches(&elem, key, &values[j])?;
            }
            if !matched {
                found = false;
                break;
            }
        }
        if !found {
            if !values.is_empty() {
                out.push(elem);
            }
            continue;
        }
        found_any = true;
        if let Some(e) = element {
            out.push(e.clone());
        }
    }
    *list = out;
    if let Some(e) = element
        && !e.is_null()
        && !found_any
    {
        list.push(e.clone());
    }
    Ok(())
}

/// kyaml's `ElementMatcher`: the index of the first element matching all keys exactly.
fn element_find(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    if keys.is_empty() || keys[0].is_empty() {
        let want = values.first().map(String::as_str).unwrap_or("");
        return list
            .iter()
            .position(|e| !e.is_object() && !e.is_array() && scalar_string(e) == want);
    }
    list.iter().position(|e| {
        e.as_object().is_some_and(|m| {
            keys.iter()
                .zip(values)
                .all(|(k, v)| m.get(k).is_some_and(|x| key_text(x) == *v))
        })
    })
}

/// kyaml's `validateKeys`: keep the keys that have a value somewhere in `all`.
fn validate_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut valid = vec![false; keys.len()];
    for vs in all {
        for (i, v) in vs.iter().enumerate() {
            if !v.is_empty() && i < keys.len() {
                valid[i] = true;
            }
        }
    }
    if !valid.iter().any(|b| *b) {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys
        .iter()
        .zip(&valid)
        .filter(|(_, ok)| **ok)
        .map(|(k, _)| k.clone())
        .collect();
    let vv = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || valid.get(*i).copied().unwrap_or(false))
        .map(|(_, v)| v.clone())
        .collect();
    (vk, vv)
}

/// kyaml's `mergeValues`: key tuples that agree where both are set are the same element.
fn merge_values(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        for j in 0..list.len() {
            let (a, b) = (&list[i], &list[j]);
            if a.len() != b.len() {
                continue;
            }
            let mut common = false;
            let mut res = Vec::with_capacity(a.len());
            let mut ok = true;
            for k in 0..a.len() {
                if a[k] == b[k] {
                    common = true;
                    res.push(a[k].clone());
                } else if !a[k].is_empty() && !b[k].is_empty() {
                    ok = false;
                    break;
                } else if !a[k].is_empty() {
                    res.push(a[k].clone());
                } else {
                    res.push(b[k].clone());
                }
            }
            if ok && common {
                list[i] = res.clone();
                list[j] = res;
            }
        }
    }
}

fn element_values(list: &[Value], keys: &[String]) -> Vec<Vec<String>> {
    list.iter()
        .map(|e| {
            keys.iter()
                .map(|k| e.get(k).map(key_text).unwrap_or_default())
                .collect()
        })
        .collect()
}

/// kyaml's `appendListNode`.
fn append_list(dst: &mut Vec<Value>, src: &[Value], keys: &[String]) -> Result<(), String> {
    for elem in src {
        if keys.first().is_none_or(String::is_empty) {
            element_setter(dst, Some(elem), &[String::new()], &[scalar_string(elem)])?;
            continue;
        }
        let mut v = Vec::new();
        for key in keys {
            match elem.get(key) {
                None => dst.push(elem.clone()),
                Some(x) => v.push(key_text(x)),
            }
        }
        if keys.len() > 1 {
            element_setter(dst, None, keys, &v)?;
        }
        element_setter(dst, Some(elem), keys, &v)?;
    }
    Ok(())
}

fn walk_associative(
    dest: Option<Value>,
    mut origin: Option<Value>,
    sch: Sch,
    path: &mut Vec<String>,
) -> Result<Walked, String> {
    // VisitList (associative)
    let (node, same) = if is_null_or_missing(dest.as_ref()) {
        match origin.take() {
            Some(o) => (o, true),
            None => return Ok(None),
        }
    } else if origin.as_ref().is_some_and(Value::is_null) {
        return Ok(None);
    } else {
        match origin.as_mut().and_then(take_seq_directive).as_deref() {
            Some("delete") => return Ok(None),
            Some("replace") => (origin.take().unwrap_or_default(), true),
            _ => (dest.unwrap_or_default(), false),
        }
    };
    let mut dest_list: Vec<Value> = match node {
        Value::Array(a) => a,
        other => return Ok(Some((other, false))),
    };
    let has_origin = same || origin.is_some();
    let origin_list: Vec<Value> = if same {
        dest_list.clone()
    } else {
        match origin {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        }
    };
    let keys: Vec<String> = match sch {
        Sch::List { merge: Some(k), .. } => k.to_vec(),
        _ => Vec::new(),
    };
    let item_sch = sch.elements();

    let primitive = keys.is_empty();
    let keys: Vec<String> = if primitive { vec![String::new()] } else { keys };
    // kyaml matches elements by their keys; one target element with none of them makes it drop
    // every other element of the list and the patch's (`containers: [{image: a}, {name: b,
    // image: b}]` keeps only the first, whatever the patch says). Kubernetes requires these keys
    // anyway: refuse rather than lose containers, ports or volumes without a word.
    if !primitive && !same && (dest_list.len() > 1 || !origin_list.is_empty()) {
        let keyless = dest_list.iter().position(|e| {
            e.as_object()
                .is_some_and(|m| keys.iter().all(|k| !m.contains_key(k)))
        });
        if let Some(i) = keyless {
            return Err(format!(
                "element {i} of `{}` has no `{}`, the key this list is merged by: Kustomize \
                 would drop the list's other elements when patching it; edgefleet refuses: \
                 give every element its `{}`",
                display_path(path),
                keys.join("`/`"),
                keys[0]
            ));
        }
    }

    // Values of the keys: patch elements first (Kustomize prepends), then the target's.
    let mut values_list: Vec<Vec<String>> = Vec::new();
    {
        let mut push = |vs: Vec<String>| {
            if !vs.is_empty() && !values_list.contains(&vs) {
                values_list.push(vs);
            }
        };
        let sources: [&[Value]; 2] = [&origin_list, &dest_list];
        for (i, src) in sources.into_iter().enumerate() {
            if i == 0 && !has_origin {
                continue;
            }
            if primitive {
                for item in src {
                    push(vec![scalar_string(item)]);
                }
            } else {
                for vs in element_values(src, &keys) {
                    push(vs);
                }
            }
        }
    }
    if keys.len() > 1 {
        merge_values(&mut values_list);
    }

    let mut items: Vec<Value> = Vec::new();
    let mut valid_keys: Vec<String> = keys.clone();
    for values in values_list.clone() {
        if values.is_empty() {
            continue;
        }
        let (vk, vv) = validate_keys(&values_list, &values, &keys);
        valid_keys = vk.clone();
        let (lk, lv) = validate_keys(std::slice::from_ref(&vv), &vv, &vk);
        let d_idx = element_find(&dest_list, &lk, &lv);
        let o_elem = if same {
            d_idx.map(|i| dest_list[i].clone())
        } else {
            element_find(&origin_list, &lk, &lv).map(|i| origin_list[i].clone())
        };
        let d_elem = d_idx.map(|i| dest_list[i].clone());
        path.push(format!("[{}]", vv.join(",")));
        let walked = walk(d_elem, o_elem, item_sch, path)?;
        path.pop();
        let val = match walked {
            Some((v, is_dest)) => {
                if is_dest && let Some(i) = d_idx {
                    dest_list[i] = v.clone();
                }
                Some(v)
            }
            None => None,
        };
        let val = match val {
            Some(v) if !v.is_null() && !is_empty_map(&v) => v,
            _ => {
                element_setter(&mut dest_list, None, &vk, &vv)?;
                continue;
            }
        };
        let mut val = val;
        for (i, key) in vk.iter().enumerate() {
            if key.is_empty() {
                continue;
            }
            if let Some(m) = val.as_object_mut()
                && !m.contains_key(key)
                && !vv[i].is_empty()
            {
                m.insert(key.clone(), Value::String(vv[i].clone()));
            }
        }
        element_setter(&mut items, Some(&val), &vk, &vv)?;
    }
    if !values_list.is_empty() {
        append_list(&mut items, &dest_list, &valid_keys)?;
    } else {
        items = dest_list;
    }
    Ok(Some((Value::Array(items), false)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn smp(target: Value, patch: Value) -> Value {
        let mut t = target;
        strategic_merge(&mut t, &patch).unwrap();
        t
    }

    fn dep(spec: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"template": {"spec": spec}}})
    }

    #[test]
    fn containers_merge_by_name_new_first() {
        let out = smp(
            dep(
                json!({"containers": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "s:1"}]}),
            ),
            dep(
                json!({"containers": [{"name": "new", "image": "n"}, {"name": "side", "image": "s:2"}]}),
            ),
        );
        assert_eq!(
            out.pointer("/spec/template/spec/containers").unwrap(),
            &json!([{"name": "new", "image": "n"}, {"name": "side", "image": "s:2"}, {"name": "app", "image": "a:1"}])
        );
    }

    /// Checked against kubectl kustomize: the object's nulls stay, the patch's delete.
    #[test]
    fn nulls_of_the_object_stay_nulls_of_the_patch_delete() {
        let target = json!({"metadata": {"name": "d", "labels": {"x": null, "y": "1"}}, "spec": {"paused": null}});
        assert_eq!(smp(target.clone(), json!({})), target);
        assert_eq!(
            smp(target.clone(), json!({"metadata": {"labels": {"z": "2"}}})),
            json!({"metadata": {"name": "d", "labels": {"x": null, "y": "1", "z": "2"}}, "spec": {"paused": null}})
        );
        assert_eq!(
            smp(
                target,
                json!({"metadata": {"labels": {"x": null, "y": null}}})
            ),
            json!({"metadata": {"name": "d", "labels": {}}, "spec": {"paused": null}})
        );
    }

    /// Kustomize keeps only the element without a name (checked against kubectl kustomize):
    /// edgefleet refuses instead, naming the list and the element.
    #[test]
    fn a_keyed_list_element_without_its_key_is_refused_not_dropped() {
        let target = dep(json!({"containers": [
            {"name": "side", "image": "s"}, {"nam": "web", "image": "w"}]}));
        for patch in [
            json!({}),
            dep(json!({"containers": [{"name": "side", "image": "s:2"}]})),
        ] {
            let mut t = target.clone();
            let e = strategic_merge(&mut t, &patch).unwrap_err();
            assert!(
                e.starts_with(
                    "element 1 of `spec.template.spec.containers` has no `name`, the key this list is merged by"
                ),
                "{e}"
            );
        }
        // Alone, it loses nothing: merged as Kustomize does.
        let single = dep(json!({"containers": [{"image": "w"}]}));
        assert_eq!(smp(single.clone(), json!({})), single);
    }

    /// Checked against kubectl kustomize: a key that is a map (or a list) has no text to kyaml,
    /// so it matches as an empty key would (`name: ""`), repeating the element it names.
    #[test]
    fn a_map_as_merge_key_matches_as_an_empty_key() {
        for odd in [json!({"x": 1}), json!(""), json!([1])] {
            let k = json!({"name": odd, "image": "k"});
            let out = smp(
                dep(json!({"containers": [k, {"name": "b", "image": "b"}]})),
                json!({}),
            );
            assert_eq!(
                out.pointer("/spec/template/spec/containers").unwrap(),
                &json!([k, k, {"name": "b", "image": "b"}]),
                "{odd}"
            );
        }
    }

    #[test]
    fn ports_quirk_matches_kustomize() {
        let base = dep(json!({"containers": [{"name": "app", "ports": [
            {"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 90}]}]}));
        let out = smp(
            base,
            dep(json!({"containers": [{"name": "app", "ports": [
                {"containerPort": 80, "name": "web"}, {"containerPort": 91, "name": "new"}]}]})),
        );
        assert_eq!(
            out.pointer("/spec/template/spec/containers/0/ports")
                .unwrap(),
            &json!([{"containerPort": 91, "name": "new"},
                    {"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 90}])
        );
    }

    #[test]
    fn null_deletes_and_primitive_lists() {
        let base = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}, "finalizers": ["a", "b"]}, "data": {"x": "1", "y": "2"}});
        let out = smp(
            base,
            json!({"metadata": {"labels": {"a": null}, "finalizers": ["c", "a"]}, "data": {"x": null}}),
        );
        assert_eq!(out["metadata"]["labels"], json!({}));
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "a", "b"]));
        assert_eq!(out["data"], json!({"y": "2"}));
    }

    #[test]
    fn directives() {
        let base = dep(
            json!({"containers": [{"name": "app", "image": "a"}, {"name": "side"}], "nodeSelector": {"a": "1"}}),
        );
        let out = smp(
            base.clone(),
            dep(
                json!({"containers": [{"name": "app", "$patch": "delete"}], "nodeSelector": {"$patch": "replace", "b": "2"}}),
            ),
        );
        assert_eq!(
            out.pointer("/spec/template/spec/containers").unwrap(),
            &json!([{"name": "side"}])
        );
        assert_eq!(
            out.pointer("/spec/template/spec/nodeSelector").unwrap(),
            &json!({"b": "2"})
        );
        let out = smp(
            base.clone(),
            dep(json!({"containers": [{"name": "x"}, {"$patch": "replace"}]})),
        );
        assert_eq!(
            out.pointer("/spec/template/spec/containers").unwrap(),
            &json!([{"name": "x"}])
        );
        let out = smp(base.clone(), json!({"$patch": "delete"}));
        assert!(out.is_null());
        let mut t = base;
        assert!(strategic_merge(&mut t, &json!({"$patch": "nope"})).is_err());
        assert!(strategic_merge(&mut t, &dep(json!({"$setElementOrder/containers": []}))).is_err());
    }

    #[test]
    fn custom_resources_replace_lists() {
        let base = json!({"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}, "spec": {"items": [{"name": "a", "v": 1}]}});
        let out = smp(base, json!({"spec": {"items": [{"name": "b"}]}}));
        assert_eq!(out["spec"]["items"], json!([{"name": "b"}]));
    }
}
