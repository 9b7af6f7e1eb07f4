//! Naming fields while the pipeline runs: a list item by its identity (its `name`, `mountPath`,
//! ...), so that a later merge that reorders the list does not make an edit point at another item;
//! the pointers are fixed when the build ends ([`finish`]).

use super::*;

/// Keys a list item is known by (the merge keys of the Kubernetes lists a strategic merge
/// matches items by); an item with none of them is known by its index.
pub(super) const ITEM_KEYS: [&str; 7] = [
    "name",
    "mountPath",
    "devicePath",
    "containerPort",
    "port",
    "ip",
    "topologyKey",
];

pub(super) fn is_item_key(key: &str) -> bool {
    ITEM_KEYS.contains(&key)
}

/// A scalar's text, escaped for an identity token (`%`, `,` and `]` percent-escaped, then as a
/// JSON pointer token); `false` for mappings, lists and null.
pub(super) fn write_scalar(v: &Value, out: &mut String) -> bool {
    use std::fmt::Write;
    let text = match v {
        Value::String(s) => s.as_str(),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
            return true;
        }
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            return true;
        }
        _ => return false,
    };
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            ',' => out.push_str("%2C"),
            ']' => out.push_str("%5D"),
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    true
}

/// Writes the identity token of a list item (`[name=web]`, `[name=data,mountPath=/var/lib]`:
/// its identifying keys with scalar values, in the item's order) into `out`, escaped as a JSON
/// pointer token; `false` (nothing written) when it has none.
pub(super) fn write_item_token(item: &Value, out: &mut String) -> bool {
    let Value::Object(m) = item else {
        return false;
    };
    let start = out.len();
    for (key, v) in m {
        if !is_item_key(key) || !matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)) {
            continue;
        }
        out.push(if out.len() == start { '[' } else { ',' });
        out.push_str(key);
        out.push('=');
        write_scalar(v, out);
    }
    if out.len() == start {
        return false;
    }
    out.push(']');
    true
}

/// Whether `item` is the one the identity token `token` (as written, escaped) names: every key
/// the token names has that value.
pub(super) fn item_is(item: &Value, token: &str, scratch: &mut String) -> bool {
    let Some(pairs) = token.strip_prefix('[').and_then(|t| t.strip_suffix(']')) else {
        return false;
    };
    pairs.split(',').all(|pair| {
        let Some((key, want)) = pair.split_once('=') else {
            return false;
        };
        scratch.clear();
        item.get(key).is_some_and(|v| write_scalar(v, scratch)) && scratch == want
    })
}

/// Appends the token naming item `i` of `list`.
pub(super) fn push_item(field: &mut String, list: &[Value], i: usize) {
    field.push('/');
    if !list
        .get(i)
        .is_some_and(|item| write_item_token(item, field))
    {
        field.push_str(&i.to_string());
    }
}

/// `pointer` (a JSON pointer of `value`) with list items named by identity; tokens past what
/// `value` holds are kept as they are.
pub(super) fn keyed(value: &Value, pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len() + 16);
    let mut node = Some(value);
    for token in kube_basics::pointer::tokens(pointer) {
        match node {
            Some(Value::Array(items)) => match token.parse::<usize>() {
                Ok(i) if i < items.len() => {
                    push_item(&mut out, items, i);
                    node = items.get(i);
                }
                _ => {
                    push(&mut out, &token);
                    node = None;
                }
            },
            Some(Value::Object(m)) => {
                push(&mut out, &token);
                node = m.get(&token);
            }
            _ => {
                push(&mut out, &token);
                node = None;
            }
        }
    }
    out
}

/// One step down `node` along the raw (escaped) token `raw`: a mapping key, a list index, or a
/// list item named by its identity. The child and its index when `node` is a list.
pub(super) fn step<'v>(
    node: &'v Value,
    raw: &str,
    scratch: &mut String,
) -> Option<(&'v Value, Option<usize>)> {
    match node {
        Value::Array(items) => {
            let i = if raw.starts_with('[') {
                items.iter().position(|x| item_is(x, raw, scratch))?
            } else {
                raw.parse::<usize>().ok().filter(|i| *i < items.len())?
            };
            Some((&items[i], Some(i)))
        }
        Value::Object(m) => {
            let child = if raw.contains('~') {
                m.get(&kube_basics::pointer::unescape(raw))?
            } else {
                m.get(raw)?
            };
            Some((child, None))
        }
        _ => None,
    }
}

/// Follows `rest` (a pointer, possibly with identity tokens) from `node`, appending the JSON
/// pointer of each step to `out`; `None` when `node` does not hold it.
pub(super) fn follow<'v>(
    mut node: &'v Value,
    rest: &str,
    out: &mut String,
    scratch: &mut String,
) -> Option<&'v Value> {
    if rest.is_empty() {
        return Some(node);
    }
    for raw in rest.strip_prefix('/')?.split('/') {
        let (child, index) = step(node, raw, scratch)?;
        out.push('/');
        match index {
            Some(i) => out.push_str(&i.to_string()),
            None => out.push_str(raw),
        }
        node = child;
    }
    Some(node)
}

/// The JSON pointer, in `value`, of a field named with [`keyed`] tokens; `None` when `value`
/// does not hold it.
#[cfg(test)]
pub(super) fn resolve(value: &Value, keyed: &str, scratch: &mut String) -> Option<String> {
    let mut out = String::with_capacity(keyed.len());
    follow(value, keyed, &mut out, scratch)?;
    Some(out)
}

/// Fixes every edit's field to a JSON pointer of the object as built, dropping edits of fields
/// the object no longer holds. Run once, at the end of a build.
pub(crate) fn finish(resources: &mut [Resource]) {
    let mut scratch = String::new();
    for r in resources {
        if r.edits.is_empty() {
            continue;
        }
        let value = &r.value;
        // Consecutive edits often share their parent (labels of one map, fields of one list
        // item): resolved once.
        let mut last: Option<(String, String, &Value)> = None;
        r.edits.retain_mut(|e| {
            let field = &*e.field;
            // The parent: up to the end of the last identity token, else to the last token.
            let split = match field.rfind("/[") {
                Some(i) => field[i..].find(']').map_or(field.len(), |j| i + j + 1),
                None => field.rfind('/').unwrap_or(0),
            };
            let (prefix, rest) = field.split_at(split);
            let cached = last
                .as_ref()
                .filter(|(p, ..)| p == prefix)
                .map(|(_, resolved, node)| (resolved.clone(), *node));
            let (mut resolved, node) = match cached {
                Some(hit) => hit,
                None => {
                    let mut p = String::with_capacity(prefix.len());
                    let Some(node) = follow(value, prefix, &mut p, &mut scratch) else {
                        return false;
                    };
                    last = Some((prefix.to_owned(), p.clone(), node));
                    (p, node)
                }
            };
            if follow(node, rest, &mut resolved, &mut scratch).is_none() {
                return false;
            }
            if field.contains("/[") {
                e.field = Arc::from(resolved);
            }
            true
        });
    }
}
