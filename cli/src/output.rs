//! How the command line talks: colour, `--quiet`, and errors and warnings as text or as JSON
//! lines (`--message-format json`), the same way for every command.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::OnceLock;

use clap::ValueEnum;
use serde_json::json;

/// `--color`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal, unless `NO_COLOR` is set (or `CLICOLOR_FORCE`/`FORCE_COLOR` force it).
    #[default]
    Auto,
    Always,
    Never,
}

/// `--message-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// Text for people (`error: file:line:col: message`, with a snippet where there is a file).
    #[default]
    Human,
    /// One JSON object per line on standard error:
    /// `{"severity","message","file","line","column","help"}`.
    Json,
}

#[derive(Debug, Default)]
struct Settings {
    color: ColorChoice,
    quiet: bool,
    format: MessageFormat,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Set once, from the global flags, before any command runs.
pub fn init(color: ColorChoice, quiet: bool, format: MessageFormat) {
    let _ = SETTINGS.set(Settings {
        color,
        quiet,
        format,
    });
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::default)
}

fn env_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Whether to colour a stream: `--color always|never` wins; under `auto`, `NO_COLOR` turns colour
/// off, `CLICOLOR_FORCE` or `FORCE_COLOR` turn it on, else only a terminal gets colour.
pub fn color_for(choice: ColorChoice, terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env_set("NO_COLOR") {
                false
            } else if env_set("CLICOLOR_FORCE") || env_set("FORCE_COLOR") {
                true
            } else {
                terminal
            }
        }
    }
}

pub fn stdout_color() -> bool {
    color_for(settings().color, std::io::stdout().is_terminal())
}

pub fn stderr_color() -> bool {
    color_for(settings().color, std::io::stderr().is_terminal())
}

pub fn quiet() -> bool {
    settings().quiet
}

pub fn json_messages() -> bool {
    settings().format == MessageFormat::Json
}

/// One error or warning, printed as text or as a JSON line.
#[derive(Debug, Default)]
pub struct Message<'a> {
    pub severity: &'a str,
    pub message: &'a str,
    pub file: Option<&'a Path>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub help: Option<&'a str>,
}

/// A path as messages show it: relative to the working directory when it is under it, as the
/// same path given on the command line would be.
pub fn shown(path: &Path) -> std::path::PathBuf {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rest) = path.strip_prefix(&cwd)
        && !rest.as_os_str().is_empty()
    {
        return rest.to_path_buf();
    }
    path.to_path_buf()
}

impl Message<'_> {
    pub fn print(&self) {
        let file = self.file.map(shown);
        let file = file.as_deref();
        let mut err = std::io::stderr().lock();
        let _ = if json_messages() {
            let v = json!({
                "severity": self.severity,
                "message": self.message,
                "file": file.map(|f| f.to_string_lossy().replace('\\', "/")),
                "line": self.line,
                "column": self.column,
                "help": self.help,
            });
            writeln!(err, "{v}")
        } else {
            let mut place = String::new();
            if let Some(f) = file {
                place = format!("{}:", f.display());
                if let (Some(l), Some(c)) = (self.line, self.column) {
                    place.push_str(&format!("{l}:{c}:"));
                }
                place.push(' ');
            }
            let help = self
                .help
                .map(|h| format!("\n  help: {h}"))
                .unwrap_or_default();
            writeln!(err, "{}: {place}{}{help}", self.severity, self.message)
        };
    }
}

/// An error with no file (or whose text already names it).
pub fn error(message: impl AsRef<str>) {
    Message {
        severity: "error",
        message: message.as_ref(),
        ..Message::default()
    }
    .print();
}

/// A warning with no file (or whose text already names it); `--quiet` does not hide warnings.
pub fn warning(message: impl AsRef<str>) {
    Message {
        severity: "warning",
        message: message.as_ref(),
        ..Message::default()
    }
    .print();
}

/// A note on standard error (which config is in use, counts): hidden by `--quiet` and in JSON
/// message mode.
pub fn note(message: impl AsRef<str>) {
    if !quiet() && !json_messages() {
        eprintln!("{}", message.as_ref());
    }
}

/// An inventory (or template) diagnostic: a snippet for people, a JSON line for machines.
pub fn diagnostic(d: &edgefleet_inventory::Diagnostic, detailed: bool) {
    if json_messages() {
        Message {
            severity: "error",
            message: &d.message,
            file: Some(&d.location.file),
            line: Some(d.location.line),
            column: Some(d.location.column),
            help: d.help.as_deref(),
        }
        .print();
    } else if detailed {
        eprintln!("{:?}", d.to_report());
    } else {
        eprintln!("error: {d}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_choice_beats_the_environment() {
        assert!(color_for(ColorChoice::Always, false));
        assert!(!color_for(ColorChoice::Never, true));
    }
}
