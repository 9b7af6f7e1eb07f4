//! Reads every site of a generated fleet from its cluster, the way `edgefleet drift` does
//! (render the desired objects, then `--jobs` workers calling the cluster source), and prints
//! what it found and how long each half took. For `bench/drift.sh` until the CLI has `drift`.
//!
//! ```text
//! cargo run --release -p edgefleet-drift --example read_fleet -- --fleet OUT_DIR \
//!     --kubeconfig FILE [--context-template T] [--jobs N] [--timeout SECS] [--site ID]...
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use edgefleet_drift::cluster::{ClusterOptions, ClusterSource};
use edgefleet_drift::{LiveSource, ObjectKey, SiteFailure};
use edgefleet_fleet::FleetTree;
use serde_json::Value;

/// Per site: (desired objects found, labelled objects) or why not, and how long it took.
type SiteResult = (Result<(usize, usize), SiteFailure>, Duration);

fn main() {
    let mut fleet = None;
    let mut kubeconfig = None;
    let mut template = "{site}".to_owned();
    let mut jobs = 32usize;
    let mut timeout = 20.0f64;
    let mut only: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--fleet" => fleet = Some(PathBuf::from(v())),
            "--kubeconfig" => kubeconfig = Some(PathBuf::from(v())),
            "--context-template" => template = v(),
            "--jobs" => jobs = v().parse().expect("--jobs N"),
            "--timeout" => timeout = v().parse().expect("--timeout SECS"),
            "--site" => only.push(v()),
            other => panic!("unknown argument {other}"),
        }
    }
    let fleet = fleet.expect("--fleet OUT_DIR");
    let start = Instant::now();
    let tree = FleetTree::on_disk(&fleet).expect("a generated tree");
    let mut sites = tree.sites().sites;
    if !only.is_empty() {
        sites.retain(|s| only.contains(&s.id));
    }
    let rendered = tree.render_sites(&sites);
    let desired: Vec<(String, Vec<ObjectKey>)> = rendered
        .iter()
        .map(|site| {
            let keys = site
                .overlays
                .iter()
                .flat_map(|(_, r)| r.as_ref().expect("renders").iter())
                .map(|r| key_of(&r.value))
                .collect();
            (site.site.clone(), keys)
        })
        .collect();
    let rendered_in = start.elapsed();

    let source = ClusterSource::new(ClusterOptions {
        kubeconfig,
        context_template: template,
        timeout: Duration::from_secs_f64(timeout),
    })
    .unwrap_or_else(|e| {
        eprintln!("read_fleet: {e}");
        std::process::exit(2)
    });
    let read_start = Instant::now();
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<String, SiteResult>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((site, keys)) = desired.get(i) else {
                        break;
                    };
                    let t = Instant::now();
                    let r = source.read_site(site, keys).map(|live| {
                        (
                            live.objects.values().filter(|o| o.is_some()).count(),
                            live.labelled.len(),
                        )
                    });
                    results
                        .lock()
                        .unwrap()
                        .insert(site.clone(), (r, t.elapsed()));
                }
            });
        }
    });
    let read_in = read_start.elapsed();
    let results = results.into_inner().unwrap();
    let (mut ok, mut unreachable, mut unauthorized, mut objects, mut labelled) = (0, 0, 0, 0, 0);
    let mut slowest = Duration::ZERO;
    for (site, (r, took)) in &results {
        slowest = slowest.max(*took);
        match r {
            Ok((o, l)) => {
                ok += 1;
                objects += o;
                labelled += l;
            }
            Err(SiteFailure::Unreachable(why)) => {
                unreachable += 1;
                println!("  {site}: unreachable: {why} ({:.2} s)", took.as_secs_f64());
            }
            Err(SiteFailure::Unauthorized(why)) => {
                unauthorized += 1;
                println!("  {site}: unauthorized: {why}");
            }
        }
    }
    println!(
        "sites {} (read {ok}, unreachable {unreachable}, unauthorized {unauthorized}); \
         desired objects found {objects}, labelled objects {labelled}",
        results.len()
    );
    println!(
        "render {:.2} s, read {:.2} s ({jobs} jobs, slowest site {:.2} s), total {:.2} s",
        rendered_in.as_secs_f64(),
        read_in.as_secs_f64(),
        slowest.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
}

fn key_of(obj: &Value) -> ObjectKey {
    ObjectKey {
        api_version: obj["apiVersion"].as_str().unwrap_or("").to_owned(),
        kind: obj["kind"].as_str().unwrap_or("").to_owned(),
        namespace: obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned),
        name: obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
    }
}
