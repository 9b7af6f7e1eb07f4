//! Outage rules: what a workload declares about the data it sends upstream, judged against the
//! backhaul of the site it lands on. See `docs/outage.md`.

pub mod buffer_below_outage;
pub mod certificate_renew_before;
pub mod upstream_exceeds_link;

use crate::manifest::Manifest;

/// The rate the workload sends upstream while connected, in kbit/s (1 kbit = 1000 bits).
pub const UPSTREAM_KBPS: &str = "edgefleet.io/upstream-kbps";
/// Fraction of that rate kept at the source (sampling, aggregation), in (0, 1]; default 1.
pub const KEEP_RATIO: &str = "edgefleet.io/upstream-keep-ratio";
/// Share of the site's link the workload may use, in (0, 1]; default 1 (the whole link).
pub const LINK_SHARE: &str = "edgefleet.io/link-share";
/// Bytes the workload can hold while the link is down (a Kubernetes quantity: `7911Mi`).
pub const OUTAGE_BUFFER: &str = "edgefleet.io/outage-buffer";
/// The pod volume that stores the buffer; its `emptyDir.sizeLimit` must hold it.
pub const OUTAGE_BUFFER_VOLUME: &str = "edgefleet.io/outage-buffer-volume";

/// JSON pointer of an annotation of the object.
pub(crate) fn annotation_ptr(key: &str) -> String {
    format!(
        "/metadata/annotations/{}",
        kube_basics::pointer::escape(key)
    )
}

/// An annotation's value: absent, or present and valid, or present and invalid (with why).
pub(crate) enum Declared<T> {
    Absent,
    Valid(T),
    Invalid(String),
}

/// A non-negative, finite number of kbit/s.
pub(crate) fn rate(m: &Manifest) -> Declared<f64> {
    number(
        m,
        UPSTREAM_KBPS,
        |v| v >= 0.0,
        "a number of kbit/s, e.g. \"256\"",
    )
}

/// A fraction in (0, 1]; absent means 1.
pub(crate) fn fraction(m: &Manifest, key: &str) -> Declared<f64> {
    number(
        m,
        key,
        |v| v > 0.0 && v <= 1.0,
        "a fraction in (0, 1], e.g. \"0.25\"",
    )
}

fn number(m: &Manifest, key: &str, ok: fn(f64) -> bool, expected: &str) -> Declared<f64> {
    let Some(text) = m.annotation(key) else {
        return Declared::Absent;
    };
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && ok(v) => Declared::Valid(v),
        _ => Declared::Invalid(format!("`{key}: {text}` is not {expected}")),
    }
}

/// A Kubernetes quantity in bytes.
pub(crate) fn bytes(m: &Manifest, key: &str) -> Declared<f64> {
    let Some(text) = m.annotation(key) else {
        return Declared::Absent;
    };
    match edgefleet_inventory::units::Quantity::parse(text) {
        Ok(q) if q.value.is_finite() => Declared::Valid(q.value),
        _ => Declared::Invalid(format!(
            "`{key}: {text}` is not a size in bytes (a Kubernetes quantity, e.g. \"7911Mi\")"
        )),
    }
}

/// The kept upstream rate in kbit/s (declared rate × keep ratio), when both are valid.
pub(crate) fn kept_rate(m: &Manifest) -> Option<(f64, f64, f64)> {
    let Declared::Valid(rate) = rate(m) else {
        return None;
    };
    let keep = match fraction(m, KEEP_RATIO) {
        Declared::Absent => 1.0,
        Declared::Valid(k) => k,
        Declared::Invalid(_) => return None,
    };
    Some((rate, keep, rate * keep))
}

/// Bytes a stream of `kbps` kbit/s produces in `seconds`.
pub(crate) fn bytes_for(kbps: f64, seconds: u64) -> f64 {
    kbps * 1000.0 / 8.0 * seconds as f64
}

/// Bytes as the largest exact binary unit that reads well: `7911Mi`, `2Gi`, `512Ki`.
pub(crate) fn show_bytes(bytes: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes >= MIB {
        format!("{}Mi", (bytes / MIB).ceil() as u64)
    } else if bytes >= 1024.0 {
        format!("{}Ki", (bytes / 1024.0).ceil() as u64)
    } else {
        format!("{} bytes", bytes.ceil() as u64)
    }
}

/// A rate with at most three decimals and no trailing zeros: `256`, `64.5`.
pub(crate) fn show_kbps(kbps: f64) -> String {
    let s = format!("{kbps:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s} kbit/s")
}

/// Seconds as `72h`, `4h30m`, `15m`, `90s`.
pub(crate) fn show_seconds(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// A Go duration (`time.ParseDuration`: `2160h`, `2160h0m0s`, `1.5h`, `90m`, `300ms`), in seconds.
/// Go rejects durations beyond about 292 years (int64 nanoseconds); so does this.
pub(crate) fn go_duration_seconds(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a Go duration (e.g. 720h, 2160h0m0s, 90m)");
    let mut rest = text.trim();
    let negative = match rest.as_bytes().first() {
        Some(b'-') => {
            rest = &rest[1..];
            true
        }
        Some(b'+') => {
            rest = &rest[1..];
            false
        }
        _ => false,
    };
    if rest == "0" {
        return Ok(0.0);
    }
    if rest.is_empty() {
        return Err(bad());
    }
    let mut seconds = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number = &rest[..number_len];
        if number.is_empty() || number == "." || number.matches('.').count() > 1 {
            return Err(bad());
        }
        let value: f64 = number.parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        seconds += value * factor;
        // Go's limit: i64::MAX nanoseconds ≈ 9_223_372_036.85 s.
        if !seconds.is_finite() || seconds > 9_223_372_036.0 {
            return Err(bad());
        }
    }
    Ok(if negative { -seconds } else { seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration_seconds("720h"), Ok(2_592_000.0));
        assert_eq!(go_duration_seconds("2160h0m0s"), Ok(7_776_000.0));
        assert_eq!(go_duration_seconds("1h30m"), Ok(5_400.0));
        assert_eq!(go_duration_seconds("1.5h"), Ok(5_400.0));
        assert_eq!(go_duration_seconds("0"), Ok(0.0));
        assert_eq!(go_duration_seconds("-5m"), Ok(-300.0));
        assert_eq!(go_duration_seconds("300ms"), Ok(0.3));
        assert_eq!(go_duration_seconds("2562047h"), Ok(9_223_369_200.0));
        for bad in [
            "",
            "h",
            "72",
            "3d",
            "1..5h",
            ".h",
            "5 h",
            "-",
            "2562048h",
            "1e3h",
            "99999999999999999999999999999h",
        ] {
            assert!(go_duration_seconds(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostile_sizes_do_not_panic() {
        let needed = bytes_for(1e308, u64::MAX);
        assert!(needed.is_infinite());
        assert_eq!(show_bytes(needed), format!("{}Mi", u64::MAX));
        assert_eq!(show_seconds(f64::INFINITY), show_seconds(u64::MAX as f64));
        assert!(show_kbps(f64::MAX).ends_with(" kbit/s"));
    }

    #[test]
    fn shown_values() {
        assert_eq!(show_seconds(259_200.0), "72h");
        assert_eq!(show_seconds(16_200.0), "4h30m");
        assert_eq!(show_seconds(0.0), "0s");
        assert_eq!(show_kbps(256.0), "256 kbit/s");
        assert_eq!(show_kbps(64.5), "64.5 kbit/s");
        // 7911 MiB exactly, and one byte more (rounded up to the next MiB).
        assert_eq!(show_bytes(8_295_284_736.0), "7911Mi");
        assert_eq!(show_bytes(8_295_284_737.0), "7912Mi");
    }
}
