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
            for candidate in recent_strings(text).iter() {
                let last = candidate
                    .trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .unwrap_or("");
                if !matches!(last, "" | "." | "..") && !self.names.contains(last) {
                    continue;
                }
                let Some(path) = normalise(dir, candidate) else {
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

/// [`strings`] of the texts read last on this thread, kept by content: `diff` asks both revisions
/// for the dependencies of each overlay, one right after the other, and a site's kustomization
/// is most often the same text in both.
fn recent_strings(bytes: &[u8]) -> Arc<Vec<String>> {
    use std::cell::RefCell;
    const KEEP: usize = 16;
    type Recent = Vec<(Box<[u8]>, Arc<Vec<String>>)>;
    thread_local! {
        static RECENT: RefCell<Recent> = const { RefCell::new(Vec::new()) };
    }
    RECENT.with(|recent| {
        let mut recent = recent.borrow_mut();
        if let Some(i) = recent.iter().position(|(text, _)| **text == *bytes) {
            let hit = recent.remove(i);
            let found = hit.1.clone();
            recent.push(hit);
            return found;
        }
        let found = Arc::new(strings(bytes));
        if recent.len() == KEEP {
            recent.remove(0);
        }
        recent.push((bytes.into(), found.clone()));
        found
    })
}

/// Every string of a kustomization that could be a path: scalars (keys excluded) and the part
/// after `=` of `key=path` entries. Text that does not parse gives every whitespace-separated
/// word instead (the render will fail on it anyway; this keeps the set conservative).
///
/// Literal block scalars (`patch: |` and its indented lines: inline patches, most of a site's
/// kustomization) are cut out and each of their lines taken as a candidate instead, and the
/// short rest is read by [`simple_scalars`] without the parser. Only when that reader is sure of
/// the rest is the cut trusted; anything else (quotes, flow collections, folded scalars, odd
/// indentation) is read whole by the parser, with the options kustomizations are read with.
pub(crate) fn strings(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let (rest, mut out) = cut_block_scalars(&text);
    // The cut and the plain reader see `\n` line breaks only.
    if !has_other_line_breaks(&text)
        && let Some(values) = simple_scalars(&rest)
    {
        out.extend(values);
        return finish(out);
    }
    out.clear();
    // The fast reader first (most hand-written kustomizations), the reference parser for the
    // rest: both read `on`, `yes` and `017` as the renderer does.
    let parsed = kube_basics::fastyaml::parse_stream(&text).or_else(|| {
        serde_saphyr::from_str_with_options::<Value>(&text, kustomize::parse_options())
            .ok()
            .map(|v| vec![v])
    });
    match parsed {
        Some(values) => values.iter().for_each(|v| collect(v, &mut out)),
        None => out.extend(
            text.split(|c: char| c.is_whitespace() || matches!(c, '[' | ']' | ',' | '"' | '\''))
                .map(str::to_owned),
        ),
    }
    finish(out)
}

/// Whether `text` breaks lines other than with `\n` and `\r\n`: a lone `\r` (a line break to
/// YAML), or a character some YAML readers take for one.
fn has_other_line_breaks(text: &str) -> bool {
    text.match_indices('\r')
        .any(|(i, _)| !text[i + 1..].starts_with('\n'))
        || text.contains(['\u{85}', '\u{2028}', '\u{2029}'])
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

/// The scalar values of YAML made only of block mappings and sequences with one-line values
/// (`key:`, `key: value`, `- value`, `- key: value`, comments; plain, or quoted without escapes),
/// in order: each value is the rest of its line (empty strings left out). `None` for anything
/// else (escapes, flow collections, anchors, tags, multi-line scalars, several documents, tabs,
/// keys that are not plain words or repeat, indentation YAML would read otherwise or refuse),
/// which the parser then reads.
///
/// Indentation is followed as YAML does: a line more indented than the node holding the scalar
/// above it continues that scalar (`- a` then ` - b` is the one string `a - b`), so it is `None`.
pub(crate) fn simple_scalars(text: &str) -> Option<Vec<String>> {
    /// An open block collection: a sequence (its dashes' column) or a mapping (its keys'
    /// column and the keys seen).
    enum Node {
        Seq(usize),
        Map(usize, HashSet<String>),
    }
    impl Node {
        fn col(&self) -> usize {
            match self {
                Node::Seq(c) | Node::Map(c, _) => *c,
            }
        }
    }
    /// Far below the parser's depth limit.
    const MAX_DEPTH: usize = 48;
    let mut out = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    // A `key:` or `-` without a value on its line: its column, and whether it is a key.
    let mut pending: Option<(usize, bool)> = None;
    // The column of the node holding the last scalar: a line indented more would continue it.
    let mut scalar_at: Option<usize> = None;
    let mut rooted = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if !line.chars().all(is_simple_char) {
            return None;
        }
        let t = line.trim_start_matches(' ');
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let indent = line.len() - t.len();
        let t = t.trim_end_matches(' ');
        let dash = t == "-" || t.starts_with("- ");
        if scalar_at.take().is_some_and(|at| indent > at) {
            return None;
        }
        match pending.take() {
            Some((at, _)) if indent > at => stack.push(if dash {
                Node::Seq(indent)
            } else {
                Node::Map(indent, HashSet::new())
            }),
            // `key:` then `- entry` at the key's column: a sequence as the key's value.
            Some((at, true)) if indent == at && dash => stack.push(Node::Seq(indent)),
            _ => {
                while stack.last().is_some_and(|n| n.col() > indent) {
                    stack.pop();
                }
                // A key at a sequence's column closes it (`key:` then `- a` then `other:`).
                if !dash
                    && matches!(stack.last(), Some(Node::Seq(c)) if *c == indent)
                    && matches!(stack.iter().rev().nth(1), Some(Node::Map(c, _)) if *c == indent)
                {
                    stack.pop();
                }
                match stack.last() {
                    // The first node: the document's root.
                    None if !rooted => stack.push(if dash {
                        Node::Seq(indent)
                    } else {
                        Node::Map(indent, HashSet::new())
                    }),
                    Some(Node::Seq(c)) if *c == indent && dash => {}
                    Some(Node::Map(c, _)) if *c == indent && !dash => {}
                    _ => return None,
                }
            }
        }
        rooted = true;
        // The line from its first node: dashes, then a key or a value.
        let mut col = indent;
        let mut rest = t;
        loop {
            if rest == "-" {
                pending = Some((col, false));
                break;
            }
            if let Some(r) = rest.strip_prefix("- ") {
                let spaces = r.len() - r.trim_start_matches(' ').len();
                let dash_col = col;
                col += 2 + spaces;
                rest = &r[spaces..];
                if rest == "-" || rest.starts_with("- ") {
                    stack.push(Node::Seq(col));
                    continue;
                }
                if key_of(rest).is_some() {
                    stack.push(Node::Map(col, HashSet::new()));
                    continue;
                }
                // `- value`
                let value = one_line_scalar(rest)?;
                if !value.is_empty() {
                    out.push(value.to_owned());
                }
                scalar_at = Some(dash_col);
                break;
            }
            // `key:` or `key: value`, in the mapping on top of the stack.
            let (key, value) = key_of(rest)?;
            let Some(Node::Map(_, keys)) = stack.last_mut() else {
                return None;
            };
            if !is_plain_key(key) || !keys.insert(key.to_owned()) {
                return None;
            }
            match value {
                None => pending = Some((col, true)),
                Some(value) => {
                    let value = one_line_scalar(value)?;
                    if !value.is_empty() {
                        out.push(value.to_owned());
                    }
                    scalar_at = Some(col);
                }
            }
            break;
        }
        if stack.len() > MAX_DEPTH {
            return None;
        }
    }
    Some(out)
}

/// The string a one-line scalar holds: a plain scalar's text, or what a quoted one holds when it
/// has no escape and no quote inside (`"Troll field, block 31/2"`, `''`, and the `""` left where a
/// block scalar was cut out). `None` for anything else.
fn one_line_scalar(value: &str) -> Option<&str> {
    if let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        return (!inner.contains(['"', '\\'])).then_some(inner);
    }
    if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
        return (!inner.contains('\'')).then_some(inner);
    }
    is_plain(value).then_some(value)
}

/// A line's `key: value` or `key:` (the key before the first `: `, or the whole line but its
/// final `:`), `None` when the line is no key.
fn key_of(t: &str) -> Option<(&str, Option<&str>)> {
    match t.split_once(": ") {
        Some((key, value)) => Some((key.trim_end_matches(' '), Some(value.trim_matches(' ')))),
        None => t
            .strip_suffix(':')
            .map(|key| (key.trim_end_matches(' '), None)),
    }
}

/// A character plain YAML holds as itself: printable, no tab, no byte order mark, no line break
/// or character some YAML readers take for one.
fn is_simple_char(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')
}

/// A key the simple reader trusts: a plain word that reads as a string (it starts with a letter
/// or `_`, and is no boolean or null), short enough to be an implicit key.
fn is_plain_key(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.len() <= 512
        && !matches!(
            key,
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "null" | "Null" | "NULL"
        )
        && is_plain(key)
}

/// A one-line plain scalar that reads as its own text: no indicator YAML gives a meaning to at
/// its start, no comment, no `: ` inside, and no number the parser could refuse (`.inf`, a float
/// too large, a leading-zero octal with an 8 in it): numbers other than short decimals are left
/// to the parser.
fn is_plain(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with([
            '"', '\'', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', '#', '?', ':', ',', ']',
            '}', '-', '+',
        ])
        && !s.contains(" #")
        && !s.contains(": ")
        && !s.ends_with(':')
        && !s.contains('\t')
        && s != "---"
        && s != "..."
        && !may_be_a_number(s)
}

/// Text that may read as a number other than a short decimal integer: it starts with a digit,
/// or with `.` and a digit or a letter (`.5`, `.inf`, `.NaN`); `../base` and `./x` do not.
fn may_be_a_number(s: &str) -> bool {
    let b = s.as_bytes();
    match b[0] {
        b'0'..=b'9' => {
            !(b.iter().all(u8::is_ascii_digit) && b.len() <= 18 && (b[0] != b'0' || b.len() == 1))
        }
        b'.' => b.get(1).is_some_and(u8::is_ascii_alphanumeric),
        _ => false,
    }
}

/// `text` with the content of every literal block scalar (`|`, `|-`, `|+`) replaced by an empty
/// string, and the lines of those contents (their indentation removed, as the scalar holds
/// them). A block scalar's content is every following line that is blank or indented more than
/// the node that holds it (the key of `key: |`, the dash of `- |`).
///
/// Folded scalars (`>`) and explicit indentation indicators (`|2`) are left in place: their value
/// is not their lines (`>` joins them), so the parser reads them. The cut is only trusted when
/// the rest is plain block YAML (see [`strings`]): then each `key: |` it cut is a block scalar.
pub(crate) fn cut_block_scalars(text: &str) -> (String, Vec<String>) {
    let mut rest = String::with_capacity(text.len());
    let mut lines = Vec::new();
    // The open block scalar: the column its content must exceed, and its content's indentation
    // once its first non-blank line is seen.
    let mut open: Option<(usize, Option<usize>)> = None;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        if let Some((parent, content)) = &mut open {
            if body.trim_start_matches(' ').is_empty() {
                continue;
            }
            if indent > *parent {
                let at = *content.get_or_insert(indent);
                lines.push(body[indent.min(at)..].to_owned());
                continue;
            }
            open = None;
        }
        match block_header(body) {
            Some((parent, value_at)) => {
                open = Some((parent, None));
                rest.push_str(&body[..value_at]);
                rest.push_str("\"\"\n");
            }
            None => rest.push_str(line),
        }
    }
    (rest, lines)
}

/// For a line whose value is a literal block scalar indicator (`|`, `|-`, `|+`): the
/// indentation its content must exceed, and where the indicator starts.
fn block_header(line: &str) -> Option<(usize, usize)> {
    if line.trim_start_matches(' ').starts_with('#') {
        return None;
    }
    // The line without a trailing comment.
    let code = line.find(" #").map_or(line, |i| &line[..i]).trim_end();
    let indicator_at = code.rfind(' ')? + 1;
    if !matches!(&code[indicator_at..], "|" | "|-" | "|+") {
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
        let text = "resources:\n- ../base\npatches:\n- patch: |\n    kind: Deployment\n    metadata: {name: x}\n\n      nested: ../more  \n  target:\n    kind: Deployment\n- path: p.yaml\nx: |-  # note\n  ../from-block\n";
        let (rest, lines) = cut_block_scalars(text);
        assert_eq!(
            rest,
            "resources:\n- ../base\npatches:\n- patch: \"\"\n  target:\n    kind: Deployment\n- path: p.yaml\nx: \"\"\n"
        );
        // Each line as the scalar holds it: its content's indentation removed, nothing else.
        assert_eq!(
            lines,
            [
                "kind: Deployment",
                "metadata: {name: x}",
                "  nested: ../more  ",
                "../from-block"
            ]
        );
        let found = strings(text.as_bytes());
        for s in ["../base", "p.yaml", "../from-block", "Deployment"] {
            assert!(found.iter().any(|f| f == s), "{s} in {found:?}");
        }
    }

    /// Found by the `diff_paths` fuzz target's seeds (fuzz/corpus/diff_paths/seed-folded.yaml,
    /// seed-literal.yaml): a folded scalar's value is its lines joined, and an indentation
    /// indicator keeps spaces the lines lose when trimmed; both were missed.
    #[test]
    fn folded_and_indented_block_scalars_are_read_by_the_parser() {
        let text = "patches:\n- path: >-\n    ../long\n    name.yaml\n- path: |2-\n     ../spaced\nz: plain |\n";
        let (rest, lines) = cut_block_scalars(text);
        assert_eq!(rest, text);
        assert!(lines.is_empty());
        let found = strings(text.as_bytes());
        for s in ["../long name.yaml", " ../spaced", "plain |"] {
            assert!(found.iter().any(|f| f == s), "{s:?} in {found:?}");
        }
    }

    /// A `key: |` in a comment cut the next lines out of the mapping they belong to.
    #[test]
    fn a_comment_is_no_block_scalar() {
        let text = "resources:\n# base: |\n  - ../base\n";
        assert_eq!(cut_block_scalars(text), (text.to_owned(), Vec::new()));
        assert!(strings(text.as_bytes()).contains(&"../base".to_owned()));
    }

    /// Found by the `diff_paths` fuzz target (regression `lone-cr-ends-a-block-scalar`): a lone
    /// `\r` in a block scalar's line ends the line to YAML, and what follows it at column 0 is a
    /// key of the kustomization; the cut, which splits lines at `\n`, kept it in the scalar and
    /// missed its value.
    #[test]
    fn a_lone_cr_breaks_a_line() {
        let text = "patches:\n- patch: |\n    kind: X\r\rresources:\n- ../base\n";
        let found = strings(text.as_bytes());
        assert!(found.contains(&"../base".to_owned()), "{found:?}");
        let text = "patches:\n- patch: |\n    kind: X\rresources: ../base\r\n";
        let found = strings(text.as_bytes());
        assert!(found.contains(&"../base".to_owned()), "{found:?}");
    }

    /// The parser behind the simple reader reads kustomizations as the renderer does: `on`,
    /// `yes`, `no` are strings there (YAML 1.2), paths `diff` must try.
    #[test]
    fn yaml_1_1_booleans_are_strings() {
        let text = "resources:\n- &a on\n- yes\n- *a\n";
        let found = strings(text.as_bytes());
        for s in ["on", "yes"] {
            assert!(found.iter().any(|f| f == s), "{s:?} in {found:?}");
        }
    }

    #[test]
    fn plain_block_yaml_is_read_without_the_parser_and_anything_else_is_left_to_it() {
        let simple = "apiVersion: v1\nresources:\n- ../../base\n- - nested\n# a comment\nlabels:\n- pairs:\n    a: b\n  includeSelectors: false\npatches:\n- patch: \"\"\nreplicas:\n- name: x\n  count: 3\ncompact:\n- a\n- b:\n  - c\nlast: ./x\nquoted: \"a: b # c\"\nsingle: '\"x\"'\n";
        assert_eq!(
            simple_scalars(simple).unwrap(),
            [
                "v1",
                "../../base",
                "nested",
                "b",
                "false",
                "x",
                "3",
                "a",
                "c",
                "./x",
                "a: b # c",
                "\"x\""
            ]
        );
        for text in [
            "resources: [../base]\n",
            "resources:\n- \"../b\\\"ase\"\n",
            "resources:\n- '../it''s'\n",
            "resources:\n- \"../base\" # note\n",
            "resources:\n- ../base\n  continued\n",
            "a: &x ../base\n",
            "a: ../base # note\n",
            "---\na: b\n",
            "? complex\n",
            // A line more indented than the scalar above continues it: one string `../a - ../b`.
            "resources:\n- ../a\n - ../b\n",
            "a: b\n  c: d\n",
            // Structures YAML refuses, or reads otherwise.
            "- a\nb: c\n",
            "a: b\nc:\n  d: e\n f: g\n",
            "a: x\na: y\n",
            "- x\r- y\n",
            "true: x\n",
            "a: .inf\n",
            "a: 1e999\n",
            "a: 019\n",
            "a:\tb\n",
            "\u{feff}a: b\n",
        ] {
            assert_eq!(simple_scalars(text), None, "{text:?}");
        }
        // The parser reads what the simple reader leaves, with the same strings.
        for (text, want) in [
            ("resources: [../base, \"../b c\"]\n", "../b c"),
            ("resources:\n- ../base\n  continued\n", "../base continued"),
            ("resources:\n- ../a\n - ../b\n", "../a - ../b"),
            ("- x\r- y\n", "y"),
        ] {
            let found = strings(text.as_bytes());
            assert!(found.iter().any(|f| f == want), "{want:?} in {found:?}");
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
