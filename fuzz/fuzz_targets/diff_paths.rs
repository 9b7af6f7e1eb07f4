#![no_main]
//! See `edgefleet_fuzz_checks::diff_paths` for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| edgefleet_fuzz_checks::diff_paths(data));
