//! A report never looks cleaner than the run was: every output format carries every problem of
//! the run, the suppressed count and the files linted, and SARIF URIs resolve to the right files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use edgefleet_e2e::{copy_dir, describe, edgefleet_bin, edit, generate_fleet, workspace_root};
use serde_json::Value;

const FORMATS: [&str; 5] = ["human", "json", "sarif", "github", "junit"];

/// Runs the binary in `dir` (no colour, `stdin` piped in).
fn edgefleet_in(dir: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(edgefleet_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("edgefleet runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A scratch folder with an empty `edgefleet.toml` (the repository's config is not used).
fn scratch() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("edgefleet.toml"), "").unwrap();
    tmp
}

fn sarif_of(o: &Output) -> Value {
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("SARIF ({e}): {}", describe(o)));
    if let Err(v) = edgefleet_lints::schema::validate_sarif(&doc) {
        panic!("SARIF invalid against the 2.1.0 schema: {v:?}\n{doc:#}");
    }
    doc
}

/// The generated example fleet, and a copy of its inventory without `fab-linz-02`.
fn fleet_with_a_site_missing_from_the_inventory(dir: &Path) -> (PathBuf, PathBuf) {
    let root = workspace_root();
    let inventory = dir.join("inventory");
    copy_dir(&root.join("examples/fleet/site-inventory"), &inventory);
    let out = dir.join("out");
    generate_fleet(&inventory, &root.join("templates"), &out);
    edit(
        &inventory.join("sites/industrial.yaml"),
        "  - id: fab-linz-02\n    region: eu-central\n    hardware: xeon-d-2u\n    backhaul: lte-cat12\n    platform: openyurt-factory\n    wave: main\n    labels: {asset-class: factory}\n    workloads: [telemetry-collector, metrics-agent, mqtt-broker]\n",
        "",
    );
    (out, inventory)
}

#[test]
fn a_site_that_cannot_be_linted_is_in_every_format() {
    let tmp = scratch();
    fleet_with_a_site_missing_from_the_inventory(tmp.path());
    let why = "site `fab-linz-02` is not in the inventory";
    for format in FORMATS {
        let o = edgefleet_in(
            tmp.path(),
            &[
                "lint",
                "--fleet",
                "out",
                "--inventory",
                "inventory",
                "--format",
                format,
            ],
            "",
        );
        assert_eq!(o.status.code(), Some(2), "{format}: {}", describe(&o));
        let text = stdout(&o);
        match format {
            "human" => {
                assert!(text.contains("error: ") && text.contains(why), "{text}");
                assert!(
                    text.contains("1 input error: the run is incomplete"),
                    "{text}"
                );
            }
            "json" => {
                let doc: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(doc["summary"]["input_errors"], 1, "{doc:#}");
                // Every other site was still linted.
                assert!(doc["summary"]["objects"].as_u64().unwrap() > 50, "{doc:#}");
                let errors = doc["input_errors"].as_array().unwrap();
                assert_eq!(errors.len(), 1, "{doc:#}");
                assert!(errors[0]["message"].as_str().unwrap().contains(why));
                assert!(
                    errors[0]["file"]
                        .as_str()
                        .unwrap()
                        .ends_with("fab-linz-02/site.json"),
                    "{doc:#}"
                );
            }
            "sarif" => {
                let doc = sarif_of(&o);
                let invocation = &doc["runs"][0]["invocations"][0];
                assert_eq!(invocation["executionSuccessful"], false, "{invocation:#}");
                let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
                assert!(
                    notes.iter().any(|n| n["level"] == "error"
                        && n["message"]["text"].as_str().unwrap().contains(why)),
                    "{invocation:#}"
                );
                assert_eq!(doc["runs"][0]["properties"]["input_errors"], 1);
            }
            "github" => {
                assert!(
                    text.lines()
                        .any(|l| l.starts_with("::error ") && l.contains(why)),
                    "{text}"
                );
            }
            "junit" => {
                assert!(text.contains("<error ") && text.contains(why), "{text}");
                assert!(text.contains("name=\"input_errors\" value=\"1\""), "{text}");
            }
            _ => unreachable!(),
        }
    }
}

/// Unclosed `{` on line 3: the parser stops further on, never at 1:1.
const BROKEN: &str = "apiVersion: v1\nkind: ConfigMap\ndata: {a: \"1\"\nmetadata:\n  name: x\n";

#[test]
fn a_syntax_error_is_shown_where_the_parser_stopped_in_every_format() {
    let tmp = scratch();
    std::fs::write(tmp.path().join("broken.yaml"), BROKEN).unwrap();
    let json = edgefleet_in(tmp.path(), &["lint", "--format", "json", "broken.yaml"], "");
    assert_eq!(json.status.code(), Some(2), "{}", describe(&json));
    let doc: Value = serde_json::from_slice(&json.stdout).unwrap();
    let finding = &doc["findings"][0];
    assert_eq!(finding["rule"], "input/invalid-yaml");
    let (line, column) = (
        finding["line"].as_u64().unwrap(),
        finding["column"].as_u64().unwrap(),
    );
    assert!(
        line >= 3,
        "the error is on or after line 3, not at {line}:{column}"
    );
    assert_eq!(doc["input_errors"][0]["line"], line, "{doc:#}");

    for format in FORMATS {
        let o = edgefleet_in(tmp.path(), &["lint", "--format", format, "broken.yaml"], "");
        assert_eq!(o.status.code(), Some(2), "{format}: {}", describe(&o));
        let text = stdout(&o);
        match format {
            "human" => {
                assert!(
                    text.contains(&format!("[broken.yaml:{line}:{column}]")),
                    "snippet heading at {line}:{column}: {text}"
                );
                assert!(!text.contains("broken.yaml:1:1"), "{text}");
                // The underline is under the line the parser stopped at.
                let source_line = BROKEN.lines().nth(line as usize - 1).unwrap_or("");
                let shown = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("{line} │")))
                    .unwrap_or_else(|| panic!("line {line} in the snippet: {text}"));
                assert!(
                    text.lines()
                        .nth(shown)
                        .unwrap()
                        .ends_with(source_line.trim_end())
                );
                assert!(
                    text.lines().nth(shown + 1).unwrap().contains('┬')
                        || text.lines().nth(shown + 1).unwrap().contains('─'),
                    "{text}"
                );
            }
            "json" => {}
            "sarif" => {
                let doc = sarif_of(&o);
                let region =
                    &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
                assert_eq!(region["startLine"], line, "{doc:#}");
                assert_eq!(
                    doc["runs"][0]["invocations"][0]["executionSuccessful"],
                    false
                );
            }
            "github" => assert!(
                text.contains(&format!("line={line},col={column}")),
                "{text}"
            ),
            "junit" => assert!(text.contains(&format!("at {line}:{column}")), "{text}"),
            _ => unreachable!(),
        }
    }

    // `validate` points its snippet at the same place in an inventory file.
    let inventory = tmp.path().join("inventory");
    copy_dir(
        &workspace_root().join("examples/fleet/site-inventory"),
        &inventory,
    );
    let regions = inventory.join("regions.yaml");
    let text = std::fs::read_to_string(&regions).unwrap();
    let broken_line = text
        .lines()
        .position(|l| l.starts_with("regions:"))
        .unwrap()
        + 2;
    let mut lines: Vec<&str> = text.lines().collect();
    let injected = format!("{} {{", lines[broken_line - 1]);
    lines[broken_line - 1] = &injected;
    std::fs::write(&regions, lines.join("\n") + "\n").unwrap();
    let o = edgefleet_in(tmp.path(), &["validate", "--inventory", "inventory"], "");
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("regions.yaml:1:1"), "{err}");
    let json = edgefleet_in(
        tmp.path(),
        &[
            "validate",
            "--inventory",
            "inventory",
            "--message-format",
            "json",
        ],
        "",
    );
    let first: Value = serde_json::from_str(
        String::from_utf8_lossy(&json.stderr)
            .lines()
            .next()
            .unwrap_or("{}"),
    )
    .unwrap();
    let at = format!(
        "regions.yaml:{}:{}]",
        first["line"].as_u64().unwrap(),
        first["column"].as_u64().unwrap()
    );
    assert!(
        first["line"].as_u64().unwrap() >= broken_line as u64,
        "{first}"
    );
    assert!(err.contains(&at), "snippet heading {at}: {err}");
}

const SUPPRESSED: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    edgefleet.io/ignore: schema/invalid
    edgefleet.io/ignore-reason: \"an extra field read by the site agent (OPS-7)\"
data: {a: \"1\"}
extra: true
";

#[test]
fn the_suppressed_count_is_in_every_format() {
    let tmp = scratch();
    std::fs::write(tmp.path().join("settings.yaml"), SUPPRESSED).unwrap();
    for format in FORMATS {
        let o = edgefleet_in(
            tmp.path(),
            &["lint", "--format", format, "settings.yaml"],
            "",
        );
        assert_eq!(o.status.code(), Some(0), "{format}: {}", describe(&o));
        let text = stdout(&o);
        match format {
            "human" | "github" => assert!(text.contains("1 suppressed"), "{format}: {text}"),
            "json" => {
                let doc: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(doc["summary"]["suppressed"], 1, "{doc:#}");
            }
            "sarif" => {
                let doc = sarif_of(&o);
                assert_eq!(doc["runs"][0]["properties"]["suppressed"], 1, "{doc:#}");
            }
            "junit" => assert!(text.contains("name=\"suppressed\" value=\"1\""), "{text}"),
            _ => unreachable!(),
        }
    }
}

#[test]
fn a_clean_run_says_so_in_every_format() {
    let tmp = scratch();
    std::fs::write(
        tmp.path().join("clean.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {}\n",
    )
    .unwrap();
    for format in FORMATS {
        let o = edgefleet_in(tmp.path(), &["lint", "--format", format, "clean.yaml"], "");
        assert_eq!(o.status.code(), Some(0), "{format}: {}", describe(&o));
        let text = stdout(&o);
        match format {
            "human" => assert!(text.contains("no findings in 1 file (1 object"), "{text}"),
            "github" => assert_eq!(
                text,
                "::notice title=edgefleet lint::no findings in 1 file (1 object, 0 suppressed)\n"
            ),
            "json" => {
                let doc: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(doc["summary"]["files"], 1);
                assert_eq!(doc["input_errors"], serde_json::json!([]));
            }
            "sarif" => {
                let doc = sarif_of(&o);
                assert_eq!(
                    doc["runs"][0]["invocations"][0]["executionSuccessful"],
                    true
                );
                let driver = &doc["runs"][0]["tool"]["driver"];
                assert!(
                    driver
                        .get("informationUri")
                        .is_none_or(|u| !u.as_str().unwrap().contains("example.invalid")),
                    "{driver:#}"
                );
            }
            "junit" => assert!(
                text.contains("<testsuite name=\"clean.yaml\" tests=\"1\""),
                "{text}"
            ),
            _ => unreachable!(),
        }
    }
}

#[test]
fn fleet_junit_lists_every_file_linted_not_only_those_with_findings() {
    let tmp = scratch();
    let root = workspace_root();
    let inventory = root.join("examples/fleet/site-inventory");
    let out = tmp.path().join("out");
    generate_fleet(&inventory, &root.join("templates"), &out);
    let o = edgefleet_in(
        tmp.path(),
        &[
            "lint",
            "--fleet",
            "out",
            "--inventory",
            inventory.to_str().unwrap(),
            "--format",
            "junit",
        ],
        "",
    );
    assert_ne!(o.status.code(), Some(2), "{}", describe(&o));
    let text = stdout(&o);
    let mut overlays = 0;
    for region in std::fs::read_dir(out.join("sites")).unwrap().flatten() {
        for site in std::fs::read_dir(region.path()).unwrap().flatten() {
            for overlay in std::fs::read_dir(site.path()).unwrap().flatten() {
                let k = overlay.path().join("kustomization.yaml");
                if k.is_file() {
                    overlays += 1;
                    let name = format!(
                        "<testsuite name=\"{}\"",
                        k.strip_prefix(tmp.path()).unwrap().display()
                    );
                    assert!(text.contains(&name), "{name} missing from the JUnit report");
                }
            }
        }
    }
    assert!(overlays > 10, "{overlays} overlays");
}

/// Decodes `%XX` escapes (bytes), as a URI consumer does.
fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// An RFC 3986 URI reference's path as SARIF consumers parse it: only unreserved characters,
/// `/`, and `%XX` escapes (plus the `file:` scheme).
fn assert_rfc3986(uri: &str) {
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    for (i, c) in path.char_indices() {
        let ok = c.is_ascii_alphanumeric()
            || "-._~/".contains(c)
            || (c == '%'
                && path[i + 1..]
                    .get(..2)
                    .is_some_and(|h| h.chars().all(|d| d.is_ascii_hexdigit())));
        // `:` is refused too: a relative reference must not look like a scheme (`C:` …).
        assert!(ok, "`{c}` at {i} of {uri}");
    }
    assert!(
        !uri.contains('#') && !uri.contains(' ') && !uri.contains('\\'),
        "{uri}"
    );
}

#[cfg(unix)]
#[test]
fn sarif_uris_are_rfc3986_and_resolve_to_the_right_file() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = scratch();
    let cwd = tmp.path().canonicalize().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let outside_dir = outside.path().canonicalize().unwrap();
    let names = [
        "with space.yaml",
        "hash#1.yaml",
        "percent%41.yaml",
        "café-Ø.yaml",
        "C:\\fleet\\site.yaml",
        "sub dir/nested #2.yaml",
    ];
    let mut args: Vec<String> = vec!["lint".into(), "--format".into(), "sarif".into()];
    let mut expected: Vec<PathBuf> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let path = cwd.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // Each file distinct, so a URI resolving to the wrong file is caught.
        std::fs::write(
            &path,
            format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec: {{}}\n"),
        )
        .unwrap();
        // Relative and absolute arguments, in turn.
        args.push(if i % 2 == 0 {
            (*name).to_owned()
        } else {
            path.to_str().unwrap().to_owned()
        });
        expected.push(path);
    }
    let far = outside_dir.join("far away ü.yaml");
    std::fs::write(
        &far,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: far\nspec: {}\n",
    )
    .unwrap();
    args.push(far.to_str().unwrap().to_owned());
    expected.push(far.clone());
    args.push("-".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = edgefleet_in(
        &cwd,
        &args,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: stdin\nspec: {}\n",
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let doc = sarif_of(&o);
    let run = &doc["runs"][0];
    let base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .expect("%SRCROOT% is given");
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    assert_rfc3986(base);

    let mut resolved = std::collections::BTreeMap::new();
    let mut stdin_results = 0;
    for r in run["results"].as_array().unwrap() {
        let location = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        let Some(uri) = location["uri"].as_str() else {
            assert_eq!(
                location["description"]["text"], "standard input",
                "{location}"
            );
            stdin_results += 1;
            continue;
        };
        assert_rfc3986(uri);
        let absolute = match location["uriBaseId"].as_str() {
            Some(id) => {
                assert_eq!(id, "%SRCROOT%");
                assert!(!uri.starts_with('/') && !uri.contains(':'), "{uri}");
                format!("{base}{uri}")
            }
            None => uri.to_owned(),
        };
        let path = PathBuf::from(std::ffi::OsStr::from_bytes(&percent_decode(
            absolute.strip_prefix("file://").expect("a file URI"),
        )));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{uri} resolves to {}: {e}", path.display()));
        // The message names the object, whose name is in the file the URI resolves to.
        let message = r["message"]["text"].as_str().unwrap();
        let name = message.rsplit("Pod ").next().unwrap().trim_end_matches(')');
        assert!(
            text.contains(&format!("name: {name}\n")),
            "{uri} → {} for {message}",
            path.display()
        );
        resolved.insert(path, uri.to_owned());
    }
    assert!(stdin_results > 0, "standard input has results");
    for path in &expected {
        assert!(
            resolved.contains_key(path),
            "no result resolves to {}: {resolved:#?}",
            path.display()
        );
    }
    // Files under the working directory are relative to it, others are absolute URIs.
    assert!(resolved[&far].starts_with("file:///"), "{}", resolved[&far]);
    assert!(
        !resolved[&expected[1]].starts_with("file:"),
        "{}",
        resolved[&expected[1]]
    );
}
