//! `--format junit`: one test suite per file, one failing test case per finding (a clean file
//! is one passing case), for CI systems that only read JUnit XML.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::engine::LintRun;

pub fn render(run: &LintRun) -> String {
    let mut report = Report::new("edgefleet lint");
    let mut by_file: BTreeMap<String, Vec<TestCase>> = BTreeMap::new();
    for file in run.sources.keys() {
        by_file.entry(super::display_path(file)).or_default();
    }
    for f in &run.findings {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
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
    report.to_string().unwrap_or_default()
}
