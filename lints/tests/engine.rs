//! The engine end to end: locations, bad input, configuration, suppressions, every format.

use std::path::{Path, PathBuf};

use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::{Level, LintConfig, LintRun, Linter, Severity, Source};

fn source(name: &str, text: &str) -> Source {
    Source::from_reader(name, text.as_bytes())
}

fn lint_text(config: &LintConfig, name: &str, text: &str) -> LintRun {
    Linter::new(config, Path::new("."))
        .expect("valid config")
        .lint_sources(vec![source(name, text)])
}

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - name: agent
          image: registry.example.com/edge/agent:latest
          imagePullPolicy: Always
          securityContext:
            privileged: true
";

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("edgefleet-lints")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

#[test]
fn findings_point_at_the_offending_field() {
    let run = lint_text(&LintConfig::default(), "d.yaml", DEPLOYMENT);
    let at = |rule: &str| {
        let f = run
            .findings
            .iter()
            .find(|f| f.rule == rule)
            .unwrap_or_else(|| panic!("no {rule} finding"));
        (f.location.line, f.location.column)
    };
    assert_eq!(at("images/latest-tag"), (14, 11));
    assert_eq!(at("images/pull-always"), (15, 11));
    assert_eq!(at("security/privileged"), (17, 13));
    // A missing field points at the object that should hold it: here the container.
    assert_eq!(at("probes/missing-liveness"), (13, 11));
    let o = run.findings[0].object.as_ref().expect("object");
    assert_eq!((o.kind.as_str(), o.name.as_str()), ("Deployment", "agent"));
}

#[test]
fn sarif_validates_against_the_official_schema_with_real_regions() {
    let run = lint_text(&LintConfig::default(), "manifests/d.yaml", DEPLOYMENT);
    let text = report::render(&run, Format::Sarif, &HumanOptions::default()).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
    if let Err(errors) = edgefleet_lints::schema::validate_sarif(&doc) {
        panic!("invalid SARIF: {errors:?}");
    }
    let results = doc["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), run.findings.len());
    let privileged = results
        .iter()
        .find(|r| r["ruleId"] == "security/privileged")
        .expect("privileged result");
    let loc = &privileged["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "manifests/d.yaml");
    assert_eq!(loc["region"]["startLine"], 17);
    assert_eq!(loc["region"]["startColumn"], 13);
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let index = privileged["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "security/privileged");
    assert!(
        rules[index]["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("## Why it matters")
    );
}

#[test]
fn bad_input_is_reported_with_a_location_and_other_files_are_still_linted() {
    let dir = scratch("bad-input");
    std::fs::write(
        dir.join("a-broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   oops: [\n",
    )
    .unwrap();
    std::fs::write(dir.join("b-list.yaml"), "- 1\n- 2\n").unwrap();
    std::fs::write(dir.join("c-binary.yaml"), [0xff, 0xfe, 0x00]).unwrap();
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n\
                b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n\
                d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n\
                f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n\
                h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n\
                i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    std::fs::write(dir.join("d-bomb.yaml"), bomb).unwrap();
    let mut deep = String::from("a:\n");
    for i in 1..3000 {
        deep.push_str(&" ".repeat(i));
        deep.push_str("b:\n");
    }
    std::fs::write(dir.join("d-deep.yaml"), deep).unwrap();
    // Just over the size limit, sparse so the test stays cheap.
    let big = std::fs::File::create(dir.join("e-huge.yaml")).unwrap();
    big.set_len(edgefleet_inventory::source::MAX_FILE_BYTES + 1)
        .unwrap();
    std::fs::write(dir.join("f-good.yaml"), DEPLOYMENT).unwrap();

    let linter = Linter::new(&LintConfig::default(), &dir).unwrap();
    let run = linter.lint_paths(std::slice::from_ref(&dir)).unwrap();
    let by_file = |name: &str| {
        run.findings
            .iter()
            .filter(|f| f.location.file.ends_with(name))
            .map(|f| (f.rule, f.location.line))
            .collect::<Vec<_>>()
    };
    assert_eq!(by_file("a-broken.yaml"), [("input/invalid-yaml", 5)]);
    assert_eq!(by_file("b-list.yaml"), [("input/not-an-object", 1)]);
    assert_eq!(by_file("c-binary.yaml"), [("input/invalid-yaml", 1)]);
    assert_eq!(
        by_file("d-bomb.yaml").len(),
        1,
        "{:?}",
        by_file("d-bomb.yaml")
    );
    assert_eq!(by_file("d-bomb.yaml")[0].0, "input/invalid-yaml");
    let bomb = run
        .findings
        .iter()
        .find(|f| f.location.file.ends_with("d-bomb.yaml"))
        .unwrap();
    assert!(bomb.message.contains("alias bomb"), "{}", bomb.message);
    assert_eq!(by_file("e-huge.yaml"), [("input/invalid-yaml", 1)]);
    assert_eq!(by_file("d-deep.yaml"), [("input/invalid-yaml", 65)]);
    assert!(by_file("f-good.yaml").contains(&("security/privileged", 17)));
    assert_eq!(run.input_errors, 6);
    assert_eq!(run.exit_code(Severity::Error), 2);
}

#[test]
fn configuration_changes_levels_and_allowed_registries() {
    let mut config = LintConfig::default();
    config
        .rules
        .insert("security/privileged".into(), Level::Off);
    config.rules.insert("images/latest-tag".into(), Level::Note);
    config.allowed_registries = vec!["mirror.example.net".into()];
    let run = lint_text(&config, "d.yaml", DEPLOYMENT);
    assert!(!run.findings.iter().any(|f| f.rule == "security/privileged"));
    let latest = run.findings.iter().find(|f| f.rule == "images/latest-tag");
    assert_eq!(latest.map(|f| f.severity), Some(Severity::Note));
    assert!(
        run.findings
            .iter()
            .any(|f| f.rule == "images/registry-not-allowed")
    );

    config.rules.insert("no/such-rule".into(), Level::Error);
    assert!(Linter::new(&config, Path::new(".")).is_err());
}

#[test]
fn exclude_globs_skip_files() {
    let dir = scratch("exclude");
    std::fs::create_dir_all(dir.join("vendor")).unwrap();
    std::fs::write(dir.join("vendor/x.yaml"), DEPLOYMENT).unwrap();
    std::fs::write(dir.join("mine.yml"), DEPLOYMENT).unwrap();
    std::fs::write(dir.join("notes.txt"), "not yaml").unwrap();
    let config = LintConfig {
        exclude: vec!["vendor/**".into()],
        ..LintConfig::default()
    };
    let linter = Linter::new(&config, &dir).unwrap();
    let files = linter.collect_files(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(files, [dir.join("mine.yml")]);
}

#[test]
fn suppressions_need_a_reason_and_are_counted() {
    let with_reason = DEPLOYMENT.replace(
        "  name: agent\n",
        "  name: agent\n  annotations:\n    edgefleet.io/ignore: security/privileged, images/latest-tag\n    edgefleet.io/ignore-reason: CAN bus access (OPS-412)\n",
    );
    let run = lint_text(&LintConfig::default(), "d.yaml", &with_reason);
    assert!(!run.findings.iter().any(|f| f.rule == "security/privileged"));
    assert!(!run.findings.iter().any(|f| f.rule == "images/latest-tag"));
    assert_eq!(run.suppressed, 2);

    let without = with_reason.replace(
        "    edgefleet.io/ignore-reason: CAN bus access (OPS-412)\n",
        "",
    );
    let run = lint_text(&LintConfig::default(), "d.yaml", &without);
    assert!(run.findings.iter().any(|f| f.rule == "security/privileged"));
    let missing = run
        .findings
        .iter()
        .find(|f| f.rule == "suppression/missing-reason")
        .expect("missing reason reported");
    assert_eq!(missing.location.line, 6);
    assert_eq!(run.suppressed, 0);
}

#[test]
fn exit_codes_follow_the_fail_level() {
    let clean = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {}\n";
    let run = lint_text(&LintConfig::default(), "c.yaml", clean);
    assert!(run.findings.is_empty(), "{:?}", run.findings);
    assert_eq!(run.exit_code(Severity::Note), 0);
    let run = lint_text(&LintConfig::default(), "d.yaml", DEPLOYMENT);
    assert_eq!(run.exit_code(Severity::Error), 1);
}

#[test]
fn every_format_renders_and_output_is_deterministic() {
    let a = lint_text(&LintConfig::default(), "d.yaml", DEPLOYMENT);
    let b = lint_text(&LintConfig::default(), "d.yaml", DEPLOYMENT);
    for (name, format) in report::Format::ALL {
        let x = report::render(&a, format, &HumanOptions::default()).unwrap();
        let y = report::render(&b, format, &HumanOptions::default()).unwrap();
        assert_eq!(x, y, "{name} output differs between runs");
        assert!(!x.is_empty(), "{name} output is empty");
    }
    let github = report::render(&a, Format::Github, &HumanOptions::default()).unwrap();
    assert!(
        github.contains("::error file=d.yaml,line=17,col=13,title=security/privileged::container `agent` runs privileged%0Ahelp: "),
        "{github}"
    );
    let junit = report::render(&a, Format::Junit, &HumanOptions::default()).unwrap();
    assert!(junit.starts_with("<?xml"), "{junit}");
    assert!(junit.contains("security/privileged at 17:13"), "{junit}");
    let json: serde_json::Value =
        serde_json::from_str(&report::render(&a, Format::Json, &HumanOptions::default()).unwrap())
            .unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["summary"]["objects"], 1);
    let first = &json["findings"][0];
    for key in [
        "rule", "severity", "message", "file", "line", "column", "object", "help",
    ] {
        assert!(first.get(key).is_some(), "JSON finding lacks `{key}`");
    }
}

/// `schema/duplicate-object` compares only objects applied together: by default one file or
/// stream, with `duplicate_scope` the files of one folder or the whole run.
#[test]
fn duplicate_objects_are_found_within_their_scope_only() {
    use edgefleet_lints::DuplicateScope;
    let dir = scratch("duplicate-scope");
    let config_map = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: edge\n")
    };
    // Two rendered environments of one application, one file each, in one folder; a folder of
    // single-object files applied together; and a file defining one object twice.
    std::fs::create_dir_all(dir.join("rendered")).unwrap();
    std::fs::create_dir_all(dir.join("raw")).unwrap();
    std::fs::write(dir.join("rendered/dev.yaml"), config_map("settings")).unwrap();
    std::fs::write(dir.join("rendered/prod.yaml"), config_map("settings")).unwrap();
    std::fs::write(dir.join("raw/a.yaml"), config_map("shared")).unwrap();
    std::fs::write(dir.join("raw/b.yaml"), config_map("shared")).unwrap();
    std::fs::write(
        dir.join("twice.yaml"),
        format!("{}---\n{}", config_map("settings"), config_map("settings")),
    )
    .unwrap();
    let duplicates = |scope: Option<DuplicateScope>| {
        let mut config = LintConfig::default();
        if let Some(scope) = scope {
            config.duplicate_scope = scope;
        }
        let run = Linter::new(&config, &dir)
            .unwrap()
            .lint_paths(std::slice::from_ref(&dir))
            .unwrap();
        let mut found: Vec<(String, _)> = run
            .findings
            .iter()
            .filter(|f| f.rule == "schema/duplicate-object")
            .map(|f| {
                let file = f.location.file.strip_prefix(&dir).unwrap();
                (file.display().to_string(), f.location.line)
            })
            .collect();
        found.sort();
        found
            .into_iter()
            .map(|(file, line)| format!("{file}:{line}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(duplicates(None), ["twice.yaml:10"]);
    assert_eq!(duplicates(Some(DuplicateScope::File)), ["twice.yaml:10"]);
    assert_eq!(
        duplicates(Some(DuplicateScope::Folder)),
        ["raw/b.yaml:4", "rendered/prod.yaml:4", "twice.yaml:10"]
    );
    // The whole run: rendered/prod.yaml and twice.yaml (twice) repeat rendered/dev.yaml's
    // object (files are read in path order), raw/b.yaml repeats raw/a.yaml's.
    assert_eq!(
        duplicates(Some(DuplicateScope::Run)),
        [
            "raw/b.yaml:4",
            "rendered/prod.yaml:4",
            "twice.yaml:4",
            "twice.yaml:10"
        ]
    );
}
