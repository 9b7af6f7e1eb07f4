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
    summary: Summary,
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

pub fn render(run: &LintRun) -> String {
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
        summary: Summary {
            files: run.files,
            objects: run.objects,
            errors: run.count(Severity::Error),
            warnings: run.count(Severity::Warning),
            notes: run.count(Severity::Note),
            suppressed: run.suppressed,
            input_errors: run.input_errors,
        },
    };
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}
