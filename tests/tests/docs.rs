//! The examples in README.md and docs/*.md run, and print what the docs say they print.
//!
//! Every fenced block tagged `console` is a session: each `$ ` line is a command run with `sh`
//! in a scratch copy of the project (`edgefleet.toml`, `examples/`, `templates/`), with the built
//! `edgefleet` first on `PATH` (`cargo run --release --` stands for it). An optional `? N` line
//! right after the command is its exit status (default 0). The lines after are its output,
//! standard output then standard error: `...` on a line of its own stands for any number of
//! lines, `[..]` inside a line for any text. The blocks of one file share their scratch folder,
//! in order, so a doc can generate a tree and then lint it. The format is described in
//! docs/cli.md ("Examples in the docs are tests").

use std::path::{Path, PathBuf};
use std::process::Command;

use edgefleet_e2e::{copy_dir, edgefleet_bin, workspace_root};

/// One `$ command` of a console block, with what it must print.
#[derive(Debug)]
struct Example {
    /// 1-based line of the `$` in the doc.
    line: usize,
    command: String,
    status: i32,
    expected: Vec<String>,
}

fn examples(doc: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut in_console = false;
    let mut in_other = false;
    // A block inside a list item is indented: its lines are read without that indentation.
    let mut indent = 0;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(info) = trimmed.strip_prefix("```") {
            if in_console || in_other {
                in_console = false;
                in_other = false;
            } else if info.trim() == "console" {
                in_console = true;
                indent = line.len() - trimmed.len();
            } else {
                in_other = true;
            }
            continue;
        }
        if !in_console {
            continue;
        }
        let raw = match line.get(..indent) {
            Some(prefix) if prefix.trim().is_empty() => &line[indent..],
            _ => line,
        };
        if let Some(command) = raw.strip_prefix("$ ") {
            out.push(Example {
                line: i + 1,
                command: command.to_owned(),
                status: 0,
                expected: Vec::new(),
            });
        } else if let Some(example) = out.last_mut() {
            match raw.strip_prefix("? ") {
                Some(code) if example.expected.is_empty() => {
                    example.status = code
                        .trim()
                        .parse()
                        .unwrap_or_else(|_| panic!("line {}: bad exit status {code:?}", i + 1));
                }
                _ => example.expected.push(raw.to_owned()),
            }
        } else {
            panic!("line {}: output before any `$ ` command", i + 1);
        }
    }
    out
}

/// `text` matches `pattern`, where `[..]` matches any run of characters.
fn line_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

/// `actual` matches `expected`, where a `...` line matches any number of lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => match actual.split_first() {
            Some((line, more)) => line_matches(first, line) && lines_match(rest, more),
            None => false,
        },
    }
}

fn scratch_project(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("edgefleet-docs")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let root = workspace_root();
    std::fs::copy(root.join("edgefleet.toml"), dir.join("edgefleet.toml")).unwrap();
    for folder in ["examples", "templates"] {
        copy_dir(&root.join(folder), &dir.join(folder));
    }
    dir
}

/// Runs every console example of one doc; returns the mismatches.
fn run_doc(relative: &str) -> Vec<String> {
    let root = workspace_root();
    let doc = std::fs::read_to_string(root.join(relative)).unwrap();
    let dir = scratch_project(&relative.replace(['/', '.'], "-"));
    let bin = edgefleet_bin();
    let path = std::env::join_paths(std::iter::once(bin.parent().unwrap().to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut failures = Vec::new();
    for ex in examples(&doc) {
        let command = ex
            .command
            .replace("cargo run --release -q -- ", "edgefleet ")
            .replace("cargo run --release -- ", "edgefleet ");
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&dir)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("FORCE_COLOR")
            .output()
            .expect("sh runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let actual: Vec<&str> = text.lines().collect();
        let status = out.status.code().unwrap_or(-1);
        if status != ex.status || !lines_match(&ex.expected, &actual) {
            failures.push(format!(
                "{relative}:{}: `{}`\n  expected exit {} and:\n{}\n  got exit {status} and:\n{}",
                ex.line,
                ex.command,
                ex.status,
                ex.expected.join("\n"),
                text.trim_end()
            ));
        }
    }
    failures
}

fn docs() -> Vec<String> {
    let root = workspace_root();
    let mut docs = vec!["README.md".to_owned()];
    let mut pages: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

#[test]
fn every_console_example_in_the_docs_prints_what_the_docs_say() {
    let mut failures = Vec::new();
    let mut count = 0;
    for doc in docs() {
        count += examples(&std::fs::read_to_string(workspace_root().join(&doc)).unwrap()).len();
        failures.extend(run_doc(&doc));
    }
    assert!(count >= 10, "only {count} console examples in the docs");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_matcher_rejects_what_differs() {
    let expected = |s: &[&str]| s.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
    assert!(lines_match(
        &expected(&["a [..] c", "..."]),
        &["a b c", "d", "e"]
    ));
    assert!(lines_match(&expected(&["...", "e"]), &["a", "e"]));
    assert!(!lines_match(&expected(&["a [..] c"]), &["a b d"]));
    assert!(!lines_match(&expected(&["a"]), &["a", "b"]));
    assert!(!lines_match(&expected(&["a", "b"]), &["a"]));
    assert!(line_matches("[..]s", "1.20s"));
    assert!(!line_matches("x[..]x", "x"));
    let parsed = examples("```console\n$ edgefleet x\n? 2\nout\n```\n```sh\n$ not run\n```\n");
    assert_eq!(parsed.len(), 1);
    assert_eq!((parsed[0].line, parsed[0].status), (2, 2));
    assert_eq!(parsed[0].expected, ["out"]);
}
