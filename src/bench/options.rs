//! What `superset-bench` can be asked to run: the scenario and the sizes.

/// Which measurement to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    /// Every scenario, one after the other.
    All,
    /// Serve a 1M-row shape to one client (fresh shape, then an existing one).
    Serve,
    /// Commit → client sees it, with 1,000 live shapes each held by a long-poll.
    Live,
    /// Row changes per second through replication to the clients of the shapes they touch.
    Throughput,
    /// 2,000 clients fetch one 500-row shape at once.
    Fanout,
    /// What the API's Electric proxy adds to a request (p50/p99 through it and without it).
    Proxy,
    /// `/api/me` p99 while 200 failed sign-ins arrive at once.
    Flood,
    /// Subquery shapes: membership added / removed → rows moved in / out, against a plain
    /// update on the same shape.
    Moves,
    /// The desktop engine: initial sync of 100k tasks, commit → SQLite, idle writes.
    Desktop,
    /// The desktop window with 100k tasks: cold start, frame CPU, organization switch, memory.
    Window,
    /// The production topology (dist/deploy/local-cluster.sh) with 10,000 simulated desktops in
    /// 20 organizations: commit → every desktop, requests reaching the sync service, a start
    /// storm, each tier's CPU and memory. Not part of `all` (it needs nginx and the release
    /// `superset-server` next to this binary).
    Scale,
}

/// Sizes of the scenarios (defaults are the ones DESIGN.md §5 states).
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Rows in the `serve` scenario's shape.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: usize,
    /// Live shapes (one long-polling client each) in the `live` scenario.
    #[arg(long, default_value_t = 1_000)]
    pub live_shapes: usize,
    /// Single-row commits timed in the `live` scenario.
    #[arg(long, default_value_t = 1_000)]
    pub updates: usize,
    /// Row changes committed in the `throughput` scenario (per phase).
    #[arg(long, default_value_t = 200_000)]
    pub changes: usize,
    /// Row changes per transaction in the `throughput` scenario.
    #[arg(long, default_value_t = 1_000)]
    pub batch: usize,
    /// Shapes the `throughput` scenario's changes spread over (one client each).
    #[arg(long, default_value_t = 10)]
    pub throughput_shapes: usize,
    /// Concurrent clients in the `fanout` scenario.
    #[arg(long, default_value_t = 2_000)]
    pub clients: usize,
    /// Rows in the `fanout` scenario's shape.
    #[arg(long, default_value_t = 500)]
    pub shape_rows: usize,
    /// Simulated desktops in the `scale` scenario (each holds a long-poll of its own).
    #[arg(long, default_value_t = 10_000)]
    pub desktops: usize,
    /// Organizations the `scale` scenario's desktops are spread over.
    #[arg(long, default_value_t = 20)]
    pub organizations: usize,
    /// Commits timed in the `scale` scenario (each in one organization, in turn).
    #[arg(long, default_value_t = 40)]
    pub scale_commits: usize,
    /// Worker threads of the sync service's runtime (default: one per CPU, like
    /// `superset-server`).
    #[arg(long)]
    pub server_threads: Option<usize>,
}
