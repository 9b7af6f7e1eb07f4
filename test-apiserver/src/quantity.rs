//! Resource quantities as the API server re-serialises them (`resource.Quantity`'s canonical
//! form): `0.5` → `500m`, `1024Mi` → `1Gi`, `1000` → `1k`, `1.5Gi` → `1536Mi`.
//!
//! Written from the Kubernetes rules, not from edgefleet's normaliser: a number keeps the
//! format family of its suffix (binary `Ki…Ei`, decimal `n…E` or none, exponent `e3`), is
//! written with the largest suffix that keeps the mantissa an integer, and a binary quantity
//! that is not a whole number of bytes, or whose magnitude is under 1024, is written in the
//! decimal family. Precision below nano is rounded up, as the API server does.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Binary,
    Decimal,
    Exponent,
}

/// The canonical form of a quantity string, or `None` when `text` is not a quantity.
pub fn canonical(text: &str) -> Option<String> {
    let text = text.trim();
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let number_end = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, suffix) = body.split_at(number_end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int_part}{frac_part}");
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: i128 = digits.parse().ok()?;
    // value = mantissa * 10^exp10 * 2^exp2
    let mut exp10: i32 = -(frac_part.len() as i32);
    let mut exp2: i32 = 0;
    let format = match suffix {
        "" => Format::Decimal,
        "n" => {
            exp10 -= 9;
            Format::Decimal
        }
        "u" => {
            exp10 -= 6;
            Format::Decimal
        }
        "m" => {
            exp10 -= 3;
            Format::Decimal
        }
        "k" => {
            exp10 += 3;
            Format::Decimal
        }
        "M" => {
            exp10 += 6;
            Format::Decimal
        }
        "G" => {
            exp10 += 9;
            Format::Decimal
        }
        "T" => {
            exp10 += 12;
            Format::Decimal
        }
        "P" => {
            exp10 += 15;
            Format::Decimal
        }
        "E" => {
            exp10 += 18;
            Format::Decimal
        }
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let n = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
                .iter()
                .position(|s| *s == suffix)
                .unwrap_or(0) as i32
                + 1;
            exp2 = 10 * n;
            Format::Binary
        }
        s if s.starts_with(['e', 'E']) => {
            let e: i32 = s[1..].parse().ok()?;
            exp10 += e;
            Format::Exponent
        }
        _ => return None,
    };
    if mantissa == 0 {
        return Some("0".to_owned());
    }
    // Fold the binary exponent into the mantissa (exactly).
    for _ in 0..exp2 {
        mantissa = mantissa.checked_mul(2)?;
    }
    // Strip decimal trailing zeros into the exponent.
    while mantissa % 10 == 0 {
        mantissa /= 10;
        exp10 += 1;
    }
    // Round up below nano.
    if exp10 < -9 {
        let shift = (-9 - exp10) as u32;
        let div = 10i128.checked_pow(shift)?;
        mantissa = (mantissa + div - 1) / div;
        exp10 = -9;
        while mantissa % 10 == 0 && mantissa != 0 {
            mantissa /= 10;
            exp10 += 1;
        }
    }
    let sign = if negative { "-" } else { "" };
    let mut format = format;
    if format == Format::Binary {
        // Whole bytes and at least 1024 in magnitude, or decimal.
        if exp10 < 0 {
            format = Format::Decimal;
        } else {
            let bytes = mantissa.checked_mul(10i128.checked_pow(exp10 as u32)?)?;
            if bytes < 1024 {
                format = Format::Decimal;
            } else {
                let mut value = bytes;
                let mut n = 0;
                while value % 1024 == 0 && n < 6 {
                    value /= 1024;
                    n += 1;
                }
                let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"][n];
                return Some(format!("{sign}{value}{suffix}"));
            }
        }
    }
    // Decimal: exponent down to a multiple of 3.
    let mut e = exp10;
    while e.rem_euclid(3) != 0 {
        mantissa = mantissa.checked_mul(10)?;
        e -= 1;
    }
    match format {
        Format::Exponent => {
            if e == 0 {
                Some(format!("{sign}{mantissa}"))
            } else {
                Some(format!("{sign}{mantissa}e{e}"))
            }
        }
        _ => {
            let suffix = match e {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                0 => "",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                _ if e > 18 => {
                    let m = mantissa.checked_mul(10i128.checked_pow((e - 18) as u32)?)?;
                    return Some(format!("{sign}{m}E"));
                }
                _ => return None,
            };
            Some(format!("{sign}{mantissa}{suffix}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn canonical_forms() {
        for (input, want) in [
            ("0.5", "500m"),
            ("1024Mi", "1Gi"),
            ("1000m", "1"),
            ("1", "1"),
            ("2", "2"),
            ("100m", "100m"),
            ("250m", "250m"),
            ("1.5Gi", "1536Mi"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("2000Mi", "2000Mi"),
            ("128Mi", "128Mi"),
            ("1G", "1G"),
            ("1000M", "1G"),
            ("0.5Ki", "512"),
            ("1073741824", "1073741824"),
            ("0.1", "100m"),
            ("1e3", "1e3"),
            ("0", "0"),
            ("0.0001", "100u"),
            ("10Gi", "10Gi"),
            ("0.25", "250m"),
        ] {
            assert_eq!(canonical(input).as_deref(), Some(want), "{input}");
        }
        assert_eq!(canonical("abc"), None);
        assert_eq!(canonical("1Qi"), None);
    }
}
