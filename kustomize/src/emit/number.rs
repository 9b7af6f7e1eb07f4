//! Numbers.

use super::*;

/// A JSON number as kustomize prints it: Go's `encoding/json` writes it, go-yaml v2 reads that
/// text back (an integer if it parses as one, else a float) and prints floats with Go's `%g`
/// shortest form (`1e+06`, `1.5e-07`).
pub(super) fn format_number(n: &Number) -> String {
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
pub(super) fn shortest_digits(f: f64) -> (String, i32) {
    let sci = format!("{:e}", f.abs()); // e.g. "1.2345e3"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exp.parse().unwrap_or(0))
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)`.
pub(super) fn go_format_g(negative: bool, digits: &str, exp: i32) -> String {
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
