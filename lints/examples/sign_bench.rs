//! Benchmark of offline signature verification (`bash bench/sign.sh`).
//!
//! `cargo run --release -p edgefleet-lints --example sign_bench -- N DIR` writes a project to
//! DIR: a P-256 key pair, N distinct image digests each signed and exported as
//! `cosign download signature` prints it, `edgefleet.toml` with the trust store, and
//! `manifests/pods.yaml` with one pod per digest. It then verifies every digest in process, in
//! parallel, once cold (each verified) and once warm (all from the per-run cache), and prints
//! the figures. `bench/sign.sh` then times `edgefleet lint` on the same project.

use std::path::PathBuf;
use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use edgefleet_lints::signature::{TrustStore, Verdict};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{EncodePublicKey, LineEnding};
use rayon::prelude::*;

const REPO: &str = "registry.example.com/edge/agent";

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "sign-bench".to_owned()));
    let material = dir.join("signatures");
    std::fs::create_dir_all(&material).expect("create material folder");
    std::fs::create_dir_all(dir.join("manifests")).expect("create manifests folder");
    let key = SigningKey::from_slice(&[7u8; 32]).expect("valid scalar");
    std::fs::write(
        dir.join("release.pub"),
        key.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("encodable"),
    )
    .expect("write key");
    std::fs::write(
        dir.join("edgefleet.toml"),
        "[signatures]\nmaterial = \"signatures\"\n\n[[signatures.keys]]\nid = \"release\"\npublic_key = \"release.pub\"\nrepositories = [\"registry.example.com/edge/*\"]\n",
    )
    .expect("write config");

    let started = Instant::now();
    let digests: Vec<String> = (0..n).map(|i| format!("sha256:{i:064x}")).collect();
    digests.par_iter().for_each(|d| {
        let payload = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{REPO}"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"cosign container image signature"}},"optional":null}}"#
        );
        let sig: Signature = key.sign(payload.as_bytes());
        let line = serde_json::json!({
            "Base64Signature": STANDARD.encode(sig.to_der().as_bytes()),
            "Payload": STANDARD.encode(payload),
            "Cert": null, "Chain": null, "Bundle": null,
        });
        std::fs::write(
            material.join(format!("{}.json", d.replace(':', "-"))),
            format!("{line}\n"),
        )
        .expect("write material");
    });
    // 100 pods a file, as a repository of manifests would hold them.
    for (f, chunk) in digests.chunks(100).enumerate() {
        let mut pods = String::new();
        for (i, d) in chunk.iter().enumerate() {
            pods.push_str(&format!(
                "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: agent-{f}-{i}\nspec:\n  containers:\n    - name: app\n      image: {REPO}@{d}\n"
            ));
        }
        std::fs::write(dir.join(format!("manifests/pods-{f:03}.yaml")), pods)
            .expect("write manifests");
    }
    eprintln!(
        "wrote {n} signed digests in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let store = TrustStore::from_keys(
        vec![(
            "release".to_owned(),
            *key.verifying_key(),
            vec!["registry.example.com/edge/*".to_owned()],
        )],
        &material,
        &material,
    )
    .expect("valid patterns");
    let cpu_before = cpu_seconds();
    let cold = Instant::now();
    let ok = digests
        .par_iter()
        .filter(|d| matches!(store.verify(REPO, d).verdict, Verdict::Verified(_)))
        .count();
    let cold = cold.elapsed();
    let cold_cpu = cpu_seconds() - cpu_before;
    assert_eq!(ok, n as usize, "every digest verifies");
    let warm = Instant::now();
    digests.par_iter().for_each(|d| {
        store.verify(REPO, d);
    });
    let warm = warm.elapsed();
    println!(
        "threads={} digests={n} verified={ok} verifications={} cold: wall {:.3} s, cpu {:.2} s ({:.0} µs cpu/digest); warm (cached): wall {:.4} s",
        rayon::current_num_threads(),
        store.verifications(),
        cold.as_secs_f64(),
        cold_cpu,
        cold_cpu * 1e6 / f64::from(n.max(1)),
        warm.as_secs_f64(),
    );
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, in clock ticks of
/// 1/100 s); 0 elsewhere. CPU time, unlike wall time, does not grow when other processes load
/// the machine.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some(after) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `) state`.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
