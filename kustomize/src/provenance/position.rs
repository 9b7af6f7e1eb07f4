//! Positions, read on demand: a YAML reader that keeps the line and column of every node of a
//! source text, and the lines of an inline patch found again inside its kustomization.

use super::*;

#[derive(Clone)]
pub(super) struct Node {
    /// 1-based line, 0-based column in characters, of the text the node was read from.
    line: u32,
    col: u32,
    len: usize,
}

/// How positions inside an inline patch's text map to the file.
pub(super) enum Inline {
    /// A literal block: line `n` of the text is line `first + n - 1` of the file, indented by
    /// `indent` spaces.
    Literal { first: u32, indent: u32 },
    /// Not followable: every position is the string's key.
    Opaque(Node),
}

/// `(document, pointer)` → node, in the text read (the file, or the inline string).
pub(super) type Nodes = HashMap<(usize, Box<str>), Node>;

pub(super) struct Index {
    nodes: Nodes,
    inline: Option<Inline>,
    /// Byte offset of the start of each line of the file.
    lines: Vec<usize>,
}

impl Index {
    pub(super) fn build(text: &str, inline: Option<&str>) -> Option<Index> {
        let lines: Vec<usize> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let Some(pointer) = inline else {
            return Some(Index {
                nodes: read_nodes(text, None)?.0,
                inline: None,
                lines,
            });
        };
        // The string holding the patch, and where it is written.
        let (_, found) = read_nodes(text, Some(pointer))?;
        let found = found?;
        let nodes = read_nodes(&found.value, None)?.0;
        let inline = literal_lines(text, &lines, &found)
            .map(|(first, indent)| Inline::Literal { first, indent })
            .unwrap_or(Inline::Opaque(found.key));
        Some(Index {
            nodes,
            inline: Some(inline),
            lines,
        })
    }

    pub(super) fn position(&self, text: &str, document: usize, pointer: &str) -> Option<Position> {
        let node = self.nodes.get(&(document, Box::from(pointer)))?;
        let (line, col, exact) = match &self.inline {
            None => (node.line, node.col, true),
            Some(Inline::Literal { first, indent }) => {
                (first + node.line - 1, indent + node.col, true)
            }
            Some(Inline::Opaque(key)) => (key.line, key.col, false),
        };
        let len = match &self.inline {
            Some(Inline::Opaque(key)) => key.len,
            _ => node.len,
        };
        let start = *self
            .lines
            .get(usize::try_from(line).ok()?.checked_sub(1)?)?;
        let rest = text.get(start..)?;
        let offset = start
            + rest
                .char_indices()
                .nth(usize::try_from(col).ok()?)
                .map_or(rest.len(), |(i, _)| i);
        Some(Position {
            line,
            column: col + 1,
            offset,
            len,
            exact,
        })
    }
}

/// A string found at the pointer asked for.
pub(super) struct Found {
    value: String,
    literal: bool,
    /// Where the scalar starts (its `|` indicator for a block).
    mark: Node,
    /// Its key.
    key: Node,
}

/// Every node of `text` by `(document, pointer)`: a mapping entry at its key, a list item where
/// it starts (a mapping item at its first key). With `want`, also the string scalar at that
/// pointer of the first document. `None` when the text is not YAML or holds complex keys.
pub(super) fn read_nodes(text: &str, want: Option<&str>) -> Option<(Nodes, Option<Found>)> {
    use yaml_rust2::parser::{Event, Parser};
    use yaml_rust2::scanner::{Marker, TScalarStyle};

    struct Frame {
        pointer: String,
        /// A list: the next item's index; a mapping: `None`.
        item: Option<usize>,
        /// The key being read (a mapping), `None` while a key is expected.
        key: Option<(String, Node)>,
        /// Whether the collection's own position waits for its first content (the reader's
        /// marks for a collection are not where it is written).
        pending: bool,
    }
    let node = |m: Marker, len: usize| Node {
        line: u32::try_from(m.line()).unwrap_or(u32::MAX),
        col: u32::try_from(m.col()).unwrap_or(u32::MAX),
        len,
    };
    let scalar_len = |value: &str, style: TScalarStyle| match style {
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => value.len() + 2,
        _ => value.len().max(1),
    };
    // The collections waiting for a position get this one.
    fn settle(stack: &mut [Frame], nodes: &mut Nodes, document: Option<usize>, at: &Node) {
        for f in stack.iter_mut().rev() {
            if !f.pending {
                break;
            }
            f.pending = false;
            if let Some(d) = document {
                nodes.insert((d, f.pointer.clone().into_boxed_str()), at.clone());
            }
        }
    }

    let mut nodes = HashMap::new();
    let mut found = None;
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    // Non-empty documents seen, and the index of the current one (`None` in an empty one).
    let mut documents = 0usize;
    let mut current: Option<usize> = None;
    let mut document_open = false;
    loop {
        let (event, mark) = parser.next_token().ok()?;
        // A key of the mapping on top of the stack.
        if let Some(f) = stack.last_mut()
            && f.item.is_none()
            && f.key.is_none()
        {
            match event {
                Event::Scalar(k, style, ..) => {
                    let at = node(mark, scalar_len(&k, style));
                    settle(&mut stack, &mut nodes, current, &at);
                    if let Some(f) = stack.last_mut() {
                        f.key = Some((k, at));
                    }
                    continue;
                }
                Event::MappingEnd => {}
                _ => return None,
            }
        }
        let is_collection = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        if is_collection || matches!(event, Event::Scalar(..) | Event::Alias(_)) {
            // Where this value is named, and its pointer.
            let (pointer, key) = match stack.last_mut() {
                None => {
                    let empty = matches!(&event, Event::Scalar(v, TScalarStyle::Plain, ..)
                        if v.is_empty() || v == "~" || v == "null");
                    if document_open {
                        current = (!empty).then_some(documents);
                        documents += usize::from(!empty);
                    }
                    document_open = false;
                    (String::new(), None)
                }
                Some(Frame {
                    pointer: parent,
                    item: Some(i),
                    ..
                }) => {
                    let mut p = parent.clone();
                    p.push('/');
                    p.push_str(&i.to_string());
                    *i += 1;
                    (p, None)
                }
                Some(Frame {
                    pointer: parent,
                    key,
                    ..
                }) => {
                    let (k, at) = key.take()?;
                    let mut p = parent.clone();
                    push(&mut p, &k);
                    (p, Some(at))
                }
            };
            let len = match &event {
                Event::Scalar(v, style, ..) => scalar_len(v, *style),
                _ => 1,
            };
            let pending = key.is_none() && is_collection;
            let here = key.unwrap_or_else(|| node(mark, len));
            if !pending {
                settle(&mut stack, &mut nodes, current, &here);
            }
            if let Some(d) = current {
                if d == 0
                    && want == Some(pointer.as_str())
                    && let Event::Scalar(v, style, ..) = &event
                {
                    found = Some(Found {
                        value: v.clone(),
                        literal: *style == TScalarStyle::Literal,
                        mark: node(mark, 1),
                        key: here.clone(),
                    });
                }
                nodes.insert((d, pointer.clone().into_boxed_str()), here);
            }
            if is_collection {
                let list = matches!(event, Event::SequenceStart(..));
                stack.push(Frame {
                    pointer,
                    item: list.then_some(0),
                    key: None,
                    pending,
                });
            }
            continue;
        }
        match event {
            Event::StreamEnd => return Some((nodes, found)),
            Event::DocumentStart => {
                stack.clear();
                document_open = true;
                current = None;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
}

/// For a literal block scalar whose lines are the file's lines (one indentation): the file line
/// of the string's first line, and the indentation.
pub(super) fn literal_lines(text: &str, lines: &[usize], found: &Found) -> Option<(u32, u32)> {
    if !found.literal {
        return None;
    }
    // The content starts on the line after the key (and the `|` indicator), or where the reader
    // says the scalar starts; the lines themselves decide.
    [found.key.line + 1, found.mark.line]
        .into_iter()
        .find_map(|first| literal_at(text, lines, found, first))
}

pub(super) fn literal_at(
    text: &str,
    lines: &[usize],
    found: &Found,
    first: u32,
) -> Option<(u32, u32)> {
    let line_text = |n: u32| -> Option<&str> {
        let i = usize::try_from(n).ok()?.checked_sub(1)?;
        let start = *lines.get(i)?;
        let end = lines.get(i + 1).map_or(text.len(), |e| e - 1);
        Some(text.get(start..end)?.trim_end_matches('\r'))
    };
    // The final line break ends the last line; it is not a line of its own.
    let value = found.value.strip_suffix('\n').unwrap_or(&found.value);
    let content: Vec<&str> = value.split('\n').collect();
    let first_text = content
        .iter()
        .zip(first..)
        .find(|(l, _)| !l.is_empty())
        .and_then(|(_, n)| line_text(n))?;
    let indent = first_text.len() - first_text.trim_start_matches(' ').len();
    if indent == 0 {
        return None;
    }
    for (want, n) in content.iter().zip(first..) {
        if want.is_empty() {
            // An empty line is a blank line of the file.
            if line_text(n).is_some_and(|l| !l.trim().is_empty()) {
                return None;
            }
            continue;
        }
        let got = line_text(n)?;
        if got.len() != indent + want.len()
            || !got.as_bytes()[..indent].iter().all(|b| *b == b' ')
            || &got[indent..] != *want
        {
            return None;
        }
    }
    Some((first, u32::try_from(indent).ok()?))
}
