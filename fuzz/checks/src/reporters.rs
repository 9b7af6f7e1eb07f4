//! The reporters: any finding text, any path → valid JSON, SARIF, JUnit XML and GitHub commands.

use std::path::Path;
use std::sync::Arc;

use edgefleet_inventory::source::SourceLocation;
use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::{Finding, LintRun, ObjectRef, Severity};
use serde_json::Value;

/// Rules a finding may carry (reporters look rules up by id).
const RULES: &[&str] = &[
    "resources/missing-memory-limit",
    "images/unpinned-digest",
    "input/invalid-yaml",
];

/// Builds a lint run from fuzz input: NUL-separated parts are, per finding, a file path, a
/// message, a help text and an object name; a finding's bytes also choose its rule, severity,
/// line and column.
pub fn run_from(data: &[u8]) -> LintRun {
    let mut run = LintRun::default();
    let parts = crate::parts(data, 17);
    for chunk in parts.chunks(4) {
        let text = |i: usize| String::from_utf8_lossy(chunk.get(i).copied().unwrap_or_default());
        let path = text(0).into_owned();
        let seed = chunk[0]
            .iter()
            .fold(0u32, |a, b| a.wrapping_mul(31) ^ *b as u32);
        let file: Arc<Path> = Arc::from(Path::new(&path));
        let finding = Finding {
            rule: RULES[seed as usize % RULES.len()],
            severity: [Severity::Note, Severity::Warning, Severity::Error]
                [(seed >> 3) as usize % 3],
            message: text(1).into_owned(),
            location: SourceLocation {
                file: file.clone(),
                line: 1 + seed % 1000,
                column: 1 + (seed >> 10) % 200,
                offset: 0,
                len: 0,
            },
            object: chunk.get(3).map(|_| ObjectRef {
                kind: "Deployment".to_owned(),
                namespace: (seed & 1 == 1).then(|| text(3).into_owned()),
                name: text(3).into_owned(),
            }),
            help: chunk.get(2).map(|_| text(2).into_owned()),
            sites: if seed & 2 == 2 {
                vec![Arc::from(text(3).as_ref())]
            } else {
                Vec::new()
            },
        };
        run.sources.entry(file).or_insert_with(|| Arc::from(""));
        run.files = run.sources.len();
        run.findings.push(finding);
    }
    run
}

/// Every format renders any run; JSON and SARIF parse and carry each message exactly; every
/// SARIF `artifactLocation.uri` is an RFC 3986 URI reference that decodes back to the file's
/// path; JUnit is well-formed XML; GitHub prints one command line per finding.
pub fn reporters(data: &[u8]) {
    let run = run_from(data);
    let human = HumanOptions::default();

    let json: Value = serde_json::from_str(
        &report::render(&run, Format::Json, &human).expect("every run renders"),
    )
    .expect("--format json is JSON");
    let findings = json["findings"].as_array().expect("a findings list");
    assert_eq!(findings.len(), run.findings.len());
    for (shown, f) in findings.iter().zip(&run.findings) {
        assert_eq!(shown["message"].as_str(), Some(f.message.as_str()));
    }

    let sarif: Value = serde_json::from_str(
        &report::render(&run, Format::Sarif, &human).expect("every run renders"),
    )
    .expect("--format sarif is JSON");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), run.findings.len());
    for (result, f) in results.iter().zip(&run.findings) {
        let text = result["message"]["text"].as_str().expect("a message");
        assert!(
            text.starts_with(&f.message),
            "{text:?} lost {:?}",
            f.message
        );
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .expect("a uri");
        check_uri(uri, &f.location.file);
    }

    check_xml(&report::render(&run, Format::Junit, &human).expect("every run renders"));

    let github = report::render(&run, Format::Github, &human).expect("every run renders");
    assert_eq!(
        github.lines().filter(|l| l.starts_with("::")).count(),
        run.findings.len(),
        "one workflow command per finding: {github:?}"
    );
    assert_eq!(github.lines().count(), run.findings.len(), "{github:?}");

    let _ = report::render(&run, Format::Human, &human).expect("every run renders");
}

/// A SARIF artifact URI: a valid URI reference (RFC 3986) whose percent-decoding is the path as
/// reports print it (forward slashes, no leading `./`).
pub fn check_uri(uri: &str, file: &Path) {
    let parsed = fluent_uri::UriRef::parse(uri)
        .unwrap_or_else(|e| panic!("{uri:?} (for {file:?}) is not an RFC 3986 URI reference: {e}"));
    assert!(
        parsed.fragment().is_none() && parsed.query().is_none(),
        "{uri:?} (for {file:?}) has a fragment or a query"
    );
    let path = file.to_string_lossy().replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    if path.is_empty() {
        return;
    }
    let decoded = percent_encoding::percent_decode_str(uri).decode_utf8_lossy();
    let decoded = decoded.strip_prefix("file://").unwrap_or(&decoded);
    assert!(
        decoded == path || decoded.ends_with(&format!("/{path}")),
        "{uri:?} decodes to {decoded:?}, not {path:?}"
    );
}

/// Whether XML 1.0 allows `c` at all (raw or as a character reference).
fn xml_char(c: u32) -> bool {
    matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

/// Well-formed XML 1.0, read to the end: no character XML forbids, raw or as a reference.
pub fn check_xml(xml: &str) {
    if let Some(c) = xml.chars().find(|c| !xml_char(*c as u32)) {
        panic!("JUnit output holds {c:?}, which XML 1.0 forbids: {xml:?}");
    }
    for reference in xml.split("&#").skip(1) {
        let Some(end) = reference.find(';') else {
            continue;
        };
        let code = &reference[..end];
        let value = match code.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16),
            None => code.parse(),
        };
        if let Ok(value) = value {
            assert!(
                xml_char(value),
                "JUnit output refers to &#{code}; which XML 1.0 forbids: {xml:?}"
            );
        }
    }
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                for attribute in e.attributes() {
                    let attribute = attribute.unwrap_or_else(|err| panic!("{err}: {xml}"));
                    attribute
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap_or_else(|err| panic!("{err}: {xml}"));
                }
            }
            Ok(_) => {}
            Err(e) => panic!("JUnit output is not well-formed XML ({e}): {xml}"),
        }
    }
}
