//! Errors that point at a place in a file the user wrote.

use std::fmt;
use std::sync::Arc;

use crate::source::SourceLocation;

/// One problem found in the inventory, at a file:line:col.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub location: SourceLocation,
    pub message: String,
    pub help: Option<String>,
    /// A second place that explains the first (e.g. where a duplicate was first defined).
    pub related: Option<Box<(SourceLocation, String)>>,
}

impl Diagnostic {
    pub fn new(location: SourceLocation, message: impl Into<String>) -> Self {
        Self {
            location,
            message: message.into(),
            help: None,
            related: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, location: SourceLocation, note: impl Into<String>) -> Self {
        self.related = Some(Box::new((location, note.into())));
        self
    }

    /// A miette report with the source snippet of the file, for terminals.
    pub fn to_report(&self) -> miette::Report {
        let text = std::fs::read_to_string(&self.location.file).unwrap_or_default();
        let report = WithSource {
            diagnostic: self.clone(),
            source: Arc::new(miette::NamedSource::new(
                self.location.file.display().to_string(),
                text,
            )),
        };
        miette::Report::new(report)
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some((loc, note)) = self.related.as_deref() {
            write!(f, " ({note} at {loc})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// A diagnostic with the text of its file, for miette's snippets.
#[derive(Debug)]
struct WithSource {
    diagnostic: Diagnostic,
    source: Arc<miette::NamedSource<String>>,
}

impl fmt::Display for WithSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.diagnostic.fmt(f)
    }
}

impl std::error::Error for WithSource {}

impl miette::Diagnostic for WithSource {
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        if self.source.inner().is_empty() {
            None
        } else {
            Some(self.source.as_ref())
        }
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let loc = &self.diagnostic.location;
        let text = self.source.inner();
        if text.is_empty() || loc.offset > text.len() {
            return None;
        }
        let len = loc.len.min(text.len() - loc.offset);
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            Some("here".to_owned()),
            (loc.offset, len),
        )];
        if let Some((related, note)) = self.diagnostic.related.as_deref()
            && related.file == loc.file
            && related.offset <= text.len()
        {
            labels.push(miette::LabeledSpan::new_with_span(
                Some(note.clone()),
                (related.offset, related.len.min(text.len() - related.offset)),
            ));
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// All problems of a load, sorted by place so that output is stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            (
                &a.location.file,
                a.location.line,
                a.location.column,
                &a.message,
            )
                .cmp(&(
                    &b.location.file,
                    b.location.line,
                    b.location.column,
                    &b.message,
                ))
        });
        self.0.dedup();
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

/// The candidate closest to a misspelt `name` (for "did you mean"), if one is close enough: an
/// edit distance of at most a third of the name's length (at least 1).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn suggests_only_close_names() {
        let known = ["xeon-d-2u", "rpi-cm4", "jetson-orin-nx"];
        assert_eq!(closest("xeon-d2u", known), Some("xeon-d-2u"));
        assert_eq!(closest("rpi-cm5", known), Some("rpi-cm4"));
        assert_eq!(closest("epyc", known), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
