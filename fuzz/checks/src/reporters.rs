//! The reporters: any finding text, any path → valid JSON, SARIF, JUnit XML and GitHub commands.

use std::path::{Component, Path};
use std::sync::Arc;

use edgefleet_inventory::source::SourceLocation;
use edgefleet_lints::engine::STDIN_NAME;
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

    // SARIF URIs are relative to the working directory for the files under it.
    let cwd = std::env::current_dir().ok();
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
        let location = &result["locations"][0]["physicalLocation"]["artifactLocation"];
        if f.location.file.as_os_str() == STDIN_NAME {
            assert!(location.get("uri").is_none(), "standard input has no URI");
        } else {
            let uri = location["uri"].as_str().expect("a uri");
            check_uri(uri, &f.location.file, cwd.as_deref());
        }
    }

    check_xml(&report::render(&run, Format::Junit, &human).expect("every run renders"));

    // One workflow command per finding and per input problem, then the run's summary.
    let github = report::render(&run, Format::Github, &human).expect("every run renders");
    let commands = run.findings.len() + run.problems.len() + 1;
    assert_eq!(
        github.lines().filter(|l| l.starts_with("::")).count(),
        commands,
        "one workflow command per finding: {github:?}"
    );
    assert_eq!(github.lines().count(), commands, "{github:?}");
    assert!(
        github
            .lines()
            .last()
            .is_some_and(|l| l.contains("title=edgefleet lint::")),
        "no summary line: {github:?}"
    );

    let _ = report::render(&run, Format::Human, &human).expect("every run renders");
}

/// A SARIF artifact URI: a valid URI reference (RFC 3986), without a query or fragment, whose
/// segments percent-decode to the file path's components, byte for byte: a relative URI to the
/// relative path (or to the part under `cwd` of an absolute one), a `file:` URI to an absolute
/// path. `.` components, doubled and trailing separators name the same file and are not
/// written; a `\` is part of a Unix file name, not a separator.
pub fn check_uri(uri: &str, file: &Path, cwd: Option<&Path>) {
    let parsed = fluent_uri::UriRef::parse(uri)
        .unwrap_or_else(|e| panic!("{uri:?} (for {file:?}) is not an RFC 3986 URI reference: {e}"));
    assert!(
        parsed.fragment().is_none() && parsed.query().is_none(),
        "{uri:?} (for {file:?}) has a fragment or a query"
    );
    let (named, expected) = match uri.strip_prefix("file://") {
        Some(absolute) => (absolute, file.to_path_buf()),
        None if file.is_absolute() => {
            let rest = cwd
                .and_then(|c| file.strip_prefix(c).ok())
                .unwrap_or_else(|| panic!("{uri:?} is relative but {file:?} is not under {cwd:?}"));
            (uri, rest.to_path_buf())
        }
        None => (uri, file.to_path_buf()),
    };
    let decoded: Vec<Vec<u8>> = if named.is_empty() {
        Vec::new()
    } else {
        // `file:///` is the root: the empty segment after it is no component.
        named
            .split('/')
            .enumerate()
            .filter(|(i, s)| *i == 0 || !s.is_empty())
            .map(|(_, s)| percent_encoding::percent_decode_str(s).collect())
            .collect()
    };
    let components: Vec<Vec<u8>> = expected
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => Vec::new(),
            c => c.as_os_str().to_string_lossy().as_bytes().to_vec(),
        })
        .collect();
    assert_eq!(
        decoded,
        components,
        "{uri:?} decodes to {:?}, not {file:?}",
        decoded
            .iter()
            .map(|s| String::from_utf8_lossy(s))
            .collect::<Vec<_>>()
            .join("/")
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
