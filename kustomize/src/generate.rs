//! `configMapGenerator` and `secretGenerator` as Kustomize v5 runs them, and Kustomize's content
//! hash for the name suffix.
//!
//! NOTE for the pipeline (signature change): the generators take
//! `read: &dyn Fn(&str) -> Result<Vec<u8>, RenderError>` (bytes, not `String`), because a file
//! that is not UTF-8 goes to a ConfigMap's `binaryData` and must reach us intact. `read` loads a
//! path relative to the kustomization root and enforces the load restrictor.
//! Errors name the field (`configMapGenerator` / `secretGenerator`) and the generator; their
//! `path` is empty: the caller knows the kustomization file and fills it in
//! ([`with_path`]). Likewise the returned resource's `origin` is a placeholder the caller sets.
//!
//! Behaviour (each point checked against kubectl 1.37.1 / Kustomize v5.8.1):
//! - `literals`: `key=value`, split at the first `=`; a value wrapped in matching single or double
//!   quotes loses them (`q='x y'` → `x y`), anything else is kept verbatim;
//! - `files`: `[key=]path`, the key defaults to the file name; a ConfigMap file that is not UTF-8
//!   goes to `binaryData` (base64);
//! - `envs` (and the deprecated `env`): one `KEY=value` per line; leading whitespace is trimmed,
//!   blank lines and lines starting with `#` are skipped, the value is kept verbatim (quotes and
//!   trailing spaces included), a UTF-8 BOM is dropped from the first line, a line without `=`
//!   takes the value of that environment variable (empty when unset). Kustomize v5.8 does not
//!   check key names: `export FOO=bar` gives the key `export FOO`, and so does edgefleet;
//! - keys are not validated (Kustomize v5.8 accepts `a b` and `a/b`); repeated keys are an error;
//! - a ConfigMap without entries has no `data`; a Secret without entries has `data: {}`;
//! - Secrets: `type` defaults to `Opaque`, every value is base64 in `data`; Secret values and
//!   `binaryData` are wrapped at 70 characters (each line ending in `\n`) once they reach 70;
//! - options (`generatorOptions` merged with the generator's own `options`; the generator's
//!   labels/annotations win, `disableNameSuffixHash`/`immutable` are on if either sets them):
//!   labels, annotations, `immutable: true`, and the hash suffix unless disabled.
//!
//! The hash ([`hash_suffix`]): SHA-256 over Go's `json.Marshal` of a map with sorted keys —
//! ConfigMap: `{"binaryData":{..} (only if present), "data":{..} or "" when absent,
//! "kind":"ConfigMap", "name":""}`; Secret: `{"data":.., "kind":"Secret", "name":"",
//! "stringData":{..} (only if present), "type":"<type>" or ""}` — `name` is always empty because
//! Kustomize looks it up with the single path segment `metadata/name`, which never matches; then
//! the first 10 hex digits with `0→g 1→h 3→k a→m e→t`. `immutable`, labels and annotations do
//! not count.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Origin, RenderError, Resource};

/// Sets the kustomization file on an error built here with an empty path.
pub fn with_path(err: RenderError, file: &Path) -> RenderError {
    match err {
        RenderError::Field {
            path,
            field,
            message,
        } if path.as_os_str().is_empty() => RenderError::Field {
            path: file.to_path_buf(),
            field,
            message,
        },
        RenderError::Build { path, message } if path.as_os_str().is_empty() => RenderError::Build {
            path: file.to_path_buf(),
            message,
        },
        other => other,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Gen {
    ConfigMap,
    Secret,
}

impl Gen {
    fn field(self) -> &'static str {
        match self {
            Gen::ConfigMap => "configMapGenerator",
            Gen::Secret => "secretGenerator",
        }
    }
}

fn field_err(g: Gen, name: &str, message: impl Into<String>) -> RenderError {
    let field = if name.is_empty() {
        g.field().to_owned()
    } else {
        format!("{} {name}", g.field())
    };
    RenderError::Field {
        path: PathBuf::new(),
        field,
        message: message.into(),
    }
}

/// Runs one `configMapGenerator` entry. `options` is the kustomization's `generatorOptions`.
pub fn config_map(
    args: &Value,
    options: Option<&Value>,
    read: &dyn Fn(&str) -> Result<Vec<u8>, RenderError>,
) -> Result<Resource, RenderError> {
    generate(Gen::ConfigMap, args, options, read)
}

/// Runs one `secretGenerator` entry. `options` is the kustomization's `generatorOptions`.
pub fn secret(
    args: &Value,
    options: Option<&Value>,
    read: &dyn Fn(&str) -> Result<Vec<u8>, RenderError>,
) -> Result<Resource, RenderError> {
    generate(Gen::Secret, args, options, read)
}

fn str_list(
    g: Gen,
    name: &str,
    args: &Map<String, Value>,
    key: &str,
) -> Result<Vec<String>, RenderError> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                Value::Number(_) | Value::Bool(_) => Ok(i.to_string()),
                _ => Err(field_err(
                    g,
                    name,
                    format!("`{key}` must be a list of strings"),
                )),
            })
            .collect(),
        Some(_) => Err(field_err(
            g,
            name,
            format!("`{key}` must be a list of strings"),
        )),
    }
}

/// Kustomize's `removeQuotes`: strip one pair of matching surrounding quotes.
fn remove_quotes(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && b[0] == b[b.len() - 1] && (b[0] == b'"' || b[0] == b'\'') {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// `KEY=value` lines of an env file, as Kustomize reads them.
fn env_pairs(
    g: Gen,
    name: &str,
    file: &str,
    bytes: &[u8],
) -> Result<Vec<(String, String)>, RenderError> {
    let mut out = Vec::new();
    let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    for (n, raw) in lines.into_iter().enumerate() {
        let mut line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if n == 0 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        let text = std::str::from_utf8(line).map_err(|_| {
            field_err(
                g,
                name,
                format!("{file}: line {} is not valid UTF-8", n + 1),
            )
        })?;
        let text = text.trim_start();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (key, value) = match text.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (text.to_owned(), std::env::var(text).unwrap_or_default()),
        };
        out.push((key, value));
    }
    Ok(out)
}

/// Base64 as Kustomize writes Secret values and binaryData: lines of 70 characters, each ending
/// in a newline, once the encoding reaches 70 characters; shorter encodings stay on one line.
fn wrapped_base64(bytes: &[u8]) -> String {
    const LINE: usize = 70;
    let enc = base64::engine::general_purpose::STANDARD.encode(bytes);
    if enc.len() < LINE {
        return enc;
    }
    let mut out = String::with_capacity(enc.len() + enc.len() / LINE + 1);
    for chunk in enc.as_bytes().chunks(LINE) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out
}

enum Val {
    Text(String),
    Bytes(Vec<u8>),
}

fn merged_options(
    global: Option<&Value>,
    local: Option<&Value>,
) -> (Map<String, Value>, Map<String, Value>, bool, bool) {
    let mut labels = Map::new();
    let mut annotations = Map::new();
    let mut disable = false;
    let mut immutable = false;
    for o in [global, local].into_iter().flatten() {
        if let Some(m) = o.get("labels").and_then(Value::as_object) {
            labels.extend(m.clone());
        }
        if let Some(m) = o.get("annotations").and_then(Value::as_object) {
            annotations.extend(m.clone());
        }
        disable |= o
            .get("disableNameSuffixHash")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        immutable |= o.get("immutable").and_then(Value::as_bool).unwrap_or(false);
    }
    (labels, annotations, disable, immutable)
}

fn generate(
    g: Gen,
    args: &Value,
    options: Option<&Value>,
    read: &dyn Fn(&str) -> Result<Vec<u8>, RenderError>,
) -> Result<Resource, RenderError> {
    let Value::Object(a) = args else {
        return Err(field_err(g, "", "each entry must be a map"));
    };
    let name = a
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if name.is_empty() {
        return Err(field_err(g, "", "an entry has no `name`"));
    }
    const KNOWN: &[&str] = &[
        "name",
        "namespace",
        "behavior",
        "literals",
        "files",
        "envs",
        "env",
        "options",
        "type",
        "kvSources",
    ];
    for k in a.keys() {
        if !KNOWN.contains(&k.as_str()) || (k == "type" && g == Gen::ConfigMap) {
            return Err(field_err(g, &name, format!("unknown field `{k}`")));
        }
        if k == "kvSources" {
            return Err(RenderError::Unsupported {
                path: PathBuf::new(),
                field: format!("{} {name}: kvSources", g.field()),
                why: "generator plugins are not supported".to_owned(),
            });
        }
    }
    if let Some(b) = a.get("behavior").and_then(Value::as_str)
        && !matches!(b, "" | "create" | "merge" | "replace")
    {
        return Err(field_err(
            g,
            &name,
            format!("unknown behavior `{b}` (expected create, merge or replace)"),
        ));
    }

    let mut entries: Vec<(String, Val)> = Vec::new();
    let mut envs = str_list(g, &name, a, "envs")?;
    if let Some(Value::String(e)) = a.get("env") {
        envs.push(e.clone());
    }
    for file in &envs {
        let bytes = read(file)?;
        for (k, v) in env_pairs(g, &name, file, &bytes)? {
            entries.push((k, Val::Text(v)));
        }
    }
    for src in str_list(g, &name, a, "files")? {
        let (key, path) = match src.split_once('=') {
            Some((k, p)) => {
                if k.is_empty() || p.is_empty() {
                    return Err(field_err(
                        g,
                        &name,
                        format!("file source `{src}`: key and path must not be empty"),
                    ));
                }
                (k.to_owned(), p.to_owned())
            }
            None => {
                let base = Path::new(&src)
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or(&src)
                    .to_owned();
                (base, src.clone())
            }
        };
        let bytes = read(&path)?;
        let val = match String::from_utf8(bytes) {
            Ok(s) => Val::Text(s),
            Err(e) => Val::Bytes(e.into_bytes()),
        };
        entries.push((key, val));
    }
    for lit in str_list(g, &name, a, "literals")? {
        let Some((k, v)) = lit.split_once('=').filter(|(k, _)| !k.is_empty()) else {
            return Err(field_err(
                g,
                &name,
                format!("invalid literal `{lit}`: expected key=value"),
            ));
        };
        entries.push((k.to_owned(), Val::Text(remove_quotes(v).to_owned())));
    }

    let mut data = Map::new();
    let mut binary = Map::new();
    for (k, v) in entries {
        if data.contains_key(&k) || binary.contains_key(&k) {
            return Err(field_err(g, &name, format!("key `{k}` is repeated")));
        }
        match (g, v) {
            (Gen::ConfigMap, Val::Text(s)) => {
                data.insert(k, Value::String(s));
            }
            (Gen::ConfigMap, Val::Bytes(b)) => {
                binary.insert(k, Value::String(wrapped_base64(&b)));
            }
            (Gen::Secret, Val::Text(s)) => {
                data.insert(k, Value::String(wrapped_base64(s.as_bytes())));
            }
            (Gen::Secret, Val::Bytes(b)) => {
                data.insert(k, Value::String(wrapped_base64(&b)));
            }
        }
    }

    let (labels, annotations, disable, immutable) = merged_options(options, a.get("options"));
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(name.clone()));
    if let Some(ns) = a
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        metadata.insert("namespace".into(), Value::String(ns.to_owned()));
    }
    if !labels.is_empty() {
        metadata.insert("labels".into(), Value::Object(labels));
    }
    if !annotations.is_empty() {
        metadata.insert("annotations".into(), Value::Object(annotations));
    }
    let kind = if g == Gen::Secret {
        "Secret"
    } else {
        "ConfigMap"
    };
    let mut obj = Map::new();
    obj.insert("apiVersion".into(), json!("v1"));
    obj.insert("kind".into(), json!(kind));
    obj.insert("metadata".into(), Value::Object(metadata));
    // An empty Secret still has `data: {}`; an empty ConfigMap has no `data`.
    if !data.is_empty() || g == Gen::Secret {
        obj.insert("data".into(), Value::Object(data));
    }
    if !binary.is_empty() {
        obj.insert("binaryData".into(), Value::Object(binary));
    }
    if immutable {
        obj.insert("immutable".into(), Value::Bool(true));
    }
    if g == Gen::Secret {
        let t = a
            .get("type")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("Opaque");
        obj.insert("type".into(), json!(t));
    }
    let mut r = Resource::new(
        Value::Object(obj),
        Origin {
            file: Arc::from(Path::new("")),
            document: 0,
        },
    );
    r.needs_hash = !disable;
    Ok(r)
}

/// Go's `encoding/json` string encoding (HTML-safe: `<`, `>`, `&`, U+2028 and U+2029 escaped).
fn go_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's `json.Marshal` of a generic value (maps with sorted keys).
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => go_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let sorted: BTreeMap<&String, &Value> = m.iter().collect();
            out.push('{');
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                go_json(x, out);
            }
            out.push('}');
        }
    }
}

/// Kustomize's content hash of a ConfigMap or Secret (the 10 characters after the `-`).
pub fn hash_suffix(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    // Kustomize's value of a field: a map as is, a scalar as its text, "" when absent.
    let field = |k: &str| -> Value {
        match obj.get(k) {
            None | Some(Value::Null) => Value::String(String::new()),
            Some(Value::Object(m)) => Value::Object(m.clone()),
            Some(Value::String(s)) => Value::String(s.clone()),
            Some(other @ (Value::Bool(_) | Value::Number(_))) => Value::String(other.to_string()),
            Some(Value::Array(_)) => Value::Null,
        }
    };
    let mut m = Map::new();
    m.insert("kind".into(), Value::String(kind.to_owned()));
    // Kustomize looks the name up as the single segment "metadata/name": never found.
    m.insert("name".into(), Value::String(String::new()));
    m.insert("data".into(), field("data"));
    match kind {
        "ConfigMap" => {
            if let Some(Value::Object(b)) = obj.get("binaryData") {
                m.insert("binaryData".into(), Value::Object(b.clone()));
            }
        }
        "Secret" => {
            m.insert("type".into(), field("type"));
            if let Some(Value::Object(b)) = obj.get("stringData") {
                m.insert("stringData".into(), Value::Object(b.clone()));
            }
        }
        _ => {
            // Other kinds: Kustomize hashes the whole object.
            m = obj.as_object().cloned().unwrap_or_default();
        }
    }
    let mut text = String::new();
    go_json(&Value::Object(m), &mut text);
    let digest = Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

fn merge_string_maps(base: Option<&Value>, over: Option<&Value>) -> Option<Value> {
    let mut m = base.and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(o) = over.and_then(Value::as_object) {
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

/// Applies a generator with `behavior: merge` or `replace` to the object it names.
///
/// Both take the generated object and keep the existing name and namespace, with the existing
/// labels and annotations merged under the generated ones; `merge` also keeps the existing
/// `data`/`binaryData` keys the generator does not set. The result gets a hash suffix only if
/// both wanted one (as Kustomize does).
pub fn merge_into(
    existing: &mut Resource,
    generated: Resource,
    behavior: &str,
) -> Result<(), RenderError> {
    if existing.kind() != generated.kind() {
        return Err(RenderError::Build {
            path: PathBuf::new(),
            message: format!(
                "cannot {behavior} {} into {}: different kinds",
                generated.id(),
                existing.id()
            ),
        });
    }
    let mut new = generated.value;
    let old = &existing.value;
    match behavior {
        "merge" => {
            for key in ["data", "binaryData"] {
                if let Some(m) = merge_string_maps(old.get(key), new.get(key))
                    && let Some(obj) = new.as_object_mut()
                {
                    obj.insert(key.to_owned(), m);
                }
            }
        }
        "replace" => {}
        other => {
            return Err(RenderError::Build {
                path: PathBuf::new(),
                message: format!(
                    "behavior `{other}` cannot apply to an existing {}",
                    existing.id()
                ),
            });
        }
    }
    let labels = merge_string_maps(
        old.pointer("/metadata/labels"),
        new.pointer("/metadata/labels"),
    );
    let annotations = merge_string_maps(
        old.pointer("/metadata/annotations"),
        new.pointer("/metadata/annotations"),
    );
    if let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut) {
        for (key, val) in [("labels", labels), ("annotations", annotations)] {
            match val {
                Some(v) => {
                    meta.insert(key.to_owned(), v);
                }
                None => {
                    meta.shift_remove(key);
                }
            }
        }
        for key in ["name", "namespace"] {
            match old.pointer(&format!("/metadata/{key}")) {
                Some(v) => {
                    meta.insert(key.to_owned(), v.clone());
                }
                None => {
                    meta.shift_remove(key);
                }
            }
        }
    }
    existing.value = new;
    existing.needs_hash = existing.needs_hash && generated.needs_hash;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(_: &str) -> Result<Vec<u8>, RenderError> {
        panic!("no file expected")
    }

    #[test]
    fn hash_matches_kubectl() {
        // Names and suffixes printed by kubectl 1.37.1 (Kustomize v5.8.1).
        let cm = config_map(&json!({"name": "empty"}), None, &no_files).unwrap();
        assert_eq!(hash_suffix(&cm.value), "6ct58987ht");
        let cm = config_map(
            &json!({"name": "cm2", "literals": ["a=1"]}),
            None,
            &no_files,
        )
        .unwrap();
        assert_eq!(hash_suffix(&cm.value), "h29d89cmmt");
        let s = secret(
            &json!({"name": "s", "literals": ["a=1"], "type": "kubernetes.io/tls"}),
            None,
            &no_files,
        )
        .unwrap();
        assert_eq!(hash_suffix(&s.value), "hm5f724df9");
    }

    #[test]
    fn literals_env_and_files() {
        let read = |p: &str| -> Result<Vec<u8>, RenderError> {
            Ok(match p {
                "e.env" => b"# c\n\n  K1=v 1 \nK2=\"q\"\nK4=a=b\r\n".to_vec(),
                "bin" => vec![0xff, 0x00],
                _ => b"hello\n".to_vec(),
            })
        };
        let cm = config_map(
            &json!({"name": "q", "literals": ["q='x y'", "d=\"a=b\"", "e=' x'"], "envs": ["e.env"], "files": ["dir/app.conf", "k=other", "bin"]}),
            Some(&json!({"labels": {"a": "1"}, "immutable": true})),
            &read,
        )
        .unwrap();
        let d = &cm.value["data"];
        assert_eq!(d["q"], "x y");
        assert_eq!(d["d"], "a=b");
        assert_eq!(d["e"], " x");
        assert_eq!(d["K1"], "v 1 ");
        assert_eq!(d["K2"], "\"q\"");
        assert_eq!(d["K4"], "a=b");
        assert_eq!(d["app.conf"], "hello\n");
        assert_eq!(d["k"], "hello\n");
        assert_eq!(cm.value["binaryData"]["bin"], "/wA=");
        assert_eq!(cm.value["immutable"], true);
        assert_eq!(cm.value["metadata"]["labels"]["a"], "1");
        assert!(cm.needs_hash);
        let e = config_map(
            &json!({"name": "x", "literals": ["a=1", "a=2"]}),
            None,
            &no_files,
        );
        assert!(e.is_err());
        let e = config_map(
            &json!({"name": "x", "literals": ["novalue"]}),
            None,
            &no_files,
        );
        assert!(e.is_err());
    }

    #[test]
    fn merge_and_replace() {
        let base = secret(&json!({"name": "s", "literals": ["a=1"], "type": "kubernetes.io/tls", "options": {"labels": {"l": "b"}}}), None, &no_files).unwrap();
        let mut merged = base.clone();
        let new = secret(&json!({"name": "s", "literals": ["b=2"]}), None, &no_files).unwrap();
        merge_into(&mut merged, new.clone(), "merge").unwrap();
        assert_eq!(merged.value["type"], "Opaque");
        assert_eq!(merged.value["data"], json!({"a": "MQ==", "b": "Mg=="}));
        assert_eq!(merged.value["metadata"]["labels"], json!({"l": "b"}));
        let mut replaced = base;
        merge_into(&mut replaced, new, "replace").unwrap();
        assert_eq!(replaced.value["data"], json!({"b": "Mg=="}));
    }
}
