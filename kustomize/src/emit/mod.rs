//! kustomize's YAML output, byte for byte.
//!
//! `kubectl kustomize` does not print its node tree directly: every object is turned into JSON and
//! that JSON is re-encoded by `sigs.k8s.io/yaml` (`JSONToYAML`), that is by the go-yaml **v2**
//! encoder, a port of libyaml's emitter. So the formatting rules are those of go-yaml v2 applied to
//! plain JSON data, whatever the input looked like (comments, quoting styles and key order of the
//! source are all gone). This module re-implements that encoder for `serde_json` values:
//!
//! - mapping keys are sorted by go-yaml v2's "natural" order (letters after other characters,
//!   runs of digits compared as numbers: `a2` < `a10`), not by bytes;
//! - block style, two-space indentation, sequences not indented under their key;
//! - a string is quoted when it would read back as something else under YAML 1.1 rules
//!   (`yes`, `on`, `y`, `~`, `1_000`, `0x1F`, `1:20`, `2001-12-14`, ...): double quotes;
//! - otherwise libyaml's scalar analysis decides: plain, else single quotes, else double quotes
//!   (tabs, control characters, characters outside the BMP force double quotes and escapes);
//! - strings with a newline become literal blocks (`|`, `|-`, `|+`, `|2-` ...) when that is
//!   allowed, double-quoted otherwise;
//! - long plain and quoted scalars are folded at spaces once past column 80;
//! - keys longer than 128 bytes or spanning lines use the explicit `? key` / `: value` form;
//! - numbers are printed as Go's JSON encoder prints them and then re-read by go-yaml v2
//!   (`1.0` → `1`, `1234567.5` → `1.2345675e+06`, `1e-5` → `1e-05`).
//!
//! docs/renderer.md lists the rules with examples; `tests/tests/render_emit.rs` checks them
//! against the real `kubectl kustomize`.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

mod json_round_trip;
mod key_order;
mod number;
mod resolve;
mod style;

pub use json_round_trip::find_unprintable;
use json_round_trip::*;
use key_order::*;
use number::*;
pub use resolve::kustomize_timestamp;
use resolve::*;
use style::*;

/// The width past which scalars are folded (libyaml's default `best_width`).
const BEST_WIDTH: usize = 80;
/// The indentation step.
const BEST_INDENT: isize = 2;
/// Keys longer than this (in bytes) are written as explicit `? key` entries.
const MAX_SIMPLE_KEY_LEN: usize = 128;

/// One object exactly as `kubectl kustomize` prints it (no `---` marker), ending with a newline.
pub fn emit_document(value: &Value) -> String {
    let mut emitter = Emitter::new();
    emitter.node(value, Context::ROOT);
    emitter.write_indent();
    emitter.out
}

/// Several objects as `kubectl kustomize` prints a build: documents separated by `---`.
pub fn emit_stream(values: &[Value]) -> String {
    let mut out = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&emit_document(value));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The emitter

/// Where a node stands, as libyaml's emitter tracks it.
#[derive(Clone, Copy)]
struct Context {
    /// The node is a mapping key or value.
    mapping: bool,
    /// The node is a key written in the implicit `key: value` form (no folding, no blocks).
    simple_key: bool,
}

impl Context {
    const ROOT: Context = Context {
        mapping: false,
        simple_key: false,
    };
    const ITEM: Context = Context {
        mapping: false,
        simple_key: false,
    };
    const VALUE: Context = Context {
        mapping: true,
        simple_key: false,
    };
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
}

struct Emitter {
    out: String,
    /// Column of the next character, counted in characters.
    column: usize,
    /// Current indentation (-1 before the root collection).
    indent: isize,
    indents: Vec<isize>,
    /// The last character written was a space or an indicator that counts as one.
    whitespace: bool,
    /// Only indentation (and `-`/`?`/`:` indicators) so far on this line.
    indention: bool,
}

impl Emitter {
    fn new() -> Self {
        Self {
            out: String::new(),
            column: 0,
            indent: -1,
            indents: Vec::new(),
            whitespace: true,
            indention: true,
        }
    }

    // -- low-level writes ----------------------------------------------------------------------

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
        self.indention = true;
    }

    /// Copies a line break of the value: `\n` as a newline, the others (U+0085, U+2028, U+2029)
    /// verbatim, which the emitter also counts as the start of a new line.
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
            self.indention = true;
        }
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in indicator.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn current_indent(&self) -> usize {
        usize::try_from(self.indent).unwrap_or(0)
    }

    fn write_indent(&mut self) {
        let indent = self.current_indent();
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn decrease_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    // -- nodes ---------------------------------------------------------------------------------

    fn node(&mut self, value: &Value, ctx: Context) {
        match value {
            Value::Object(map) => {
                let entries = sorted_entries(map);
                if entries.is_empty() {
                    self.empty_flow("{}");
                } else {
                    self.mapping(entries);
                }
            }
            Value::Array(items) if items.is_empty() => self.empty_flow("[]"),
            Value::Array(items) => self.sequence(items, ctx),
            Value::Null => self.scalar("null", Style::Plain, ctx),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, ctx),
            Value::Number(n) => self.scalar(&format_number(n), Style::Plain, ctx),
            Value::String(s) => {
                let s = through_json(s);
                self.scalar(&s, requested_string_style(&s), ctx);
            }
        }
    }

    /// `{}` or `[]`: an empty collection is written in flow style.
    fn empty_flow(&mut self, text: &str) {
        let (open, close) = text.split_at(1);
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn sequence(&mut self, items: &[Value], ctx: Context) {
        // Under a mapping key (`key:` then a new line), items start at the key's column.
        let indentless = ctx.mapping && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, Context::ITEM);
        }
        self.decrease_indent();
    }

    fn mapping(&mut self, entries: Vec<(Cow<'_, str>, &Value)>) {
        self.increase_indent(false, false);
        for (key, value) in entries {
            let key = key.as_ref();
            self.write_indent();
            if key.len() <= MAX_SIMPLE_KEY_LEN
                && is_plain_token(key)
                && requested_string_style(key) == Style::Plain
            {
                self.write_token(key);
                self.write_indicator(":", false, false, false);
                self.node(value, Context::VALUE);
                continue;
            }
            let analysis = analyze(key);
            if !analysis.multiline && key.len() <= MAX_SIMPLE_KEY_LEN {
                self.scalar_analyzed(
                    key,
                    &analysis,
                    requested_string_style(key),
                    Context {
                        mapping: true,
                        simple_key: true,
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.scalar_analyzed(key, &analysis, requested_string_style(key), Context::VALUE);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, Context::VALUE);
        }
        self.decrease_indent();
    }

    fn scalar(&mut self, text: &str, requested: Style, ctx: Context) {
        if requested == Style::Plain && is_plain_token(text) {
            self.write_token(text);
            return;
        }
        let analysis = analyze(text);
        self.scalar_analyzed(text, &analysis, requested, ctx);
    }

    fn scalar_analyzed(&mut self, text: &str, analysis: &Analysis, requested: Style, ctx: Context) {
        let style = select_style(text, analysis, requested, ctx.simple_key);
        self.increase_indent(true, false);
        let allow_breaks = !ctx.simple_key;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::SingleQuoted => self.write_single_quoted(text, allow_breaks),
            Style::DoubleQuoted => self.write_double_quoted(text, allow_breaks),
            Style::Literal => self.write_literal(text),
        }
        self.decrease_indent();
    }

    // -- scalar writers ------------------------------------------------------------------------

    /// A plain scalar without spaces or anything the analysis would object to (see
    /// [`is_plain_token`]): written as is, it can never be folded.
    fn write_token(&mut self, text: &str) {
        if !self.whitespace {
            self.put(' ');
        }
        self.out.push_str(text);
        self.column += text.len();
        self.whitespace = false;
        self.indention = false;
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let bytes = text.as_bytes();
        let mut spaces = false;
        for (i, c) in text.char_indices() {
            if c == ' ' {
                let next_is_space = bytes.get(i + 1) == Some(&b' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_is_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                // A plain scalar never holds a line break (the analysis forbids it).
                self.put(c);
                self.indention = false;
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let bytes = text.as_bytes();
        let last = text.len().saturating_sub(1);
        let mut spaces = false;
        let mut breaks = false;
        for (i, c) in text.char_indices() {
            if c == ' ' {
                let next_is_space = bytes.get(i + 1) == Some(&b' ');
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != last
                    && !next_is_space
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.write_indicator("'", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_double_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let bytes = text.as_bytes();
        // Byte index of a final space (a space is one byte).
        let last = text.len().saturating_sub(1);
        // go-yaml's byte-order-mark test looks at the start of the value, not at the current
        // character: a value that starts with U+FEFF is escaped character by character.
        let escape_all = text.starts_with('\u{FEFF}');
        let mut spaces = false;
        for (i, c) in text.char_indices() {
            if escape_all || !is_printable(c) || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                match c {
                    '\0' => self.put('0'),
                    '\u{7}' => self.put('a'),
                    '\u{8}' => self.put('b'),
                    '\t' => self.put('t'),
                    '\n' => self.put('n'),
                    '\u{B}' => self.put('v'),
                    '\u{C}' => self.put('f'),
                    '\r' => self.put('r'),
                    '\u{1B}' => self.put('e'),
                    '"' => self.put('"'),
                    '\\' => self.put('\\'),
                    '\u{85}' => self.put('N'),
                    '\u{A0}' => self.put('_'),
                    '\u{2028}' => self.put('L'),
                    '\u{2029}' => self.put('P'),
                    _ => {
                        let code = u32::from(c);
                        let (marker, digits) = if code <= 0xFF {
                            ('x', 2)
                        } else if code <= 0xFFFF {
                            ('u', 4)
                        } else {
                            ('U', 8)
                        };
                        self.put(marker);
                        for k in (0..digits).rev() {
                            let digit = (code >> (4 * k)) & 0xF;
                            self.put(
                                char::from_digit(digit, 16)
                                    .unwrap_or('0')
                                    .to_ascii_uppercase(),
                            );
                        }
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && i != last {
                    self.write_indent();
                    if bytes.get(i + 1) == Some(&b' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn write_literal(&mut self, text: &str) {
        self.write_indicator("|", true, false, false);
        // Indentation indicator when the first line starts with a space or is empty.
        if text.starts_with([' ', '\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']) {
            let hint = BEST_INDENT.to_string();
            self.write_indicator(&hint, false, false, false);
        }
        // Chomping: `-` without a final line break, `+` with more than one (or only one).
        let mut rev = text.chars().rev();
        let chomp = match (rev.next(), rev.next()) {
            (None, _) => Some("-"),
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if is_break(c) {
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout_basics() {
        let v = json!({"kind": "ConfigMap", "apiVersion": "v1", "data": {"a10": "x", "a2": "y"},
            "list": [{"b": 1, "a": [1, 2]}, [], {}], "empty": null});
        assert_eq!(
            emit_document(&v),
            "apiVersion: v1\ndata:\n  a2: \"y\"\n  a10: x\nempty: null\nkind: ConfigMap\nlist:\n\
             - a:\n  - 1\n  - 2\n  b: 1\n- []\n- {}\n"
        );
    }

    #[test]
    fn numbers() {
        let cases = [
            (json!(1.0), "1"),
            (json!(1e3), "1000"),
            (json!(1234567.5), "1.2345675e+06"),
            (json!(0.00001), "1e-05"),
            (json!(1e20), "1e+20"),
            (json!(1e30), "1e+30"),
            (json!(-0.0), "0"),
            (json!(0.1), "0.1"),
            (json!(100000.5), "100000.5"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(-5), "-5"),
        ];
        for (v, want) in cases {
            assert_eq!(format_number(v.as_number().unwrap()), want, "{v}");
        }
    }

    #[test]
    fn timestamps_as_kustomize_prints_them() {
        for (plain, want) in [
            ("2001-12-14", Some("2001-12-14T00:00:00Z")),
            (
                "2001-12-14t21:59:43.10-05:00",
                Some("2001-12-14T21:59:43.1-05:00"),
            ),
            ("2001-12-14 21:59:43.10", Some("2001-12-14T21:59:43.1Z")),
            ("2001-1-2T3:4:5+00:00", Some("2001-01-02T03:04:05Z")),
            (
                "2001-12-14T21:59:43.1234567891Z",
                Some("2001-12-14T21:59:43.123456789Z"),
            ),
            ("2001-02-30", None),
            ("2001-12-14T1:2:3+24:00", Some("")),
            ("2001-12-14x", None),
        ] {
            let got = kustomize_timestamp(plain).map(|r| r.unwrap_or_default());
            assert_eq!(got.as_deref(), want, "{plain}");
        }
    }

    #[test]
    fn implicit_types() {
        for s in [
            "",
            "yes",
            "On",
            "y",
            "~",
            "NULL",
            "1",
            "-1",
            "+1",
            "0x1F",
            "0o17",
            "017",
            "08",
            "1_000",
            "1.5",
            ".5",
            "1e3",
            "-.inf",
            ".NaN",
            "0b101",
            "1:20",
            "2001-12-14",
            "2001-12-14T21:59:43.10-05:00",
            "2001-12-14 21:59:43.10",
        ] {
            assert!(resolves_to_non_string(s) || is_base60_float(s), "{s:?}");
        }
        for s in [
            "yess",
            "tRUE",
            "0x",
            "1e400",
            "2001-02-30",
            "1.2.3",
            "-",
            ".",
            "<<",
            "0b2",
            "2001-12-1x",
        ] {
            assert!(!resolves_to_non_string(s) && !is_base60_float(s), "{s:?}");
        }
    }
}
