//! Records the commit the binary is built from, for `edgefleet --version`. Without git (a source
//! tarball, a machine without the binary) it says `unknown`; `EDGEFLEET_COMMIT` overrides both.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn main() {
    println!("cargo:rerun-if-env-changed=EDGEFLEET_COMMIT");
    println!("cargo:rerun-if-changed=build.rs");
    let commit = std::env::var("EDGEFLEET_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let id = git(&["rev-parse", "--short=12", "HEAD"])?;
            // Rebuild when HEAD moves: HEAD itself (a checkout) and the ref it points at (a commit).
            // Only files that exist: a missing one would rerun this script on every build.
            let watch = |path: Option<String>| {
                if let Some(p) = path.filter(|p| std::path::Path::new(p).exists()) {
                    println!("cargo:rerun-if-changed={p}");
                }
            };
            watch(git(&["rev-parse", "--git-path", "HEAD"]));
            watch(git(&["rev-parse", "--git-path", "packed-refs"]));
            if let Some(reference) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(git(&["rev-parse", "--git-path", &reference]));
            }
            Some(id)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=EDGEFLEET_COMMIT={commit}");
}
