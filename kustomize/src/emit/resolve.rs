//! go-yaml v2's implicit typing (YAML 1.1 flavoured).

/// `true` when go-yaml v2 would read `s`, unquoted, as something other than a string: null,
/// a YAML 1.1 boolean, an integer (decimal, octal, hex, binary, `_` separators), a float, a
/// timestamp or the merge key.
pub(super) fn resolves_to_non_string(s: &str) -> bool {
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
pub(super) fn go_parse_int(s: &str) -> Option<()> {
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
pub(super) fn go_parse_float(s: &str) -> Option<f64> {
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
pub(super) fn go_underscores_ok(s: &str) -> bool {
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
pub(super) fn is_yaml_style_float(s: &str) -> bool {
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
pub(super) fn is_base60_float(s: &str) -> bool {
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
pub(super) fn is_timestamp(s: &str) -> bool {
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

pub(super) struct Timestamp<'a> {
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

pub(super) fn parse_timestamp(s: &str) -> Option<Timestamp<'_>> {
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
