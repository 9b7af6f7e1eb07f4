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
    /// Folder to write the inventory to (created if missing; edgefleet's own file names only).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

pub fn run(args: SynthArgs) -> u8 {
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
            eprintln!("error: {}: {e}", path.display());
            return exit::INPUT;
        }
    }
    println!(
        "{}: synthetic inventory of {} sites (seed {}) in {} files",
        args.out.display(),
        args.sites,
        args.seed,
        files.len()
    );
    exit::OK
}
