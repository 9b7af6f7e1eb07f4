//! `--format github`: GitHub Actions workflow commands, one annotation per finding.

use std::fmt::Write as _;

use crate::engine::LintRun;
use crate::finding::Severity;

/// Escapes a workflow command's message (`%`, CR, LF).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(run: &LintRun, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    for f in &run.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut message = f.message.clone();
        if let Some(help) = &f.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&super::display_path(&f.location.file)),
            f.location.line,
            f.location.column,
            escape_property(f.rule),
            escape_data(&message)
        )?;
    }
    for p in &run.problems {
        let file = p
            .file
            .as_deref()
            .map(|f| format!("file={},", escape_property(&super::display_path(f))))
            .unwrap_or_default();
        writeln!(
            out,
            "::error {file}title=edgefleet lint: input error::{}",
            escape_data(&p.message)
        )?;
    }
    // Always one line, so a clean run is visibly a run (and says what it covered).
    let command = if run.incomplete() > 0 {
        "error"
    } else {
        "notice"
    };
    writeln!(
        out,
        "::{command} title=edgefleet lint::{}",
        escape_data(&super::summary(run))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_workflow_command_syntax() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
