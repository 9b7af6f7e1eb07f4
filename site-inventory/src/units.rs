//! Kubernetes resource quantities and durations as users write them (`"500m"`, `14Gi`, `72h`).

use std::fmt;

/// A Kubernetes resource quantity, kept as written and as a number.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    pub text: String,
    /// The value in base units (cores for CPU, bytes for memory).
    pub value: f64,
}

impl Quantity {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
            .unwrap_or(t.len());
        let (number, suffix) = t.split_at(split);
        let multiplier = match suffix {
            "" => 1.0,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024.0,
            "Mi" => 1024.0_f64.powi(2),
            "Gi" => 1024.0_f64.powi(3),
            "Ti" => 1024.0_f64.powi(4),
            "Pi" => 1024.0_f64.powi(5),
            "Ei" => 1024.0_f64.powi(6),
            _ => {
                return Err(format!(
                    "`{text}` is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 14Gi)"
                ));
            }
        };
        let n: f64 = number.parse().map_err(|_| {
            format!("`{text}` is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 14Gi)")
        })?;
        if !n.is_finite() || n < 0.0 {
            return Err(format!("`{text}` must be a non-negative quantity"));
        }
        Ok(Self {
            text: t.to_owned(),
            value: n * multiplier,
        })
    }

    /// Millicores, for CPU quantities.
    pub fn millis(&self) -> u64 {
        (self.value * 1000.0).round() as u64
    }

    /// Whole MiB, for memory and storage quantities.
    pub fn mib(&self) -> u64 {
        (self.value / (1024.0 * 1024.0)).floor() as u64
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A duration written as `72h`, `15m`, `1h30m`, `2d`, `90s` or `0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duration {
    pub text: String,
    pub seconds: u64,
}

impl Duration {
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("`{text}` is not a duration (e.g. 90s, 15m, 72h, 2d, 1h30m)");
        if t == "0" {
            return Ok(Self {
                text: t.to_owned(),
                seconds: 0,
            });
        }
        if t.is_empty() {
            return Err(bad());
        }
        let mut seconds: u64 = 0;
        let mut rest = t;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let factor = match &rest[..unit_len] {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            seconds = n
                .checked_mul(factor)
                .and_then(|v| seconds.checked_add(v))
                .ok_or_else(bad)?;
        }
        Ok(Self {
            text: t.to_owned(),
            seconds,
        })
    }

    /// The duration in Go's `time.ParseDuration` notation (ArgoCD fields take that): `72h0m0s`.
    pub fn go_format(&self) -> String {
        let h = self.seconds / 3600;
        let m = (self.seconds % 3600) / 60;
        let s = self.seconds % 60;
        if h > 0 {
            format!("{h}h{m}m{s}s")
        } else if m > 0 {
            format!("{m}m{s}s")
        } else {
            format!("{s}s")
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(Quantity::parse("500m").unwrap().millis(), 500);
        assert_eq!(Quantity::parse("6").unwrap().millis(), 6000);
        assert_eq!(Quantity::parse("1.5").unwrap().millis(), 1500);
        assert_eq!(Quantity::parse("14Gi").unwrap().mib(), 14 * 1024);
        assert_eq!(Quantity::parse("512Mi").unwrap().mib(), 512);
        assert_eq!(Quantity::parse("1G").unwrap().value, 1e9);
        assert!(Quantity::parse("12 cores").is_err());
        assert!(Quantity::parse("Gi").is_err());
        assert!(Quantity::parse("-1").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("72h").unwrap().seconds, 259_200);
        assert_eq!(Duration::parse("1h30m").unwrap().seconds, 5_400);
        assert_eq!(Duration::parse("2d").unwrap().seconds, 172_800);
        assert_eq!(Duration::parse("0").unwrap().seconds, 0);
        assert_eq!(Duration::parse("15m").unwrap().go_format(), "15m0s");
        assert_eq!(Duration::parse("72h").unwrap().go_format(), "72h0m0s");
        for bad in ["", "h", "5x", "1.5h", "99999999999999999999d"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }
}
