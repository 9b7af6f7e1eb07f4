//! The first tier of [`parse_stream`](super::parse_stream): a line-based reader for the plain
//! block YAML the generator's templates render, which needs no token or event queue.
//!
//! It reads only what is beyond doubt and answers `None` for anything else, which then goes to
//! the event-based reader (and from there, if need be, to the reference parser):
//! - documents separated by `---` lines, each a block mapping or block sequence (no empty
//!   document, no `...`, no directive);
//! - spaces for indentation, no tab and no carriage return anywhere in the stream;
//! - keys that are double-quoted or plain words of `A-Za-z0-9._/-`, followed by `:`, of at most
//!   1000 bytes (YAML's limit on implicit keys is 1024 characters);
//! - values on one line: double-quoted strings with JSON's escapes, plain words of
//!   `A-Za-z0-9._/+-` (and `:` inside) typed by [`resolve_plain`], and flow collections of those
//!   on one line; a comment may follow after a space;
//! - no anchor, alias, tag, single-quoted, block or multi-line scalar, explicit or merge key,
//!   duplicate key.
//!
//! Comment lines and blank lines are skipped: outside multi-line scalars (refused here) they
//! never carry content.

use crate::limits::MAX_DEPTH;
use crate::scalar::{PlainScalar, resolve_plain};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;

/// YAML allows implicit keys of at most 1024 characters; longer ones (in bytes, with a margin)
/// are left to the other readers, which decide.
const MAX_KEY_BYTES: usize = 1000;

/// A content line: its indentation and the text after it.
#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// Whether `text` holds a tab or a carriage return: one branch-free pass over the bytes (the
/// compiler vectorises it), no character decoding.
fn has_tab_or_cr(text: &str) -> bool {
    text.bytes()
        .fold(false, |acc, b| acc | (b == b'\t') | (b == b'\r'))
}

/// Splits `text` into documents of content lines and hands each to `each` as soon as it is
/// whole; `None` when the text leaves this reader's subset (tabs, carriage returns, other line
/// breaks, directives, `...`, an empty document) or `each` answers `None`.
fn for_each_document<'a>(
    text: &'a str,
    mut each: impl FnMut(&mut [Line<'a>]) -> Option<()>,
) -> Option<()> {
    if has_tab_or_cr(text) {
        return None;
    }
    // Characters some YAML version reads as line breaks.
    if !text.is_ascii() && text.contains(['\u{85}', '\u{2028}', '\u{2029}']) {
        return None;
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut separators = 0usize;
    let mut documents = 0usize;
    for raw in super::split_lines(text) {
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = raw.len() - content.len();
        if indent == 0 && (content.starts_with("---") || content.starts_with("...")) {
            if content != "---" {
                return None;
            }
            if lines.is_empty() {
                // Only the first `---` of a stream may have nothing before it.
                if separators > 0 || documents > 0 {
                    return None;
                }
            } else {
                each(&mut lines)?;
                documents += 1;
                lines.clear();
            }
            separators += 1;
            continue;
        }
        if indent == 0 && content.starts_with('%') {
            return None;
        }
        lines.push(Line {
            indent,
            text: content,
        });
    }
    // No content at all, or a `---` with nothing after it: an empty document.
    if lines.is_empty() {
        return None;
    }
    each(&mut lines)
}

/// What [`stream`] reports of each document, in reading order (a depth-first walk): the block
/// collections it opens and closes, each block mapping's keys, and every other value (scalars and
/// flow collections, read as [`parse`] reads them). Block collections are never empty.
pub trait BlockSink {
    /// A document starts (the next event opens its root collection).
    fn start_document(&mut self);
    /// The key of the next entry of the innermost open mapping.
    fn key(&mut self, key: &str);
    /// A block mapping opens: the root of a document, an entry's value or a sequence item.
    fn begin_map(&mut self);
    /// A block sequence opens, as [`BlockSink::begin_map`].
    fn begin_seq(&mut self);
    /// A value that is no block collection: an entry's value or a sequence item.
    fn value(&mut self, value: Value);
    /// The innermost open block collection closes.
    fn end(&mut self);
    /// The document ends.
    fn end_document(&mut self);
}

/// The documents of `text`, or `None` when it leaves this reader's subset: what [`stream`]
/// reports, built into values by a [`ValueSink`], which refuses duplicate keys itself (so that
/// mappings of any size are read, unlike with [`stream`]).
pub(super) fn parse(text: &str) -> Option<Vec<Value>> {
    let mut sink = ValueSink {
        docs: Vec::new(),
        // Room for the depth of most rendered documents (a deeper one makes it grow).
        open: Vec::with_capacity(8),
        duplicate: false,
    };
    read(text, &mut sink, None)?;
    (!sink.duplicate).then_some(sink.docs)
}

/// The reader reporting to `sink`: `Some(())` exactly when [`parse`] answers, and then the
/// events describe what it builds, except that duplicate keys are looked for in a list, which
/// refuses mappings of more than 64 keys (a sink cannot tell the reader a key is a duplicate).
/// On `None` the sink has seen part of the stream; the caller discards what it made of it.
pub(super) fn stream(text: &str, sink: &mut impl BlockSink) -> Option<()> {
    let mut keys = Vec::new();
    read(text, sink, Some(&mut keys))
}

/// Reads each document of `text` to `sink`. `keys` holds lists for the keys of open mappings
/// when the reader refuses duplicate keys itself ([`stream`]); `None` when the sink does
/// ([`ValueSink`]).
fn read<'a>(
    text: &'a str,
    sink: &mut impl BlockSink,
    mut keys: Option<&mut Vec<Vec<Cow<'a, str>>>>,
) -> Option<()> {
    for_each_document(text, |lines| {
        sink.start_document();
        let mut reader = Reader {
            lines,
            pos: 0,
            sink: &mut *sink,
            keys: keys.as_deref_mut(),
        };
        reader.block_node(0)?;
        if reader.pos != reader.lines.len() {
            return None;
        }
        sink.end_document();
        Some(())
    })
}

/// The reader of one document. `keys` (see [`read`]): each open mapping takes a list and gives
/// it back when it closes, so they are reused from mapping to mapping.
struct Reader<'l, 'a, 's, S> {
    lines: &'l mut [Line<'a>],
    pos: usize,
    sink: &'s mut S,
    keys: Option<&'s mut Vec<Vec<Cow<'a, str>>>>,
}

fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

impl<'a, S: BlockSink> Reader<'_, 'a, '_, S> {
    /// The block collection starting at the current line.
    fn block_node(&mut self, depth: usize) -> Option<()> {
        if depth + 1 >= MAX_DEPTH {
            return None;
        }
        let line = *self.lines.get(self.pos)?;
        if is_seq_item(line.text) {
            self.block_seq(line.indent, depth)
        } else {
            self.block_map(line.indent, depth)
        }
    }

    /// The value of an entry whose text ended after its indicator (`key:`, `-`): the block
    /// collection on the next lines when they are indented deeper (or, for `key:`, a sequence at
    /// the key's own indentation), else null.
    fn value_below(&mut self, indent: usize, sequence_here: bool, depth: usize) -> Option<()> {
        match self.lines.get(self.pos) {
            Some(next) if next.indent > indent => self.block_node(depth + 1),
            Some(next) if sequence_here && next.indent == indent && is_seq_item(next.text) => {
                if depth + 2 >= MAX_DEPTH {
                    return None;
                }
                self.block_seq(indent, depth + 1)
            }
            _ => {
                self.sink.value(Value::Null);
                Some(())
            }
        }
    }

    fn block_seq(&mut self, indent: usize, depth: usize) -> Option<()> {
        self.sink.begin_seq();
        while let Some(line) = self.lines.get(self.pos).copied() {
            // A sequence at its key's indentation ends at the next key; whoever reads on
            // decides whether a line there is allowed.
            if line.indent < indent || (line.indent == indent && !is_seq_item(line.text)) {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let rest = &line.text[1..];
            let after = rest.trim_start_matches(' ');
            if after.is_empty() {
                self.pos += 1;
                self.value_below(indent, false, depth)?;
                continue;
            }
            if is_seq_item(after) || entry_key(after).is_some() {
                // A compact collection: it starts on this line, at the column after `- `.
                let column = indent + 1 + (rest.len() - after.len());
                self.lines[self.pos] = Line {
                    indent: column,
                    text: after,
                };
                self.block_node(depth + 1)?;
            } else {
                self.sink.value(inline_value(after, depth + 1)?);
                self.pos += 1;
            }
        }
        self.sink.end();
        Some(())
    }

    fn block_map(&mut self, indent: usize, depth: usize) -> Option<()> {
        self.sink.begin_map();
        let mut seen = self
            .keys
            .as_mut()
            .map(|keys| keys.pop().unwrap_or_default());
        let result = self.block_map_entries(indent, depth, seen.as_mut());
        if let (Some(keys), Some(mut seen)) = (self.keys.as_mut(), seen) {
            seen.clear();
            keys.push(seen);
        }
        result?;
        self.sink.end();
        Some(())
    }

    fn block_map_entries(
        &mut self,
        indent: usize,
        depth: usize,
        mut seen: Option<&mut Vec<Cow<'a, str>>>,
    ) -> Option<()> {
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent {
                return None;
            }
            let (key, rest) = entry_key(line.text)?;
            if key == "<<" {
                return None;
            }
            match seen.as_deref_mut() {
                Some(seen) => {
                    // Duplicates are looked for in a list: past a few dozen keys [`parse`],
                    // whose sink finds them in its map at once, decides.
                    if seen.len() >= 64 || seen.contains(&key) {
                        return None;
                    }
                    self.sink.key(&key);
                    seen.push(key);
                }
                None => self.sink.key(&key),
            }
            let after = rest.trim_start_matches(' ');
            self.pos += 1;
            if after.is_empty() || after.starts_with('#') {
                self.value_below(indent, true, depth)?;
            } else {
                self.sink.value(inline_value(after, depth + 1)?);
            }
        }
        Some(())
    }
}

/// Builds the values [`stream`] reports ([`parse`]), and notes duplicate keys (which make
/// [`parse`] answer `None`) as its maps find them.
struct ValueSink {
    docs: Vec<Value>,
    /// The open block collections, innermost last.
    open: Vec<Open>,
    duplicate: bool,
}

/// An open collection of [`ValueSink`]: a mapping with the key of its next entry, or a sequence.
enum Open {
    Map(Map<String, Value>, String),
    Seq(Vec<Value>),
}

impl ValueSink {
    /// Adds a finished value to the innermost open collection, or ends a document with it.
    #[inline]
    fn add(&mut self, value: Value) {
        match self.open.last_mut() {
            // One look-up for the entry and the duplicate check.
            Some(Open::Map(map, key)) => {
                self.duplicate |= map.insert(std::mem::take(key), value).is_some();
            }
            Some(Open::Seq(items)) => items.push(value),
            None => self.docs.push(value),
        }
    }
}

impl BlockSink for ValueSink {
    fn start_document(&mut self) {}

    #[inline]
    fn key(&mut self, key: &str) {
        if let Some(Open::Map(_, next)) = self.open.last_mut() {
            *next = key.to_owned();
        }
    }

    #[inline]
    fn begin_map(&mut self) {
        self.open.push(Open::Map(Map::new(), String::new()));
    }

    #[inline]
    fn begin_seq(&mut self) {
        self.open.push(Open::Seq(Vec::new()));
    }

    #[inline]
    fn value(&mut self, value: Value) {
        self.add(value);
    }

    #[inline]
    fn end(&mut self) {
        let value = match self.open.pop() {
            Some(Open::Map(map, _)) => Value::Object(map),
            Some(Open::Seq(items)) => Value::Array(items),
            // The reader never closes more than it opened.
            None => return,
        };
        self.add(value);
    }

    fn end_document(&mut self) {}
}

/// Plain characters of keys.
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-')
}

/// Plain characters of values (`:` only inside block values, see [`plain_len`]).
fn is_plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-' | b'+')
}

/// A mapping entry's key and the text after its `:`, when `text` starts with one.
fn entry_key(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let bytes = text.as_bytes();
    let (key, end) = if bytes.first() == Some(&b'"') {
        double_quoted(text)?
    } else {
        let len = bytes.iter().take_while(|b| is_key_byte(**b)).count();
        if len == 0 || (bytes[0] == b'-' && len == 1) {
            return None;
        }
        let key = &text[..len];
        match resolve_plain(key)? {
            PlainScalar::Str => (Cow::Borrowed(key), len),
            _ => return None,
        }
    };
    if end > MAX_KEY_BYTES {
        return None;
    }
    let rest = text[end..].strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some((key, rest))
}

/// A value on the rest of a line: a flow collection, a double-quoted or plain scalar, then at
/// most a comment.
fn inline_value(text: &str, depth: usize) -> Option<Value> {
    let (value, end) = match text.as_bytes()[0] {
        b'{' | b'[' => {
            let mut at = 0;
            (flow_node(text, &mut at, depth)?, at)
        }
        b'"' => {
            let (s, end) = double_quoted(text)?;
            (Value::String(s.into_owned()), end)
        }
        _ => {
            let len = plain_len(text, true)?;
            (plain_value(&text[..len])?, len)
        }
    };
    let rest = &text[end..];
    let ends = rest.is_empty()
        || (rest.starts_with(' ') && {
            let r = rest.trim_start_matches(' ');
            r.is_empty() || r.starts_with('#')
        });
    ends.then_some(value)
}

/// The length of the plain scalar `text` starts with (`None` when it does not start with one
/// this reader takes). In block values a `:` is taken when a plain character follows it.
fn plain_len(text: &str, block: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    let starts = first.is_ascii_alphanumeric()
        || matches!(first, b'_' | b'/' | b'.')
        || (first == b'-' && bytes.get(1).is_some_and(|b| is_plain_byte(*b)));
    if !starts {
        return None;
    }
    let mut len = 0;
    while let Some(&b) = bytes.get(len) {
        if is_plain_byte(b)
            || (block && b == b':' && bytes.get(len + 1).is_some_and(|n| is_plain_byte(*n)))
        {
            len += 1;
        } else {
            break;
        }
    }
    Some(len)
}

fn plain_value(text: &str) -> Option<Value> {
    Some(match resolve_plain(text)? {
        PlainScalar::Null => Value::Null,
        PlainScalar::Bool(b) => Value::Bool(b),
        PlainScalar::Int(i) => Value::from(i),
        PlainScalar::Float(f) => Value::Number(Number::from_f64(f)?),
        PlainScalar::Str => Value::String(text.to_owned()),
    })
}

/// A double-quoted scalar on one line with JSON's escapes (which mean the same in YAML): the
/// string (borrowed from `text` when it has no escape) and the offset after its closing quote.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, usize)> {
    let bytes = text.as_bytes();
    debug_assert_eq!(bytes.first(), Some(&b'"'));
    let mut out = String::new();
    let (mut i, mut start) = (1, 1);
    loop {
        match *bytes.get(i)? {
            // No escape so far (after one, `start` is past it).
            b'"' if start == 1 => return Some((Cow::Borrowed(&text[1..i]), i + 1)),
            b'"' => {
                out.push_str(&text[start..i]);
                return Some((Cow::Owned(out), i + 1));
            }
            b'\\' => {
                out.push_str(&text[start..i]);
                let c = match *bytes.get(i + 1)? {
                    b'"' => '"',
                    b'\\' => '\\',
                    b'/' => '/',
                    b'b' => '\u{8}',
                    b'f' => '\u{c}',
                    b'n' => '\n',
                    b'r' => '\r',
                    b't' => '\t',
                    b'u' => {
                        let hex = text.get(i + 2..i + 6)?;
                        if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                            return None;
                        }
                        i += 4;
                        // Surrogates (pairs or not) are left to the other readers.
                        char::from_u32(u32::from_str_radix(hex, 16).ok()?)?
                    }
                    _ => return None,
                };
                out.push(c);
                i += 2;
                start = i;
            }
            _ => i += 1,
        }
    }
}

fn skip_spaces(bytes: &[u8], at: &mut usize) {
    while bytes.get(*at) == Some(&b' ') {
        *at += 1;
    }
}

/// A flow collection on one line, from `text[*at]` (`{` or `[`); `*at` ends after it.
fn flow_node(text: &str, at: &mut usize, depth: usize) -> Option<Value> {
    if depth + 1 >= MAX_DEPTH {
        return None;
    }
    let bytes = text.as_bytes();
    let close = match bytes[*at] {
        b'{' => b'}',
        b'[' => b']',
        _ => return None,
    };
    *at += 1;
    skip_spaces(bytes, at);
    let mut map = Map::new();
    let mut items = Vec::new();
    if bytes.get(*at) == Some(&close) {
        *at += 1;
    } else {
        loop {
            if close == b'}' {
                let key_start = *at;
                let key = if bytes.get(*at) == Some(&b'"') {
                    let (key, end) = double_quoted(&text[*at..])?;
                    *at += end;
                    if bytes.get(*at) != Some(&b':') {
                        return None;
                    }
                    *at += 1;
                    key.into_owned()
                } else {
                    let len = plain_len(&text[*at..], false)?;
                    let key = match resolve_plain(&text[*at..*at + len])? {
                        PlainScalar::Str => text[*at..*at + len].to_owned(),
                        _ => return None,
                    };
                    *at += len;
                    if bytes.get(*at) != Some(&b':') || bytes.get(*at + 1) != Some(&b' ') {
                        return None;
                    }
                    *at += 1;
                    key
                };
                if *at - key_start > MAX_KEY_BYTES {
                    return None;
                }
                skip_spaces(bytes, at);
                let value = flow_value(text, at, depth)?;
                if key == "<<" || map.contains_key(&key) {
                    return None;
                }
                map.insert(key, value);
            } else {
                items.push(flow_value(text, at, depth)?);
            }
            skip_spaces(bytes, at);
            match bytes.get(*at) {
                Some(b',') => {
                    *at += 1;
                    skip_spaces(bytes, at);
                    if matches!(bytes.get(*at), None | Some(b'}' | b']' | b',')) {
                        return None;
                    }
                }
                Some(&b) if b == close => {
                    *at += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    Some(if close == b'}' {
        Value::Object(map)
    } else {
        Value::Array(items)
    })
}

/// A value inside a flow collection: a nested one, a double-quoted or a plain scalar.
fn flow_value(text: &str, at: &mut usize, depth: usize) -> Option<Value> {
    match *text.as_bytes().get(*at)? {
        b'{' | b'[' => flow_node(text, at, depth + 1),
        b'"' => {
            let (s, end) = double_quoted(&text[*at..])?;
            *at += end;
            Some(Value::String(s.into_owned()))
        }
        _ => {
            let len = plain_len(&text[*at..], false)?;
            let value = plain_value(&text[*at..*at + len])?;
            *at += len;
            Some(value)
        }
    }
}
