//! `--format sarif`: SARIF 2.1.0 with the metadata of every rule and a region (start line and
//! column of the offending field) on every result, as GitHub code scanning expects.

use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactLocation, Location, Message, MultiformatMessageString, PhysicalLocation, Region,
    ReportingConfiguration, ReportingDescriptor, Result as SarifResult, ResultLevel, Run, Sarif,
    Tool, ToolComponent,
};

use crate::engine::LintRun;
use crate::finding::Severity;
use crate::rules::RULES;

/// The official schema's address, written in `$schema`.
pub const SARIF_SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

fn level(s: Severity) -> &'static str {
    s.as_str()
}

fn rule_descriptors() -> Vec<ReportingDescriptor> {
    RULES
        .iter()
        .map(|r| {
            let docs = r.explain();
            let config = match r.default_level.severity() {
                Some(s) => ReportingConfiguration::builder()
                    .level(Value::from(level(s)))
                    .build(),
                None => ReportingConfiguration::builder().enabled(false).build(),
            };
            ReportingDescriptor::builder()
                .id(r.id)
                .name(r.id.rsplit('/').next().unwrap_or(r.id))
                .short_description(MultiformatMessageString::builder().text(r.summary).build())
                .full_description(
                    MultiformatMessageString::builder()
                        .text(docs.clone())
                        .markdown(docs)
                        .build(),
                )
                .help(
                    MultiformatMessageString::builder()
                        .text(format!("Run `edgefleet explain {}`.", r.id))
                        .build(),
                )
                .default_configuration(config)
                .build()
        })
        .collect()
}

/// The SARIF log as a typed value.
pub fn to_sarif(run: &LintRun) -> Sarif {
    let results: Vec<SarifResult> = run
        .findings
        .iter()
        .map(|f| {
            let region = Region::builder()
                .start_line(i64::from(f.location.line))
                .start_column(i64::from(f.location.column))
                .build();
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(
                            ArtifactLocation::builder()
                                .uri(super::display_path(&f.location.file).replace(' ', "%20"))
                                .build(),
                        )
                        .region(region)
                        .build(),
                )
                .build();
            let mut text = f.message.clone();
            if let Some(o) = &f.object {
                text = format!("{text} ({o})");
            }
            let mut result = SarifResult::builder()
                .rule_id(f.rule)
                .level(match f.severity {
                    Severity::Error => ResultLevel::Error,
                    Severity::Warning => ResultLevel::Warning,
                    Severity::Note => ResultLevel::Note,
                })
                .message(Message::builder().text(text).build())
                .locations(vec![location])
                .build();
            if let Some(i) = RULES.iter().position(|r| r.id == f.rule) {
                result.rule_index = i64::try_from(i).ok();
            }
            result
        })
        .collect();
    let driver = ToolComponent::builder()
        .name("edgefleet")
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://example.invalid/edgefleet")
        .rules(rule_descriptors())
        .build();
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .build();
    Sarif::builder()
        .schema(SARIF_SCHEMA_URI)
        .version(Value::from("2.1.0"))
        .runs(vec![run])
        .build()
}

pub fn render(run: &LintRun) -> String {
    let mut s = serde_json::to_string_pretty(&to_sarif(run)).unwrap_or_default();
    s.push('\n');
    s
}
