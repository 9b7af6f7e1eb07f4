//! Which folders of a planned tree an overlay's render reads, so `diff` renders only the
//! overlays a change can reach.
//!
//! An overlay's output depends on the files of its own folder and of every folder its
//! kustomization names, transitively. Rather than know every kustomization field that names a
//! path (resources, components, patches, generator files and env files, replacements, openapi,
//! configurations, …), every string in a kustomization is tried as a path relative to its
//! folder (and, for `key=path` generator entries, the part after `=`): a string that names a file
//! of the tree adds that file's folder; one that names a folder adds that folder's own
//! dependencies. A string that happens to name a file without being a path only adds a folder
//! to re-render: the set errs on the side of rendering more, never less.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use edgefleet_overlays::tree::OutputTree;
use serde_json::Value;

/// The names kustomize reads a kustomization from, in its order.
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Folders (relative, `/`-separated; `""` is the root) an overlay's render reads.
pub type Folders = Arc<BTreeSet<String>>;

/// The dependencies of folders of one planned tree, each computed once (bases and components
/// are shared by thousands of overlays).
pub struct Dependencies<'t> {
    tree: &'t OutputTree,
    memo: Mutex<HashMap<String, Folders>>,
    /// Every name (path segment) of the tree: a string whose last segment is not one of them
    /// names nothing of the tree and is not looked up.
    names: HashSet<&'t str>,
}

impl<'t> Dependencies<'t> {
    pub fn new(tree: &'t OutputTree) -> Self {
        Dependencies {
            tree,
            memo: Mutex::new(HashMap::new()),
            names: tree.paths().flat_map(|p| p.split('/')).collect(),
        }
    }

    /// The folders a render of `dir` reads (`dir` included).
    pub fn of(&self, dir: &str) -> Folders {
        let mut visiting = BTreeSet::new();
        self.of_inner(dir, &mut visiting)
    }

    fn of_inner(&self, dir: &str, visiting: &mut BTreeSet<String>) -> Folders {
        if let Some(found) = self.lock().get(dir) {
            return found.clone();
        }
        let mut folders = BTreeSet::new();
        folders.insert(dir.to_owned());
        if !visiting.insert(dir.to_owned()) {
            // A cycle: the renderer reports it; the folder itself is enough here.
            return Arc::new(folders);
        }
        let text = KUSTOMIZATION_FILES
            .iter()
            .find_map(|name| self.tree.get(&join(dir, name)));
        if let Some(text) = text {
            for candidate in strings(text) {
                let last = candidate
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("");
                if !matches!(last, "" | "." | "..") && !self.names.contains(last) {
                    continue;
                }
                let Some(path) = normalise(dir, &candidate) else {
                    continue;
                };
                if self.tree.get(&path).is_some() {
                    folders.insert(parent(&path).to_owned());
                } else if self.is_dir(&path) {
                    folders.extend(self.of_inner(&path, visiting).iter().cloned());
                }
            }
        }
        visiting.remove(dir);
        let folders = Arc::new(folders);
        self.lock().insert(dir.to_owned(), folders.clone());
        folders
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        self.tree
            .paths_from(&prefix)
            .next()
            .is_some_and(|p| p.starts_with(&prefix))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Folders>> {
        // A poisoned memo only holds finished entries; keep using it.
        self.memo.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Every string of a kustomization that could be a path: scalars (keys excluded) and the part
/// after `=` of `key=path` entries. Text that does not parse gives every whitespace-separated
/// word instead (the render will fail on it anyway; this keeps the set conservative).
///
/// Block scalars (`patch: |` and its indented lines: inline patches, most of a site's
/// kustomization) are cut out before parsing and each of their lines taken as a candidate
/// instead, so the parser reads only the short rest.
fn strings(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let (rest, mut out) = cut_block_scalars(&text);
    if let Some(values) = simple_scalars(&rest) {
        out.extend(values);
        return finish(out);
    }
    // The fast reader first (the planner writes plain YAML), the reference parser for the rest.
    let parsed = kube_basics::fastyaml::parse_stream(&rest)
        .or_else(|| serde_saphyr::from_str::<Value>(&rest).ok().map(|v| vec![v]));
    match parsed {
        Some(values) => values.iter().for_each(|v| collect(v, &mut out)),
        None => out.extend(
            text.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '"' | '\''))
                .map(str::to_owned),
        ),
    }
    finish(out)
}

/// Adds the `path` of `key=path` entries, drops empty strings and URLs.
fn finish(mut out: Vec<String>) -> Vec<String> {
    let with_values: Vec<String> = out
        .iter()
        .filter_map(|s| s.split_once('=').map(|(_, v)| v.to_owned()))
        .collect();
    out.extend(with_values);
    out.retain(|s| !s.is_empty() && !s.contains("://"));
    out
}

/// The scalar values of YAML made only of block mappings and sequences with one-line plain
/// values (`key:`, `key: value`, `- value`, `- key: value`, comments, and the `""` left where a
/// block scalar was cut out): each value is the rest of its line. `None` for anything else
/// (quotes, flow collections, anchors, tags, multi-line scalars, several documents), which the
/// parser then reads.
fn simple_scalars(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut entry = false;
        while let Some(r) = t.strip_prefix("- ") {
            t = r.trim_start();
            entry = true;
        }
        if t == "-" {
            continue;
        }
        let value = match t.split_once(": ") {
            Some((key, value)) => {
                if !is_plain(key) {
                    return None;
                }
                value.trim()
            }
            None if t.ends_with(':') => {
                if !is_plain(&t[..t.len() - 1]) {
                    return None;
                }
                continue;
            }
            // A value on its own line is a sequence entry; anything else continues a scalar.
            None if entry => t,
            None => return None,
        };
        if value == "\"\"" {
            continue;
        }
        if !is_plain(value) {
            return None;
        }
        out.push(value.to_owned());
    }
    Some(out)
}

/// A one-line plain scalar that reads as its own text: no indicator YAML gives a meaning to at
/// its start, no comment, no `: ` inside.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with([
            '"', '\'', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', '#', '?', ':', ',', ']',
            '}', '-',
        ])
        && !s.contains(" #")
        && !s.contains(": ")
        && !s.ends_with(':')
        && !s.contains('\t')
        && s != "---"
        && s != "..."
}

/// `text` with the content of every block scalar (`|`, `>`, with their indentation and chomping
/// indicators) replaced by an empty string, and the trimmed lines of those contents. A block
/// scalar's content is every following line that is blank or indented more than the node that
/// holds it (the key of `key: |`, the dash of `- |`).
fn cut_block_scalars(text: &str) -> (String, Vec<String>) {
    let mut rest = String::with_capacity(text.len());
    let mut lines = Vec::new();
    let mut open: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some(parent) = open {
            if body.trim().is_empty() || indent > parent {
                lines.push(body.trim().to_owned());
                continue;
            }
            open = None;
        }
        match block_header(body) {
            Some((parent, value_at)) => {
                open = Some(parent);
                rest.push_str(&body[..value_at]);
                rest.push_str("\"\"\n");
            }
            None => rest.push_str(line),
        }
    }
    (rest, lines)
}

/// For a line whose value is a block scalar indicator: the indentation its content must exceed,
/// and where the indicator starts.
fn block_header(line: &str) -> Option<(usize, usize)> {
    // The line without a trailing comment.
    let code = line.find(" #").map_or(line, |i| &line[..i]).trim_end();
    let indicator_at = code.rfind(' ')? + 1;
    let mut chars = code[indicator_at..].chars();
    if !matches!(chars.next(), Some('|' | '>'))
        || !chars.all(|c| c.is_ascii_digit() || c == '+' || c == '-')
    {
        return None;
    }
    let head = &code[..indicator_at];
    let mut col = head.len() - head.trim_start_matches(' ').len();
    let mut last_dash = None;
    let mut rest = &head[col..];
    // `- `, `- - `: sequence entries, each dash at its column.
    while let Some(r) = rest.strip_prefix("- ") {
        last_dash = Some(col);
        let spaces = r.len() - r.trim_start_matches(' ').len();
        col += 2 + spaces;
        rest = &r[spaces..];
    }
    let rest = rest.trim_end();
    if rest.is_empty() {
        // `- |`: more indented than the dash.
        return last_dash.map(|d| (d, indicator_at));
    }
    // `key: |`: more indented than the key.
    rest.ends_with(':').then_some((col, indicator_at))
}

fn collect(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect(v, out)),
        _ => {}
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// `rel` from the folder `dir`, with `.` and `..` resolved; `None` when it leaves the tree or is
/// absolute (nothing of the planned tree is there).
fn normalise(dir: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|s| !s.is_empty()).collect();
    for segment in rel.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> OutputTree {
        let mut t = OutputTree::new();
        for (p, text) in files {
            t.insert(*p, text.as_bytes().to_vec());
        }
        t
    }

    #[test]
    fn an_overlay_reads_its_folder_its_bases_and_the_files_it_names() {
        let t = tree(&[
            ("bases/app/kustomization.yaml", "resources: [deploy.yaml]\n"),
            ("bases/app/deploy.yaml", "kind: Deployment\n"),
            ("components/hw/kustomization.yaml", "kind: Component\n"),
            ("shared/patches/limits.yaml", "x: 1\n"),
            ("shared/env/site.env", "A=1\n"),
            ("unrelated/kustomization.yaml", "resources: []\n"),
            (
                "sites/eu/s1/app/kustomization.yaml",
                "resources:\n- ../../../../bases/app\ncomponents:\n- ../../../../components/hw\n\
                 patches:\n- path: ../../../../shared/patches/limits.yaml\n\
                 configMapGenerator:\n- name: c\n  envs: [../../../../shared/env/site.env]\n  files:\n  - key=../../../../shared/env/site.env\n",
            ),
        ]);
        let deps = Dependencies::new(&t);
        let got: Vec<String> = deps.of("sites/eu/s1/app").iter().cloned().collect();
        assert_eq!(
            got,
            [
                "bases/app",
                "components/hw",
                "shared/env",
                "shared/patches",
                "sites/eu/s1/app"
            ]
        );
    }

    #[test]
    fn block_scalars_are_cut_out_and_their_lines_kept_as_candidates() {
        let text = "resources:\n- ../base\npatches:\n- patch: |\n    kind: Deployment\n    metadata: {name: x}\n\n  target:\n    kind: Deployment\n- path: p.yaml\nx: |-  # note\n  ../from-block\ny: >2\n   folded\nz: plain |\n";
        let (rest, lines) = cut_block_scalars(text);
        assert_eq!(
            rest,
            "resources:\n- ../base\npatches:\n- patch: \"\"\n  target:\n    kind: Deployment\n- path: p.yaml\nx: \"\"\ny: \"\"\nz: plain |\n"
        );
        assert_eq!(
            lines,
            [
                "kind: Deployment",
                "metadata: {name: x}",
                "",
                "../from-block",
                "folded"
            ]
        );
        let found = strings(text.as_bytes());
        for s in [
            "../base",
            "p.yaml",
            "../from-block",
            "Deployment",
            "plain |",
        ] {
            assert!(found.iter().any(|f| f == s), "{s} in {found:?}");
        }
    }

    #[test]
    fn plain_block_yaml_is_read_without_the_parser_and_anything_else_is_left_to_it() {
        let simple = "apiVersion: v1\nresources:\n- ../../base\n- - nested\n# a comment\nlabels:\n- pairs:\n    a: b\n  includeSelectors: false\npatches:\n- patch: \"\"\n";
        assert_eq!(
            simple_scalars(simple).unwrap(),
            ["v1", "../../base", "nested", "b", "false"]
        );
        for text in [
            "resources: [../base]\n",
            "resources:\n- \"../base\"\n",
            "resources:\n- ../base\n  continued\n",
            "a: &x ../base\n",
            "a: ../base # note\n",
            "---\na: b\n",
            "? complex\n",
        ] {
            assert_eq!(simple_scalars(text), None, "{text}");
        }
        // The parser reads what the simple reader leaves, with the same strings.
        for text in [
            "resources: [../base, \"../b c\"]\n",
            "resources:\n- ../base\n  continued\n",
        ] {
            let found = strings(text.as_bytes());
            assert!(
                found
                    .iter()
                    .any(|f| f == "../base" || f == "../base continued"),
                "{found:?}"
            );
        }
    }

    #[test]
    fn a_cycle_or_a_path_out_of_the_tree_ends_the_walk() {
        let t = tree(&[
            (
                "a/kustomization.yaml",
                "resources: [../b, ../../../etc/passwd, /abs]\n",
            ),
            ("b/kustomization.yaml", "resources: [../a]\n"),
        ]);
        let deps = Dependencies::new(&t);
        let got: Vec<String> = deps.of("a").iter().cloned().collect();
        assert_eq!(got, ["a", "b"]);
    }
}
