//! `--format json`: a stable document, described in `docs/lint.md`.

use serde::Serialize;

use crate::engine::LintRun;
use crate::finding::{ObjectRef, Severity};

/// Bumped on any incompatible change of the JSON document.
pub const JSON_FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    /// Every input that could not be read or parsed and every problem that stopped part of the
    /// run: a run with any is incomplete and exits 2.
    input_errors: Vec<InputError<'a>>,
    summary: Summary,
    /// The manifest of a sharded run (`--shard K/N`), and what `edgefleet merge` needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard_run: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct InputError<'a> {
    /// `null` when the problem is not about one file.
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'static str,
    severity: Severity,
    message: &'a str,
    file: String,
    line: u32,
    column: u32,
    object: Option<&'a ObjectRef>,
    help: Option<&'a str>,
    /// Sites the finding applies to (`lint --fleet` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sites: Vec<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    notes: usize,
    suppressed: usize,
    input_errors: usize,
}

pub fn write(run: &LintRun, out: &mut dyn std::io::Write) -> Result<(), super::ReportError> {
    let input_errors = run
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("input/"))
        .map(|f| InputError {
            file: Some(super::display_path(&f.location.file)),
            line: Some(f.location.line),
            column: Some(f.location.column),
            message: &f.message,
        })
        .chain(run.problems.iter().map(|p| InputError {
            file: p.file.as_deref().map(super::display_path),
            line: None,
            column: None,
            message: &p.message,
        }))
        .collect();
    let doc = Document {
        version: JSON_FORMAT_VERSION,
        findings: run
            .findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule,
                severity: f.severity,
                message: &f.message,
                file: super::display_path(&f.location.file),
                line: f.location.line,
                column: f.location.column,
                object: f.object.as_ref(),
                help: f.help.as_deref(),
                sites: f.sites.iter().map(|s| &**s).collect(),
            })
            .collect(),
        input_errors,
        summary: Summary {
            files: run.files,
            objects: run.objects,
            errors: run.count(Severity::Error),
            warnings: run.count(Severity::Warning),
            notes: run.count(Severity::Note),
            suppressed: run.suppressed,
            input_errors: run.incomplete(),
        },
        shard: run.shard.as_ref(),
        shard_run: run.shard.as_ref().map(|_| super::shard::shard_run(run)),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")?;
    Ok(())
}
