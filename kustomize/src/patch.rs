//! Patches as Kustomize v5 applies them: strategic merge patches (kyaml's `merge2`, with the
//! merge keys of the built-in kinds), JSON 6902 patches, and the `target` selector of `patches`.
//!
//! The strategic merge follows Kustomize's own algorithm, not apimachinery's: kubectl 1.37.1
//! (Kustomize v5.8.1) is the oracle and `tests/tests/render_pieces.rs` compares with it. What
//! that means in practice (each point checked against the oracle):
//! - maps merge recursively, `null` deletes a key, an emptied map stays as `{}`;
//! - lists with a patch strategy `merge` merge by their keys; elements only in the patch come
//!   *first*, in patch order, then the remaining target elements (Kustomize prepends);
//! - lists whose merge key set has two keys (container ports: `containerPort`+`protocol`,
//!   Service ports: `port`+`protocol`, topology spread constraints) follow kyaml's quirks, which
//!   can drop a patch element that omits `protocol` when the target sets it (reproduced as is);
//! - lists of primitives with strategy `merge` (`finalizers`) are unions, patch values first;
//! - every other list (including `tolerations`, `args`, and every list of a custom resource or of
//!   a field newer than Kubernetes v1.21, such as `schedulingGates`) is replaced by the patch;
//! - `$patch: delete|replace|merge` on maps, on list elements and as a list's lone element.
//!   `$setElementOrder/…`, `$deleteFromPrimitiveList/…` and `$retainKeys` are *not* applied by
//!   Kustomize (it copies them into the object verbatim); edgefleet refuses them instead.
//!
//! Merge keys come from `patch_schema.json`, derived from the embedded Kubernetes v1.35 OpenAPI
//! definitions (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`,
//! `x-kubernetes-list-map-keys`) minus the fields, types and apiVersions newer than v1.21.2, the
//! schema Kustomize v5 embeds (checked: `autoscaling/v1` HPAs merge `finalizers`, `autoscaling/v2`
//! ones replace them; `schedulingGates` are replaced). A unit test re-derives the keys from the
//! embedded definitions; the exclusions are listed there.

use std::collections::HashMap;
use std::sync::OnceLock;

use kube_basics::selector::LabelSelector;
use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Resource;

// ---------------------------------------------------------------------------------------------
// Schema (merge keys)

#[derive(Debug, Deserialize)]
struct FieldInfo {
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    list: bool,
    /// Present when the patch strategy is `merge`: the merge keys (empty for lists of primitives).
    merge: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct SchemaTable {
    roots: HashMap<String, String>,
    defs: HashMap<String, HashMap<String, FieldInfo>>,
}

fn table() -> &'static SchemaTable {
    static TABLE: OnceLock<SchemaTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("patch_schema.json"))
            .expect("patch_schema.json is valid (checked by a unit test)")
    })
}

type Def = HashMap<String, FieldInfo>;

/// What the schema says about the node being walked.
#[derive(Clone, Copy)]
enum Sch {
    Unknown,
    Object(&'static Def),
    List {
        merge: Option<&'static [String]>,
        item: Option<&'static Def>,
    },
}

impl Sch {
    fn root(api_version: &str, kind: &str) -> Sch {
        let t = table();
        t.roots
            .get(&format!("{api_version}/{kind}"))
            .and_then(|d| t.defs.get(d))
            .map_or(Sch::Unknown, Sch::Object)
    }

    fn field(self, key: &str) -> Sch {
        let Sch::Object(def) = self else {
            return Sch::Unknown;
        };
        let Some(info) = def.get(key) else {
            return Sch::Unknown;
        };
        let t = table();
        let target = info.reference.as_deref().and_then(|r| t.defs.get(r));
        if info.list {
            Sch::List {
                merge: info.merge.as_deref(),
                item: target,
            }
        } else {
            target.map_or(Sch::Unknown, Sch::Object)
        }
    }

    fn elements(self) -> Sch {
        match self {
            Sch::List {
                item: Some(def), ..
            } => Sch::Object(def),
            _ => Sch::Unknown,
        }
    }
}

/// kyaml looks up a schema for any map that carries `apiVersion` and `kind` when it has none.
fn schema_for(sch: Sch, sources: [Option<&Value>; 2]) -> Sch {
    if !matches!(sch, Sch::Unknown) {
        return sch;
    }
    for v in sources.into_iter().flatten() {
        let av = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if !av.is_empty() && !kind.is_empty() {
            let s = Sch::root(av, kind);
            if !matches!(s, Sch::Unknown) {
                return s;
            }
        }
    }
    Sch::Unknown
}

// ---------------------------------------------------------------------------------------------
// Strategic merge

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
fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
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
            Some((v, _)) if !v.is_null() => {
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
            Some(v) => value.is_empty() || scalar_string(v) == value,
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
            keys.iter().zip(values).all(|(k, v)| {
                m.get(k)
                    .is_some_and(|x| !x.is_object() && !x.is_array() && scalar_string(x) == *v)
            })
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
                .map(|k| e.get(k).map(scalar_string).unwrap_or_default())
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
                Some(x) => v.push(scalar_string(x)),
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

    // Values of the keys: patch elements first (Kustomize prepends), then the target's.
    let mut values_list: Vec<Vec<String>> = Vec::new();
    let primitive = keys.is_empty();
    let keys: Vec<String> = if primitive { vec![String::new()] } else { keys };
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

// ---------------------------------------------------------------------------------------------
// JSON 6902

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

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
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

// ---------------------------------------------------------------------------------------------
// Target selectors

/// A `target` of `patches` (and of replacements' `select`/`reject`): group, version, kind, name
/// and namespace are regular expressions anchored as Kustomize anchors them (`^(?:…)$`; checked
/// against kubectl: `kind: "Config.*"` selects ConfigMaps, `name: web` does not select
/// `web-1`), label and annotation selectors in Kubernetes selector syntax.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    group: Option<Regex>,
    version: Option<Regex>,
    kind: Option<Regex>,
    name: Option<Regex>,
    namespace: Option<Regex>,
    label_selector: LabelSelector,
    annotation_selector: LabelSelector,
    /// Patches match the namespace `default` for objects without one (Kustomize's effective
    /// namespace); replacements match the namespace as written.
    raw_namespace: bool,
}

fn anchored(field: &str, pattern: &str) -> Result<Option<Regex>, String> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(&format!("^(?:{pattern})$"))
        .map(Some)
        .map_err(|e| format!("`{field}`: invalid regular expression `{pattern}`: {e}"))
}

impl Selector {
    /// Reads a kustomize `target`/`select`/`reject` map.
    pub fn from_value(v: &Value) -> Result<Selector, String> {
        let Value::Object(m) = v else {
            return Err("a target selector must be a map".to_owned());
        };
        let mut sel = Selector::default();
        for (k, val) in m {
            let text = match val {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Bool(_) | Value::Number(_) => scalar_string(val),
                _ => return Err(format!("`{k}` of a target selector must be a string")),
            };
            match k.as_str() {
                "group" => sel.group = anchored("group", &text)?,
                "version" => sel.version = anchored("version", &text)?,
                "kind" => sel.kind = anchored("kind", &text)?,
                "name" => sel.name = anchored("name", &text)?,
                "namespace" => sel.namespace = anchored("namespace", &text)?,
                "labelSelector" => sel.label_selector = LabelSelector::parse(&text)?,
                "annotationSelector" => sel.annotation_selector = LabelSelector::parse(&text)?,
                other => {
                    return Err(format!(
                        "unknown field `{other}` in a target selector (expected group, version, \
                         kind, name, namespace, labelSelector or annotationSelector)"
                    ));
                }
            }
        }
        Ok(sel)
    }

    /// The same selector for replacements, which compare namespaces as written.
    pub fn with_raw_namespace(mut self) -> Selector {
        self.raw_namespace = true;
        self
    }

    /// Whether the selector has an id part (group, version, kind, name or namespace).
    pub fn has_id(&self) -> bool {
        self.group.is_some()
            || self.version.is_some()
            || self.kind.is_some()
            || self.name.is_some()
            || self.namespace.is_some()
    }

    /// Whether the selector has a label or annotation selector.
    pub fn has_metadata_selectors(&self) -> bool {
        !self.label_selector.is_empty() || !self.annotation_selector.is_empty()
    }

    /// Whether the id part selects `r` (its current or original name and namespace).
    pub fn matches_id(&self, r: &Resource) -> bool {
        let (group, version) = r.group_version();
        let fits = |re: &Option<Regex>, text: &str| re.as_ref().is_none_or(|re| re.is_match(text));
        if !fits(&self.group, group) || !fits(&self.version, version) || !fits(&self.kind, r.kind())
        {
            return false;
        }
        if let Some(re) = &self.namespace {
            let effective = |ns: Option<&str>| -> String {
                if self.raw_namespace {
                    ns.unwrap_or("").to_owned()
                } else if r.is_cluster_scoped() {
                    String::new()
                } else {
                    ns.filter(|n| !n.is_empty()).unwrap_or("default").to_owned()
                }
            };
            if !re.is_match(&effective(r.original_namespace.as_deref()))
                && !re.is_match(&effective(r.namespace()))
            {
                return false;
            }
        }
        fits(&self.name, &r.original_name) || fits(&self.name, r.name())
    }

    /// Whether the label and annotation selectors select `r`.
    pub fn matches_metadata(&self, r: &Resource) -> bool {
        let labels = r
            .value
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let annotations = r
            .value
            .pointer("/metadata/annotations")
            .and_then(Value::as_object);
        self.label_selector.matches(labels) && self.annotation_selector.matches(annotations)
    }

    /// Whether the selector selects `r`.
    pub fn matches(&self, r: &Resource) -> bool {
        self.matches_id(r) && self.matches_metadata(r)
    }
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
    fn schema_table_parses() {
        assert!(table().roots.contains_key("apps/v1/Deployment"));
        let s = Sch::root("apps/v1", "Deployment")
            .field("spec")
            .field("template")
            .field("spec")
            .field("containers");
        assert!(matches!(s, Sch::List { merge: Some(k), .. } if k == ["name"]));
    }

    /// The derived table agrees with the embedded v1.35 definitions: every list with patch
    /// strategy `merge` is in it with the same keys, except the fields and types newer than
    /// Kubernetes v1.21 (which Kustomize's schema does not know).
    #[test]
    fn schema_table_matches_the_embedded_definitions() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../lints/schemas/kubernetes-v1.35/_definitions.json"
        );
        let Ok(text) = std::fs::read_to_string(path) else {
            panic!("cannot read {path}");
        };
        let all: Value = serde_json::from_str(&text).unwrap();
        let newer_fields = [
            (
                "io.k8s.api.core.v1.ContainerStatus",
                "allocatedResourcesStatus",
            ),
            ("io.k8s.api.core.v1.ContainerStatus", "volumeMounts"),
            ("io.k8s.api.core.v1.PodSpec", "resourceClaims"),
            ("io.k8s.api.core.v1.PodSpec", "schedulingGates"),
            ("io.k8s.api.core.v1.PodStatus", "hostIPs"),
            ("io.k8s.api.core.v1.PodStatus", "resourceClaimStatuses"),
            (
                "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
                "x-kubernetes-validations",
            ),
        ];
        let newer_type = Regex::new(r"^io\.k8s\.api\.(resource|storagemigration|flowcontrol\.v1\.|certificates\.v1beta1\.PodCertificate|networking\.v1(beta1)?\.ServiceCIDR|admissionregistration\.[a-z0-9]+\.(ValidatingAdmissionPolicy|MutatingAdmissionPolicy))").unwrap();
        let mut checked = 0;
        for (def, schema) in all["$defs"].as_object().unwrap() {
            for (field, prop) in schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let strategy = prop
                    .get("x-kubernetes-patch-strategy")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !strategy.split(',').any(|s| s == "merge") {
                    continue;
                }
                let newer = newer_type.is_match(def)
                    || newer_fields.contains(&(def.as_str(), field.as_str()))
                    || (def.starts_with("io.k8s.api.admissionregistration.")
                        && matches!(field.as_str(), "matchConditions" | "variables"));
                let entry = table().defs.get(def).and_then(|d| d.get(field));
                if newer {
                    assert!(
                        entry.is_none_or(|e| e.merge.is_none()),
                        "{def}.{field} is newer than v1.21"
                    );
                    continue;
                }
                let keys: Vec<String> = match prop.get("x-kubernetes-list-map-keys") {
                    Some(Value::Array(k)) => {
                        k.iter().map(|k| k.as_str().unwrap().to_owned()).collect()
                    }
                    _ => prop
                        .get("x-kubernetes-patch-merge-key")
                        .and_then(Value::as_str)
                        .map(|k| vec![k.to_owned()])
                        .unwrap_or_default(),
                };
                let got = entry.and_then(|e| e.merge.clone());
                assert_eq!(got, Some(keys), "{def}.{field}");
                checked += 1;
            }
        }
        assert!(checked >= 40, "only {checked} merge lists checked");
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

    #[test]
    fn selectors() {
        let origin = super::super::Origin {
            file: std::sync::Arc::from(std::path::Path::new("x.yaml")),
            document: 0,
        };
        let r = Resource::new(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web-1", "labels": {"tier": "canary"}}}),
            origin,
        );
        let sel = |v: Value| Selector::from_value(&v).unwrap().matches(&r);
        assert!(sel(json!({"kind": "Deployment", "name": "web-.*"})));
        assert!(!sel(json!({"name": "web"})));
        assert!(sel(json!({"group": "apps", "namespace": "default"})));
        assert!(sel(
            json!({"labelSelector": "tier in (canary, prod),!gone"})
        ));
        assert!(!sel(json!({"labelSelector": "tier!=canary"})));
        assert!(!sel(json!({"version": "v2"})));
        assert!(sel(json!({"kind": "Deploy.*", "version": "v.*"})));
        assert!(Selector::from_value(&json!({"bogus": "x"})).is_err());
    }
}
