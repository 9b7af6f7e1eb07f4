//! `--format sarif`: SARIF 2.1.0 with the metadata of every rule and a region (start line and
//! column of the offending field) on every result, as GitHub code scanning expects.
//!
//! - `artifactLocation.uri` is an RFC 3986 reference: relative to `%SRCROOT%` (the working
//!   directory, given in `originalUriBaseIds` as a `file:` URI) for files under it, a `file:` URI
//!   otherwise; every byte outside the unreserved set is percent-encoded (spaces, `#`, `%`,
//!   non-ASCII, `\` and `:` in names). Standard input has no URI, only a description.
//! - `invocations[0]` says whether the run was complete (`executionSuccessful`) and lists every
//!   input error as a `toolExecutionNotification`.
//! - The run's counts (`files`, `objects`, `suppressed`, `input_errors`) are in `properties`,
//!   with, for a sharded run, its manifest (`shard`) and data (`shard_run`, see [`super::shard`]).

use std::path::{Component, Path};

use serde_json::{Value, json};

use crate::engine::{LintRun, STDIN_NAME};
use crate::finding::Severity;
use crate::rules::RULES;

/// The official schema's address, written in `$schema`.
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The base every relative `uri` is resolved against.
pub const SRCROOT: &str = "%SRCROOT%";

fn rule_descriptors() -> Vec<Value> {
    RULES
        .iter()
        .map(|r| {
            let docs = r.explain();
            let config = match r.default_level.severity() {
                Some(s) => json!({ "level": s.as_str() }),
                None => json!({ "enabled": false }),
            };
            json!({
                "id": r.id,
                "name": r.id.rsplit('/').next().unwrap_or(r.id),
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": docs, "markdown": docs },
                "help": { "text": format!("Run `edgefleet explain {}`.", r.id) },
                "defaultConfiguration": config,
            })
        })
        .collect()
}

/// Percent-encodes one path segment: everything but RFC 3986's unreserved characters.
fn encode_segment(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

#[cfg(unix)]
fn os_bytes(s: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    std::borrow::Cow::Borrowed(s.as_bytes())
}

#[cfg(not(unix))]
fn os_bytes(s: &std::ffi::OsStr) -> std::borrow::Cow<'_, [u8]> {
    match s.to_string_lossy() {
        std::borrow::Cow::Borrowed(t) => std::borrow::Cow::Borrowed(t.as_bytes()),
        std::borrow::Cow::Owned(t) => std::borrow::Cow::Owned(t.into_bytes()),
    }
}

/// The path's segments, encoded and joined with `/` (`.` dropped, `..` kept).
fn encode_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        let segment_start = out.len();
        match c {
            Component::Prefix(p) => {
                // `C:` of a Windows path: a drive letter stays readable (`file:///C:/...`).
                out.push_str(&p.as_os_str().to_string_lossy().replace('\\', "/"));
            }
            Component::RootDir => {}
            Component::CurDir => continue,
            Component::ParentDir => out.push_str(".."),
            Component::Normal(name) => encode_segment(&os_bytes(name), &mut out),
        }
        if out.len() > segment_start || matches!(c, Component::RootDir) {
            out.push('/');
        }
    }
    if out.ends_with('/') {
        out.pop();
    }
    out
}

/// A `file:` URI for an absolute path (a folder when `folder`, with a trailing `/`).
fn file_uri(path: &Path, folder: bool) -> String {
    let mut uri = format!("file:///{}", encode_path(path).trim_start_matches('/'));
    if folder && !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// A file's SARIF URI: relative (to `%SRCROOT%`, the working directory `cwd`) when the path is
/// relative or under `cwd`, an absolute `file:` URI otherwise, `None` for standard input. The
/// second value says whether the URI is relative.
pub fn artifact_uri(path: &Path, cwd: Option<&Path>) -> Option<(String, bool)> {
    if path.as_os_str() == STDIN_NAME {
        return None;
    }
    if path.is_relative() {
        return Some((encode_path(path), true));
    }
    if let Some(rest) = cwd.and_then(|c| path.strip_prefix(c).ok())
        && !rest.as_os_str().is_empty()
    {
        return Some((encode_path(rest), true));
    }
    Some((file_uri(path, false), false))
}

fn artifact_location(path: &Path, cwd: Option<&Path>) -> Value {
    match artifact_uri(path, cwd) {
        None => json!({ "description": { "text": "standard input" } }),
        Some((uri, true)) if cwd.is_some() => json!({ "uri": uri, "uriBaseId": SRCROOT }),
        Some((uri, _)) => json!({ "uri": uri }),
    }
}

/// The SARIF log, with relative URIs based on the process's working directory.
pub fn to_sarif(run: &LintRun) -> Value {
    let cwd = std::env::current_dir().ok();
    to_sarif_at(run, cwd.as_deref())
}

/// The SARIF log, with relative URIs based on `cwd`.
pub fn to_sarif_at(run: &LintRun, cwd: Option<&Path>) -> Value {
    let results: Vec<Value> = run
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(o) = &f.object {
                text = format!("{text} ({o})");
            }
            let mut result = json!({
                "ruleId": f.rule,
                "level": f.severity.as_str(),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&f.location.file, cwd),
                        "region": {
                            "startLine": f.location.line,
                            "startColumn": f.location.column,
                        },
                    },
                }],
            });
            if let Some(i) = RULES.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(i);
            }
            result
        })
        .collect();

    let notification = |message: &str, file: Option<&Path>, region: Option<(u32, u32)>| {
        let mut n = json!({ "level": "error", "message": { "text": message } });
        if let Some(file) = file {
            let mut physical = json!({ "artifactLocation": artifact_location(file, cwd) });
            if let Some((line, column)) = region {
                physical["region"] = json!({ "startLine": line, "startColumn": column });
            }
            n["locations"] = json!([{ "physicalLocation": physical }]);
        }
        n
    };
    let notifications: Vec<Value> = run
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("input/") && f.severity == Severity::Error)
        .map(|f| {
            notification(
                &f.message,
                Some(&f.location.file),
                Some((f.location.line, f.location.column)),
            )
        })
        .chain(
            run.problems
                .iter()
                .map(|p| notification(&p.message, p.file.as_deref(), None)),
        )
        .collect();

    let mut sarif_run = json!({
        "tool": {
            "driver": {
                "name": "edgefleet",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rule_descriptors(),
            },
        },
        "invocations": [{
            "executionSuccessful": run.incomplete() == 0,
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "properties": {
            "files": run.files,
            "objects": run.objects,
            "suppressed": run.suppressed,
            "input_errors": run.incomplete(),
        },
    });
    if let Some(manifest) = &run.shard {
        sarif_run["properties"]["shard"] = manifest.clone();
        sarif_run["properties"]["shard_run"] = super::shard::shard_run(run);
    }
    if let Some(cwd) = cwd.filter(|c| c.is_absolute()) {
        sarif_run["originalUriBaseIds"] = json!({ "%SRCROOT%": { "uri": file_uri(cwd, true) } });
    }
    json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [sarif_run],
    })
}

pub fn write(run: &LintRun, out: &mut dyn std::io::Write) -> Result<(), super::ReportError> {
    serde_json::to_writer_pretty(&mut *out, &to_sarif(run))?;
    out.write_all(b"\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn segments_are_percent_encoded() {
        let (uri, relative) =
            artifact_uri(Path::new("./a b/#1%/é:x\\y.yaml"), None).expect("a file");
        assert!(relative);
        assert_eq!(uri, "a%20b/%231%25/%C3%A9%3Ax%5Cy.yaml");
        let (uri, relative) =
            artifact_uri(Path::new("/srv/fleet/x y.yaml"), Some(Path::new("/home"))).unwrap();
        assert!(!relative);
        assert_eq!(uri, "file:///srv/fleet/x%20y.yaml");
        let (uri, relative) =
            artifact_uri(Path::new("/home/u/m.yaml"), Some(Path::new("/home"))).unwrap();
        assert!(relative);
        assert_eq!(uri, "u/m.yaml");
        assert_eq!(
            artifact_uri(Path::new("../up.yaml"), None).unwrap().0,
            "../up.yaml"
        );
        assert!(artifact_uri(Path::new(STDIN_NAME), None).is_none());
        assert_eq!(file_uri(Path::new("/"), true), "file:///");
    }
}
