//! What a rule is: a stable id, a default level, its documentation and its check.

use crate::finding::Level;
use crate::manifest::Manifest;
use crate::site::SiteContext;

/// Settings the rules read (from `[lint]` in `edgefleet.toml`).
#[derive(Debug, Default, Clone)]
pub struct RuleOptions {
    /// Registries images may come from (`registry.example.com`, `ghcr.io/acme`); empty: any.
    pub allowed_registries: Vec<String>,
    /// The trust store for `images/signature` (`[signatures]` in `edgefleet.toml`), loaded once
    /// per run; `None` when none is configured, and the rule stays silent.
    pub signatures: Option<std::sync::Arc<crate::signature::TrustStore>>,
    /// Which objects `schema/duplicate-object` compares.
    pub duplicate_scope: crate::config::DuplicateScope,
}

/// One violation of a rule as the rule sees it: a JSON pointer into the object, not yet a file
/// location. The engine turns it into a [`crate::finding::Finding`] once it knows the rule's
/// severity and where the field was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The offending field, or the object that should hold the missing field.
    pub pointer: String,
    pub message: String,
    pub help: Option<String>,
}

impl Violation {
    pub fn at(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// Checks one object.
pub type ObjectCheck = fn(&RuleOptions, &Manifest, &mut Vec<Violation>);
/// Checks every object of one input set together; reports carry the index of the object.
pub type SetCheck = fn(&RuleOptions, &[Manifest], &mut Vec<(usize, Violation)>);

/// Checks every object of one site together, knowing the site's hardware, backhaul and region.
/// Runs only when the site is known (`edgefleet lint --fleet`).
pub type SiteCheck = fn(&RuleOptions, &SiteContext, &[Manifest], &mut Vec<(usize, Violation)>);

/// How a rule is run.
#[derive(Clone, Copy)]
pub enum Check {
    Object(ObjectCheck),
    Set(SetCheck),
    /// Fleet-aware: needs the site context; skipped when linting manifests on their own.
    Site(SiteCheck),
    /// Reported by the engine itself (unreadable input, suppressions).
    Engine,
}

/// A lint rule. Declared with [`declare_rule!`](crate::declare_rule) so that its doc comment is
/// also its `edgefleet explain` text.
pub struct Rule {
    /// Stable id, `family/name`. Never renamed: users write it in configs and annotations.
    pub id: &'static str,
    pub default_level: Level,
    /// One line, used in SARIF rule metadata and listings.
    pub summary: &'static str,
    /// The rule's doc comment (What it does / Why it matters / Example / Fix), as Markdown.
    pub docs: &'static str,
    pub check: Check,
}

impl Rule {
    pub fn family(&self) -> &'static str {
        self.id.split_once('/').map_or(self.id, |(f, _)| f)
    }

    /// The doc comment without the one leading space rustdoc keeps on every line.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }
}

/// Declares a rule: the doc comment becomes both the item's rustdoc and [`Rule::docs`].
#[macro_export]
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        pub static $name:ident = {
            id: $id:literal,
            level: $level:ident,
            summary: $summary:literal,
            check: $check:expr $(,)?
        };
    ) => {
        $(#[doc = $doc])*
        pub static $name: $crate::rule::Rule = $crate::rule::Rule {
            id: $id,
            default_level: $crate::finding::Level::$level,
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
            check: $check,
        };
    };
}
