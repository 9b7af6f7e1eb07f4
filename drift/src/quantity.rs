//! Kubernetes quantities compared by value, exactly: `1000m` = `1`, `0.5` = `500m`,
//! `1Gi` = `1073741824` = `1024Mi`, `1e3` = `1k`.
//!
//! The API server re-serialises every quantity in its canonical form (`0.5` comes back as
//! `500m`, `1024Mi` as `1Gi`), so the text Git holds and the text the cluster returns differ for
//! the same value. A quantity is read as `mantissa × 2^a × 5^b` with the mantissa's factors of
//! 2 and 5 moved into the exponents: two quantities are equal exactly when those three numbers
//! are (unique factorisation), with no floating point and no overflow whatever the suffix.

use serde_json::Value;

/// A quantity in lowest terms: `sign × odd_part × 2^twos × 5^fives`, `odd_part` coprime to 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    negative: bool,
    odd_part: u128,
    twos: i64,
    fives: i64,
}

impl Quantity {
    const ZERO: Quantity = Quantity {
        negative: false,
        odd_part: 0,
        twos: 0,
        fives: 0,
    };

    /// Parses Kubernetes' quantity grammar: `[+-]digits[.digits]` then a binary suffix
    /// (`Ki` … `Ei`), a decimal suffix (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`) or a
    /// decimal exponent (`e3`, `E-2`). `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Quantity> {
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first()? {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let number_end = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (number, suffix) = t.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let digits = format!("{whole}{fraction}");
        let digits = digits.trim_start_matches('0');
        // 38 digits fit a u128; a longer mantissa is not a quantity anyone writes.
        if digits.len() > 38 {
            return None;
        }
        let mantissa: u128 = if digits.is_empty() {
            0
        } else {
            digits.parse().ok()?
        };
        let mut tens = -(fraction.len() as i64);
        let mut twos = 0i64;
        match suffix {
            "" => {}
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let step = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                    .iter()
                    .position(|s| *s == suffix)? as i64
                    + 1;
                twos += 10 * step;
            }
            "n" => tens -= 9,
            "u" => tens -= 6,
            "m" => tens -= 3,
            "k" => tens += 3,
            "M" => tens += 6,
            "G" => tens += 9,
            "T" => tens += 12,
            "P" => tens += 15,
            "E" => tens += 18,
            s if s.starts_with(['e', 'E']) => {
                let exponent: i64 = s[1..].parse().ok()?;
                if exponent.abs() > 1_000 {
                    return None;
                }
                tens += exponent;
            }
            _ => return None,
        }
        if mantissa == 0 {
            return Some(Quantity::ZERO);
        }
        let mut odd_part = mantissa;
        let mut fives = tens;
        twos += tens;
        while odd_part.is_multiple_of(2) {
            odd_part /= 2;
            twos += 1;
        }
        while odd_part.is_multiple_of(5) {
            odd_part /= 5;
            fives += 1;
        }
        Some(Quantity {
            negative,
            odd_part,
            twos,
            fives,
        })
    }

    /// A JSON scalar as a quantity: a string, or a number (`cpu: 0.5`, `memory: 1073741824`).
    pub(crate) fn of(v: &Value) -> Option<Quantity> {
        match v {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            _ => None,
        }
    }
}

/// Whether two JSON scalars are the same quantity (both must read as quantities).
pub(crate) fn same_quantity(a: &Value, b: &Value) -> bool {
    match (Quantity::of(a), Quantity::of(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|| panic!("`{s}` is a quantity"))
    }

    #[test]
    fn equal_values_written_differently_are_equal() {
        for (a, b) in [
            ("1000m", "1"),
            ("0.5", "500m"),
            (".5", "500m"),
            ("1Gi", "1073741824"),
            ("1Gi", "1024Mi"),
            ("1.5Gi", "1536Mi"),
            ("1k", "1e3"),
            ("1k", "1000"),
            ("1M", "1000k"),
            ("100u", "100000n"),
            ("0", "0m"),
            ("0", "0Gi"),
            ("+2", "2"),
            ("2.000", "2"),
            ("1E", "1000P"),
            ("1Ei", "1024Pi"),
            ("12e-3", "12m"),
        ] {
            assert_eq!(q(a), q(b), "{a} = {b}");
        }
    }

    #[test]
    fn different_values_differ() {
        for (a, b) in [
            ("1", "1001m"),
            ("1Gi", "1G"),
            ("1Mi", "1M"),
            ("-1", "1"),
            ("128Mi", "129Mi"),
            ("1", "10"),
        ] {
            assert_ne!(q(a), q(b), "{a} != {b}");
        }
    }

    #[test]
    fn numbers_and_strings_compare_by_value() {
        assert!(same_quantity(&json!(0.5), &json!("500m")));
        assert!(same_quantity(&json!(1), &json!("1000m")));
        assert!(same_quantity(&json!(1073741824u64), &json!("1Gi")));
        assert!(!same_quantity(&json!("fast"), &json!("fast")));
    }

    #[test]
    fn malformed_quantities_are_refused() {
        for s in ["", "Gi", "1.2.3", "1Xi", "1 Gi", "abc", "1e", "-", "."] {
            assert!(Quantity::parse(s).is_none(), "`{s}`");
        }
    }
}
