//! Plain YAML scalars whose type is beyond doubt, for the fast YAML readers.
//!
//! Two readers skip the reference parser (serde-saphyr) when they can: the located reader in
//! [`source`](crate::source) (every file the linter and the inventory loader read) and the
//! generator's reader of its own rendered patches (`edgefleet-overlays`, `fastyaml`). Both must
//! type a plain scalar exactly as the reference parser does (YAML 1.2, only `true`/`false` are
//! booleans) or hand the whole stream back to it. This module is that one decision.

/// The type of a plain scalar, when no resolver could read it otherwise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlainScalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// The text itself.
    Str,
}

/// How the reference parser reads a plain (unquoted, non-block) scalar, or `None` when the text
/// is doubtful: a word some resolver reads as a boolean, null or special float (`yes`, `On`,
/// `.inf`), or a number in a notation other than plain decimal (`1e3`, `0x1F`, `012`, `1_000`,
/// dates, times). Quoted and block scalars are always strings and need no call.
pub fn resolve_plain(text: &str) -> Option<PlainScalar> {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Some(PlainScalar::Null);
    };
    match text {
        "null" | "~" => return Some(PlainScalar::Null),
        "true" => return Some(PlainScalar::Bool(true)),
        "false" => return Some(PlainScalar::Bool(false)),
        _ => {}
    }
    if first.is_ascii_alphabetic() || first == b'_' || first == b'/' {
        const DOUBTFUL: [&str; 12] = [
            "null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity",
        ];
        if DOUBTFUL.iter().any(|w| text.eq_ignore_ascii_case(w)) {
            return None;
        }
        return Some(PlainScalar::Str);
    }
    if first.is_ascii_digit() || first == b'-' {
        let digits = text.strip_prefix('-').unwrap_or(text);
        // Plain decimal integers without leading zeros.
        if !digits.is_empty()
            && digits.len() <= 18
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
        {
            return text.parse::<i64>().ok().map(PlainScalar::Int);
        }
        // Plain decimals `12.5`.
        if let Some((int, frac)) = digits.split_once('.')
            && !int.is_empty()
            && !frac.is_empty()
            && int.bytes().all(|b| b.is_ascii_digit())
            && frac.bytes().all(|b| b.is_ascii_digit())
            && (int == "0" || !int.starts_with('0'))
        {
            return text
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(PlainScalar::Float);
        }
        // Versions and addresses such as `0.139.0`, `10.0.0.1`: no number notation has two dots.
        if digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && digits.bytes().filter(|&b| b == b'.').count() >= 2
        {
            return Some(PlainScalar::Str);
        }
        // Quantities such as `500m`, `64Mi`, names such as `20-site.conf`: a letter that no
        // number, date or time notation uses makes it a string. Anything else is left to the
        // reference parser.
        if text.bytes().any(|b| {
            b.is_ascii_alphabetic()
                && !matches!(b, b'a'..=b'f' | b'A'..=b'F' | b'x' | b'X' | b'o' | b'O')
        }) {
            return Some(PlainScalar::Str);
        }
        return None;
    }
    if first == b'+' {
        return None;
    }
    // `.5`, `.inf`, `.NaN` are floats to some resolver; `../base`, `.hidden` are not.
    if first == b'.'
        && bytes
            .get(1)
            .is_none_or(|b| b.is_ascii_digit() || matches!(b, b'i' | b'I' | b'n' | b'N'))
    {
        return None;
    }
    Some(PlainScalar::Str)
}
