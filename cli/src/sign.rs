//! `edgefleet sign verify IMAGE`: what the trust store makes of one image, to debug it.

use edgefleet_lints::signature::{ImageVerdict, Outcome, Verdict};

use crate::config::Config;
use crate::exit;

pub fn verify(config: &Config, image: &str) -> u8 {
    let store = match config.trust_store() {
        Ok(Some(store)) => store,
        Ok(None) => {
            crate::output::error(
                "no [signatures] trust store in edgefleet.toml: nothing to verify against (see docs/signatures.md)",
            );
            return exit::INPUT;
        }
        Err(e) => {
            crate::output::error(&e);
            return exit::INPUT;
        }
    };
    let mut out = format!("image: {image}\n");
    let verified = match store.verify_image(image) {
        ImageVerdict::Unpinned => {
            out.push_str("not verified: the image is not pinned by digest, so its signature cannot be verified\n");
            false
        }
        ImageVerdict::MalformedDigest(d) => {
            out.push_str(&format!("not verified: malformed digest `{d}`\n"));
            false
        }
        ImageVerdict::Checked(v) => {
            let trusted: Vec<&str> = store
                .keys()
                .iter()
                .filter(|k| k.allows(&v.repository))
                .map(|k| k.id.as_str())
                .collect();
            out.push_str(&format!("repository: {}\n", v.repository));
            out.push_str(&format!("digest: {}\n", v.digest));
            out.push_str(&format!(
                "keys trusted for this repository: {}\n",
                if trusted.is_empty() {
                    "none".to_owned()
                } else {
                    trusted.join(", ")
                }
            ));
            for s in &v.signatures {
                let mark = if matches!(s.outcome, Outcome::Verified { .. }) {
                    "ok "
                } else {
                    "bad"
                };
                out.push_str(&format!(
                    "  {mark} {}: {}\n",
                    s.origin,
                    s.outcome.describe(&v.digest)
                ));
            }
            match &v.verdict {
                Verdict::Verified(s) => {
                    out.push_str(&format!(
                        "verified: {} ({})\n",
                        s.outcome.describe(&v.digest),
                        s.origin
                    ));
                    true
                }
                Verdict::NoMaterial { looked } => {
                    out.push_str(&format!(
                        "not verified: unsigned: no signature material (looked for {})\n",
                        looked.join(" and ")
                    ));
                    false
                }
                Verdict::Unreadable { origin, reason } => {
                    out.push_str(&format!(
                        "not verified: signature material unreadable: {origin}: {reason}\n"
                    ));
                    false
                }
                Verdict::Rejected(s) => {
                    out.push_str(&format!(
                        "not verified: {} ({})\n",
                        s.outcome.describe(&v.digest),
                        s.origin
                    ));
                    false
                }
            }
        }
    };
    print!("{out}");
    if verified { exit::OK } else { exit::FINDINGS }
}
