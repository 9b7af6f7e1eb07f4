//! `replacements` as Kustomize v5 applies them (its `replacement` filter).
//!
//! Each replacement is inline (`source` + `targets`) or `path: file.yaml` (a file holding one
//! replacement or a list of them, read with `read`, which enforces the load restrictor).
//! Replacements run in order; each reads its source from the objects as the previous ones left
//! them. Checked against kubectl 1.37.1 (Kustomize v5.8.1):
//! - `source`: group/version/kind/name/namespace compared exactly with each id the object has
//!   had (current, every previous one, original); exactly one object must match; `fieldPath` defaults to `metadata.name`; a
//!   missing or empty source field is an error; `options.delimiter`/`index` pick one part;
//! - `targets[].select` / `reject`: group, version, kind, name and namespace as anchored regexes
//!   against each id the object has had
//!   (the namespace as written: `namespace: default` does not select an object without one),
//!   `labelSelector`, `annotationSelector`; a reject's id and its label/annotation selectors
//!   each reject on their own; `fieldPaths`
//!   (default `metadata.name`) split at dots outside brackets, with `[key=value]` list matches
//!   (every match), `[=value]`, numeric indexes and `*`; a path that matches nothing is an error
//!   unless `options.create`; `options.delimiter`/`index` replace one part of the target
//!   (a negative index prefixes, an index past the end appends);
//! - a scalar target keeps its YAML type (a string stays a string, `replicas: 1` takes `5` as an
//!   integer); a field created by `create: true` gets the source text as a plain scalar, so
//!   `"5"` becomes the integer 5, as Kustomize prints it.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::patch::Selector;
use super::{RenderError, Resource};

fn err(message: impl Into<String>) -> RenderError {
    RenderError::Field {
        path: PathBuf::new(),
        field: "replacements".to_owned(),
        message: message.into(),
    }
}

/// Applies `replacements` to `resources`. Errors carry an empty path: the caller (which knows
/// the kustomization file) fills it in (see `generate::with_path`).
pub fn apply(
    resources: &mut [Resource],
    replacements: &[Value],
    read: &dyn Fn(&str) -> Result<String, RenderError>,
) -> Result<(), RenderError> {
    let mut list = Vec::new();
    for r in replacements {
        match r.get("path").and_then(Value::as_str) {
            Some(p) => {
                if r.as_object().is_some_and(|m| m.len() > 1) {
                    return Err(err(format!(
                        "an entry with `path: {p}` cannot also have inline fields"
                    )));
                }
                let text = read(p)?;
                let parsed: Vec<Value> = serde_saphyr::from_multiple(&text)
                    .map_err(|e| err(format!("{p}: invalid YAML: {e}")))?;
                for doc in parsed {
                    match doc {
                        Value::Array(items) => list.extend(items),
                        Value::Null => {}
                        other => list.push(other),
                    }
                }
            }
            None => list.push(r.clone()),
        }
    }
    for (i, r) in list.iter().enumerate() {
        apply_one(resources, r).map_err(|e| match e {
            RenderError::Field {
                path,
                field,
                message,
            } => RenderError::Field {
                path,
                field: format!("{field}[{i}]"),
                message,
            },
            other => other,
        })?;
    }
    Ok(())
}

/// A source id: every given field must equal the object's.
struct IdSel {
    group: Option<String>,
    version: Option<String>,
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
}

impl IdSel {
    fn from_map(
        m: &Map<String, Value>,
        allowed_extra: &[&str],
        what: &str,
    ) -> Result<IdSel, RenderError> {
        let mut s = IdSel {
            group: None,
            version: None,
            kind: None,
            name: None,
            namespace: None,
        };
        for (k, v) in m {
            let text = match v {
                Value::String(t) => Some(t.clone()),
                Value::Null => None,
                _ if allowed_extra.contains(&k.as_str()) => None,
                _ => return Err(err(format!("{what}: `{k}` must be a string"))),
            };
            let text = text.filter(|t| !t.is_empty());
            match k.as_str() {
                "group" => s.group = text,
                "version" => s.version = text,
                "kind" => s.kind = text,
                "name" => s.name = text,
                "namespace" => s.namespace = text,
                other if allowed_extra.contains(&other) => {}
                other => return Err(err(format!("{what}: unknown field `{other}`"))),
            }
        }
        Ok(s)
    }

    /// Whether the source names `r` by any id it has had (current, previous or original),
    /// each compared with its own kind, name and namespace.
    fn selects(&self, r: &Resource) -> bool {
        let (group, version) = r.group_version();
        if self.group.as_deref().is_some_and(|g| g != group)
            || self.version.as_deref().is_some_and(|v| v != version)
        {
            return false;
        }
        let effective = |ns: Option<&str>| -> String {
            if r.is_cluster_scoped() {
                String::new()
            } else {
                ns.filter(|n| !n.is_empty()).unwrap_or("default").to_owned()
            }
        };
        r.ids().any(|(kind, name, ns)| {
            self.kind.as_deref().is_none_or(|k| k == kind)
                && self.name.as_deref().is_none_or(|n| n == name)
                && self
                    .namespace
                    .as_deref()
                    .is_none_or(|want| effective(Some(want)) == effective(ns))
        })
    }

    fn describe(&self) -> String {
        let parts: Vec<String> = [
            ("group", &self.group),
            ("version", &self.version),
            ("kind", &self.kind),
            ("name", &self.name),
            ("namespace", &self.namespace),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
        .collect();
        parts.join(",")
    }
}

#[derive(Default)]
struct Options {
    delimiter: String,
    index: i64,
    create: bool,
}

fn options(v: Option<&Value>, what: &str) -> Result<Options, RenderError> {
    let mut o = Options::default();
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(o);
    };
    let Value::Object(m) = v else {
        return Err(err(format!("{what}: `options` must be a map")));
    };
    for (k, x) in m {
        match k.as_str() {
            "delimiter" => o.delimiter = x.as_str().unwrap_or_default().to_owned(),
            "index" => {
                o.index = x
                    .as_i64()
                    .ok_or_else(|| err(format!("{what}: `options.index` must be an integer")))?
            }
            "create" => o.create = x.as_bool().unwrap_or(false),
            "encoding" => {
                return Err(err(format!(
                    "{what}: `options.encoding` is not supported by edgefleet's renderer"
                )));
            }
            other => return Err(err(format!("{what}: unknown option `{other}`"))),
        }
    }
    Ok(o)
}

/// The text of a scalar as YAML prints it (what Kustomize copies between scalars).
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Resolves plain-scalar text as go-yaml v3 (YAML 1.2 core schema) does.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(u) = text.parse::<u64>() {
            return Value::from(u);
        }
    }
    let looks_float = !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if looks_float
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(text.to_owned())
}

/// Splits a field path at dots outside `[...]`.
fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn lookup<'a>(v: &'a Value, segs: &[String]) -> Option<&'a Value> {
    let mut cur = v;
    for s in segs {
        cur = match cur {
            Value::Object(m) => m.get(s)?,
            Value::Array(items) => {
                if let Some(inner) = s.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                    let (k, want) = inner.split_once('=')?;
                    items.iter().find(|e| element_matches(e, k, want))?
                } else if let Ok(i) = s.parse::<usize>() {
                    items.get(i)?
                } else if s == "-" {
                    items.last()?
                } else {
                    return None;
                }
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn element_matches(e: &Value, key: &str, want: &str) -> bool {
    if key.is_empty() {
        return !e.is_object() && !e.is_array() && scalar_text(e) == want;
    }
    e.get(key)
        .is_some_and(|x| !x.is_object() && !x.is_array() && scalar_text(x) == want)
}

/// Visits (and with `create`, makes) every node at `segs`, calling `f` on each.
/// Returns how many nodes were visited.
fn visit(
    node: &mut Value,
    segs: &[String],
    create: Option<&Value>,
    f: &mut dyn FnMut(&mut Value, bool) -> Result<(), RenderError>,
) -> Result<usize, RenderError> {
    let Some((seg, rest)) = segs.split_first() else {
        f(node, false)?;
        return Ok(1);
    };
    let next_is_list = rest
        .first()
        .is_some_and(|n| n.starts_with('[') || n == "*" || n.parse::<usize>().is_ok() || n == "-");
    let new_child = || -> Value {
        if rest.is_empty() {
            Value::Null
        } else if next_is_list {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    };
    match node {
        Value::Object(m) => {
            if seg == "*" {
                let mut n = 0;
                for child in m.values_mut() {
                    n += visit(child, rest, create, f)?;
                }
                return Ok(n);
            }
            if seg.starts_with('[') {
                return Ok(0);
            }
            match m.get_mut(seg.as_str()) {
                Some(child) => visit(child, rest, create, f),
                None if create.is_some() => {
                    m.insert(seg.clone(), new_child());
                    let child = m.get_mut(seg.as_str()).expect("just inserted");
                    if rest.is_empty() {
                        f(child, true)?;
                        Ok(1)
                    } else {
                        visit(child, rest, create, f)
                    }
                }
                None => Ok(0),
            }
        }
        Value::Array(items) => {
            if seg == "*" {
                let mut n = 0;
                for child in items.iter_mut() {
                    n += visit(child, rest, create, f)?;
                }
                return Ok(n);
            }
            if let Some(inner) = seg.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                let Some((k, want)) = inner.split_once('=') else {
                    return Err(err(format!(
                        "invalid list selector `{seg}`: expected [key=value]"
                    )));
                };
                let mut n = 0;
                for child in items.iter_mut() {
                    if element_matches(child, k, want) {
                        n += visit(child, rest, create, f)?;
                    }
                }
                if n == 0 && create.is_some() {
                    let elem = if k.is_empty() {
                        Value::String(want.to_owned())
                    } else {
                        let mut m = Map::new();
                        m.insert(k.to_owned(), Value::String(want.to_owned()));
                        Value::Object(m)
                    };
                    items.push(elem);
                    let child = items.last_mut().expect("just pushed");
                    n += visit(child, rest, create, f)?;
                }
                return Ok(n);
            }
            let idx = if seg == "-" {
                items.len().checked_sub(1)
            } else {
                seg.parse::<usize>().ok()
            };
            match idx.and_then(|i| items.get_mut(i)) {
                Some(child) => visit(child, rest, create, f),
                None => Ok(0),
            }
        }
        Value::Null if create.is_some() => {
            *node = if seg.starts_with('[') || seg == "*" {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            };
            visit(node, segs, create, f)
        }
        _ => Ok(0),
    }
}

fn apply_one(resources: &mut [Resource], r: &Value) -> Result<(), RenderError> {
    let Value::Object(m) = r else {
        return Err(err("each replacement must be a map"));
    };
    for k in m.keys() {
        if !matches!(k.as_str(), "source" | "targets") {
            return Err(err(format!(
                "unknown field `{k}` (expected source and targets, or path)"
            )));
        }
    }
    let (Some(Value::Object(src)), Some(Value::Array(targets))) =
        (m.get("source"), m.get("targets"))
    else {
        return Err(err(
            "replacements must specify a source and at least one target",
        ));
    };

    // The source value.
    let sel = IdSel::from_map(src, &["fieldPath", "options"], "source")?;
    let mut found: Option<usize> = None;
    for (i, res) in resources.iter().enumerate() {
        if sel.selects(res) {
            if found.is_some() {
                return Err(err(format!(
                    "more than one match for source {}",
                    sel.describe()
                )));
            }
            found = Some(i);
        }
    }
    let Some(si) = found else {
        return Err(err(format!(
            "nothing selected by source {}",
            sel.describe()
        )));
    };
    let field_path = src
        .get("fieldPath")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("metadata.name");
    let value = lookup(&resources[si].value, &split_path(field_path))
        .filter(|v| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        })
        .cloned()
        .ok_or_else(|| {
            err(format!(
                "fieldPath `{field_path}` is missing for replacement source {}",
                sel.describe()
            ))
        })?;
    let src_opts = options(src.get("options"), "source")?;
    let value = if src_opts.delimiter.is_empty() {
        value
    } else {
        if value.is_object() || value.is_array() {
            return Err(err(
                "source: the delimiter option can only be used with scalar values",
            ));
        }
        let text = scalar_text(&value);
        let parts: Vec<&str> = text.split(src_opts.delimiter.as_str()).collect();
        let part = usize::try_from(src_opts.index)
            .ok()
            .and_then(|i| parts.get(i))
            .ok_or_else(|| {
                err(format!(
                    "source: options.index {} is out of bounds for value {text}",
                    src_opts.index
                ))
            })?;
        Value::String((*part).to_owned())
    };

    for (ti, t) in targets.iter().enumerate() {
        let what = format!("targets[{ti}]");
        let Value::Object(tm) = t else {
            return Err(err(format!("{what} must be a map")));
        };
        for k in tm.keys() {
            if !matches!(k.as_str(), "select" | "reject" | "fieldPaths" | "options") {
                return Err(err(format!("{what}: unknown field `{k}`")));
            }
        }
        let Some(Value::Object(select)) = tm.get("select") else {
            return Err(err(format!(
                "{what}: target must specify resources to select"
            )));
        };
        let selector = |v: &Value| -> Result<Selector, RenderError> {
            Selector::from_value(v)
                .map(Selector::with_raw_namespace)
                .map_err(|e| err(format!("{what}: {e}")))
        };
        let select = selector(&Value::Object(select.clone()))?;
        let rejects: Vec<Selector> = match tm.get("reject") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.iter().map(selector).collect::<Result<_, _>>()?,
            Some(_) => return Err(err(format!("{what}: `reject` must be a list"))),
        };
        let paths: Vec<String> = match tm.get("fieldPaths") {
            None | Some(Value::Null) => vec!["metadata.name".to_owned()],
            Some(Value::Array(items)) if items.is_empty() => vec!["metadata.name".to_owned()],
            Some(Value::Array(items)) => items
                .iter()
                .map(|p| {
                    p.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| err(format!("{what}: fieldPaths must be strings")))
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(err(format!("{what}: `fieldPaths` must be a list"))),
        };
        let opts = options(tm.get("options"), &what)?;

        for res in resources.iter_mut() {
            if !select.matches_any(res) {
                continue;
            }
            // A reject's label/annotation selectors and its id reject on their own.
            let rejected = rejects.iter().any(|rj| {
                (rj.has_metadata_selectors() && rj.matches_metadata(res))
                    || (rj.has_id() && rj.matches_any_id(res))
            });
            if rejected {
                continue;
            }
            for fp in &paths {
                let segs = split_path(fp);
                let create = opts.create.then_some(&value);
                let mut set =
                    |target: &mut Value, created: bool| set_value(target, created, &value, &opts);
                let n = visit(&mut res.value, &segs, create, &mut set)?;
                if n == 0 {
                    return Err(err(if opts.create {
                        format!(
                            "unable to find or create field \"{fp}\" in replacement target {}",
                            res.id()
                        )
                    } else {
                        format!(
                            "unable to find field \"{fp}\" in replacement target {}",
                            res.id()
                        )
                    }));
                }
            }
        }
    }
    Ok(())
}

fn set_value(
    target: &mut Value,
    created: bool,
    value: &Value,
    opts: &Options,
) -> Result<(), RenderError> {
    let target_scalar = !target.is_object() && !target.is_array() && !created && !target.is_null();
    let mut value = value.clone();
    if !opts.delimiter.is_empty() {
        if target.is_object() || target.is_array() {
            return Err(err(
                "the delimiter option can only be used with scalar targets",
            ));
        }
        let existing = scalar_text(target);
        let mut parts: Vec<String> = existing
            .split(opts.delimiter.as_str())
            .map(str::to_owned)
            .collect();
        let v = scalar_text(&value);
        if opts.index < 0 {
            parts.insert(0, v);
        } else if opts.index as usize >= parts.len() {
            parts.push(v);
        } else {
            parts[opts.index as usize] = v;
        }
        value = Value::String(parts.join(&opts.delimiter));
    }
    if target_scalar {
        // Only the text is copied: the target keeps its type.
        let text = if value.is_object() || value.is_array() {
            String::new()
        } else {
            scalar_text(&value)
        };
        *target = match target {
            Value::String(_) => Value::String(text),
            _ => match resolve_plain(&text) {
                v @ (Value::Number(_) | Value::Bool(_))
                    if std::mem::discriminant(&v) == std::mem::discriminant(target) =>
                {
                    v
                }
                _ => Value::String(text),
            },
        };
    } else if value.is_object() || value.is_array() {
        *target = value;
    } else {
        // A new (or null) field gets the text as a plain scalar.
        *target = resolve_plain(&scalar_text(&value));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Origin;
    use serde_json::json;
    use std::path::Path;
    use std::sync::Arc;

    fn res(v: Value) -> Resource {
        Resource::new(
            v,
            Origin {
                file: Arc::from(Path::new("r.yaml")),
                document: 0,
            },
        )
    }

    fn fixture() -> Vec<Resource> {
        vec![
            res(
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "src"}, "data": {"count": "5", "host": "a.b.c", "flag": "true"}}),
            ),
            res(
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {"replicas": 1, "template": {"spec": {"containers": [
                {"name": "app", "image": "img:1", "env": [{"name": "X", "value": "old"}]}, {"name": "side", "image": "side:1"}]}}}}),
            ),
        ]
    }

    fn no_read(_: &str) -> Result<String, RenderError> {
        panic!("no file expected")
    }

    #[test]
    fn matches_kubectl_example() {
        // Same input and expectations as the oracle run recorded in the module docs.
        let mut rs = fixture();
        let reps = vec![
            json!({"source": {"kind": "ConfigMap", "name": "src", "fieldPath": "data.count"}, "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": [
                "spec.replicas", "spec.template.spec.containers.[name=app].env.[name=X].value", "spec.template.metadata.annotations.n"], "options": {"create": true}}]}),
            json!({"source": {"kind": "ConfigMap", "name": "src", "fieldPath": "data.host", "options": {"delimiter": ".", "index": 1}}, "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.template.spec.containers.*.image"], "options": {"delimiter": ":", "index": 0}}]}),
            json!({"source": {"kind": "ConfigMap", "name": "src", "fieldPath": "data.flag"}, "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.template.spec.hostNetwork", "spec.template.spec.containers.0.name"], "options": {"create": true}}]}),
        ];
        apply(&mut rs, &reps, &no_read).unwrap();
        let d = &rs[1].value;
        assert_eq!(d["spec"]["replicas"], json!(5));
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"]["n"],
            json!(5)
        );
        assert_eq!(d["spec"]["template"]["spec"]["hostNetwork"], json!(true));
        let c = &d["spec"]["template"]["spec"]["containers"];
        assert_eq!(c[0]["env"][0]["value"], json!("5"));
        assert_eq!(c[0]["image"], json!("b:1"));
        assert_eq!(c[0]["name"], json!("true"));
        assert_eq!(c[1]["image"], json!("b:1"));
    }

    #[test]
    fn errors() {
        let mut rs = fixture();
        let missing_src =
            json!({"source": {"kind": "Secret"}, "targets": [{"select": {"kind": "Deployment"}}]});
        assert!(apply(&mut rs, &[missing_src], &no_read).is_err());
        let missing_field = json!({"source": {"kind": "ConfigMap", "fieldPath": "data.nope"}, "targets": [{"select": {"kind": "Deployment"}}]});
        assert!(apply(&mut rs, &[missing_field], &no_read).is_err());
        let no_target_field = json!({"source": {"kind": "ConfigMap"}, "targets": [{"select": {"kind": "Deployment"}, "fieldPaths": ["spec.nope"]}]});
        assert!(apply(&mut rs, &[no_target_field], &no_read).is_err());
        let from_file = json!({"path": "r.yaml"});
        let read = |_: &str| -> Result<String, RenderError> {
            Ok("source: {kind: ConfigMap, name: src}\ntargets:\n- select: {kind: Deployment}\n  fieldPaths: [metadata.annotations.src]\n  options: {create: true}\n".to_owned())
        };
        apply(&mut rs, &[from_file], &read).unwrap();
        assert_eq!(rs[1].value["metadata"]["annotations"]["src"], json!("src"));
    }
}
