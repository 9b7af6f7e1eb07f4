//! Benchmark: render every site overlay of a generated tree in-process, then `kubectl kustomize`
//! on a sample of the same overlays, and print the per-overlay ratio.
//!
//! `cargo run --release -p kustomize --example render_fleet -- OUT_DIR [KUBECTL] [SAMPLE]
//! [--provenance]` (`bench/render.sh` prepares a 10,000-site fleet and runs this). With
//! `--provenance` the renderer also records where every field came from (as `lint --fleet`
//! renders), which shows what provenance costs; the YAML is the same.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kustomize::Renderer;
use rayon::prelude::*;

// The same allocator as the `edgefleet` binary, so the figures are the command's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn overlays(out: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let sites = out.join("sites");
    for region in std::fs::read_dir(&sites)
        .expect("a generated tree with sites/")
        .flatten()
    {
        for site in std::fs::read_dir(region.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            for w in std::fs::read_dir(site.path())
                .into_iter()
                .flatten()
                .flatten()
            {
                if w.path().join("kustomization.yaml").is_file() {
                    dirs.push(w.path());
                }
            }
        }
    }
    dirs.sort();
    dirs
}

fn main() {
    let all: Vec<String> = std::env::args().collect();
    let provenance = all.iter().any(|a| a == "--provenance");
    let args: Vec<String> = all.into_iter().filter(|a| a != "--provenance").collect();
    let out = PathBuf::from(
        args.get(1)
            .expect("usage: render_fleet OUT_DIR [KUBECTL] [SAMPLE]"),
    );
    let kubectl = args.get(2).cloned();
    let sample: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(30);

    let dirs = overlays(&out);
    let started = Instant::now();
    let renderer = Renderer::new().with_provenance(provenance);
    let bytes: usize = dirs
        .par_iter()
        .map(|d| {
            renderer
                .build_yaml(d)
                .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
                .len()
        })
        .sum();
    let ours = started.elapsed().as_secs_f64();
    let threads = rayon::current_num_threads();
    println!(
        "edgefleet render{}: {} overlays in {ours:.2} s on {threads} threads ({:.3} ms per overlay of wall time, {:.1} MB of YAML)",
        if provenance { " (provenance on)" } else { "" },
        dirs.len(),
        ours * 1000.0 / dirs.len() as f64,
        bytes as f64 / 1e6
    );

    let Some(kubectl) = kubectl else { return };
    // An evenly spread sample, one process at a time as a user would run it.
    let step = (dirs.len() / sample.max(1)).max(1);
    let picked: Vec<&PathBuf> = dirs.iter().step_by(step).take(sample).collect();
    let started = Instant::now();
    for d in &picked {
        let status = Command::new(&kubectl)
            .arg("kustomize")
            .arg(d)
            .output()
            .expect("run kubectl");
        assert!(
            status.status.success(),
            "kubectl kustomize {} failed",
            d.display()
        );
    }
    let theirs = started.elapsed().as_secs_f64() / picked.len() as f64;
    // Our per-overlay cost on one core: wall time × threads / overlays.
    let ours_one_core = ours * threads as f64 / dirs.len() as f64;
    println!(
        "kubectl kustomize: {:.1} ms per overlay (sample of {}); edgefleet: {:.3} ms per overlay per core; ratio {:.0}×",
        theirs * 1000.0,
        picked.len(),
        ours_one_core * 1000.0,
        theirs / ours_one_core
    );
}
