//! `superset-window`: the window alone, what Windows' Start-menu entry starts. Built for the
//! Windows GUI subsystem, it opens no console window; with no console to print to, a failure
//! to start is shown in a message box. Everywhere else `superset` (the console program) opens
//! the same window when run without a command, and this binary is not packaged.

#![cfg_attr(windows, windows_subsystem = "windows")]

use std::path::PathBuf;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "superset-window",
    version,
    about = "The Superset window, without a console"
)]
struct Cli {
    /// Where the app keeps its data (default: the platform's per-user data folder).
    #[arg(long, env = "SUPERSET_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

fn main() {
    if let Err(problem) = open() {
        eprintln!("{problem}");
        rfd::MessageDialog::new()
            .set_level(rfd::MessageLevel::Error)
            .set_title("Superset")
            .set_description(&problem)
            .show();
        std::process::exit(1);
    }
}

fn open() -> Result<(), String> {
    superset::app::clock::remember_local_offset();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::try_parse().map_err(|e| e.to_string())?;
    let data_dir = cli
        .data_dir
        .or_else(superset::profile::default_data_dir)
        .ok_or("cannot find a home folder for the app's data: pass --data-dir DIR")?;
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    superset::app::run(data_dir, runtime.handle().clone(), None)
        .map_err(|e| format!("cannot open the window: {e}"))
}
