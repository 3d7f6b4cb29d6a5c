//! What every scenario gets: the lab's throwaway cluster, the options, and helpers to seed a
//! database and define a shape.

use anyhow::Context;

use super::env::{Database, Lab, Server};
use super::options::Options;
use crate::server::{db, seed};

/// What every scenario gets.
pub(crate) struct Bench<'a> {
    pub lab: &'a Lab,
    pub options: &'a Options,
    pub server_threads: usize,
}

impl Bench<'_> {
    /// A fresh migrated database for a scenario.
    pub(super) async fn database(&self, name: &str) -> anyhow::Result<Database> {
        self.lab.database(name).await
    }

    pub(super) async fn start_server(
        &self,
        config: crate::server::shapes::ShapeServiceConfig,
    ) -> anyhow::Result<Server> {
        Server::start(config, self.server_threads).await
    }
}

/// Seeds `database` with a generated team.
pub(super) async fn seed_team(
    database: &Database,
    config: seed::SeedConfig,
) -> anyhow::Result<seed::Team> {
    let mut client = db::connect(&database.url).await?;
    let team = seed::generate(&config);
    seed::insert(&mut client, &team)
        .await
        .context("seeding the scenario's database")?;
    client.batch_execute("VACUUM ANALYZE").await?;
    Ok(team)
}

/// The shape definition `table=tasks&where=<column> = $1&params[1]=<value>`, URL-encoded.
pub(super) fn pinned_tasks(column: &str, value: &str) -> String {
    format!("table=tasks&where={column}%20%3D%20%241&params%5B1%5D={value}")
}
