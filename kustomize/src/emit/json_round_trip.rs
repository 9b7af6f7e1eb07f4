//! What kustomize's JSON round trip does to strings.

use super::*;

/// A string as kustomize holds it after its JSON round trip. Go's JSON encoder escapes every
/// line break except NEL (U+0085), so a NEL reaches the YAML parser raw, inside a double-quoted
/// scalar, where it is a line fold: spaces around it vanish, one NEL becomes a space, `n` NELs in
/// a row become `n - 1` newlines.
pub(super) fn through_json(s: &str) -> Cow<'_, str> {
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
