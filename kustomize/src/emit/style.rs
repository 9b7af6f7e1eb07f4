//! Scalar analysis and style choice (libyaml's rules).

use super::*;

/// What libyaml's emitter finds in a scalar before choosing how to write it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Analysis {
    pub(super) multiline: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
    block_allowed: bool,
}

/// A fast path for the common case (names, images, paths, label values): a string of ASCII
/// letters, digits and `-._/:@+=` that starts with a letter and does not end with `:` needs no
/// analysis: the only indicators it could hold are `:` before a space or the end (no spaces,
/// no final `:`), and it has no line break or special character. Whether it resolves to another
/// type is still decided by the caller.
pub(super) fn is_plain_token(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.last() != Some(&b':')
        && bytes.iter().all(|&b| {
            b.is_ascii_alphanumeric()
                || matches!(b, b'-' | b'.' | b'_' | b'/' | b':' | b'@' | b'+' | b'=')
        })
}

pub(super) fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's printable set: LF, ASCII 0x20-0x7E, and U+00A0..U+D7FF, U+E000..U+FFFD except the
/// byte order mark. Everything else, including tab and all characters outside the BMP, is not.
pub(super) fn is_printable(c: char) -> bool {
    let code = u32::from(c);
    c == '\n'
        || (0x20..=0x7E).contains(&code)
        || (0xA0..=0xD7FF).contains(&code)
        || ((0xE000..=0xFFFD).contains(&code) && code != 0xFEFF)
}

pub(super) fn analyze(text: &str) -> Analysis {
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
pub(super) fn requested_string_style(s: &str) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if resolves_to_non_string(s) || is_base60_float(s) {
        Style::DoubleQuoted
    } else {
        Style::Plain
    }
}

/// The emitter's final choice, from the requested style and the analysis (block context).
pub(super) fn select_style(
    text: &str,
    analysis: &Analysis,
    requested: Style,
    simple_key: bool,
) -> Style {
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
