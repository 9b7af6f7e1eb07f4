//! Rego policies with conftest's conventions, evaluated in process by `regorus`.
//!
//! What is reproduced from conftest and OPA (each has a test in `policy/tests.rs`):
//! - every `.rego` file under the configured folders is a module; every package is evaluated
//!   (conftest's `--all-namespaces`), not only `main`;
//! - the rules read are those named `deny`, `violation` or `warn`, alone or with a `_suffix`
//!   (`deny_privileged`); `deny` and `violation` are failures (severity error), `warn` a warning;
//! - a rule's value is a set (or array) of messages, each a string or an object with a string
//!   `msg`; other keys of the object are metadata (conftest's `violation` results); a rule whose
//!   value is `true` fails with the rule's name as its message; undefined or empty passes;
//! - `exception` in the same package lists rule names without their prefix
//!   (`exception contains ["privileged"]` silences `deny_privileged`), as conftest documents;
//! - `input` is one object: a multi-document YAML file is evaluated document by document;
//! - Rego v1 syntax (OPA 1.0, conftest's default); a module that is not v1 is read as v0.
//!
//! edgefleet adds `data.edgefleet.site` under `lint --fleet` (the site's inventory context) and
//! a `field` key in a result object: a JSON pointer into the object whose line the finding points
//! at (`{"msg": "...", "field": "/spec/replicas"}`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::line_col;
use regorus::{Engine, Value as RegoValue};
use serde_json::Value;

use super::projection::Projection;
use super::{PolicyError, PolicyRule, Verdict};
use crate::finding::Level;

/// One conftest rule of a package (`deny`, `warn_replicas`, ...).
#[derive(Debug, Clone)]
struct RegoRule {
    /// `data.<package>.<rule>`.
    path: String,
    /// The rule name without its `deny_`/`warn_`/`violation_` prefix, for `exception`.
    suffix: String,
    /// Index into [`PolicySet::rules`](super::PolicySet).
    rule: usize,
}

/// One package: its rules, whether it reads the site, and whether it has `exception`.
#[derive(Debug)]
struct Package {
    rules: Vec<RegoRule>,
    exception: Option<String>,
    site_aware: bool,
    /// The package's modules, to find what they read of the site.
    texts: Vec<String>,
    /// What the package reads of `data.edgefleet.site`, as pointers into
    /// `{"edgefleet": {"site": ...}}`: part of its cache key.
    site_paths: Projection,
}

/// Every Rego module of the configuration, parsed once; engines are cloned per worker thread.
pub(crate) struct RegoPolicies {
    packages: Vec<Package>,
    /// Engines with every module loaded and prepared, one per thread at a time.
    pool: Mutex<Vec<Engine>>,
    template: Engine,
    /// What the modules read of `input`: the cache key.
    input_paths: Projection,
    /// A package's verdicts per (package, input key, site key): objects that differ only in
    /// fields no module reads are evaluated once.
    cache: super::VerdictCache<(usize, Arc<str>, String)>,
}

/// The site as the cache sees it: `data.edgefleet.site` and its key.
pub(crate) struct SiteInput {
    pub value: RegoValue,
    /// Per package: the values of the site fields it reads.
    pub keys: Vec<String>,
}

/// The module that defines `data.edgefleet.site`: the site of the objects being evaluated, from
/// [`SITE`] through an extension function. Setting the site this way, rather than with
/// `add_data`, keeps the engine prepared (changing data makes regorus analyse every module again).
const SITE_MODULE: &str = "package edgefleet\n\nsite := edgefleet_site_context(0)\n";
const SITE_FUNCTION: &str = "edgefleet_site_context";

thread_local! {
    /// `data.edgefleet.site` for evaluations on this thread; undefined when the site is unknown.
    static SITE: std::cell::RefCell<RegoValue> = const { std::cell::RefCell::new(RegoValue::Undefined) };
}

/// The rule names conftest reads: `deny`, `violation`, `warn`, optionally followed by `_name`.
fn conftest_kind(name: &str) -> Option<(Level, &str)> {
    for (prefix, level) in [
        ("deny", Level::Error),
        ("violation", Level::Error),
        ("warn", Level::Warning),
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            if rest.is_empty() {
                return Some((level, ""));
            }
            if let Some(suffix) = rest.strip_prefix('_')
                && !suffix.is_empty()
            {
                return Some((level, suffix));
            }
        }
    }
    None
}

/// The `.rego` files under the configured paths (folders walked in name order, `_test.rego`
/// files skipped as OPA's test files).
fn rego_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PolicyError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            super::walk(p, &mut out, &|n| {
                n.ends_with(".rego") && !n.ends_with("_test.rego")
            })
            .map_err(|e| PolicyError::plain(format!("{}: {e}", p.display())))?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(PolicyError::plain(format!(
                "{}: [policies] rego: no such file or folder",
                p.display()
            )));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Rule heads at the start of a line: `deny contains msg if`, `deny[msg] {`, `warn_x := ...`.
fn rule_heads(text: &str) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty()
            && (conftest_kind(&name).is_some() || name == "exception")
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, offset));
        }
        offset += line.len();
    }
    out
}

/// `# METADATA` blocks (OPA's annotations) right above an offset: title and description.
fn metadata_above(text: &str, offset: usize) -> Option<(Option<String>, Option<String>)> {
    let before = &text[..offset];
    let mut lines: Vec<&str> = Vec::new();
    for line in before.lines().rev() {
        let t = line.trim_start();
        if let Some(c) = t.strip_prefix('#') {
            lines.push(c.strip_prefix(' ').unwrap_or(c));
        } else {
            break;
        }
    }
    lines.reverse();
    let start = lines.iter().position(|l| l.trim() == "METADATA")?;
    let yaml = lines[start + 1..].join("\n");
    let v: Value = serde_saphyr::from_str(&yaml).ok()?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Some((s("title"), s("description")))
}

/// Whether a module may read the site: it names `data.edgefleet`, or reads `data` other than
/// through a dotted path (`data[x]`, `data` whole). Conservative: a false `true` only costs time.
fn reads_site(text: &str) -> bool {
    let code: String = text
        .lines()
        .map(|l| l.split_once('#').map_or(l, |(c, _)| c))
        .collect::<Vec<_>>()
        .join("\n");
    if code.contains("edgefleet") {
        return true;
    }
    let bytes = code.as_bytes();
    let mut i = 0;
    while let Some(at) = code[i..].find("data") {
        let s = i + at;
        let e = s + 4;
        let before_ok = s == 0 || !(bytes[s - 1].is_ascii_alphanumeric() || bytes[s - 1] == b'_');
        let after = bytes.get(e).copied();
        let ident_continues = after.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
        if before_ok && !ident_continues && after != Some(b'.') {
            return true;
        }
        i = e;
    }
    false
}

impl RegoPolicies {
    /// Parses every module and lists its conftest rules (appended to `rules`).
    pub(crate) fn load(
        paths: &[PathBuf],
        base: &Path,
        rules: &mut Vec<PolicyRule>,
    ) -> Result<Option<Self>, PolicyError> {
        let files = rego_files(paths)?;
        if files.is_empty() {
            return Ok(None);
        }
        let mut engine = Engine::new();
        engine.set_strict_builtin_errors(false);
        engine
            .add_extension(
                SITE_FUNCTION.to_owned(),
                1,
                Box::new(|_: Vec<RegoValue>| Ok(SITE.with(|s| s.borrow().clone()))),
            )
            .map_err(rego_err)?;
        engine
            .add_policy("<edgefleet>/site.rego".to_owned(), SITE_MODULE.to_owned())
            .map_err(rego_err)?;
        // package path → (rules, exception, site_aware)
        let mut packages: Vec<(String, Package)> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        for file in &files {
            let shown = edgefleet_inventory::source::display_path(file, base);
            let text = std::fs::read_to_string(file)
                .map_err(|e| PolicyError::plain(format!("{}: {e}", shown.display())))?;
            let name = shown.display().to_string();
            let package = match engine.add_policy(name.clone(), text.clone()) {
                Ok(p) => p,
                Err(v1) => {
                    // Not Rego v1: try v0 (conftest before OPA 1.0) in a scratch engine first, so
                    // a module broken in both reports its v1 error.
                    let mut v0 = Engine::new();
                    v0.set_rego_v0(true);
                    if v0.add_policy(name.clone(), text.clone()).is_err() {
                        return Err(PolicyError::plain(tidy_regorus(&v1.to_string())));
                    }
                    engine.set_rego_v0(true);
                    let p = engine
                        .add_policy(name.clone(), text.clone())
                        .map_err(|e| PolicyError::plain(tidy_regorus(&e.to_string())));
                    engine.set_rego_v0(false);
                    p?
                }
            };
            let package = package.strip_prefix("data.").unwrap_or(&package).to_owned();
            let file_arc: Arc<Path> = Arc::from(shown.as_path());
            let site_aware = reads_site(&text);
            texts.push(text.clone());
            let idx = match packages.iter().position(|(p, _)| *p == package) {
                Some(i) => i,
                None => {
                    packages.push((
                        package.clone(),
                        Package {
                            rules: Vec::new(),
                            exception: None,
                            site_aware: false,
                            texts: Vec::new(),
                            site_paths: Projection::default(),
                        },
                    ));
                    packages.len() - 1
                }
            };
            let entry = &mut packages[idx].1;
            entry.site_aware |= site_aware;
            entry.texts.push(text.clone());
            for (name, offset) in rule_heads(&text) {
                if name == "exception" {
                    entry.exception = Some(format!("data.{package}.exception"));
                    continue;
                }
                let Some((level, suffix)) = conftest_kind(&name) else {
                    continue;
                };
                if entry
                    .rules
                    .iter()
                    .any(|r| r.path.ends_with(&format!(".{name}")))
                {
                    continue;
                }
                let (line, column) = line_col(&text, offset);
                let location = SourceLocation {
                    file: file_arc.clone(),
                    line,
                    column,
                    offset,
                    len: name.len(),
                };
                let (title, description) = metadata_above(&text, offset).unwrap_or((None, None));
                let id = format!("policy/{package}/{name}");
                let summary = title.unwrap_or_else(|| {
                    format!(
                        "Rego rule `{name}` of package `{package}` ({})",
                        if level == Level::Error {
                            "failure"
                        } else {
                            "warning"
                        }
                    )
                });
                let mut docs = String::new();
                if let Some(d) = description {
                    docs.push_str(d.trim_end());
                    docs.push_str("\n\n");
                }
                docs.push_str(&format!(
                    "Defined at {location} (Rego, conftest conventions: `{}` results are {}).\n",
                    name,
                    if level == Level::Error {
                        "errors"
                    } else {
                        "warnings"
                    }
                ));
                rules.push(PolicyRule::new(id, level, summary, docs, location));
                entry.rules.push(RegoRule {
                    path: format!("data.{package}.{name}"),
                    suffix: suffix.to_owned(),
                    rule: rules.len() - 1,
                });
            }
        }
        let mut packages: Vec<Package> = packages
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| !p.rules.is_empty())
            .collect();
        for p in &mut packages {
            p.site_paths = site_projection(&p.texts);
        }
        // Compile once: a first evaluation prepares the engine, clones share the result.
        engine.set_input(RegoValue::new_object());
        for p in &packages {
            for r in &p.rules {
                engine
                    .eval_rule(r.path.clone())
                    .map_err(|e| PolicyError::plain(tidy_regorus(&e.to_string())))?;
            }
        }
        let input_paths = Projection::scan("input", texts.iter().map(String::as_str));
        Ok(Some(Self {
            packages,
            pool: Mutex::new(Vec::new()),
            template: engine,
            input_paths,
            cache: super::VerdictCache::new(),
        }))
    }

    /// `data.edgefleet.site` for a site, with each package's cache key.
    pub(crate) fn site_input(&self, site: &Value) -> SiteInput {
        let wrapped = serde_json::json!({"edgefleet": {"site": site}});
        SiteInput {
            value: RegoValue::from_json_str(&site.to_string()).unwrap_or(RegoValue::Undefined),
            keys: self
                .packages
                .iter()
                .map(|p| p.site_paths.key(&wrapped))
                .collect(),
        }
    }

    /// Evaluates every package on one object. `site` is `data.edgefleet.site` (`None` when the
    /// site is unknown).
    pub(crate) fn check(
        &self,
        object: &Value,
        site: Option<&SiteInput>,
        rules: &[PolicyRule],
        out: &mut Vec<Verdict>,
    ) {
        // Shared by the packages' keys: one text per object, however many packages.
        let input_key: Arc<str> = Arc::from(self.input_paths.key(object));
        let mut engine: Option<Engine> = None;
        for (pi, package) in self.packages.iter().enumerate() {
            // A whole-site key would keep one entry per site and object: not worth keeping.
            let cacheable = !(package.site_aware && package.site_paths.is_whole());
            let site_key = match site {
                Some(s) if package.site_aware => s.keys[pi].clone(),
                _ => String::new(),
            };
            let key = (pi, input_key.clone(), site_key);
            if cacheable && let Some(hit) = self.cache.get(&key) {
                out.extend(hit.iter().cloned());
                continue;
            }
            let engine = match &mut engine {
                Some(e) => e,
                None => {
                    let Ok(input) = RegoValue::from_json_str(&object.to_string()) else {
                        return;
                    };
                    SITE.with(|s| {
                        *s.borrow_mut() = site.map_or(RegoValue::Undefined, |s| s.value.clone())
                    });
                    let mut e = self
                        .pool
                        .lock()
                        .ok()
                        .and_then(|mut p| p.pop())
                        .unwrap_or_else(|| self.template.clone());
                    e.set_input(input);
                    engine.insert(e)
                }
            };
            let verdicts = eval_rules(engine, package, rules);
            if cacheable {
                self.cache.insert(key, Arc::new(verdicts.clone()));
            }
            out.extend(verdicts);
        }
        if let Some(e) = engine
            && let Ok(mut pool) = self.pool.lock()
        {
            pool.push(e);
        }
    }
}

/// What modules read of `data.edgefleet.site`, through `data.` paths or an
/// `import data.edgefleet.site [as x]` alias; whole when they import more of `data.edgefleet`.
fn site_projection(texts: &[String]) -> Projection {
    let mut roots: Vec<(String, &str)> = vec![("data".to_owned(), "")];
    for t in texts {
        for line in t.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() != Some(&"import") {
                continue;
            }
            match words.get(1) {
                Some(&"data.edgefleet.site") => {
                    let alias = match (words.get(2), words.get(3)) {
                        (Some(&"as"), Some(a)) => (*a).to_owned(),
                        _ => "site".to_owned(),
                    };
                    roots.push((alias, "/edgefleet/site"));
                }
                Some(w) if w.starts_with("data.edgefleet") || *w == "data" => {
                    return Projection::scan("data", ["data"]);
                }
                _ => {}
            }
        }
    }
    let roots: Vec<(&str, &str)> = roots.iter().map(|(r, p)| (r.as_str(), *p)).collect();
    // Import lines name the site without reading it.
    let code: Vec<String> = texts
        .iter()
        .map(|t| {
            t.lines()
                .filter(|l| !l.trim_start().starts_with("import "))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    Projection::scan_roots(&roots, code.iter().map(String::as_str))
}

/// Every conftest rule of a package, after its `exception`.
fn eval_rules(engine: &mut Engine, package: &Package, rules: &[PolicyRule]) -> Vec<Verdict> {
    let mut out = Vec::new();
    let excepted: Vec<String> = match &package.exception {
        Some(path) => match engine.eval_rule(path.clone()) {
            Ok(v) => exception_names(&v),
            Err(e) => {
                out.push(Verdict::error(
                    package.rules[0].rule,
                    format!("`exception` failed: {}", tidy_regorus(&e.to_string())),
                ));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    for r in &package.rules {
        if !r.suffix.is_empty() && excepted.contains(&r.suffix) {
            continue;
        }
        let rule = &rules[r.rule];
        match engine.eval_rule(r.path.clone()) {
            Ok(v) => results_of(&v, r, rule, &mut out),
            Err(e) => out.push(Verdict::error(
                r.rule,
                format!("evaluation failed: {}", tidy_regorus(&e.to_string())),
            )),
        }
    }
    out
}

/// `exception` is a set of arrays of rule names (conftest): flatten to the names.
fn exception_names(v: &RegoValue) -> Vec<String> {
    let json: Value =
        serde_json::from_str(&v.to_json_str().unwrap_or_default()).unwrap_or_default();
    let mut out = Vec::new();
    let mut push = |x: &Value| match x {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
        _ => {}
    };
    match &json {
        Value::Array(items) => items.iter().for_each(&mut push),
        other => push(other),
    }
    out
}

fn results_of(v: &RegoValue, r: &RegoRule, rule: &PolicyRule, out: &mut Vec<Verdict>) {
    if matches!(v, RegoValue::Undefined) {
        return;
    }
    let Ok(text) = v.to_json_str() else {
        return;
    };
    let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let name = rule.id.rsplit('/').next().unwrap_or(rule.id);
    let items: Vec<Value> = match json {
        Value::Bool(true) => {
            out.push(Verdict::at(r.rule, "", format!("`{name}` is true")));
            return;
        }
        Value::Array(items) => items,
        Value::String(_) | Value::Object(_) => vec![json],
        _ => return,
    };
    for item in items {
        match item {
            Value::String(msg) => out.push(Verdict::at(r.rule, "", msg)),
            Value::Object(map) => {
                let Some(msg) = map.get("msg").and_then(Value::as_str) else {
                    out.push(Verdict::error(
                        r.rule,
                        format!("`{name}` returned an object without a string `msg` (conftest requires one)"),
                    ));
                    continue;
                };
                let field = map.get("field").and_then(Value::as_str).unwrap_or("");
                let field = if field.is_empty() || field.starts_with('/') {
                    field.to_owned()
                } else {
                    // A dotted path (`spec.replicas`) as a JSON pointer.
                    field
                        .split('.')
                        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
                        .collect()
                };
                out.push(Verdict::at(r.rule, &field, msg.to_owned()));
            }
            other => out.push(Verdict::at(r.rule, "", other.to_string())),
        }
    }
}

fn rego_err(e: impl std::fmt::Display) -> PolicyError {
    PolicyError::plain(tidy_regorus(&e.to_string()))
}

/// regorus errors carry the file, line and column already (`file:3:5: error: ...`) followed by
/// a snippet; keep them as they are, on one logical message.
fn tidy_regorus(message: &str) -> String {
    message.trim_end().to_owned()
}
