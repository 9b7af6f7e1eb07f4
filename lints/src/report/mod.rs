//! Reporters: the same [`LintRun`] as text for people, JSON, SARIF, GitHub annotations or JUnit.

mod github;
mod human;
mod json;
mod junit;
mod sarif;
pub mod shard;

use std::io::Write;
use std::path::Path;

use crate::engine::LintRun;

pub use human::{HumanOptions, theme};

/// An output format of `edgefleet lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

impl Format {
    pub const ALL: [(&'static str, Format); 5] = [
        ("human", Format::Human),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("github", Format::Github),
        ("junit", Format::Junit),
    ];
}

/// A report that could not be produced or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write the report: {0}")]
    Write(#[from] std::io::Error),
    #[error("cannot serialise the report as JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("cannot serialise the JUnit report: {0}")]
    Junit(#[from] quick_junit::SerializeError),
}

/// Writes a run's report in a format to `out`. `human` decides on colour and width.
pub fn write(
    run: &LintRun,
    format: Format,
    human: &HumanOptions,
    out: &mut dyn Write,
) -> Result<(), ReportError> {
    match format {
        Format::Human => out.write_all(human::render(run, human).as_bytes())?,
        Format::Json => json::write(run, out)?,
        Format::Sarif => sarif::write(run, out)?,
        Format::Github => github::write(run, out)?,
        Format::Junit => junit::write(run, out)?,
    }
    out.flush()?;
    Ok(())
}

/// The report as a string (tests, snapshots).
pub fn render(run: &LintRun, format: Format, human: &HumanOptions) -> Result<String, ReportError> {
    let mut out = Vec::new();
    write(run, format, human, &mut out)?;
    String::from_utf8(out)
        .map_err(|e| ReportError::Write(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

pub use json::JSON_FORMAT_VERSION;
pub use sarif::{artifact_uri, to_sarif};

/// `1 file`, `2 files`.
pub fn plural_count(n: usize, word: &str) -> String {
    plural(n, word)
}

/// `1 file`, `2 files`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The one-line summary every format carries: counts by severity, files, objects, suppressed,
/// and whether the run is incomplete.
pub fn summary(run: &LintRun) -> String {
    use crate::finding::Severity;
    let mut summary = if run.findings.is_empty() {
        "no findings".to_owned()
    } else {
        format!(
            "{}, {}, {}",
            plural(run.count(Severity::Error), "error"),
            plural(run.count(Severity::Warning), "warning"),
            plural(run.count(Severity::Note), "note")
        )
    };
    summary.push_str(&format!(
        " in {} ({}, {} suppressed)",
        plural(run.files, "file"),
        plural(run.objects, "object"),
        run.suppressed
    ));
    if run.incomplete() > 0 {
        summary.push_str(&format!(
            "; {}: the run is incomplete",
            plural(run.incomplete(), "input error")
        ));
    }
    summary
}

/// A path as reports print it: forward slashes, without a leading `./`.
pub(crate) fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}
