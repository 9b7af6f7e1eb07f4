//! `--format junit`: one test suite per file linted, one failing test case per finding (a clean
//! file is one passing case), for CI systems that only read JUnit XML. A first suite,
//! `edgefleet lint`, carries the run's counts as properties (`files`, `objects`, `suppressed`,
//! `input_errors`) and one errored case per problem that stopped part of the run.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::LintRun;

/// The name of the suite that describes the run itself.
pub const RUN_SUITE: &str = "edgefleet lint";

pub fn write(run: &LintRun, out: &mut dyn std::io::Write) -> Result<(), super::ReportError> {
    let mut report = Report::new(RUN_SUITE);
    let mut suite = TestSuite::new(RUN_SUITE);
    for (name, value) in [
        ("files", run.files),
        ("objects", run.objects),
        ("suppressed", run.suppressed),
        ("input_errors", run.incomplete()),
    ] {
        suite.add_property(Property::new(name, value.to_string()));
    }
    if let Some(manifest) = &run.shard {
        let data = super::shard::shard_run(run);
        for (name, value) in kube_basics::shard_report::junit_properties(manifest, &data) {
            suite.add_property(Property::new(name, value));
        }
    }
    for p in &run.problems {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(p.message.clone())
            .set_type("input-error")
            .set_description(p.to_string());
        let name = p
            .file
            .as_deref()
            .map_or_else(|| "input error".to_owned(), super::display_path);
        let mut case = TestCase::new(name, status);
        case.set_classname("input-error");
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);

    let mut by_file: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
    for file in run.linted.iter().chain(run.sources.keys()) {
        by_file.entry(super::display_path(file)).or_default();
    }
    for f in &run.findings {
        let kind = if f.rule.starts_with("input/") {
            NonSuccessKind::Error
        } else {
            NonSuccessKind::Failure
        };
        let mut status = TestCaseStatus::non_success(kind);
        status
            .set_message(f.message.clone())
            .set_type(f.severity.as_str())
            .set_description(format!(
                "{}: {} [{}]{}",
                f.location,
                f.message,
                f.rule,
                f.help
                    .as_deref()
                    .map(|h| format!("\nhelp: {h}"))
                    .unwrap_or_default()
            ));
        let mut case = TestCase::new(
            format!("{} at {}:{}", f.rule, f.location.line, f.location.column),
            status,
        );
        case.set_classname(f.rule);
        by_file
            .entry(super::display_path(&f.location.file))
            .or_default()
            .push(case);
    }
    for (file, cases) in by_file {
        let mut suite = TestSuite::new(file.clone());
        if cases.is_empty() {
            suite.add_test_case(TestCase::new(file, TestCaseStatus::success()));
        } else {
            suite.add_test_cases(cases);
        }
        report.add_test_suite(suite);
    }
    let mut xml = Vec::new();
    report.serialize(&mut xml)?;
    out.write_all(xml_chars_only(&String::from_utf8_lossy(&xml)).as_bytes())?;
    Ok(())
}

/// The serialised report with every character XML 1.0 forbids replaced by U+FFFD. quick-junit
/// drops the control characters (and ANSI escapes) from every text, but passes the noncharacters
/// U+FFFE and U+FFFF through, which XML 1.0 forbids as well: a file name or message holding one
/// would make the whole report unreadable to the CI system. No markup uses them, so replacing
/// them in the serialised text reaches every field.
fn xml_chars_only(xml: &str) -> std::borrow::Cow<'_, str> {
    const FORBIDDEN: [char; 2] = ['\u{FFFE}', '\u{FFFF}'];
    if xml.contains(FORBIDDEN) {
        std::borrow::Cow::Owned(xml.replace(FORBIDDEN, "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(xml)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::finding::{Finding, Severity};
    use edgefleet_inventory::SourceLocation;

    #[test]
    fn noncharacters_do_not_reach_the_xml() {
        let file: Arc<Path> = Arc::from(Path::new("a\u{FFFF}b.yaml"));
        let mut run = LintRun::default();
        run.sources.insert(file.clone(), Arc::from(""));
        run.findings.push(Finding {
            rule: "resources/missing-memory-limit",
            severity: Severity::Warning,
            message: "no \u{FFFE} limit".to_owned(),
            location: SourceLocation {
                file,
                line: 1,
                column: 1,
                offset: 0,
                len: 0,
            },
            object: None,
            help: None,
            sites: Vec::new(),
        });
        let mut out = Vec::new();
        write(&run, &mut out).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(!xml.contains(['\u{FFFE}', '\u{FFFF}']), "{xml}");
        assert!(xml.contains("a\u{FFFD}b.yaml"), "{xml}");
        assert!(xml.contains("no \u{FFFD} limit"), "{xml}");
    }
}
