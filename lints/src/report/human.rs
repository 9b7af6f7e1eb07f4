//! Terminal output: miette's graphical reports with the offending field underlined, grouped by
//! file, then a summary line.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};

use crate::engine::LintRun;
use crate::finding::{Finding, Severity};
use crate::rules;

/// How to draw: colour only on a terminal.
#[derive(Debug, Clone)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    /// The closing summary line (`--quiet` leaves it out).
    pub summary: bool,
}

impl Default for HumanOptions {
    fn default() -> Self {
        Self {
            color: false,
            width: 100,
            summary: true,
        }
    }
}

/// miette's theme with the severity written as a word (`error:`, `warning:`, `note:`) instead of
/// a glyph alone, so a report reads the same in a log without colour or Unicode.
pub fn theme(color: bool) -> GraphicalTheme {
    let mut theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    theme.characters.error = "error:".into();
    theme.characters.warning = "warning:".into();
    theme.characters.advice = "note:".into();
    theme
}

struct Rendered<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<Arc<str>>>,
    label: String,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.finding, f)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.finding.message)?;
        if self.source.is_none() {
            write!(f, " (at {})", self.finding.location)?;
        }
        Ok(())
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.finding.rule))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.finding
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let loc = &self.finding.location;
        let span = SourceSpan::new(loc.offset.into(), loc.len);
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(Some(self.label.clone()), span),
        )))
    }
}

/// The human report.
pub fn render(run: &LintRun, options: &HumanOptions) -> String {
    let theme = theme(options.color);
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_links(false)
        .with_width(options.width)
        .with_wrap_lines(false);
    let mut out = String::new();
    let mut current: Option<&std::path::Path> = None;
    for finding in &run.findings {
        let file = &*finding.location.file;
        if current != Some(file) {
            let n = run
                .findings
                .iter()
                .filter(|f| &*f.location.file == file)
                .count();
            let _ = writeln!(
                out,
                "{}: {}\n",
                super::display_path(file),
                super::plural(n, "finding")
            );
            current = Some(file);
        }
        let source = run.sources.get(file).map(|text| {
            NamedSource::new(super::display_path(file), text.clone()).with_language("yaml")
        });
        let label = match &finding.object {
            Some(o) => format!("in {o}"),
            None => rules::find(finding.rule)
                .map_or("here", |r| r.summary)
                .to_owned(),
        };
        let rendered = Rendered {
            finding,
            source,
            label,
        };
        let _ = handler.render_report(&mut out, &rendered);
        out.push('\n');
    }
    for p in &run.problems {
        let _ = writeln!(out, "error: {p}");
    }
    if !run.problems.is_empty() {
        out.push('\n');
    }
    if options.summary || run.incomplete() > 0 {
        out.push_str(&super::summary(run));
        out.push('\n');
    }
    out
}
