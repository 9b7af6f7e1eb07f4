//! A fast path for reading back YAML the generator has just rendered from its own templates.
//!
//! Parsing rendered site patches is the generator's hot spot (tens of thousands per fleet), and
//! the reference parser (serde-saphyr) spends most of that time on features these documents do
//! not use. This reader handles only the unambiguous subset — block and flow collections without
//! anchors, aliases, tags or merge keys; plain scalars whose type is beyond doubt; quoted and
//! block scalars — and answers `None` for anything else, so the caller falls back to the
//! reference parser, which then decides (and words any error). A test checks that both agree on
//! every document the default catalogue renders for a synthetic fleet.

use crate::scalar::{PlainScalar, resolve_plain};
use serde_json::{Map, Number, Value};
// The reference parser's own event parser: whatever this reader accepts, the reference's scanner
// accepts too (a second YAML parser disagreed with it on malformed flow collections).
use granit_parser::{Event, Parser, ScalarStyle};

mod block;

/// Only characters YAML allows in a stream: no C0 control but tab and line breaks, no DEL, no C1
/// control but NEL, no U+FFFE or U+FFFF.
fn is_printable(text: &str) -> bool {
    let ascii_ok = |b: u8| b >= 0x20 && b != 0x7f || matches!(b, b'\t' | b'\n' | b'\r');
    // One branch-free pass over the bytes (vectorised) for the usual ASCII text.
    let ascii_bad = text.bytes().fold(false, |acc, b| {
        acc | (b >= 0x80) | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0x7f)
    });
    if !ascii_bad {
        return true;
    }
    text.chars().all(|c| match c {
        c if c.is_ascii() => ascii_ok(c as u8),
        '\u{85}' => true,
        '\u{80}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => false,
        _ => true,
    })
}

/// The documents of a plain block YAML stream read by the line-based first tier of
/// [`parse_stream`] alone (see its module `block`), or `None` when the stream leaves that tier's
/// narrower subset. For tests that check how much of a workload the first tier covers.
pub fn parse_block_stream(text: &str) -> Option<Vec<Value>> {
    if text.contains('\u{feff}') || !is_printable(text) {
        return None;
    }
    block::parse(text)
}

pub use block::BlockSink;

/// The lines of `text` as `text.split('\n')` gives them (the last one after the last break,
/// empty when the text ends with one), the breaks found with a vectorised search: rendered
/// documents and patches are split into lines on every planned overlay.
pub fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let line = &text[start..end];
            start = end + 1;
            line
        })
}

/// What the line-based first tier of [`parse_stream`] reads of `text`, reported to `sink`
/// event by event instead of built as values (see [`BlockSink`]): `Some(())` when that tier
/// answers for `text`, and the events then describe the documents it gives; also `None` for a
/// mapping of more than 64 keys, which that tier reads (duplicates among a mapping's keys are
/// looked for in a list of at most 64, as a sink keeps no map of its own). On `None`,
/// `sink` may have seen part of the stream (the caller drops what it made of it and reads the
/// text with [`parse_stream`]).
pub fn stream_block(text: &str, sink: &mut impl BlockSink) -> Option<()> {
    if text.contains('\u{feff}') || !is_printable(text) {
        return None;
    }
    block::stream(text, sink)
}

/// The documents of a YAML stream, or `None` when the stream leaves this subset.
pub fn parse_stream(text: &str) -> Option<Vec<Value>> {
    // A byte order mark (the reference parser strips it where YAML allows one), or characters
    // YAML does not allow (the reference parser refuses them; this one would not).
    if text.contains('\u{feff}') || !is_printable(text) {
        return None;
    }
    // Plain block documents (nearly every rendered patch) are read line by line first.
    if let Some(docs) = block::parse(text) {
        return Some(docs);
    }
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    // Open collections: a sequence, or a mapping with the key waiting for its value.
    enum Open {
        Seq(Vec<Value>),
        Map(Map<String, Value>, Option<String>),
    }
    let mut stack: Vec<Open> = Vec::new();
    while let Some(item) = parser.next_event() {
        let (event, _) = item.ok()?;
        let value = match event {
            Event::StreamStart
            | Event::DocumentStart(..)
            | Event::DocumentEnd
            | Event::Comment(..) => continue,
            Event::StreamEnd => break,
            Event::Scalar(text, style, anchor, tag) => {
                if anchor != 0 || tag.is_some() {
                    return None;
                }
                scalar(text.into_owned(), style)?
            }
            Event::SequenceStart(_, anchor, tag) | Event::MappingStart(_, anchor, tag)
                if anchor != 0 || tag.is_some() =>
            {
                return None;
            }
            // Past the depth limit the reference parser refuses the text (docs/limits.md).
            Event::SequenceStart(..) | Event::MappingStart(..)
                if stack.len() >= crate::limits::MAX_DEPTH =>
            {
                return None;
            }
            Event::SequenceStart(..) => {
                stack.push(Open::Seq(Vec::new()));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Open::Map(Map::new(), None));
                continue;
            }
            Event::SequenceEnd => match stack.pop()? {
                Open::Seq(items) => Value::Array(items),
                Open::Map(..) => return None,
            },
            Event::MappingEnd => match stack.pop()? {
                Open::Map(m, None) => Value::Object(m),
                _ => return None,
            },
            // Aliases and whatever later parsers emit: not in the subset.
            _ => return None,
        };
        // Attach the finished value to its parent, or end a document.
        match stack.last_mut() {
            None => {
                if value.is_null() {
                    // Empty documents: let the reference parser say what they mean.
                    return None;
                }
                docs.push(value);
            }
            Some(Open::Seq(items)) => items.push(value),
            Some(Open::Map(m, pending)) => match pending.take() {
                None => {
                    let Value::String(key) = value else {
                        return None;
                    };
                    if key == "<<" || m.contains_key(&key) {
                        return None;
                    }
                    *pending = Some(key);
                }
                Some(key) => {
                    m.insert(key, value);
                }
            },
        }
    }
    if stack.is_empty() { Some(docs) } else { None }
}

/// A scalar's value when its type is beyond doubt.
fn scalar(text: String, style: ScalarStyle) -> Option<Value> {
    if style != ScalarStyle::Plain {
        return Some(Value::String(text));
    }
    Some(match resolve_plain(&text)? {
        PlainScalar::Null => Value::Null,
        PlainScalar::Bool(b) => Value::Bool(b),
        PlainScalar::Int(i) => Value::from(i),
        PlainScalar::Float(f) => Value::Number(Number::from_f64(f)?),
        PlainScalar::Str => Value::String(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_lines_is_split_at_each_break() {
        for text in [
            "",
            "\n",
            "a",
            "a\n",
            "a\nb",
            "\n\na\n\nb\n\n",
            "a\r\nb",
            "é\nü",
        ] {
            let ours: Vec<&str> = split_lines(text).collect();
            let std: Vec<&str> = text.split('\n').collect();
            assert_eq!(ours, std, "{text:?}");
        }
    }

    fn reference(text: &str) -> Vec<Value> {
        serde_saphyr::from_multiple_with_options(
            text,
            serde_saphyr::options! { strict_booleans: true },
        )
        .unwrap()
    }

    // Scalar typing is shared with the located reader and tested with it
    // ([`crate::scalar`]); these cases cover this reader's own structure handling.
    #[test]
    fn agrees_with_the_reference_parser_where_it_answers() {
        let cases = [
            "a: 1\nb: [x, \"y\", 'z']\nc: {d: -2, e: 1.5}\n---\nb: 2\n",
            "spec:\n  containers:\n  - name: x\n    resources: {limits: {cpu: 500m}}\n",
            "data:\n  conf: |\n    line one\n  other: >-\n    folded\n    text\nc:\nd: ~\n",
        ];
        for text in cases {
            let fast = parse_stream(text).unwrap_or_else(|| panic!("fast path refused {text:?}"));
            assert_eq!(fast, reference(text), "{text}");
        }
    }

    #[test]
    fn the_printable_check_takes_each_character_as_yaml_does() {
        let by_char = |text: &str| {
            text.chars().all(|c| match c {
                '\t' | '\n' | '\r' | '\u{85}' => true,
                c if (c as u32) < 0x20 => false,
                '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => false,
                _ => true,
            })
        };
        for c in (0u32..0x200).chain([0x2028, 0xfeff, 0xfffe, 0xffff, 0x1f600]) {
            let Some(c) = char::from_u32(c) else { continue };
            for text in [
                format!("{c}"),
                format!("ab\n{c}cd"),
                format!("{c}{}", "x".repeat(40)),
            ] {
                assert_eq!(is_printable(&text), by_char(&text), "{text:?}");
            }
        }
    }

    /// Builds values from [`stream_block`]'s events, checking that they come in an order that
    /// makes values. (Independent of the sink that [`parse_block_stream`] builds values with.)
    #[derive(Default)]
    struct Rebuild {
        docs: Vec<Value>,
        open: Vec<(Value, Option<String>)>,
    }

    impl Rebuild {
        fn add(&mut self, value: Value) {
            match self.open.last_mut() {
                Some((Value::Array(items), _)) => items.push(value),
                Some((Value::Object(m), key)) => {
                    m.insert(key.take().unwrap(), value);
                }
                None => self.docs.push(value),
                Some(_) => unreachable!(),
            }
        }
    }

    impl BlockSink for Rebuild {
        fn start_document(&mut self) {
            assert!(self.open.is_empty());
        }
        fn key(&mut self, key: &str) {
            let (Value::Object(_), pending) = self.open.last_mut().unwrap() else {
                panic!("a key outside a mapping");
            };
            assert!(pending.replace(key.to_owned()).is_none());
        }
        fn begin_map(&mut self) {
            self.open.push((Value::Object(Map::new()), None));
        }
        fn begin_seq(&mut self) {
            self.open.push((Value::Array(Vec::new()), None));
        }
        fn value(&mut self, value: Value) {
            self.add(value);
        }
        fn end(&mut self) {
            let (value, pending) = self.open.pop().unwrap();
            assert!(pending.is_none());
            assert!(value.as_object().is_none_or(|m| !m.is_empty()));
            assert!(value.as_array().is_none_or(|a| !a.is_empty()));
            self.add(value);
        }
        fn end_document(&mut self) {
            assert!(self.open.is_empty());
        }
    }

    /// [`stream_block`] answers exactly when `expected` is some, with those documents.
    fn assert_streams(text: &str, expected: Option<Vec<Value>>) {
        let mut rebuild = Rebuild::default();
        let streamed = stream_block(text, &mut rebuild).map(|()| rebuild.docs);
        assert_eq!(streamed, expected, "{text:?}");
    }

    #[test]
    fn the_line_reader_agrees_with_the_reference_parser_where_it_answers() {
        let cases = [
            "a: 1\nb: x\n",
            "# c\n\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n  # note\n  annotations:\n    edgefleet.io/outage-buffer: \"64Mi\"\n",
            "spec:\n  template:\n    spec:\n      containers:\n        - name: otelcol\n          env:\n            - name: A\n              value: \"s-0001\"\n          resources: {}\n",
            "list:\n- a\n- - b\n  - c\n-\n- d: 1\n  e: [1, \"x\", {f: null}]\nnext: true\n",
            "a: {\"node-role.kubernetes.io/edge\":\"\",\"edgefleet.io/site\":\"s-1\"}\nb: [{\"key\":\"k\",\"operator\":\"Exists\"}]\n",
            "securityContext: {runAsUser: null, runAsGroup: null, fsGroup: null}\n",
            "v:\n  - {name: bridge-tls, mountPath: /mosquitto/bridge-tls, readOnly: true}\n  - 288  # 0440\n",
            "s: \"line\\none\\t\\\"q\\\" \\\\ \\/ \\u00e9 \\u0085 \\ud7ff é # not a comment\"\n",
            "num: -17\nf: 12.5\nq: 500m\nimage: nginx:1.25\nurl: http://x.example/v1\nv: 0.139.0\nr: ../base\n",
            "a: 1\n---\nb: 2\n---\n- x\n",
            "k:   \n  x: 1\nempty:\nlast: \"\"\n",
            "  indented: 1\n  root: 2\n",
            "20-site.conf: \"x\\n\"\n\"quoted key\": 1\n",
            "a:\n  -\n  - 1\n",
            "e1: {}\ne2: []\ne3: [[], {}, [1, [2]]]\n",
            "a:\n  x: 1\n  b:\n    x: 2\nb:\n  x: 3\nc:\n- x: 4\n- x: 5\n",
        ];
        let many: String = (0..70).map(|i| format!("k{i}: {i}\n")).collect();
        // Many keys: the value-building reader reads them (the streaming one does not, below).
        assert_eq!(parse_block_stream(&many), Some(reference(&many)));
        for text in cases {
            let fast = parse_block_stream(text)
                .unwrap_or_else(|| panic!("the line reader refused {text:?}"));
            assert_eq!(fast, reference(text), "{text}");
            assert_eq!(parse_stream(text), Some(fast.clone()), "{text}");
            assert_streams(text, Some(fast));
        }
    }

    #[test]
    fn the_line_reader_leaves_anything_else_to_the_event_reader() {
        let cases = [
            "a: 1\n  b: 2\n",
            "a: one two\n",
            "a: x\n  y\n",
            "a: 'x'\n",
            "a: |\n  x\n",
            "a: >\n  x\n",
            "a: &x 1\n",
            "a: *x\n",
            "a: !t 1\n",
            "a: \"x\n  y\"\n",
            "a: {b: 1,\n  c: 2}\n",
            "a: {b: 1,}\n",
            "a: [b: 1]\n",
            "a: {b:1}\n",
            "a: x#y\n",
            "a:\tb\n",
            "a: b\r\n",
            "a: 1\na: 2\n",
            "a: 1\n\"a\": 2\n",
            "\"a\\u0062\": 1\nab: 2\n",
            "a:\n  x: 1\n  b:\n    x: 2\n  x: 3\n",
            "- a: 1\n  a: 2\n",
            "<<: {a: 1}\n",
            "? a\n: b\n",
            "1: a\n",
            "a: yes\n",
            "a: 1e3\n",
            "a: \"\\x41\"\n",
            "a: \"\\ud800\"\n",
            "a: 1\n---\n",
            "---\n---\na: 1\n",
            "--- a\n",
            "a: 1\n...\n",
            "%YAML 1.2\n---\na: 1\n",
            "plain scalar\n",
            "\n# only a comment\n",
            "a: 1\n- b\n",
            "- a\nb: 1\n",
            "a: -\n",
            "a: b: c\n",
            "a: \"x\"y\n",
            "a: [1] 2\n",
            "a: x\u{2028}y\n",
        ];
        let many: String = (0..70).map(|i| format!("k{i}: {i}\n")).collect();
        let long_keys = [
            format!("{}: 1\n", "k".repeat(1001)),
            format!("\"{}\": 1\n", "k".repeat(1001)),
            format!("a: {{{}: 1}}\n", "k".repeat(1001)),
            // A duplicate past the streaming reader's list of keys.
            format!("{many}k3: x\n"),
            format!("m:\n{}  k0: x\n", many.replace("k", "  k")),
        ];
        let cases = cases
            .iter()
            .copied()
            .chain(long_keys.iter().map(String::as_str));
        for text in cases {
            assert_eq!(parse_block_stream(text), None, "{text:?}");
            assert_streams(text, None);
        }
        // Many keys: the streaming reader leaves the duplicate check to the other readers.
        assert_streams(&many, None);
    }

    #[test]
    fn anything_beyond_the_subset_goes_to_the_reference_parser() {
        let cases = [
            "a: &x 1\nb: *x\n",
            "a: !!str 1\n",
            "a: 1\na: 2\n<<: {a: 1}\n",
            "1: a\n",
            "a: yes\n",
        ];
        for text in cases.into_iter().chain(["a: 1\n---\n", "a: [1\n"]) {
            assert_eq!(parse_stream(text), None, "{text:?}");
        }
    }
}
