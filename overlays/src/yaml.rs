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
        match v {
            Value::Object(child) if !child.is_empty() => {
                out.push('\n');
                indent(out, level + 2);
                write_map(out, child, level + 2);
            }
            Value::Array(items) if !items.is_empty() && explicit => {
                out.push('\n');
                indent(out, level + 2);
                write_seq(out, items, level + 2);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
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
}

fn write_seq(out: &mut String, items: &[Value], level: usize) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            indent(out, level);
        }
        out.push_str("- ");
        match v {
            Value::Object(child) if !child.is_empty() => write_map(out, child, level + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, level + 2),
            scalar => {
                write_scalar(out, scalar, level + 2);
                out.push('\n');
            }
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
    for line in body.split('\n') {
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
fn can_be_literal_ascii(bytes: &[u8]) -> bool {
    let control = bytes.iter().fold(false, |acc, &b| {
        acc | ((b < 0x20 && b != b'\n' && b != b'\t') | (b == 0x7f))
    });
    if control {
        return false;
    }
    let mut lines = 0;
    let mut first_line_seen = false;
    for line in bytes.split(|&b| b == b'\n') {
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
        return can_be_literal_ascii(s.as_bytes());
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
                assert_eq!(
                    can_be_literal_ascii(c.as_bytes()),
                    can_be_literal_chars(c),
                    "{c:?}"
                );
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
