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

// ---------------------------------------------------------------------------------------------
// What kustomize's JSON round trip does to strings

/// A string as kustomize holds it after its JSON round trip. Go's JSON encoder escapes every
/// line break except NEL (U+0085), so a NEL reaches the YAML parser raw, inside a double-quoted
/// scalar, where it is a line fold: spaces around it vanish, one NEL becomes a space, `n` NELs in
/// a row become `n - 1` newlines.
fn through_json(s: &str) -> Cow<'_, str> {
    if !s.contains('\u{85}') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut pending_spaces = 0usize;
    let mut breaks = 0usize;
    let flush = |out: &mut String, spaces: &mut usize, breaks: &mut usize| {
        match *breaks {
            0 => out.extend(std::iter::repeat_n(' ', *spaces)),
            1 => out.push(' '),
            n => out.extend(std::iter::repeat_n('\n', n - 1)),
        }
        *spaces = 0;
        *breaks = 0;
    };
    for c in s.chars() {
        match c {
            ' ' => {
                if breaks == 0 {
                    pending_spaces += 1;
                }
            }
            '\u{85}' => breaks += 1,
            _ => {
                flush(&mut out, &mut pending_spaces, &mut breaks);
                out.push(c);
            }
        }
    }
    flush(&mut out, &mut pending_spaces, &mut breaks);
    Cow::Owned(out)
}

/// The first string (key or value) that `kubectl kustomize` refuses to print, with its path:
/// DEL, the C1 controls other than NEL, U+FFFE and U+FFFF pass Go's JSON encoder raw and then
/// fail its YAML parser ("control characters are not allowed"); so does a NEL in a key (a line
/// break inside a flow mapping key). `None` when kustomize would print the value.
pub fn find_unprintable(value: &Value) -> Option<String> {
    fn bad(s: &str) -> Option<char> {
        s.chars()
            .find(|&c| matches!(u32::from(c), 0x7F..=0x84 | 0x86..=0x9F | 0xFFFE | 0xFFFF))
    }
    fn walk(value: &Value, path: &mut String) -> Option<String> {
        match value {
            Value::String(s) => bad(s).map(|c| format!("{path}: U+{:04X}", u32::from(c))),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                // A NEL in a key breaks the flow mapping of the JSON text as YAML.
                let found = match bad(k).or_else(|| k.contains('\u{85}').then_some('\u{85}')) {
                    Some(c) => Some(format!("{path} (key): U+{:04X}", u32::from(c))),
                    None => walk(v, path),
                };
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(value, &mut String::new())
        .map(|place| format!("a string holds a control character kustomize cannot print: {place}"))
}

// ---------------------------------------------------------------------------------------------
// Scalar analysis and style choice (libyaml's rules)

/// What libyaml's emitter finds in a scalar before choosing how to write it.
#[derive(Debug, Clone, Copy)]
struct Analysis {
    multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// A fast path for the common case (names, images, paths, label values): a string of ASCII
/// letters, digits and `-._/:@+=` that starts with a letter and does not end with `:` needs no
/// analysis: the only indicators it could hold are `:` before a space or the end (no spaces,
/// no final `:`), and it has no line break or special character. Whether it resolves to another
/// type is still decided by the caller.
fn is_plain_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.last() != Some(&b':')
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'.' | b'_' | b'/' | b':' | b'@' | b'+' | b'=')
        })
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's printable set: LF, ASCII 0x20-0x7E, and U+00A0..U+D7FF, U+E000..U+FFFD except the
/// byte order mark. Everything else, including tab and all characters outside the BMP, is not.
fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    c == '\n'
        || (0x20..=0x7E).contains(&code)
        || (0xA0..=0xD7FF).contains(&code)
        || ((0xE000..=0xFFFD).contains(&code) && code != 0xFEFF)
}

fn analyze(text: &str) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
            block_allowed: false,
        };
    }
    let bytes = text.as_bytes();
    let mut block_indicators = text.starts_with("---") || text.starts_with("...");
    let mut special_characters = false;
    let mut line_breaks = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    for (i, c) in text.char_indices() {
        let next = i + c.len_utf8();
        let is_last = next == text.len();
        let followed_by_whitespace = bytes.get(next).is_none_or(|&n| n == b' ' || n == b'\t');
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_whitespace => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_whitespace => block_indicators = true,
                '#' if preceded_by_whitespace => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special_characters = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= is_last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= is_last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c) || c == '\0';
    }
    let mut block_plain_allowed = true;
    let mut single_quoted_allowed = true;
    let mut block_allowed = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        block_plain_allowed = false;
    }
    if trailing_space {
        block_allowed = false;
    }
    if break_space {
        block_plain_allowed = false;
        single_quoted_allowed = false;
    }
    if space_break || special_characters {
        block_plain_allowed = false;
        single_quoted_allowed = false;
        block_allowed = false;
    }
    if line_breaks || block_indicators {
        block_plain_allowed = false;
    }
    Analysis {
        multiline: line_breaks,
        block_plain_allowed,
        single_quoted_allowed,
        block_allowed,
    }
}

/// The style go-yaml v2's encoder asks for a string: a literal block when it holds a newline,
/// double quotes when it would read back as another type, plain otherwise.
fn requested_string_style(s: &str) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if resolves_to_non_string(s) || is_base60_float(s) {
        Style::DoubleQuoted
    } else {
        Style::Plain
    }
}

/// The emitter's final choice, from the requested style and the analysis (block context).
fn select_style(text: &str, analysis: &Analysis, requested: Style, simple_key: bool) -> Style {
    let mut style = requested;
    if style == Style::Plain && (!analysis.block_plain_allowed || (text.is_empty() && simple_key)) {
        style = Style::SingleQuoted;
    }
    if style == Style::SingleQuoted && !analysis.single_quoted_allowed {
        style = Style::DoubleQuoted;
    }
    if style == Style::Literal && (!analysis.block_allowed || simple_key) {
        style = Style::DoubleQuoted;
    }
    style
}

// ---------------------------------------------------------------------------------------------
// go-yaml v2's implicit typing (YAML 1.1 flavoured)

/// `true` when go-yaml v2 would read `s`, unquoted, as something other than a string: null,
/// a YAML 1.1 boolean, an integer (decimal, octal, hex, binary, `_` separators), a float, a
/// timestamp or the merge key.
fn resolves_to_non_string(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return true; // "" is null
    };
    const KEYWORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "n", "N", "no",
        "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "~", "null", "Null", "NULL",
        ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf",
        "-.Inf", "-.INF",
    ];
    match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            KEYWORDS.contains(&s)
        }
        b'.' => KEYWORDS.contains(&s) || go_parse_float(s).is_some(),
        b'+' | b'-' | b'0'..=b'9' => {
            if KEYWORDS.contains(&s) || is_timestamp(s) {
                return true;
            }
            let plain: String = s.chars().filter(|&c| c != '_').collect();
            go_parse_int(&plain).is_some()
                || (is_yaml_style_float(&plain) && go_parse_float(&plain).is_some())
                || plain
                    .strip_prefix("0b")
                    .or_else(|| plain.strip_prefix("-0b"))
                    .is_some_and(|digits| i64::from_str_radix(digits, 2).is_ok())
        }
        _ => false,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds: optional sign, base
/// prefix `0x`/`0o`/`0b` or a leading `0` for octal, digits of that base, in range.
fn go_parse_int(s: &str) -> Option<()> {
    let (negative, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative && magnitude > 1 << 63 {
        return None;
    }
    Some(())
}

/// Go's `strconv.ParseFloat(s, 64)` succeeds (decimal forms; out-of-range values fail).
fn go_parse_float(s: &str) -> Option<f64> {
    if s.contains('_') && !go_underscores_ok(s) {
        return None;
    }
    let cleaned: String = s.chars().filter(|&c| c != '_').collect();
    let body = cleaned.strip_prefix(['+', '-']).unwrap_or(&cleaned);
    let lower = body.to_ascii_lowercase();
    if matches!(lower.as_str(), "inf" | "infinity" | "nan") {
        return Some(0.0);
    }
    // Hexadecimal floats (0x1p-2) are valid Go too.
    if lower.starts_with("0x") {
        return (lower.contains('p') && !lower.ends_with('p')).then_some(0.0);
    }
    let (mantissa, exponent) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_ok = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    if !digits_ok(int_part) || !digits_ok(frac_part) || int_part.len() + frac_part.len() == 0 {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !digits_ok(e) {
            return None;
        }
    }
    let value: f64 = cleaned.parse().ok()?;
    value.is_finite().then_some(value)
}

/// Go's rule for `_` in number literals: only between digits (or after a base prefix).
fn go_underscores_ok(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let bytes = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if bytes.len() >= 2
        && bytes[0] == b'0'
        && matches!(bytes[1].to_ascii_lowercase(), b'b' | b'o' | b'x')
    {
        i = 2;
        saw = b'0';
        hex = bytes[1].eq_ignore_ascii_case(&b'x');
    }
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() || (hex && b.is_ascii_hexdigit()) {
            saw = b'0';
        } else if b == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// go-yaml's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_style_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let bytes = s.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut i;
    if bytes.first() == Some(&b'.') {
        let n = digits(1);
        if n == 0 {
            return false;
        }
        i = 1 + n;
    } else {
        let n = digits(0);
        if n == 0 {
            return false;
        }
        i = n;
        if bytes.get(i) == Some(&b'.') {
            i += 1;
            i += digits(i);
        }
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let n = digits(i);
        if n == 0 {
            return false;
        }
        i += n;
    }
    i == bytes.len()
}

/// YAML 1.1 sexagesimal numbers (`1:20`, `-3:25:45.5`), which go-yaml v2 quotes:
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(s: &str) -> bool {
    if !s.contains(':') {
        return false;
    }
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let bytes = s.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_digit) {
        return false;
    }
    let mut i = 1 + bytes[1..]
        .iter()
        .take_while(|&&b| b.is_ascii_digit() || b == b'_')
        .count();
    let mut groups = 0;
    while bytes.get(i) == Some(&b':') {
        let start = i + 1;
        let run = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        // `[0-5]?[0-9]`: one digit, or two with the first in 0-5 (regex backtracking allows a
        // one-digit match when two digits would not fit).
        let take = match run {
            0 => return false,
            1 => 1,
            _ if bytes[start] <= b'5' => 2,
            _ => 1,
        };
        i = start + take;
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if bytes.get(i) == Some(&b'.') {
        i += 1;
        i += bytes[i..]
            .iter()
            .take_while(|&&b| b.is_ascii_digit() || b == b'_')
            .count();
    }
    i == bytes.len()
}

/// go-yaml v2 reads these as timestamps (Go `time.Parse` with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`, `2006-1-2 15:4:5.999999999` and
/// `2006-1-2`), so strings that look like them are quoted.
fn is_timestamp(s: &str) -> bool {
    parse_timestamp(s).is_some()
}

/// An unquoted YAML scalar that kustomize reads as a timestamp, as it prints it: kustomize holds
/// a Go `time.Time` and its JSON step writes RFC 3339 with nanoseconds, so `2001-12-14` prints
/// as `2001-12-14T00:00:00Z` and `2001-12-14 21:59:43.10` as `2001-12-14T21:59:43.1Z`.
///
/// `None` when the scalar is not a timestamp (go-yaml v3 recognises the same layouts as v2);
/// `Some(Err(_))` when kustomize reads a timestamp it then cannot print (a zone offset of 24
/// hours or more: the whole build fails). For the loader: call it on *plain* (unquoted) scalars
/// only; quoted ones stay strings.
pub fn kustomize_timestamp(plain: &str) -> Option<Result<String, String>> {
    let t = parse_timestamp(plain)?;
    if t.offset_minutes.unsigned_abs() >= 24 * 60 {
        return Some(Err(format!(
            "timestamp {plain:?}: timezone hour outside of range [0,23] (kustomize cannot print it)"
        )));
    }
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    );
    // Go keeps 9 digits of fraction and prints them without trailing zeros.
    let fraction: String = t.fraction.chars().take(9).collect();
    let fraction = fraction.trim_end_matches('0');
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    match t.offset_minutes {
        0 => out.push('Z'),
        offset => {
            let sign = if offset < 0 { '-' } else { '+' };
            let abs = offset.unsigned_abs();
            out.push_str(&format!("{sign}{:02}:{:02}", abs / 60, abs % 60));
        }
    }
    Some(Ok(out))
}

struct Timestamp<'a> {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    fraction: &'a str,
    /// East of UTC; 0 for `Z` and for times without a zone (read as UTC).
    offset_minutes: i32,
}

fn parse_timestamp(s: &str) -> Option<Timestamp<'_>> {
    let b = s.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let year: u32 = s[..4].parse().ok()?;
    // Go's getnum: one digit, or two when the second is a digit too.
    fn getnum(v: &[u8]) -> Option<(u32, &[u8])> {
        let d0 = *v.first().filter(|d| d.is_ascii_digit())?;
        match v.get(1) {
            Some(d1) if d1.is_ascii_digit() => {
                Some((u32::from(d0 - b'0') * 10 + u32::from(d1 - b'0'), &v[2..]))
            }
            _ => Some((u32::from(d0 - b'0'), &v[1..])),
        }
    }
    fn clock(v: &[u8], max: u32) -> Option<(u32, &[u8])> {
        let (n, r) = getnum(v)?;
        (n < max).then_some((n, r))
    }
    let (month, r) = getnum(&b[5..])?;
    if !(1..=12).contains(&month) || r.first() != Some(&b'-') {
        return None;
    }
    let (day, mut rest) = getnum(&r[1..])?;
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days_in_month {
        return None;
    }
    let mut t = Timestamp {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
        fraction: "",
        offset_minutes: 0,
    };
    if rest.is_empty() {
        return Some(t); // 2006-1-2
    }
    // The time part: `T` or `t` (then a zone is required) or spaces (no zone).
    let zoned = match rest[0] {
        b'T' | b't' => {
            rest = &rest[1..];
            true
        }
        b' ' => {
            while rest.first() == Some(&b' ') {
                rest = &rest[1..];
            }
            false
        }
        _ => return None,
    };
    let (hour, r) = clock(rest, 24)?;
    let (minute, r) = clock(r.strip_prefix(b":")?, 60)?;
    let (second, mut r) = clock(r.strip_prefix(b":")?, 60)?;
    (t.hour, t.minute, t.second) = (hour, minute, second);
    // Fractional seconds: `.` or `,` then digits.
    if r.len() >= 2 && matches!(r[0], b'.' | b',') && r[1].is_ascii_digit() {
        let digits = r[1..].iter().take_while(|d| d.is_ascii_digit()).count();
        let start = b.len() - r.len() + 1;
        t.fraction = &s[start..start + digits];
        r = &r[1 + digits..];
    }
    if !zoned {
        return r.is_empty().then_some(t);
    }
    match r {
        [b'Z'] => Some(t),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            if ![h1, h2, m1, m2].iter().all(|d| d.is_ascii_digit()) {
                return None;
            }
            let hours = i32::from(h1 - b'0') * 10 + i32::from(h2 - b'0');
            let minutes = i32::from(m1 - b'0') * 10 + i32::from(m2 - b'0');
            if hours > 24 || minutes > 60 {
                return None;
            }
            let offset = hours * 60 + minutes;
            t.offset_minutes = if *sign == b'-' { -offset } else { offset };
            Some(t)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Numbers

/// A JSON number as kustomize prints it: Go's `encoding/json` writes it, go-yaml v2 reads that
/// text back (an integer if it parses as one, else a float) and prints floats with Go's `%g`
/// shortest form (`1e+06`, `1.5e-07`).
fn format_number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let Some(f) = n.as_f64() else {
        return n.to_string();
    };
    let (digits, exp) = shortest_digits(f);
    let abs = f.abs();
    // Go's JSON encoder: %f unless |f| < 1e-6 or |f| >= 1e21 (then %e). An integral %f text
    // is read back by go-yaml as an integer when it fits in int64 or uint64.
    let json_is_integral = f == 0.0 || ((1e-6..1e21).contains(&abs) && f.fract() == 0.0);
    if json_is_integral {
        if f == 0.0 {
            return "0".to_owned();
        }
        // Exact integer text of f (it has no fractional part and < 1e21).
        let mut text = digits.clone();
        let zeros = usize::try_from(exp + 1)
            .unwrap_or(0)
            .saturating_sub(digits.len());
        text.push_str(&"0".repeat(zeros));
        if f < 0.0 {
            if text.parse::<u128>().is_ok_and(|m| m <= 1 << 63) {
                return format!("-{text}");
            }
        } else if text.parse::<u64>().is_ok() {
            return text;
        }
    }
    go_format_g(f < 0.0, &digits, exp)
}

/// The shortest decimal digits that round-trip `f` and the decimal exponent of the first digit
/// (`1234.5` → `("12345", 3)`).
fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs()); // e.g. "1.2345e3"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
fn go_format_g(negative: bool, digits: &str, exp: i32) -> String {
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
    } else if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(usize::try_from(-exp - 1).unwrap_or(0)));
        out.push_str(digits);
    } else {
        let int_len = usize::try_from(exp + 1).unwrap_or(0);
        if digits.len() <= int_len {
            out.push_str(digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Key order

/// The entries of a mapping in go-yaml v2's key order (keys as the JSON round trip leaves them).
fn sorted_entries(map: &Map<String, Value>) -> Vec<(Cow<'_, str>, &Value)> {
    // kustomize drops `<<` keys (YAML merge keys) whatever their value.
    let mut entries: Vec<(Cow<'_, str>, &Value)> = map
        .iter()
        .filter(|(k, _)| k.as_str() != "<<")
        .map(|(k, v)| (through_json(k), v))
        .collect();
    if entries.iter().any(|(k, _)| matches!(k, Cow::Owned(_))) {
        // Two keys the round trip makes equal: the JSON text lists keys in byte order and the
        // YAML decoder keeps the last one, so the byte-greatest original key wins.
        let originals: Vec<&String> = map.keys().filter(|k| k.as_str() != "<<").collect();
        let mut winner: std::collections::HashMap<Cow<'_, str>, usize> = Default::default();
        for (i, (k, _)) in entries.iter().enumerate() {
            let slot = winner.entry(k.clone()).or_insert(i);
            if originals[i] > originals[*slot] {
                *slot = i;
            }
        }
        let mut index = 0;
        entries.retain(|(k, _)| {
            let keep = winner.get(k) == Some(&index);
            index += 1;
            keep
        });
    }
    sort_by_less(&mut entries, &|a, b| key_less(&a.0, &b.0));
    entries
}

/// Sorts with a "less than" predicate without ever panicking, even if the predicate is not a
/// total order: insertion sort for short lists (what Go's `sort.Sort` does below 13 items),
/// a merge sort otherwise.
fn sort_by_less<T>(items: &mut Vec<T>, less: &dyn Fn(&T, &T) -> bool) {
    if items.len() <= 12 {
        for i in 1..items.len() {
            let mut j = i;
            while j > 0 && less(&items[j], &items[j - 1]) {
                items.swap(j, j - 1);
                j -= 1;
            }
        }
        return;
    }
    let mid = items.len() / 2;
    let mut right = items.split_off(mid);
    sort_by_less(items, less);
    sort_by_less(&mut right, less);
    let left = std::mem::take(items);
    items.reserve(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_right = match (left.peek(), right.peek()) {
            (Some(l), Some(r)) => less(r, l),
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right {
            right.next()
        } else {
            left.next()
        };
        items.extend(next);
    }
}

/// go-yaml v2's order of string keys: compared character by character; letters sort after
/// everything else; where digits meet, the numbers they spell are compared.
fn key_less(a: &str, b: &str) -> bool {
    key_cmp(a, b) == Ordering::Less
}

fn key_cmp(a: &str, b: &str) -> Ordering {
    // Whether the run of digits just before the current position (common to both keys) holds a
    // non-zero digit: go-yaml then compares the numbers as if that run continued.
    let mut run_nonzero = false;
    let (mut ai, mut bi) = (a.char_indices(), b.char_indices());
    loop {
        let ((ia, ca), (ib, cb)) = match (ai.next(), bi.next()) {
            (Some(x), Some(y)) => (x, y),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
        };
        if ca == cb {
            if ca.is_ascii_digit() {
                run_nonzero |= ca != '0';
            } else {
                run_nonzero = false;
            }
            continue;
        }
        let (al, bl) = (ca.is_alphabetic(), cb.is_alphabetic());
        if al && bl {
            return ca.cmp(&cb);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let start = if (ca == '0' || cb == '0') && run_nonzero {
            1
        } else {
            0
        };
        let (an, alen) = digit_run(&a[ia..], start);
        let (bn, blen) = digit_run(&b[ib..], start);
        if an != bn {
            return an.cmp(&bn);
        }
        if alen != blen {
            return alen.cmp(&blen);
        }
        return ca.cmp(&cb);
    }
}

/// The number spelled by the ASCII digits at the start of `s` (appended to `start`, wrapping
/// like Go's int64) and how many digits there are.
fn digit_run(s: &str, start: i64) -> (i64, usize) {
    let digits = s.bytes().take_while(u8::is_ascii_digit);
    let mut value = start;
    let mut count = 0;
    for d in digits {
        value = value.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
        count += 1;
    }
    (value, count)
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
