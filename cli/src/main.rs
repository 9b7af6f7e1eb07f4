//! The `edgefleet` command line: wiring between the crates, no domain logic.

mod config;
mod fleet;
mod generate;
mod lint;
mod render;
mod sign;
mod synth;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use config::Config;

// Planning a fleet allocates millions of small strings and maps; mimalloc is markedly faster
// than the system allocator at that, and the output does not depend on it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// GitOps repositories and lints for fleets of remote edge sites.
#[derive(Parser)]
#[command(name = "edgefleet", version, about, long_about = None)]
struct Cli {
    /// Use this config file instead of the nearest `edgefleet.toml` above the working directory.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the site inventory (schema, references, uniqueness); exit 1 when it has errors.
    Validate {
        /// Inventory folder (or one file); default from edgefleet.toml.
        #[arg(long, value_name = "DIR")]
        inventory: Option<PathBuf>,
    },
    /// Generate the GitOps tree (bases, components, site overlays, ApplicationSets).
    Generate(generate::GenerateArgs),
    /// Build Kustomize overlays in process and print them as `kubectl kustomize` does.
    Render(render::RenderArgs),
    /// Lint manifests: resources, probes, images, security, schema, Argo CD; exit 1 on findings.
    Lint(lint::LintArgs),
    /// Print the documentation of a lint rule (`--list` lists every rule).
    Explain(lint::ExplainArgs),
    /// Work with inventories.
    Inventory {
        #[command(subcommand)]
        command: InventoryCommand,
    },
    /// Work with generated ApplicationSets.
    Appset {
        #[command(subcommand)]
        command: AppsetCommand,
    },
    /// Work with image signatures (the `[signatures]` trust store).
    Sign {
        #[command(subcommand)]
        command: SignCommand,
    },
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Subcommand)]
enum InventoryCommand {
    /// Write a realistic synthetic inventory for demos, tests and benchmarks.
    Synth(synth::SynthArgs),
}

#[derive(Subcommand)]
enum SignCommand {
    /// Verify one image against the trust store, offline, and show every signature found;
    /// exit 0 when verified, 1 when not.
    Verify {
        /// The image, pinned by digest (registry.example.com/edge/agent@sha256:...).
        image: String,
    },
}

#[derive(Subcommand)]
enum AppsetCommand {
    /// Print the Applications an ApplicationSet expands to, offline, from the generated tree.
    Preview {
        /// The ApplicationSet file (e.g. out/appsets/telemetry-collector-eu-north.yaml).
        file: PathBuf,
        /// The generated tree the git files generator reads (default: the output folder).
        #[arg(long, value_name = "DIR")]
        repo: Option<PathBuf>,
    },
}

/// Exit codes shared by every command.
pub mod exit {
    pub const OK: u8 = 0;
    /// Findings (validate, lint) or a stale tree (generate --check).
    pub const FINDINGS: u8 = 1;
    /// Usage or input error: nothing was changed.
    pub const INPUT: u8 = 2;
}

fn main() -> ExitCode {
    // Long lines stay whole: a `file:line:col` split over two lines is useless to editors and CI.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    let cli = Cli::parse();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let config = match &cli.config {
        Some(f) => Config::load(f),
        None => Config::discover(&cwd),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::INPUT);
        }
    };
    let code = match cli.command {
        Command::Validate { inventory } => generate::validate(&config, inventory),
        Command::Generate(args) => generate::run(&config, args),
        Command::Render(args) => render::run(&config, args),
        Command::Lint(args) => lint::run(&config, args),
        Command::Explain(args) => lint::explain(args),
        Command::Inventory {
            command: InventoryCommand::Synth(args),
        } => synth::run(args),
        Command::Appset {
            command: AppsetCommand::Preview { file, repo },
        } => generate::preview(&config, &file, repo),
        Command::Sign {
            command: SignCommand::Verify { image },
        } => sign::verify(&config, &image),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "edgefleet",
                &mut std::io::stdout(),
            );
            exit::OK
        }
    };
    ExitCode::from(code)
}
