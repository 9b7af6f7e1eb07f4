//! `edgefleet inventory synth`.

use std::path::PathBuf;

use crate::exit;

#[derive(clap::Args)]
pub struct SynthArgs {
    /// Number of sites.
    #[arg(long)]
    sites: usize,
    /// Seed: the same seed gives the same inventory, byte for byte.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Folder to write the inventory to (created if missing). A folder that already holds files
    /// is refused: the synthetic files would replace some of an inventory and leave the rest.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Write into a non-empty folder anyway (files of the same name are replaced, others kept).
    #[arg(long)]
    force: bool,
}

pub fn run(args: SynthArgs) -> u8 {
    if !args.force
        && let Ok(entries) = std::fs::read_dir(&args.out)
    {
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if !names.is_empty() {
            names.sort();
            crate::output::Message {
                severity: "error",
                message: &format!(
                    "{}: folder is not empty ({}{}): nothing was written",
                    args.out.display(),
                    names[0],
                    if names.len() > 1 { ", ..." } else { "" }
                ),
                help: Some(
                    "choose a new folder, or pass --force to replace files of the same names",
                ),
                ..crate::output::Message::default()
            }
            .print();
            return exit::INPUT;
        }
    }
    if args.out.exists() && !args.out.is_dir() {
        crate::output::error(format!("{}: not a folder", args.out.display()));
        return exit::INPUT;
    }
    let files = edgefleet_inventory::synth::synthesize(args.sites, args.seed);
    for f in &files {
        let path = args.out.join(&f.path);
        let tmp = path.with_extension("edgefleet-tmp");
        let result = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&tmp, &f.content))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = result {
            crate::output::error(format!("{}: {e}", path.display()));
            return exit::INPUT;
        }
    }
    if crate::output::quiet() {
        return exit::OK;
    }
    // Said from the inventory as written and loaded back, so the summary cannot drift from it.
    let fleet = match edgefleet_inventory::load_inventory(&args.out) {
        Ok(f) => f,
        Err(d) => {
            crate::generate::print_diagnostics(&d);
            return exit::INPUT;
        }
    };
    let jurisdictions: std::collections::BTreeSet<&str> = fleet
        .regions
        .values()
        .map(|r| r.jurisdiction.as_str())
        .collect();
    println!(
        "{}: synthetic inventory of {} (seed {}): {} in {}, {} and {}, in {}",
        args.out.display(),
        plural(fleet.sites.len(), "site"),
        args.seed,
        plural(fleet.regions.len(), "region"),
        plural(jurisdictions.len(), "jurisdiction"),
        plural(fleet.hardware.len(), "hardware profile"),
        plural(fleet.backhaul.len(), "backhaul profile"),
        plural(files.len(), "file"),
    );
    exit::OK
}

fn plural(n: usize, word: &str) -> String {
    edgefleet_lints::report::plural_count(n, word)
}
