//! `superset`: the desktop app. `superset demo` runs it against a private, seeded database.
//!
//! A console program on every platform, so the commands print, read passwords and exit codes
//! as a command line should; run without a command it opens the window. On Windows, where a
//! console program started from the Start menu would bring a console window along, the menu
//! starts `superset-window` instead (the window alone, no console).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use superset::commands;
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
    /// Close the window after this many seconds (for scripted runs).
    #[arg(long, global = true, value_parser = parse_seconds)]
    quit_after: Option<std::time::Duration>,
    /// Print what a command shows as JSON (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in to a Superset server (the password is read from stdin when it is not a terminal).
    Login {
        #[arg(long, env = "SUPERSET_SERVER")]
        server: String,
        #[arg(long)]
        email: String,
    },
    /// Run the sync engine without a window, logging what happens.
    Sync {
        /// Exit once every table is synced and live.
        #[arg(long)]
        until_synced: bool,
    },
    /// Show each synced table's position, row count and last sync, and pending writes.
    Status,
    /// Sign out: forget synced data (linked folders and preferences stay).
    Logout,
    /// List the invitations to organizations waiting for you, or answer one.
    Invitations {
        #[command(subcommand)]
        answer: Option<Answer>,
    },
    /// Link a folder you cloned to one of your organizations' repositories (matched by its
    /// git remote).
    Link {
        path: PathBuf,
        /// When several repositories match: the one to link (`local` keeps it unlinked).
        #[arg(long)]
        repository: Option<String>,
    },
    /// The active organization's tasks.
    Tasks {
        /// Only the tasks assigned to you.
        #[arg(long)]
        mine: bool,
        /// Only the tasks with this status.
        #[arg(long)]
        status: Option<String>,
    },
    /// Start work on a task in a worktree of its own; prints its path alone, so
    /// `cd "$(superset start ACME-12)"` works.
    Start {
        key: String,
        /// The linked folder to work from (when several repositories could do).
        #[arg(long)]
        folder: Option<PathBuf>,
        /// Switch the linked folder's checkout instead of making a worktree.
        #[arg(long)]
        switch: bool,
    },
    /// Start exploratory work (no task) on a branch of your own; prints its path.
    Explore {
        /// The repository's name (or its linked folder).
        repository: String,
        #[arg(long)]
        branch: String,
    },
    /// Your open workspaces, with where they live, branch, git state and pull request.
    Workspaces,
    /// Mark a workspace done (by its task's key or its folder).
    Done {
        which: String,
        /// Remove its worktree too, when nothing uncommitted or unpushed would be lost.
        #[arg(long)]
        remove: bool,
    },
    /// Start a private PostgreSQL with a seeded team (kept between runs).
    Demo {
        /// Throw the demo's data away and start from scratch.
        #[arg(long)]
        reset: bool,
    },
}

#[derive(Subcommand)]
enum Answer {
    /// Join the organization (ID from the list).
    Accept { id: uuid::Uuid },
    /// Decline the invitation.
    Decline { id: uuid::Uuid },
}

fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(std::time::Duration::from_secs_f64)
        .ok_or_else(|| format!("{text} is not a number of seconds"))
}

fn default_data_dir() -> anyhow::Result<PathBuf> {
    superset::profile::default_data_dir()
        .context("cannot find a home folder for the app's data: pass --data-dir DIR")
}

/// The password: prompted for on a terminal, else the first line of stdin.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("password: ").context("reading the password");
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn main() -> anyhow::Result<()> {
    superset::app::clock::remember_local_offset();
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
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.command {
        None => {
            // The window runs on the main thread (as winit requires), the engine on `runtime`.
            superset::app::run(data_dir, runtime.handle().clone(), cli.quit_after)
                .map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
        }
        Some(Command::Demo { reset }) => {
            let (demo, server) = runtime.block_on(start_demo(&data_dir, reset))?;
            let shown = superset::app::run(
                server.profile.clone(),
                runtime.handle().clone(),
                cli.quit_after,
            );
            println!("stopping the demo …");
            runtime.block_on(server.stop());
            drop(demo);
            shown.map_err(|e| anyhow::anyhow!("cannot open the window: {e}"))
        }
        Some(command) => runtime.block_on(run_command(command, data_dir, cli.json)),
    }
}

/// Starts the demo's database and server and signs the demo user in.
async fn start_demo(
    data_dir: &std::path::Path,
    reset: bool,
) -> anyhow::Result<(demo::Demo, demo::DemoServer)> {
    println!("starting the demo database under {} …", data_dir.display());
    let demo = demo::start(&DemoOptions {
        data_dir: data_dir.to_path_buf(),
        reset,
    })
    .await?;
    if let Some(team) = &demo.seeded_now {
        print!("{}", team.summary());
    }
    let server = demo.serve(data_dir).await?;
    println!(
        "demo server at {}; signed in as {} (every demo user's password: {})",
        server.base_url,
        server.user,
        demo::DEMO_PASSWORD
    );
    Ok((demo, server))
}

async fn run_command(command: Command, data_dir: PathBuf, json: bool) -> anyhow::Result<()> {
    use superset::commands::work::{self, Output};
    let said = |stdout: String| Output {
        stdout,
        stderr: String::new(),
    };
    let printed = match command {
        Command::Demo { .. } => unreachable!("the demo runs the window on the main thread"),
        Command::Login { server, email } => {
            let password = read_password()?;
            said(commands::login(&data_dir, &server, &email, &password).await? + "\n")
        }
        Command::Sync { until_synced } => {
            commands::sync(&data_dir, until_synced).await?;
            said(String::new())
        }
        Command::Status => said(commands::status(&data_dir)?),
        Command::Logout => said(commands::logout(&data_dir).await? + "\n"),
        Command::Invitations { answer } => {
            let answer = answer.map(|answer| match answer {
                Answer::Accept { id } => (id, true),
                Answer::Decline { id } => (id, false),
            });
            said(commands::invitations(&data_dir, answer).await?)
        }
        Command::Link { path, repository } => work::link(&data_dir, &path, repository).await?,
        Command::Tasks { mine, status } => work::tasks(&data_dir, mine, status, json).await?,
        Command::Start {
            key,
            folder,
            switch,
        } => work::start_work(&data_dir, key, folder.as_deref(), switch, json).await?,
        Command::Explore { repository, branch } => {
            work::explore(&data_dir, repository, branch, json).await?
        }
        Command::Workspaces => work::workspaces(&data_dir, json).await?,
        Command::Done { which, remove } => work::done(&data_dir, which, remove).await?,
    };
    eprint!("{}", printed.stderr);
    print!("{}", printed.stdout);
    Ok(())
}
