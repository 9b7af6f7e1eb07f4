//! `edgefleet-test-apiserver`: serves a generated fleet's sites as live clusters on loopback,
//! for `bench/drift.sh` and for trying `edgefleet drift` by hand.
//!
//! ```text
//! edgefleet-test-apiserver --fleet OUT_DIR --kubeconfig-out FILE [--context-template T]
//!     [--shared-server] [--latency-ms N] [--hang SITE]... [--forbidden SITE]...
//!     [--revoked SITE]... [--untrusted SITE]... [--ca-out FILE] [--record]
//! ```
//!
//! Renders every site of the generated tree, serves each as the applier left it (defaults,
//! status, managed fields, owned Pods and ReplicaSets), writes a kubeconfig with one context
//! per site, prints `listening on https://127.0.0.1:PORT` and serves until killed.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use edgefleet_fleet::FleetTree;
use edgefleet_test_apiserver::{Applier, KubeconfigOptions, TestApiServer};

struct Args {
    fleet: PathBuf,
    kubeconfig_out: PathBuf,
    context_template: String,
    shared_server: bool,
    latency: Duration,
    hang: Vec<String>,
    forbidden: Vec<String>,
    revoked: Vec<String>,
    untrusted: Vec<String>,
    ca_out: Option<PathBuf>,
    record: bool,
}

const USAGE: &str = "usage: edgefleet-test-apiserver --fleet OUT_DIR --kubeconfig-out FILE \
    [--context-template T] [--shared-server] [--latency-ms N] [--hang SITE]... \
    [--forbidden SITE]... [--revoked SITE]... [--untrusted SITE]... [--ca-out FILE] [--record]";

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut fleet = None;
    let mut kubeconfig_out = None;
    let mut args = Args {
        fleet: PathBuf::new(),
        kubeconfig_out: PathBuf::new(),
        context_template: "{site}".to_owned(),
        shared_server: false,
        latency: Duration::ZERO,
        hang: Vec::new(),
        forbidden: Vec::new(),
        revoked: Vec::new(),
        untrusted: Vec::new(),
        ca_out: None,
        record: false,
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--fleet" => fleet = Some(PathBuf::from(value()?)),
            "--kubeconfig-out" => kubeconfig_out = Some(PathBuf::from(value()?)),
            "--context-template" => args.context_template = value()?,
            "--shared-server" => args.shared_server = true,
            "--latency-ms" => {
                let ms: u64 = value()?.parse().map_err(|e| format!("--latency-ms: {e}"))?;
                args.latency = Duration::from_millis(ms);
            }
            "--hang" => args.hang.push(value()?),
            "--forbidden" => args.forbidden.push(value()?),
            "--revoked" => args.revoked.push(value()?),
            "--untrusted" => args.untrusted.push(value()?),
            "--ca-out" => args.ca_out = Some(PathBuf::from(value()?)),
            "--record" => args.record = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    args.fleet = fleet.ok_or(USAGE)?;
    args.kubeconfig_out = kubeconfig_out.ok_or(USAGE)?;
    Ok(args)
}

fn run(args: Args) -> Result<(), String> {
    let tree = FleetTree::on_disk(&args.fleet).map_err(|e| e.to_string())?;
    let discovery = tree.sites();
    if let Some(p) = discovery.problems.first() {
        return Err(format!("{}: {p}", args.fleet.display()));
    }
    let server = TestApiServer::start().map_err(|e| format!("cannot start: {e}"))?;
    server.set_recording(args.record);
    let rendered = tree.render_sites(&discovery.sites);
    let mut objects = 0usize;
    for site in &rendered {
        server.add_site(&site.site);
        for (overlay, result) in &site.overlays {
            let resources = result
                .as_ref()
                .map_err(|e| format!("{}: {e}", overlay.dir.display()))?;
            let desired: Vec<serde_json::Value> =
                resources.iter().map(|r| r.value.clone()).collect();
            let applier = Applier {
                app: Some(format!("{}-{}", site.site, overlay.workload)),
                ..Applier::default()
            };
            server.apply(&site.site, &desired, &applier);
        }
        objects += server.objects(&site.site).len();
    }
    for s in &args.hang {
        server.set_hanging(s, true);
    }
    for s in &args.forbidden {
        server.set_forbidden(s, true);
    }
    for s in &args.revoked {
        server.set_revoked(s, true);
    }
    for s in &args.untrusted {
        server.set_untrusted(s, true);
    }
    if !args.latency.is_zero() {
        server.set_latency_all(args.latency);
    }
    let options = KubeconfigOptions {
        context_template: args.context_template.clone(),
        per_site_server: !args.shared_server,
        sites: None,
    };
    server
        .write_kubeconfig(&args.kubeconfig_out, &options)
        .map_err(|e| format!("{}: {e}", args.kubeconfig_out.display()))?;
    if let Some(ca) = &args.ca_out {
        std::fs::write(ca, server.ca_pem()).map_err(|e| format!("{}: {e}", ca.display()))?;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "serving {} sites ({objects} objects) on {}",
        rendered.len(),
        server.url()
    );
    let _ = writeln!(out, "listening on {}", server.url());
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

fn main() -> ExitCode {
    match parse().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgefleet-test-apiserver: {e}");
            ExitCode::from(2)
        }
    }
}
