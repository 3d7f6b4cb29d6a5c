//! Subquery shapes with the official clients: `tasks` whose `organization_id IN (SELECT
//! organization_id FROM organization_members WHERE user_id = $1)`, followed by a plain
//! `ShapeStream` (materialized by the script, move-outs applied by tags) and by TanStack DB's
//! Electric collection, while the user joins an organization (its tasks move in as inserts with
//! tags), leaves it (a `move-out` event) and joins again — never a 409.
//!
//! `tests/conformance/electric-subqueries.mjs` runs under Node (through [`run_script`]); the
//! driver here adds and removes the memberships and answers with the task ids Postgres says the
//! shape holds.

use std::time::Duration;

use serde_json::{Value, json};
use uuid::Uuid;

use super::conformance::{Phases, run_script, strings};
use super::support::Fixture;

const LIMIT: Duration = Duration::from_secs(90);

#[tokio::test]
async fn the_official_clients_follow_subquery_shapes_through_moves_in_and_out() {
    let fx = Fixture::start().await;
    let joined = fx.team.organizations[0].id;
    let member_of = fx.team.organizations[1].id;
    let sql = fx.sql().await;

    // A user of the second organization only, and an organization they never join.
    let user = Uuid::new_v4();
    sql.execute(
        "INSERT INTO users (id, email, name) VALUES ($1, $2, 'Subquery Conformance')",
        &[&user, &format!("subquery-{user}@example.com")],
    )
    .await
    .unwrap();
    sql.execute(
        "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
        &[&member_of, &user],
    )
    .await
    .unwrap();
    let outsider = Uuid::new_v4();
    sql.execute(
        "INSERT INTO organizations (id, name, slug) VALUES ($1, 'Outsiders', $2)",
        &[&outsider, &format!("outsiders-{}", outsider.simple())],
    )
    .await
    .unwrap();

    let driver = SubqueryDriver {
        sql,
        user,
        joined,
        member_of,
        outsider,
    };
    run_script(
        fx,
        "electric-subqueries.mjs",
        &[("USER_ID", user.to_string())],
        LIMIT,
        driver,
    )
    .await;
}

/// The Rust half of `electric-subqueries.mjs`.
struct SubqueryDriver {
    sql: tokio_postgres::Client,
    user: Uuid,
    /// The organization the user joins, leaves and joins again.
    joined: Uuid,
    /// The organization the user belongs to throughout.
    member_of: Uuid,
    /// An organization the user never belongs to.
    outsider: Uuid,
}

impl Phases for SubqueryDriver {
    async fn phase(&mut self, phase: &str) -> Result<Value, String> {
        match self.act(phase).await {
            Ok(Some(answer)) => Ok(answer),
            Ok(None) => Err(format!("the script asked for an unknown phase {phase:?}")),
            Err(e) => Err(format!("SQL failed: {e}")),
        }
    }
}

impl SubqueryDriver {
    /// Does what `phase` asks for; `None` for a phase this driver does not know.
    async fn act(&self, phase: &str) -> Result<Option<Value>, tokio_postgres::Error> {
        let answer = match phase {
            "subquery-snapshot" => self.answer(json!({})).await?,
            "move-in" => {
                self.join().await?;
                let moved_in = self.tasks_of(self.joined).await?;
                self.answer(json!({ "moved_in": strings(&moved_in) }))
                    .await?
            }
            "subquery-live" => self.live_changes().await?,
            "move-out" => {
                let moved_out = self.tasks_of(self.joined).await?;
                self.sql
                    .execute(
                        "DELETE FROM organization_members WHERE organization_id = $1 AND user_id = $2",
                        &[&self.joined, &self.user],
                    )
                    .await?;
                self.answer(json!({ "moved_out": strings(&moved_out) }))
                    .await?
            }
            "move-in-again" => {
                self.join().await?;
                self.answer(json!({})).await?
            }
            _ => return Ok(None),
        };
        Ok(Some(answer))
    }

    async fn join(&self) -> Result<(), tokio_postgres::Error> {
        self.sql
            .execute(
                "INSERT INTO organization_members (organization_id, user_id) VALUES ($1, $2)",
                &[&self.joined, &self.user],
            )
            .await?;
        Ok(())
    }

    /// A task added to the joined organization, one renamed in the other, and one added to the
    /// organization the user is not in.
    async fn live_changes(&self) -> Result<Value, tokio_postgres::Error> {
        let (inserted, outsider_task) = (Uuid::new_v4(), Uuid::new_v4());
        let insert = "INSERT INTO tasks (id, organization_id, title) VALUES ($1, $2, $3)";
        self.sql
            .execute(
                insert,
                &[&inserted, &self.joined, &"Added under the subquery"],
            )
            .await?;
        self.sql
            .execute(insert, &[&outsider_task, &self.outsider, &"Not the user's"])
            .await?;
        let renamed = self.tasks_of(self.member_of).await?[0];
        let title = "Renamed under the subquery";
        self.sql
            .execute(
                "UPDATE tasks SET title = $2 WHERE id = $1",
                &[&renamed, &title],
            )
            .await?;
        self.answer(json!({
            "inserted": inserted.to_string(),
            "outsider": outsider_task.to_string(),
            "renamed": {"id": renamed.to_string(), "title": title},
        }))
        .await
    }

    async fn tasks_of(&self, org: Uuid) -> Result<Vec<Uuid>, tokio_postgres::Error> {
        Ok(self
            .sql
            .query(
                "SELECT id FROM tasks WHERE organization_id = $1 ORDER BY id",
                &[&org],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect())
    }

    /// `extra` with `ids`: the tasks the shape holds now, by the shape's own condition.
    async fn answer(&self, mut extra: Value) -> Result<Value, tokio_postgres::Error> {
        let ids: Vec<Uuid> = self
            .sql
            .query(
                "SELECT id FROM tasks WHERE organization_id IN \
                 (SELECT organization_id FROM organization_members WHERE user_id = $1) ORDER BY id",
                &[&self.user],
            )
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        extra["ids"] = json!(strings(&ids));
        Ok(extra)
    }
}
