//! Reporters: the same [`LintRun`] as text for people, JSON, SARIF, GitHub annotations or JUnit.

mod github;
mod human;
mod json;
mod junit;
mod sarif;

use std::path::Path;

use crate::engine::LintRun;

pub use human::HumanOptions;

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

/// Renders a run in a format. `human` decides on colour and width.
pub fn render(run: &LintRun, format: Format, human: &HumanOptions) -> String {
    match format {
        Format::Human => human::render(run, human),
        Format::Json => json::render(run),
        Format::Sarif => sarif::render(run),
        Format::Github => github::render(run),
        Format::Junit => junit::render(run),
    }
}

pub use json::JSON_FORMAT_VERSION;
pub use sarif::to_sarif;

/// A path as reports print it: forward slashes, without a leading `./`.
pub(crate) fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_owned).unwrap_or(s)
}
