//! A small YAML emitter for generated files.
//!
//! Every string that could be read back as something else (a number, a boolean, a document
//! marker, a comment, a flow collection) is quoted, so inventory values can never change the
//! structure of a generated file. Multi-line strings become literal blocks, which keeps config
//! files inside ConfigMaps and inline patches readable in review.
//! Layout follows `kubectl kustomize` output: two-space indent, sequences not indented under
//! their key, mapping keys in the order given.

use serde_json::Value;

/// One YAML document (no `---` marker), ending with a newline.
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    match value {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        scalar => {
            write_scalar(&mut out, scalar, 0);
            out.push('\n');
        }
    }
    out
}

/// Several documents separated by `---`.
pub fn to_yaml_stream(values: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&to_yaml(v));
    }
    out
}

/// Writes a mapping entry by entry, as [`to_yaml`] writes the same entries of a map
/// (`to_yaml(&Value::Object(m))` for the entries given, in order), for files whose layout is
/// known (a site overlay's kustomization): no map is built for them.
pub struct MapWriter {
    out: String,
    entries: usize,
}

impl Default for MapWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl MapWriter {
    /// A document that is a mapping (at level 0).
    pub fn new() -> Self {
        MapWriter {
            // A site overlay's kustomization with its patches written in is 2-3 KiB.
            out: String::with_capacity(4096),
            entries: 0,
        }
    }

    fn key(&mut self, key: &str) -> bool {
        if self.entries > 0 {
            indent(&mut self.out, 0);
        }
        self.entries += 1;
        write_key(&mut self.out, key, 0)
    }

    /// An entry whose value is a string.
    pub fn string(&mut self, key: &str, value: &str) {
        self.key(key);
        self.out.push(' ');
        write_string(&mut self.out, value, 2, false);
        self.out.push('\n');
    }

    /// An entry with any value.
    pub fn value(&mut self, key: &str, value: &Value) {
        let explicit = self.key(key);
        write_entry_value(&mut self.out, value, 0, explicit);
    }

    /// An entry whose value is a sequence of strings.
    pub fn strings<'a>(&mut self, key: &str, items: impl IntoIterator<Item = &'a str>) {
        self.items(key, items, |out, item, level| {
            write_string(out, item, level + 2, false);
        });
    }

    /// An entry whose value is a sequence of one-entry mappings `inner: item`.
    pub fn keyed_strings<'a>(
        &mut self,
        key: &str,
        inner: &str,
        items: impl IntoIterator<Item = &'a str>,
    ) {
        self.items(key, items, |out, item, level| {
            write_key(out, inner, level + 2);
            out.push(' ');
            write_string(out, item, level + 4, false);
        });
    }

    /// An entry whose value is a sequence; `item` writes an item of a sequence at a level
    /// after its `- ` (without the line break that ends it).
    fn items<'a>(
        &mut self,
        key: &str,
        items: impl IntoIterator<Item = &'a str>,
        item: impl Fn(&mut String, &'a str, usize),
    ) {
        let explicit = self.key(key);
        let level = seq_level(0, explicit);
        let mut count = 0;
        for it in items {
            if count == 0 {
                self.out.push('\n');
            }
            indent(&mut self.out, level);
            self.out.push_str("- ");
            item(&mut self.out, it, level);
            self.out.push('\n');
            count += 1;
        }
        if count == 0 {
            self.out.push_str(" []\n");
        }
    }

    /// The document's text.
    pub fn finish(self) -> String {
        if self.entries == 0 {
            return to_yaml(&Value::Object(serde_json::Map::new()));
        }
        self.out
    }
}

/// The documents of `text` as [`to_yaml`] writes them, read and written in one pass without
/// building values: `None` unless the first tier of the fast reader takes the whole text
/// ([`kube_basics::fastyaml::stream_block`]); then each document is what
/// `to_yaml(&doc)` gives for the document [`kube_basics::fastyaml::parse_stream`] reads.
/// With each document comes a part of it: its `apiVersion`, `kind` and `metadata.name` when
/// it is a mapping (a collection there stands as an empty sequence), else `null`.
pub fn block_stream_to_yaml(text: &str) -> Option<Vec<(String, Value)>> {
    let mut sink = Emitter::default();
    kube_basics::fastyaml::stream_block(text, &mut sink)?;
    (!sink.broken).then_some(sink.docs)
}

/// An open collection of [`Emitter`]: its level and how many entries or items it has so far.
enum Open {
    Map {
        level: usize,
        entries: usize,
        /// Whether the last key was written explicitly.
        explicit: bool,
    },
    Seq {
        level: usize,
        items: usize,
    },
}

/// Writes what the block reader reports as [`to_yaml`] writes the values it would build: the
/// same layout decisions as `write_map` and `write_seq`, taken as each event comes.
#[derive(Default)]
struct Emitter {
    docs: Vec<(String, Value)>,
    out: String,
    open: Vec<Open>,
    /// The document's `apiVersion`, `kind` and `metadata.name` (see [`block_stream_to_yaml`]).
    head: serde_json::Map<String, Value>,
    root_is_map: bool,
    /// The key of the entry being read, when it is one `head` keeps (in the root mapping, or
    /// `name` in the root's `metadata` mapping).
    kept: Option<&'static str>,
    in_metadata: bool,
    /// An event came where the reader never sends one (a bug of the reader): the answer is
    /// `None` and the caller reads the text the usual way.
    broken: bool,
}

impl Emitter {
    /// Opens a collection or writes an item's `- `: the level of what comes, `None` at the
    /// root of a document.
    fn item_prefix(&mut self) -> Option<usize> {
        match self.open.last_mut() {
            Some(Open::Seq { level, items }) => {
                if *items > 0 {
                    indent(&mut self.out, *level);
                }
                self.out.push_str("- ");
                *items += 1;
                Some(*level)
            }
            _ => None,
        }
    }

    /// What `head` records for a value of the kept key.
    fn keep(&mut self, value: Value) {
        let Some(key) = self.kept.take() else { return };
        if self.in_metadata {
            if let Some(Value::Object(m)) = self.head.get_mut("metadata") {
                m.insert(key.to_owned(), value);
            }
        } else {
            self.head.insert(key.to_owned(), value);
        }
    }

    /// A block collection opens: `map` for a mapping.
    fn begin(&mut self, map: bool) {
        let level = match self.open.last() {
            None => {
                self.root_is_map = map;
                0
            }
            Some(Open::Map {
                level, explicit, ..
            }) => {
                let (level, explicit) = (*level, *explicit);
                self.out.push('\n');
                let level = if map {
                    level + 2
                } else {
                    seq_level(level, explicit)
                };
                indent(&mut self.out, level);
                level
            }
            Some(Open::Seq { .. }) => match self.item_prefix() {
                Some(level) => level + 2,
                None => {
                    self.broken = true;
                    0
                }
            },
        };
        if self.kept.is_some() {
            let starts_metadata = map && self.open.len() == 1 && self.kept == Some("metadata");
            if starts_metadata {
                self.keep(Value::Object(serde_json::Map::new()));
                self.in_metadata = true;
            } else {
                self.keep(Value::Array(Vec::new()));
            }
        }
        self.open.push(if map {
            Open::Map {
                level,
                entries: 0,
                explicit: false,
            }
        } else {
            Open::Seq { level, items: 0 }
        });
    }
}

impl kube_basics::fastyaml::BlockSink for Emitter {
    fn start_document(&mut self) {
        // A site patch is about a kibibyte: room for it from the start, not three regrowths.
        self.out = String::with_capacity(1024);
        self.open.clear();
        self.head = serde_json::Map::new();
        self.root_is_map = false;
        self.kept = None;
        self.in_metadata = false;
    }

    fn key(&mut self, key: &str) {
        let depth = self.open.len();
        let Some(Open::Map {
            level,
            entries,
            explicit,
        }) = self.open.last_mut()
        else {
            self.broken = true;
            return;
        };
        if *entries > 0 {
            indent(&mut self.out, *level);
        }
        *entries += 1;
        *explicit = write_key(&mut self.out, key, *level);
        self.kept = match (depth, self.in_metadata, key) {
            (1, _, "apiVersion") => Some("apiVersion"),
            (1, _, "kind") => Some("kind"),
            (1, _, "metadata") => Some("metadata"),
            (2, true, "name") => Some("name"),
            _ => None,
        };
    }

    fn begin_map(&mut self) {
        self.begin(true);
    }

    fn begin_seq(&mut self) {
        self.begin(false);
    }

    fn value(&mut self, value: Value) {
        match self.open.last() {
            Some(Open::Map {
                level, explicit, ..
            }) => write_entry_value(&mut self.out, &value, *level, *explicit),
            Some(Open::Seq { .. }) => match self.item_prefix() {
                Some(level) => write_item_value(&mut self.out, &value, level),
                None => self.broken = true,
            },
            None => self.broken = true,
        }
        if self.kept.is_some() {
            self.keep(value);
        }
    }

    fn end(&mut self) {
        self.open.pop();
        if self.open.len() == 1 {
            self.in_metadata = false;
        }
    }

    fn end_document(&mut self) {
        if !self.open.is_empty() {
            self.broken = true;
        }
        let head = if self.root_is_map {
            Value::Object(std::mem::take(&mut self.head))
        } else {
            Value::Null
        };
        self.docs.push((std::mem::take(&mut self.out), head));
    }
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

/// The longest implicit key YAML allows, in characters (quotes included), with a margin.
const MAX_IMPLICIT_KEY: usize = 1000;

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, level: usize) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        let explicit = write_key(out, k, level);
        write_entry_value(out, v, level, explicit);
    }
}

/// A mapping key and its `:`; true when the key is written explicitly (`? key`).
fn write_key(out: &mut String, k: &str, level: usize) -> bool {
    let start = out.len();
    write_string(out, k, level, true);
    // YAML limits implicit keys to 1024 characters: a longer key is written explicitly
    // (`? key` then `: value` on the next line).
    // (A key of at most that many bytes has at most that many characters.)
    let explicit =
        out.len() - start > MAX_IMPLICIT_KEY && out[start..].chars().count() > MAX_IMPLICIT_KEY;
    if explicit {
        out.insert_str(start, "? ");
        out.push('\n');
        indent(out, level);
    }
    out.push(':');
    explicit
}

/// The value of a mapping entry at `level`, after its key's `:`.
fn write_entry_value(out: &mut String, v: &Value, level: usize, explicit: bool) {
    match v {
        Value::Object(child) if !child.is_empty() => {
            out.push('\n');
            indent(out, level + 2);
            write_map(out, child, level + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            let level = seq_level(level, explicit);
            indent(out, level);
            write_seq(out, items, level);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, level + 2);
            out.push('\n');
        }
    }
}

/// The level of a sequence that is the value of an entry at `level`: the entry's own (not
/// indented under its key), or deeper under an explicit key.
fn seq_level(level: usize, explicit: bool) -> usize {
    if explicit { level + 2 } else { level }
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        out.push_str("- ");
        write_item_value(out, v, level);
    }
}

/// A sequence item at `level`, after its `- `.
fn write_item_value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(child) if !child.is_empty() => write_map(out, child, level + 2),
        Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, level + 2),
        scalar => {
            write_scalar(out, scalar, level + 2);
            out.push('\n');
        }
    }
}

fn write_scalar(out: &mut String, v: &Value, level: usize) {
    debug_assert!(!is_collection(v));
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            use std::fmt::Write as _;
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, level, false),
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
    }
}

fn write_string(out: &mut String, s: &str, level: usize, is_key: bool) {
    if is_plain_safe(s) {
        out.push_str(s);
    } else if !is_key && can_be_literal(s) {
        write_literal(out, s, level);
    } else {
        write_double_quoted(out, s);
    }
}

/// A double-quoted scalar. Every character YAML does not allow unescaped (C0 and C1 controls,
/// DEL, U+FFFE and U+FFFF) is escaped, and so are the line and paragraph separators and the
/// byte order mark, which some readers treat as breaks or strip. (JSON's escapes are not enough:
/// JSON leaves DEL and C1 controls raw, which a YAML parser refuses.)
fn write_double_quoted(out: &mut String, s: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if needs_escape(c) => {
                // Lower-case hex, as JSON writes it (unchanged output for what JSON escaped).
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Characters written only as escapes in a double-quoted string: the control characters (C0,
/// DEL, C1), the line and paragraph separators, the byte order mark and the noncharacters U+FFFE
/// and U+FFFF (which YAML does not allow raw). Literal blocks and plain scalars hold none of them.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn write_literal(out: &mut String, s: &str, level: usize) {
    out.push('|');
    // A reader takes the block's indentation from its first non-empty line, which may come after
    // empty lines: when that line starts with a space, the indentation must be given.
    if first_content_line(s).starts_with(' ') {
        out.push('2');
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    let body = if trailing == 1 {
        &s[..s.len() - 1]
    } else {
        s.trim_end_matches('\n')
    };
    for line in kube_basics::fastyaml::split_lines(body) {
        if !line.is_empty() {
            indent(out, level);
            out.push_str(line);
        }
        out.push('\n');
    }
    if trailing > 1 {
        for _ in 0..trailing - 1 {
            out.push('\n');
        }
    }
    // The caller adds the newline that ends the entry; a literal block already ended its last
    // line, so remove one to keep the layout uniform.
    out.pop();
}

/// [`can_be_literal`] of ASCII text: a line break, a non-empty text before the trailing line
/// breaks, no control character but line breaks and tabs (no `\r`), no line ending in a space or
/// tab, and no tab starting the first non-empty line. The control characters are looked for in
/// one branch-free pass (the compiler vectorises it), the rest line by line.
fn can_be_literal_ascii(text: &str) -> bool {
    let bytes = text.as_bytes();
    let control = bytes.iter().fold(false, |acc, &b| {
        acc | ((b < 0x20 && b != b'\n' && b != b'\t') | (b == 0x7f))
    });
    if control {
        return false;
    }
    let mut lines = 0;
    let mut first_line_seen = false;
    for line in kube_basics::fastyaml::split_lines(text) {
        let line = line.as_bytes();
        if let Some(&last) = line.last() {
            if last == b' ' || last == b'\t' {
                return false;
            }
            if !first_line_seen {
                if line[0] == b'\t' {
                    return false;
                }
                first_line_seen = true;
            }
        }
        lines += 1;
    }
    // `split` yields one piece more than there are breaks.
    lines > 1 && first_line_seen
}

/// The first line of `s` that is not empty (`""` when there is none).
fn first_content_line(s: &str) -> &str {
    s.split('\n').find(|l| !l.is_empty()).unwrap_or("")
}

/// Multi-line text without characters that need escapes.
fn can_be_literal(s: &str) -> bool {
    if s.is_ascii() {
        return can_be_literal_ascii(s);
    }
    can_be_literal_chars(s)
}

fn can_be_literal_chars(s: &str) -> bool {
    s.contains('\n')
        && !s.trim_end_matches('\n').is_empty()
        && s.chars()
            .all(|c| c == '\n' || c == '\t' || !needs_escape(c))
        && !s.contains('\r')
        && s.split('\n')
            .all(|l| !l.ends_with(' ') && !l.ends_with('\t'))
        && !first_content_line(s).starts_with('\t')
}

/// Bytes a plain scalar never holds here: flow and other indicators, quotes, the escape
/// character, tabs and the control characters.
static NEVER_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[0x7f] = true;
    let special = b"{}[],&*#!|>'\"%@`\\\t";
    let mut i = 0;
    while i < special.len() {
        t[special[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether `s` reads back as exactly this string when written without quotes.
pub fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    if first == b' ' || bytes.ends_with(b" ") || bytes.ends_with(b":") {
        return false;
    }
    let leading_indicator = matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b'.'
            | b'~'
    );
    if leading_indicator && !(first == b'.' && bytes.len() > 1 && !looks_numeric(s)) {
        return false;
    }
    // One pass over the bytes: characters that are never plain here (`#` among them, so ` #`
    // needs no check of its own) and `: `.
    let mut after_colon = false;
    for &b in bytes {
        if NEVER_PLAIN[b as usize] || (after_colon && b == b' ') {
            return false;
        }
        after_colon = b == b':';
    }
    // Non-ASCII characters that need escapes (C1, separators, the mark, noncharacters).
    if !s.is_ascii() && s.chars().any(needs_escape) {
        return false;
    }
    !(looks_numeric(s) || is_reserved_word(s))
}

/// Numbers in any YAML 1.1/1.2 notation, dates, sexagesimal: anything a resolver could turn into
/// a non-string.
fn looks_numeric(s: &str) -> bool {
    let first = s.as_bytes()[0];
    (first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.'))
        && s.bytes().all(|b| {
            b.is_ascii_hexdigit()
                || matches!(
                    b,
                    b'x' | b'X' | b'o' | b'O' | b'.' | b'_' | b':' | b'+' | b'-'
                )
        })
        || (matches!(s.len(), 4 | 5)
            && [".inf", "-.inf", "+.inf", ".nan"]
                .iter()
                .any(|w| s.eq_ignore_ascii_case(w)))
}

fn is_reserved_word(s: &str) -> bool {
    s.len() <= 5
        && s.as_bytes().first().is_some_and(|b| {
            matches!(
                b.to_ascii_lowercase(),
                b'n' | b'~' | b't' | b'f' | b'y' | b'o' | b'<' | b'='
            )
        })
        && [
            "null", "~", "true", "false", "yes", "no", "y", "n", "on", "off", "<<", "=",
        ]
        .iter()
        .any(|w| s.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(v: &Value) {
        let text = to_yaml(v);
        let back: Vec<Value> = serde_saphyr::from_multiple(&text).expect(&text);
        assert_eq!(back.len(), 1, "{text}");
        assert_eq!(&back[0], v, "{text}");
    }

    /// Stream texts of the shapes the block reader takes: nested and compact collections,
    /// flow collections (empty and not) in every position, nulls, quoted and escaped strings
    /// (multi-line ones become literal blocks), several documents, and long keys. (No key the
    /// block reader takes is written explicitly: written, a key it takes is never longer than
    /// in the text, which it takes up to 1000 bytes.)
    fn block_texts() -> Vec<String> {
        let mut texts: Vec<String> = [
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  # note\n  annotations:\n    a: \"64Mi\"\nspec:\n  template:\n    spec:\n      containers:\n        - name: c\n          env:\n            - name: A\n              value: \"s-1\"\n          resources: {}\n",
            "list:\n- a\n- - b\n  - c\n-\n- d: 1\n  e: [1, \"x\", {f: null}]\nnext: true\n",
            "a: {\"node-role.kubernetes.io/edge\":\"\",\"edgefleet.io/site\":\"s-1\"}\nb: [{\"key\":\"k\",\"operator\":\"Exists\"}]\n",
            "securityContext: {runAsUser: null, runAsGroup: null, fsGroup: null}\n",
            "s: \"line\\none\\t\\\"q\\\" \\\\ \\/ \\u00e9 \\u0085 é # x\"\nt: \"a\\nb\\n\"\nu: \"  x\\ny\"\n",
            "num: -17\nf: 12.5\nq: 500m\nimage: nginx:1.25\nv: 0.139.0\nr: ../base\n",
            "a: 1\n---\nb: 2\n---\n- x\n- [a, b]\n- {c: d}\n- []\n",
            "k:   \n  x: 1\nempty:\nlast: \"\"\n",
            "a:\n  -\n  - 1\n",
            "e1: {}\ne2: []\ne3: [[], {}, [1, [2]]]\n",
            "\"quoted key\": 1\n\"true\": x\n\"\": y\n",
            "metadata: {name: x}\nkind: [k]\napiVersion:\n  a: 1\n",
            "- - - 1\n    - 2\n  - a: [1]\n    b:\n    - c\n",
        ]
        .map(str::to_owned)
        .to_vec();
        let long = "k".repeat(990);
        texts.push(format!(
            "\"{long}\\u0001\": [1, 2]\n\"{long}\\u0002\":\n  a: 1\n\"{long}\\u0003\":\n- x\n"
        ));
        texts
    }

    #[test]
    fn one_pass_writing_is_writing_the_values() {
        let mut read = 0;
        for text in block_texts() {
            // Written in one pass exactly when the block reader takes the text.
            let docs = kube_basics::fastyaml::parse_block_stream(&text);
            let one_pass = block_stream_to_yaml(&text);
            assert_eq!(docs.is_some(), one_pass.is_some(), "{text:?}");
            let (Some(docs), Some(one_pass)) = (docs, one_pass) else {
                continue;
            };
            read += 1;
            let written: Vec<&str> = one_pass.iter().map(|(y, _)| y.as_str()).collect();
            let expected: Vec<String> = docs.iter().map(to_yaml).collect();
            assert_eq!(written, expected, "{text:?}");
            // The head passes the catalogue's check exactly when the document does.
            let fields = |d: &Value| {
                let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
                let name = d.get("metadata").and_then(|m| m.get("name"));
                (text(d.get("apiVersion")), text(d.get("kind")), text(name))
            };
            for ((_, head), doc) in one_pass.iter().zip(&docs) {
                assert_eq!(head.is_object(), doc.is_object(), "{text:?}");
                assert_eq!(fields(head), fields(doc), "{text:?}");
            }
        }
        assert!(read >= 12, "only {read} texts read");
        // What the block reader does not take is not written either.
        for text in ["a: 'x'\n", "a: |\n  x\n", "a: 1\na: 2\n", "a: 1\n---\n"] {
            assert!(block_stream_to_yaml(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn the_map_writer_writes_what_to_yaml_writes() {
        let long = "k".repeat(1200);
        for key in ["resources", "a key: quoted", long.as_str()] {
            for items in [vec![], vec!["../../base"], vec!["a\nb\n", "true", ""]] {
                let mut w = MapWriter::new();
                w.string("apiVersion", "v1");
                w.string(key, "x: y");
                w.strings(key, items.iter().copied());
                w.keyed_strings(key, "patch", items.iter().copied());
                w.keyed_strings("p", key, items.iter().copied());
                w.value(key, &json!({ "order": "legacy", "l": [1, {"a": "b"}] }));
                w.value("e", &json!({}));
                let entries = [
                    ("apiVersion", json!("v1")),
                    (key, json!("x: y")),
                    (key, json!(items)),
                    (
                        key,
                        json!(
                            items
                                .iter()
                                .map(|i| json!({ "patch": i }))
                                .collect::<Vec<_>>()
                        ),
                    ),
                    (
                        "p",
                        json!(items.iter().map(|i| json!({ key: i })).collect::<Vec<_>>()),
                    ),
                    (key, json!({ "order": "legacy", "l": [1, {"a": "b"}] })),
                    ("e", json!({})),
                ];
                // `to_yaml` of one-entry maps, joined: the entries as a map with repeated keys.
                let expected: String = entries
                    .iter()
                    .map(|(k, v)| to_yaml(&json!({ *k: v })))
                    .collect();
                assert_eq!(w.finish(), expected, "{key:?} {items:?}");
            }
        }
        assert_eq!(MapWriter::new().finish(), to_yaml(&json!({})));
    }

    #[test]
    fn layout_matches_kustomize_style() {
        let v = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "b"}},
            "list": [{"name": "a", "value": "1"}, "plain", ["nested"]], "empty": {}, "none": []});
        assert_eq!(
            to_yaml(&v),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels:\n    a: b\nlist:\n- name: a\n  value: \"1\"\n- plain\n- - nested\nempty: {}\nnone: []\n"
        );
        roundtrip(&v);
    }

    #[test]
    fn hostile_strings_stay_strings() {
        for s in [
            "a\n---\nkind: Secret",
            "---",
            "...",
            "- x",
            "key: value",
            "# comment",
            "x #y",
            "&anchor",
            "*alias",
            "!tag",
            "true",
            "No",
            "~",
            "null",
            "6",
            "1.5",
            "0x1F",
            "1e3",
            "12:30",
            "2001-12-14",
            ".inf",
            " leading",
            "trailing ",
            "tab\there",
            "{a: 1}",
            "[1]",
            "quote\"inside",
            "back\\slash",
            "cr\r\nlf",
            "bell\u{7}",
            "  indented\nblock\n",
            "many\n\n\n",
            "",
            "https://otlp.eu-north.example.net:4318/v1?x=1",
            "500m",
            "14Gi",
            "Ålesund Havn",
            "line\u{2028}separator",
            "next\u{85}line",
            "bom\u{feff}inside",
            "a:b",
            "a #b",
            "a# b",
        ] {
            roundtrip(&json!({ "k": s }));
            roundtrip(&json!([s]));
            roundtrip(&json!({ s: 1 }));
        }
    }

    #[test]
    fn a_literal_block_whose_first_text_line_is_indented_says_its_indentation() {
        for s in ["\n *", "\n\n  x\ny", " a\nb", "\n\tx\n", "\n\n\t\n a"] {
            roundtrip(&json!({ "k": s }));
            roundtrip(&json!([s]));
        }
        assert_eq!(to_yaml(&json!({"k": "\n *"})), "k: |2-\n\n   *\n");
    }

    #[test]
    fn noncharacters_are_escaped_in_every_style() {
        for s in ["a\u{ffff}b", "a\u{fffe}\nb", "x\n\u{ffff}\n", "\u{ffff}"] {
            roundtrip(&json!({ "k": s }));
            roundtrip(&json!({ s: [s] }));
        }
    }

    #[test]
    fn the_ascii_literal_check_is_the_general_one() {
        let parts = [
            "", "a", " ", "\t", "\n", "\r", "\u{7f}", "\u{1}", "x y", "#",
        ];
        let mut cases = vec![String::new()];
        for _ in 0..4 {
            cases = cases
                .iter()
                .flat_map(|c| parts.iter().map(move |p| format!("{c}{p}")))
                .collect();
            for c in &cases {
                assert_eq!(can_be_literal_ascii(c), can_be_literal_chars(c), "{c:?}");
            }
        }
    }

    #[test]
    fn multi_line_text_is_a_literal_block() {
        let v = json!({"data": {"config.yaml": "receivers:\n  otlp: {}\n"}});
        assert_eq!(
            to_yaml(&v),
            "data:\n  config.yaml: |\n    receivers:\n      otlp: {}\n"
        );
        roundtrip(&v);
    }
}
