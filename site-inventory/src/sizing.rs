//! Outage buffers: how much a workload must hold while the backhaul is down.
//!
//! The generator sizes queues with this and the linter checks them with the same numbers, so the
//! two can never disagree about what "big enough" means.

use serde::Serialize;

use crate::model::{BackhaulProfile, HardwareProfile};

/// What a workload declares about the data it sends upstream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpstreamDemand {
    /// Data rate while connected, in kilobits per second.
    pub upstream_kbps: u64,
    /// Share of the link's bandwidth the workload may use (0..=1).
    pub link_share: f64,
    /// Share of the site's ephemeral storage its buffer may use (0..=1).
    pub buffer_disk_share: f64,
    /// Smallest buffer worth configuring, in MiB.
    pub buffer_min_mib: u64,
}

/// The buffer a workload needs at one site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutageBuffer {
    pub enabled: bool,
    pub upstream_kbps: u64,
    pub link_budget_kbps: u64,
    /// The rate exceeds the link budget: a backlog could never drain, so reduce at source.
    pub reduce: bool,
    /// Fraction of the data to keep (1.0 when not reducing).
    pub keep_ratio: f64,
    pub effective_kbps: f64,
    pub required_mib: u64,
    pub mib: u64,
    /// The disk bound cut the buffer below what the longest outage needs.
    pub bounded_by_disk: bool,
}

impl OutageBuffer {
    /// No upstream data: nothing to buffer.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            upstream_kbps: 0,
            link_budget_kbps: 0,
            reduce: false,
            keep_ratio: 1.0,
            effective_kbps: 0.0,
            required_mib: 0,
            mib: 0,
            bounded_by_disk: false,
        }
    }

    /// Size the buffer: the kept rate × the longest outage, within the disk share.
    ///
    /// When the rate exceeds the link budget, the backlog after an outage would grow forever, so
    /// only part of the data is kept: enough that the kept rate is half the budget and the other
    /// half drains the backlog.
    pub fn compute(
        demand: &UpstreamDemand,
        backhaul: &BackhaulProfile,
        hardware: &HardwareProfile,
    ) -> Self {
        let link_budget =
            (backhaul.bandwidth_kbps as f64 * demand.link_share.clamp(0.0, 1.0)).floor();
        let upstream = demand.upstream_kbps as f64;
        let reduce = upstream > link_budget;
        let keep_ratio = if reduce && upstream > 0.0 {
            // Three decimals, rounded down, never zero: a sampler configured from this keeps data.
            ((link_budget / 2.0 / upstream * 1000.0).floor() / 1000.0).max(0.001)
        } else {
            1.0
        };
        let effective = upstream * keep_ratio;
        let bytes = effective * 1000.0 / 8.0 * backhaul.max_outage.seconds as f64;
        let required_mib = (bytes / (1024.0 * 1024.0)).ceil() as u64;
        let disk_bound = (hardware.ephemeral_storage.mib() as f64
            * demand.buffer_disk_share.clamp(0.0, 1.0))
        .floor() as u64;
        let mib = required_mib.max(demand.buffer_min_mib).min(disk_bound);
        Self {
            enabled: true,
            upstream_kbps: demand.upstream_kbps,
            link_budget_kbps: link_budget as u64,
            reduce,
            keep_ratio,
            effective_kbps: effective,
            required_mib,
            mib,
            bounded_by_disk: required_mib > disk_bound,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceLocation;
    use crate::units::{Duration, Quantity};
    use std::path::Path;
    use std::sync::Arc;

    fn loc() -> SourceLocation {
        SourceLocation::start_of(&Arc::from(Path::new("t.yaml")))
    }

    fn hw(disk: &str) -> HardwareProfile {
        HardwareProfile {
            name: "box".into(),
            arch: "arm64".into(),
            cpu: Quantity::parse("4").unwrap(),
            memory: Quantity::parse("8Gi").unwrap(),
            ephemeral_storage: Quantity::parse(disk).unwrap(),
            accelerators: Default::default(),
            power_watts: 20,
            tee: None,
            location: loc(),
        }
    }

    fn link(kbps: u64, outage: &str) -> BackhaulProfile {
        BackhaulProfile {
            name: "l".into(),
            bandwidth_kbps: kbps,
            metered: false,
            latency_ms: 10,
            max_outage: Duration::parse(outage).unwrap(),
            location: loc(),
        }
    }

    const DEMAND: UpstreamDemand = UpstreamDemand {
        upstream_kbps: 256,
        link_share: 0.25,
        buffer_disk_share: 0.2,
        buffer_min_mib: 64,
    };

    #[test]
    fn buffer_holds_rate_times_outage() {
        // 256 kbit/s for 1 h = 256_000 / 8 * 3600 bytes = 115_200_000 B = 109.86 MiB → 110.
        let b = OutageBuffer::compute(&DEMAND, &link(100_000, "1h"), &hw("100Gi"));
        assert!(!b.reduce);
        assert_eq!(b.required_mib, 110);
        assert_eq!(b.mib, 110);
        assert!(!b.bounded_by_disk);
    }

    #[test]
    fn short_outage_gets_the_minimum() {
        let b = OutageBuffer::compute(&DEMAND, &link(100_000, "1m"), &hw("100Gi"));
        assert_eq!(b.required_mib, 2);
        assert_eq!(b.mib, 64);
    }

    #[test]
    fn small_disk_bounds_the_buffer() {
        // 72 h at 256 kbit/s = 8_294_400_000 B = 7_910.2 MiB → 7_911; 10 GiB × 0.2 = 2048 MiB.
        let b = OutageBuffer::compute(&DEMAND, &link(100_000, "72h"), &hw("10Gi"));
        assert_eq!(b.required_mib, 7_911);
        assert_eq!(b.mib, 2_048);
        assert!(b.bounded_by_disk);
    }

    #[test]
    fn slow_link_reduces_at_source() {
        // 512 kbit/s link, 25% share = 128 kbit/s budget < 256: keep 64/256 = 0.25.
        let b = OutageBuffer::compute(&DEMAND, &link(512, "1h"), &hw("100Gi"));
        assert!(b.reduce);
        assert_eq!(b.link_budget_kbps, 128);
        assert_eq!(b.keep_ratio, 0.25);
        assert_eq!(b.effective_kbps, 64.0);
    }
}
