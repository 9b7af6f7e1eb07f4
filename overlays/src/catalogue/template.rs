//! The minijinja environment every template is compiled in (every expression printed as JSON),
//! and the scan that refuses templates printing raw text past that escape.

use super::*;
use minijinja::value::ValueKind;

// ---------------------------------------------------------------------------------------------
// The template environment
// ---------------------------------------------------------------------------------------------

pub(super) fn new_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Every expression of every template is printed as JSON, whatever the file is called.
    env.set_auto_escape_callback(|_| AutoEscape::Json);
    env.set_formatter(format_value);
    // Block tags on lines of their own leave no blank lines or stray indentation in the YAML.
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are valid");
    env.set_syntax(syntax);
    // `{% import "_x.j2" %}` finds helpers next to the importing template.
    env.set_path_join_callback(|name, parent| match parent.rsplit_once('/') {
        Some((dir, _)) if !name.contains('/') => Cow::Owned(format!("{dir}/{name}")),
        _ => Cow::Borrowed(name),
    });
    env.add_filter("safe", forbidden_safe);
    env.add_filter("escape", escape_json);
    env.add_filter("e", escape_json);
    env.add_filter("tojson", tojson_yaml);
    env.add_filter("toyaml", toyaml);
    env.add_filter("sha256", sha256_hex);
    env.add_function("fail", fail);
    env
}

pub(super) fn template_error(
    root: &Path,
    env: &Environment<'_>,
    err: &minijinja::Error,
) -> CatalogueError {
    let name = err.name().unwrap_or_default();
    let mut message = err.kind().to_string();
    if let Some(detail) = err.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    // Quote the failing expression unless the detail already does.
    if let (Some(range), Ok(tmpl)) = (err.range(), env.get_template(name))
        && let Some(expr) = tmpl.source().get(range).map(str::trim)
        && !expr.is_empty()
        && expr.len() <= 200
        && !message.contains(&format!("`{expr}`"))
    {
        message.push_str(&format!(" (in `{expr}`)"));
    }
    // An error inside an imported helper is reported where it happened; say who called it.
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        if let Some(inner) = inner.downcast_ref::<minijinja::Error>() {
            message.push_str(&format!("; caused by: {inner}"));
        }
        source = inner.source();
    }
    CatalogueError::Template {
        path: if name.is_empty() {
            root.to_path_buf()
        } else {
            root.join(name)
        },
        line: err.line(),
        message,
    }
}

/// Prints `{{ expression }}` values as YAML-safe JSON (see [`json_text`]). Safe strings (output
/// of macros, `tojson`, captured blocks) were escaped when they were built and pass unchanged.
pub(super) fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    if value.is_safe() || !matches!(state.auto_escape(), AutoEscape::Json) {
        return minijinja::escape_formatter(out, state, value);
    }
    if let Some(text) = plain_json(value) {
        return text.write(out).map_err(minijinja::Error::from);
    }
    out.write_str(&json_text(value)?)
        .map_err(minijinja::Error::from)
}

/// What [`json_text`] prints for the values most expressions give, written without building
/// the JSON first: a string of printable ASCII but the quote and the backslash (which JSON
/// prints between quotes as it is), an integer, a boolean. `None` for anything else.
fn plain_json(value: &Value) -> Option<PlainJson<'_>> {
    match value.kind() {
        ValueKind::String => {
            let s = value.as_str()?;
            s.bytes()
                .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
                .then_some(PlainJson::Quoted(s))
        }
        ValueKind::Number if value.is_integer() => value.as_i64().map(PlainJson::Integer),
        ValueKind::Bool => Some(PlainJson::Word(if value.is_true() {
            "true"
        } else {
            "false"
        })),
        _ => None,
    }
}

enum PlainJson<'a> {
    Quoted(&'a str),
    Integer(i64),
    Word(&'static str),
}

impl PlainJson<'_> {
    fn write(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            PlainJson::Quoted(s) => {
                out.write_char('"')?;
                out.write_str(s)?;
                out.write_char('"')
            }
            PlainJson::Integer(n) => write!(out, "{n}"),
            PlainJson::Word(w) => out.write_str(w),
        }
    }
}

/// A value as compact JSON that is also a valid YAML 1.2 flow scalar: JSON already escapes the
/// C0 controls, and we also escape the characters YAML forbids in a document or YAML 1.1 reads as
/// line breaks (DEL, C1 controls, U+2028/U+2029, BOM, U+FFFE/U+FFFF). Those only occur inside
/// string literals in JSON, where `\uXXXX` means the same character.
pub(super) fn json_text(value: &Value) -> Result<String, minijinja::Error> {
    let text = serde_json::to_string(value).map_err(|e| {
        minijinja::Error::new(ErrorKind::BadSerialization, "cannot print value as JSON")
            .with_source(e)
    })?;
    Ok(yaml_safe(text))
}

pub(super) fn yaml_safe(text: String) -> String {
    fn bad(c: char) -> bool {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
    }
    if !text.bytes().any(|b| b >= 0x7f) || !text.contains(bad) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn forbidden_safe(_value: Value) -> Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(
        ErrorKind::InvalidOperation,
        "the safe filter is not allowed: every value is printed as JSON so that it stays a value",
    ))
}

pub(super) fn escape_json(value: &Value) -> Result<Value, minijinja::Error> {
    if value.is_safe() {
        return Ok(value.clone());
    }
    Ok(Value::from_safe_string(json_text(value)?))
}

pub(super) fn tojson_yaml(
    value: &Value,
    indent: Option<Value>,
    kwargs: Kwargs,
) -> Result<Value, minijinja::Error> {
    let json = minijinja::filters::tojson(value, indent, kwargs)?;
    Ok(Value::from_safe_string(yaml_safe(
        json.as_str().unwrap_or_default().to_owned(),
    )))
}

/// `{{ config | toyaml }}`: a value serialised as a YAML document, returned as plain text so that
/// it is printed as one quoted string (the content of a config file in a ConfigMap).
pub(super) fn toyaml(value: &Value) -> Result<String, minijinja::Error> {
    serde_saphyr::to_string(value).map_err(|e| {
        minijinja::Error::new(
            ErrorKind::BadSerialization,
            "cannot serialise value as YAML",
        )
        .with_source(e)
    })
}

/// `{{ x | sha256 }}`: lower-case hex SHA-256 of a string, or of another value's JSON. Used for
/// `checksum` annotations that restart pods when a mounted config file changes.
pub(super) fn sha256_hex(value: &Value) -> Result<String, minijinja::Error> {
    let digest = match value.as_str() {
        Some(s) => Sha256::digest(s.as_bytes()),
        None => Sha256::digest(json_text(value)?.as_bytes()),
    };
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(2 * digest.len());
    for b in digest {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 15)]));
    }
    Ok(hex)
}

/// `{{ fail("message") }}`: stops rendering with an error naming the template and line, for
/// input checks a template cannot express otherwise.
pub(super) fn fail(message: String) -> Result<Value, minijinja::Error> {
    Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
}

// ---------------------------------------------------------------------------------------------
// Refusing raw output
// ---------------------------------------------------------------------------------------------

/// Finds the first construct that would print raw text past the JSON auto-escape: the `safe`
/// filter (`x | safe`, `{% filter safe %}`) or an `{% autoescape %}` block. Returns its 1-based
/// line and a description. String literals, comments and `{% raw %}` blocks are skipped.
pub(super) fn find_escape_bypass(src: &str) -> Option<(usize, &'static str)> {
    let b = src.as_bytes();
    let line_of = |pos: usize| src[..pos].matches('\n').count() + 1;
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        match b[i + 1] {
            b'#' => {
                i = src[i + 2..].find("#}").map_or(b.len(), |j| i + 2 + j + 2);
            }
            b'{' | b'%' => {
                let block = b[i + 1] == b'%';
                let (end, tokens) = scan_code(src, i + 2, block);
                let mut words = tokens
                    .iter()
                    .skip_while(|t| matches!(t, Tok::Other(b'-' | b'+')));
                let first = words.next();
                if block && first == Some(&Tok::Ident("raw")) {
                    i = find_endraw(src, end);
                    continue;
                }
                if block && first == Some(&Tok::Ident("autoescape")) {
                    return Some((line_of(i), "an {% autoescape %} block"));
                }
                if block
                    && first == Some(&Tok::Ident("filter"))
                    && words.next() == Some(&Tok::Ident("safe"))
                {
                    return Some((line_of(i), "the safe filter"));
                }
                if tokens
                    .windows(2)
                    .any(|w| w[0] == Tok::Pipe && w[1] == Tok::Ident("safe"))
                {
                    return Some((line_of(i), "the safe filter"));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    None
}

#[derive(Debug, PartialEq)]
pub(super) enum Tok<'a> {
    Ident(&'a str),
    Pipe,
    Other(u8),
}

/// Tokenises the code of a `{{ }}` (or `{% %}` when `block`) tag starting at `start`; returns
/// the offset just past the closing delimiter and the tokens (strings are dropped).
pub(super) fn scan_code(src: &str, start: usize, block: bool) -> (usize, Vec<Tok<'_>>) {
    let b = src.as_bytes();
    let mut tokens = Vec::new();
    let mut depth = 0usize;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            b'%' if block && b.get(i + 1) == Some(&b'}') => return (i + 2, tokens),
            b'}' if !block && depth == 0 && b.get(i + 1) == Some(&b'}') => return (i + 2, tokens),
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'|' => {
                tokens.push(Tok::Pipe);
                i += 1;
                continue;
            }
            _ => {}
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            tokens.push(Tok::Ident(&src[s..i]));
            continue;
        }
        if !c.is_ascii_whitespace() {
            tokens.push(Tok::Other(c));
        }
        i += 1;
    }
    (b.len(), tokens)
}

/// Offset just past the `{% endraw %}` tag after `from` (or the end of the text).
pub(super) fn find_endraw(src: &str, from: usize) -> usize {
    let mut i = from;
    while let Some(j) = src[i..].find("{%") {
        let start = i + j;
        let (end, tokens) = scan_code(src, start + 2, true);
        let mut words = tokens
            .iter()
            .skip_while(|t| matches!(t, Tok::Other(b'-' | b'+')));
        if words.next() == Some(&Tok::Ident("endraw")) {
            return end;
        }
        i = start + 2;
    }
    src.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value printed on the short path prints as the JSON serialiser prints it; the rest
    /// take the long path.
    #[test]
    fn plain_json_prints_what_json_text_prints() {
        let values = [
            Value::from("store-tx-00001"),
            Value::from(""),
            Value::from("a b:c #d ~!"),
            Value::from("quote \" inside"),
            Value::from("back\\slash"),
            Value::from("tab\there"),
            Value::from("new\nline"),
            Value::from("del \u{7f}"),
            Value::from("caf\u{e9}"),
            Value::from("line\u{2028}sep"),
            Value::from(0),
            Value::from(-17),
            Value::from(i64::MAX),
            Value::from(u64::MAX),
            Value::from(i128::MIN),
            Value::from(2.0),
            Value::from(0.25),
            Value::from(true),
            Value::from(false),
            Value::from(()),
            Value::from(vec![1, 2]),
            Value::from(Serde(serde_json::json!({"a": "b"}))),
            Value::from_bytes(b"bytes".to_vec()),
        ];
        let mut short = 0;
        for v in &values {
            let expected = json_text(v).unwrap();
            if let Some(p) = plain_json(v) {
                short += 1;
                let mut text = String::new();
                p.write(&mut text).unwrap();
                assert_eq!(text, expected, "{v:?}");
            }
        }
        // Strings of printable ASCII, integers that fit i64, booleans.
        assert_eq!(short, 8);
    }

    /// FIPS 180-2's one-block and empty-message vectors, and a non-string hashed as its JSON.
    #[test]
    fn sha256_filter_prints_lower_case_hex() {
        let hex = |v: Value| sha256_hex(&v).unwrap();
        assert_eq!(
            hex(Value::from("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(Value::from("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(hex(Value::from(vec![1, 2])), hex(Value::from("[1,2]")));
    }
}
