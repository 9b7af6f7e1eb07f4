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
        // Versions and addresses such as `0.139.0`, `10.0.0.1`, `0.0.0.0:4317`: no number, date
        // or time notation has two dots.
        if digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b':')
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference parser's reading of `a: <text>`, as JSON.
    fn reference(text: &str) -> serde_json::Value {
        let doc: serde_json::Value = serde_saphyr::from_str_with_options(
            &format!("a: {text}\n"),
            serde_saphyr::options! { strict_booleans: true },
        )
        .unwrap();
        doc["a"].clone()
    }

    #[test]
    fn agrees_with_the_reference_parser_where_it_answers() {
        for text in [
            "",
            "~",
            "null",
            "true",
            "false",
            "0",
            "-17",
            "42",
            "12.5",
            "-0.25",
            "500m",
            "64Mi",
            "9921Mi",
            "-5s",
            "25.10-py3",
            "20-site.conf",
            "0.139.0",
            "10.0.0.1",
            "0.0.0.0:4317",
            "1.2.3:4",
            "1..2",
            "-1.2.3",
            "../../base",
            ".hidden",
            "/path/x",
            "_x",
            "value with spaces",
            "https://x.example.net:8443/v1",
            "--model-repository=/models",
        ] {
            let Some(resolved) = resolve_plain(text) else {
                panic!("refused {text:?}");
            };
            let ours = match resolved {
                PlainScalar::Null => serde_json::Value::Null,
                PlainScalar::Bool(b) => b.into(),
                PlainScalar::Int(i) => i.into(),
                PlainScalar::Float(f) => f.into(),
                PlainScalar::Str => text.into(),
            };
            assert_eq!(ours, reference(text), "{text:?}");
        }
    }

    #[test]
    fn doubtful_scalars_are_left_to_the_reference_parser() {
        for text in [
            "yes",
            "No",
            "On",
            "off",
            "y",
            "NaN",
            "Infinity",
            "1e3",
            "1E3",
            "0x1F",
            "0xBEEF",
            "0o17",
            "012",
            "1_000",
            "2001-12-14",
            "12:30",
            ".inf",
            ".NaN",
            ".5",
            "+1",
            "123456789012345678901",
        ] {
            assert_eq!(resolve_plain(text), None, "{text:?}");
        }
    }
}
