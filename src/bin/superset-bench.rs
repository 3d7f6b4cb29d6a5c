//! `superset-bench`: measures the sync service against the targets in DESIGN.md §5.
//! Run it as `cargo run --release --bin superset-bench -- all` (see BENCHMARKS.md).

use clap::Parser;
use superset::bench::{self, Options, Scenario};

#[derive(Parser)]
#[command(
    name = "superset-bench",
    about = "Benchmarks the sync service on a throwaway PostgreSQL cluster (release builds only \
             give meaningful numbers)"
)]
struct Cli {
    /// The scenario to run.
    #[arg(value_enum, conflicts_with = "scenario_flag")]
    scenario: Option<Scenario>,
    /// The scenario to run (same as the positional argument).
    #[arg(long = "scenario", value_enum, value_name = "NAME")]
    scenario_flag: Option<Scenario>,
    #[command(flatten)]
    options: Options,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let scenario = cli.scenario.or(cli.scenario_flag).unwrap_or(Scenario::All);
    let met = bench::run(scenario, &cli.options)?;
    if !met {
        std::process::exit(1);
    }
    Ok(())
}
