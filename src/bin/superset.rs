//! `superset`: the desktop app. `superset demo` runs it against a private, seeded database.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use superset::demo::{self, DemoOptions};

#[derive(Parser)]
#[command(
    name = "superset",
    version,
    about = "See, live, who on your team works on what"
)]
struct Cli {
    /// Where the app keeps its data (default: the platform's per-user data folder).
    #[arg(long, global = true, env = "SUPERSET_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start a private PostgreSQL with a seeded team (kept between runs).
    Demo {
        /// Throw the demo's data away and start from scratch.
        #[arg(long)]
        reset: bool,
    },
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    directories::ProjectDirs::from("dev", "Superset", "superset")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .context("cannot find a home folder for the app's data: pass --data-dir DIR")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let data_dir = match cli.data_dir {
        Some(dir) => dir,
        None => default_data_dir()?,
    };
    match cli.command {
        Some(Command::Demo { reset }) => {
            println!("starting the demo database under {} …", data_dir.display());
            let demo = demo::start(&DemoOptions { data_dir, reset }).await?;
            if let Some(team) = &demo.seeded_now {
                print!("{}", team.summary());
            }
            println!("\ndemo database ready: {}", demo.database_url);
            println!(
                "(the window and live sync arrive with the desktop issues; Ctrl-C stops the demo)"
            );
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            println!("stopping …");
            drop(demo);
        }
        None => {
            anyhow::bail!("the window is not built yet: run `superset demo` for the demo database")
        }
    }
    Ok(())
}
