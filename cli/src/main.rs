//! The `edgefleet` command line: wiring between the crates, no domain logic.

mod allocator;
mod config;
mod diff;
mod drift;
mod fleet;
mod generate;
mod lint;
mod merge;
mod output;
mod render;
mod report;
mod sign;
mod synth;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use config::Config;

/// The Kustomize release whose output the in-process renderer reproduces byte for byte
/// (the oracle of the conformance tests; `tests/tests/oracles.rs` checks it is the one pinned).
pub const KUSTOMIZE_VERSION: &str = "v5.8.1";

/// `edgefleet --version`: the version, the commit it was built from, and the versions of the
/// Kubernetes schemas and Kustomize behaviour built in.
fn long_version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} (commit {})
Kubernetes schemas: {}
Kustomize: {} (in-process renderer)",
            env!("CARGO_PKG_VERSION"),
            env!("EDGEFLEET_COMMIT"),
            edgefleet_lints::schema::KUBERNETES_VERSION,
            KUSTOMIZE_VERSION
        )
    })
}

/// GitOps repositories and lints for fleets of remote edge sites.
#[derive(Parser)]
#[command(name = "edgefleet", version, long_version = long_version(), about, long_about = None)]
struct Cli {
    /// Use this config file instead of the nearest `edgefleet.toml` above the working directory.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Colour: `auto` (a terminal, unless `NO_COLOR`; `CLICOLOR_FORCE` or `FORCE_COLOR` force it).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: output::ColorChoice,
    /// Print only errors, warnings and findings (no summaries, no notes).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Errors and warnings on standard error as text, or as one JSON object per line.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        value_name = "FORMAT"
    )]
    message_format: output::MessageFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check the site inventory (schema, references, uniqueness); exit 2 when it has errors.
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
    /// What a change does to every site: two git revisions planned and rendered in memory,
    /// compared per site and object; exit 1 with `--exit-code` when a site changed.
    Diff(diff::DiffArgs),
    /// What every site runs against what Git says: live clusters (read-only) or snapshot
    /// folders, normalised and compared per object; exit 1 on drift, 3 when only some site
    /// could not be read.
    Drift(Box<drift::DriftArgs>),
    /// Write one self-contained HTML page about the fleet: sites by region and wave, and on
    /// request the change impact of a revision, lint findings and drift status.
    Report(report::ReportArgs),
    /// Join the reports of every shard of one run (`--shard K/N`) into the report of a single
    /// run; refuses shards of different runs and incomplete sets (exit 2).
    Merge(merge::MergeArgs),
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
    /// Print a shell completion script (rule ids complete after `explain`).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `edgefleet man > edgefleet.1`.
    Man,
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
        /// Also show every in-toto attestation found (SLSA provenance, SBOMs) with its outcome,
        /// and judge the requirements of `[signatures]` (`allowed_builders`,
        /// `sbom_min_outage`): exit 0 only when those are met too.
        #[arg(long)]
        attestations: bool,
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors are input errors, like every other bad input: exit 2. `--help` and
            // `--version` are not errors.
            return ExitCode::from(if e.use_stderr() {
                exit::INPUT
            } else {
                exit::OK
            });
        }
    };
    if matches!(cli.command, Command::Generate(_)) {
        // No thread runs yet (see the module).
        allocator::keep_freed_memory();
    }
    output::init(cli.color, cli.quiet, cli.message_format);
    // Long lines stay whole: a `file:line:col` split over two lines is useless to editors and CI.
    // Severity words, not only glyphs: `error:` reads the same in a log without colour or Unicode.
    let color = output::stderr_color();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .wrap_lines(false)
                .color(color)
                .graphical_theme(edgefleet_lints::report::theme(color))
                .build(),
        )
    }));
    // `diff` reads each revision's own config from git, never the working tree's.
    let command = match cli.command {
        Command::Diff(args) => return ExitCode::from(diff::run(cli.config.as_deref(), args)),
        other => other,
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let config = match &cli.config {
        Some(f) => Config::load(f),
        None => Config::discover(&cwd),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            e.print();
            return ExitCode::from(exit::INPUT);
        }
    };
    if matches!(
        command,
        Command::Validate { .. }
            | Command::Generate(_)
            | Command::Lint(_)
            | Command::Render(_)
            | Command::Appset { .. }
            | Command::Sign { .. }
            | Command::Report(_)
            | Command::Drift(_)
    ) && let Some(note) = config.describe()
    {
        output::note(note);
    }
    let code = match command {
        Command::Validate { inventory } => generate::validate(&config, inventory),
        Command::Generate(args) => generate::run(&config, args),
        Command::Render(args) => render::run(&config, args),
        Command::Lint(args) => lint::run(&config, args),
        Command::Explain(args) => lint::explain(&config, args),
        Command::Drift(args) => drift::run(&config, *args),
        Command::Merge(args) => merge::run(&config, args),
        Command::Report(args) => report::run(&config, cli.config.as_deref(), args),
        Command::Inventory {
            command: InventoryCommand::Synth(args),
        } => synth::run(args),
        Command::Appset {
            command: AppsetCommand::Preview { file, repo },
        } => generate::preview(&config, &file, repo),
        Command::Sign {
            command:
                SignCommand::Verify {
                    image,
                    attestations,
                },
        } => sign::verify(&config, &image, attestations),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "edgefleet",
                &mut std::io::stdout(),
            );
            exit::OK
        }
        Command::Diff(_) => unreachable!("diff returned above"),
        Command::Man => {
            let mut out = std::io::stdout().lock();
            match clap_mangen::Man::new(Cli::command()).render(&mut out) {
                Ok(()) => exit::OK,
                Err(e) => {
                    output::error(format!("cannot write the manual page: {e}"));
                    exit::INPUT
                }
            }
        }
    };
    ExitCode::from(code)
}
