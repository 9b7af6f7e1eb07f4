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

/// `scalar_string(v) == text`, without building the string for the common case (a string).
fn scalar_is(v: &Value, text: &str) -> bool {
    match v {
        Value::String(s) => s == text,
        Value::Null => text.is_empty(),
        other => scalar_string(other) == text,
    }
}

/// `key_text(v) == text`, without building the string for the common case (a string).
fn key_text_is(v: &Value, text: &str) -> bool {
    match v {
        Value::Object(_) | Value::Array(_) => text.is_empty(),
        other => scalar_is(other, text),
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
    if origin.is_none() && !slow_walk_only() {
        return walk_dest_only(dest, sch, path);
    }
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

/// A node of the target that the patch does not reach: what [`walk`] with no patch node gives,
/// without rebuilding it. Scalars, nulls and lists replaced as a whole stay as they are, and so
/// does every map (kyaml walks it field by field, but rewrites nothing); only lists merged by
/// keys are rewritten (their elements de-duplicated by key, empty ones dropped), so only they
/// and the maps above them are visited, in the same (sorted) order as the full walk, which keeps
/// the first error the same.
fn walk_dest_only(dest: Option<Value>, sch: Sch, path: &mut Vec<String>) -> Result<Walked, String> {
    let Some(mut v) = dest else {
        return Ok(None);
    };
    if v.is_object() {
        let sch = schema_for(sch, [Some(&v), None]);
        if let Value::Object(m) = &mut v {
            let mut nested: Vec<String> = m
                .iter()
                .filter(|(_, c)| matches!(c, Value::Object(_) | Value::Array(_)))
                .map(|(k, _)| k.clone())
                .collect();
            nested.sort_unstable();
            for key in nested {
                let child = m.get_mut(&key).map(std::mem::take);
                path.push(key);
                let walked = walk_dest_only(child, sch.field(path.last().expect("pushed")), path)?;
                let key = path.pop().expect("pushed");
                match walked {
                    // A map's or list's walk never yields a null: it is put back or dropped.
                    Some((child, _)) => {
                        if let Some(slot) = m.get_mut(&key) {
                            *slot = child;
                        }
                    }
                    None => {
                        m.shift_remove(&key);
                    }
                }
            }
        }
        Ok(Some((v, true)))
    } else if let (
        Value::Array(items),
        Sch::List {
            merge: Some(keys), ..
        },
    ) = (&mut v, sch)
    {
        let Some(texts) = distinct_key_texts(items, keys).filter(|_| !slow_walk_only()) else {
            return walk_associative(Some(v), None, sch, path);
        };
        // Every element has all its keys and no two share them: kyaml's list walk keeps the
        // elements where they are and walks each against nothing.
        let item_sch = sch.elements();
        for (item, text) in items.iter_mut().zip(texts) {
            path.push(format!("[{}]", text.join(",")));
            let walked = walk_dest_only(Some(std::mem::take(item)), item_sch, path)?;
            path.pop();
            *item = walked.map(|(w, _)| w).unwrap_or(Value::Null);
        }
        Ok(Some((v, false)))
    } else {
        Ok(Some((v, true)))
    }
}

/// The merge-key values of a list's elements (as kyaml compares them), when every element is a
/// map with a non-empty scalar for each key and no two elements share them; `None` otherwise
/// (primitive lists, missing keys, duplicates: the full walk handles those).
fn distinct_key_texts(items: &[Value], keys: &[String]) -> Option<Vec<Vec<String>>> {
    if keys.is_empty() || keys.iter().any(String::is_empty) {
        return None;
    }
    let mut texts = Vec::with_capacity(items.len());
    for item in items {
        let m = item.as_object()?;
        let mut parts = Vec::with_capacity(keys.len());
        for key in keys {
            let text = match m.get(key)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            if text.is_empty() {
                return None;
            }
            parts.push(text);
        }
        texts.push(parts);
    }
    let mut sorted: Vec<&Vec<String>> = texts.iter().collect();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    Some(texts)
}

/// A keyed list merged with a patch list when both are plain: every element of each has all
/// its keys, none repeats within a list, and no patch element carries a `$patch` directive.
/// Gives what kyaml's list walk gives then (see [`walk_associative`]), without its quadratic
/// element matching and copies: the patch's elements in the patch's order (merged into the
/// target's element of the same keys, if any), then the target's other elements in order; with
/// several keys, kyaml's final append moves every target element behind the patch-only ones.
/// `None` when the lists are not plain (nothing is consumed then).
fn merge_plain_keyed_lists(
    dest_list: &mut Vec<Value>,
    origin_list: &mut Vec<Value>,
    keys: &[String],
    item_sch: Sch,
    path: &mut Vec<String>,
) -> Option<Result<Vec<Value>, String>> {
    if origin_list
        .iter()
        .any(|e| e.as_object().is_some_and(|m| m.contains_key("$patch")))
    {
        return None;
    }
    let dest_keys = distinct_key_texts(dest_list, keys)?;
    let origin_keys = distinct_key_texts(origin_list, keys)?;
    let index: std::collections::HashMap<&Vec<String>, usize> =
        dest_keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    // The target's elements after the walk: `None` once deleted.
    let mut dest_new: Vec<Option<Value>> = dest_list.drain(..).map(Some).collect();
    let mut merged_into_dest = vec![false; dest_new.len()];
    let mut patch_only: Vec<Value> = Vec::new();
    let mut order: Vec<(bool, usize)> = Vec::new(); // (from the target, index)
    let walk_one = |d: Option<Value>, o: Option<Value>, text: &[String], path: &mut Vec<String>| {
        path.push(format!("[{}]", text.join(",")));
        let walked = walk(d, o, item_sch, path);
        path.pop();
        walked.map(|w| {
            w.map(|(v, _)| v)
                .filter(|v| !v.is_null() && !is_empty_map(v))
        })
    };
    for (o, text) in origin_list.drain(..).zip(&origin_keys) {
        match index.get(text) {
            Some(&i) => {
                let d = dest_new[i].take();
                match walk_one(d, Some(o), text, path) {
                    Err(e) => return Some(Err(e)),
                    Ok(v) => dest_new[i] = v,
                }
                merged_into_dest[i] = true;
                order.push((true, i));
            }
            None => match walk_one(None, Some(o), text, path) {
                Err(e) => return Some(Err(e)),
                Ok(Some(v)) => {
                    order.push((false, patch_only.len()));
                    patch_only.push(v);
                }
                Ok(None) => {}
            },
        }
    }
    for (i, text) in dest_keys.iter().enumerate() {
        if merged_into_dest[i] {
            continue;
        }
        let d = dest_new[i].take();
        match walk_one(d, None, text, path) {
            Err(e) => return Some(Err(e)),
            Ok(v) => dest_new[i] = v,
        }
        order.push((true, i));
    }
    let mut patch_only: Vec<Option<Value>> = patch_only.into_iter().map(Some).collect();
    let items = if keys.len() == 1 {
        order
            .into_iter()
            .filter_map(|(from_dest, i)| {
                if from_dest {
                    dest_new[i].take()
                } else {
                    patch_only[i].take()
                }
            })
            .collect()
    } else {
        let mut items: Vec<Value> = order
            .into_iter()
            .filter(|(from_dest, _)| !from_dest)
            .filter_map(|(_, i)| patch_only[i].take())
            .collect();
        items.extend(dest_new.into_iter().flatten());
        items
    };
    Some(Ok(items))
}

#[cfg(test)]
thread_local! {
    /// Tests compare the dest-only shortcut with the full walk it stands for.
    static SLOW_WALK_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(test)]
fn slow_walk_only() -> bool {
    SLOW_WALK_ONLY.with(std::cell::Cell::get)
}

#[cfg(not(test))]
#[inline(always)]
fn slow_walk_only() -> bool {
    false
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
            _ => Ok(scalar_is(elem, value)),
        };
    }
    match elem {
        Value::Object(m) => Ok(match m.get(key) {
            Some(v) => value.is_empty() || key_text_is(v, value),
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
            .position(|e| !e.is_object() && !e.is_array() && scalar_is(e, want));
    }
    list.iter().position(|e| {
        e.as_object().is_some_and(|m| {
            keys.iter()
                .zip(values)
                .all(|(k, v)| m.get(k).is_some_and(|x| key_text_is(x, v)))
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
    let mut origin_list: Vec<Value> = if same {
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
    if !primitive
        && !same
        && has_origin
        && !slow_walk_only()
        && let Some(items) =
            merge_plain_keyed_lists(&mut dest_list, &mut origin_list, &keys, item_sch, path)
    {
        return items.map(|items| Some((Value::Array(items), false)));
    }
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

    /// A small deterministic generator of pod specs and patches in the shapes that stress the
    /// list walk: merge keys missing, repeated, null, numbers against strings, empty elements,
    /// `$patch` directives, nulls that delete.
    struct Gen(u64);

    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a>(&mut self, of: &[&'a str]) -> &'a str {
            of[self.below(of.len() as u64) as usize]
        }

        /// A merge key's value: usually one of a few names, sometimes odd.
        fn key(&mut self, names: &[&str]) -> Option<Value> {
            match self.below(12) {
                0 => None,
                1 => Some(Value::Null),
                2 => Some(json!("")),
                3 => Some(json!(80)),
                _ => Some(json!(self.pick(names))),
            }
        }

        fn list(&mut self, patch: bool, make: &mut dyn FnMut(&mut Gen) -> Value) -> Value {
            let mut items: Vec<Value> = (0..self.below(5)).map(|_| make(self)).collect();
            if patch && self.below(8) == 0 {
                let d = self.pick(&["replace", "delete", "merge"]);
                items.push(json!({"$patch": d}));
            }
            match self.below(16) {
                0 => items.push(Value::Null),
                1 => items.push(json!({})),
                _ => {}
            }
            Value::Array(items)
        }

        fn element(&mut self, key: &str, names: &[&str], patch: bool) -> Value {
            let mut m = Map::new();
            if let Some(k) = self.key(names) {
                m.insert(key.to_owned(), k);
            }
            if self.below(2) == 0 {
                m.insert("value".to_owned(), json!(self.pick(&["1", "2", "3"])));
            }
            if patch && self.below(10) == 0 {
                m.insert("value".to_owned(), Value::Null);
            }
            if patch && self.below(14) == 0 {
                let d = self.pick(&["replace", "delete", "merge"]);
                m.insert("$patch".to_owned(), json!(d));
            }
            Value::Object(m)
        }

        fn port(&mut self, patch: bool) -> Value {
            let mut m = Map::new();
            if self.below(10) != 0 {
                let p = match self.below(4) {
                    0 => json!("80"),
                    1 => json!(443),
                    _ => json!(80),
                };
                m.insert("containerPort".to_owned(), p);
            }
            if self.below(3) != 0 {
                m.insert("protocol".to_owned(), json!(self.pick(&["TCP", "UDP"])));
            }
            if self.below(2) == 0 {
                m.insert("name".to_owned(), json!(self.pick(&["http", "metrics"])));
            }
            if patch && self.below(12) == 0 {
                m.insert("$patch".to_owned(), json!("delete"));
            }
            Value::Object(m)
        }

        fn container(&mut self, patch: bool) -> Value {
            let mut c = match self.element("name", &["app", "side", "init"], patch) {
                Value::Object(m) => m,
                _ => unreachable!(),
            };
            if self.below(2) == 0 {
                c.insert("image".to_owned(), json!(self.pick(&["a:1", "b:2"])));
            }
            if self.below(3) != 0 {
                let env = self.list(patch, &mut |g| g.element("name", &["X", "Y", "Z"], patch));
                c.insert("env".to_owned(), env);
            }
            if self.below(3) == 0 {
                let ports = self.list(patch, &mut |g| g.port(patch));
                c.insert("ports".to_owned(), ports);
            }
            if self.below(4) == 0 {
                let mounts =
                    self.list(patch, &mut |g| g.element("mountPath", &["/a", "/b"], patch));
                c.insert("volumeMounts".to_owned(), mounts);
            }
            if self.below(6) == 0 {
                c.insert("resources".to_owned(), json!({"limits": {"cpu": "1"}}));
            }
            if patch && self.below(10) == 0 {
                c.insert("env".to_owned(), Value::Null);
            }
            Value::Object(c)
        }

        fn spec(&mut self, patch: bool) -> Value {
            let mut spec = Map::new();
            if self.below(5) != 0 {
                let cs = self.list(patch, &mut |g| g.container(patch));
                spec.insert("containers".to_owned(), cs);
            }
            if self.below(3) == 0 {
                let vs = self.list(patch, &mut |g| g.element("name", &["q", "r"], patch));
                spec.insert("volumes".to_owned(), vs);
            }
            if self.below(3) == 0 {
                spec.insert(
                    "nodeSelector".to_owned(),
                    json!({"zone": self.pick(&["a", "b"])}),
                );
            }
            if !patch && self.below(8) == 0 {
                spec.insert("hostname".to_owned(), Value::Null);
            }
            dep(Value::Object(spec))
        }
    }

    fn merge_with(slow: bool, target: &Value, patch: &Value) -> Result<Value, String> {
        SLOW_WALK_ONLY.with(|s| s.set(slow));
        let mut t = target.clone();
        let r = strategic_merge(&mut t, patch).map(|()| t);
        SLOW_WALK_ONLY.with(|s| s.set(false));
        r
    }

    #[test]
    fn the_shortcuts_give_what_the_full_walk_gives() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let mut shortcut_taken = 0;
        for case in 0..20_000 {
            let target = g.spec(false);
            let patch = g.spec(true);
            let full = merge_with(true, &target, &patch);
            let fast = merge_with(false, &target, &patch);
            assert_eq!(fast, full, "case {case}\ntarget: {target}\npatch: {patch}");
            // Count the cases where a plain keyed list met a patch list (the fast path's case).
            let containers = |v: &Value| v.pointer("/spec/template/spec/containers").cloned();
            if let (Some(Value::Array(d)), Some(Value::Array(o))) =
                (containers(&target), containers(&patch))
                && distinct_key_texts(&d, &["name".to_owned()]).is_some()
                && distinct_key_texts(&o, &["name".to_owned()]).is_some()
            {
                shortcut_taken += 1;
            }
        }
        assert!(shortcut_taken > 1_000, "only {shortcut_taken} plain cases");
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
