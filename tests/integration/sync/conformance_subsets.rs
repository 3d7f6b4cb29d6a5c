//! Electric 1.x's partial loading with the official clients: a `log=changes_only` shape, subset
//! snapshots through `requestSnapshot` (GET) and `fetchSnapshot` (POST) of
//! `@electric-sql/client`, and TanStack DB's Electric collection in its `eager`, `on-demand`
//! and `progressive` sync modes (`@tanstack/db`, `@tanstack/electric-db-collection`; all pinned
//! in `tests/conformance/package.json`).
//!
//! `tests/conformance/electric-subsets.mjs` and `tanstack-db.mjs` run under Node (through
//! [`run_script`]); the drivers here write to Postgres between their phases and answer with what
//! Postgres then holds: each subset's rows in the order the subset's ORDER BY gives them, worked
//! out by Postgres from the same conditions.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::conformance::{Phases, run_script, strings};
use super::support::Fixture;

/// The subset script's backstop (its own deadline is 30 s shorter).
const SUBSETS_LIMIT: Duration = Duration::from_secs(90);
/// TanStack DB starts three collections, each with its own stream.
const TANSTACK_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test]
async fn the_official_client_reads_changes_only_shapes_and_subset_snapshots() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let driver = SubsetDriver {
        sql: fx.sql().await,
        org,
        loaded: Vec::new(),
        subset_row: None,
    };
    run_script(
        fx,
        "electric-subsets.mjs",
        &[("ORG_ID", org.to_string())],
        SUBSETS_LIMIT,
        driver,
    )
    .await;
}

#[tokio::test]
async fn tanstack_db_electric_collections_sync_in_every_mode() {
    let fx = Fixture::start().await;
    let org = fx.team.organizations[0].id;
    let driver = TanstackDriver {
        sql: fx.sql().await,
        org,
    };
    run_script(
        fx,
        "tanstack-db.mjs",
        &[("ORG_ID", org.to_string())],
        TANSTACK_LIMIT,
        driver,
    )
    .await;
}

/// The status TanStack DB's live queries filter on.
const QUERIED_STATUS: &str = "Todo";

/// The Rust half of `electric-subsets.mjs`.
struct SubsetDriver {
    sql: tokio_postgres::Client,
    org: Uuid,
    /// Rows the script's changes_only Shape holds: the live insert and the subsets' rows.
    loaded: Vec<Uuid>,
    /// The first row of the GET subset.
    subset_row: Option<Uuid>,
}

impl Phases for SubsetDriver {
    async fn phase(&mut self, phase: &str) -> Result<Value, String> {
        match phase {
            "changes-only" => self.changes_after_start().await,
            "subset" => self.subsets().await,
            "subset-update" => self.update_subset_row().await,
            "subset-post" => self.post_subset().await,
            other => Err(format!("the script asked for an unknown phase {other:?}")),
        }
    }
}

impl SubsetDriver {
    /// An insert and then a rename of the new row; an update of a row the stream never sent.
    async fn changes_after_start(&mut self) -> Result<Value, String> {
        let inserted = Uuid::new_v4();
        let title = "Made after a changes_only start";
        let status: String = self
            .sql
            .query_one(
                "INSERT INTO tasks (id, organization_id, title) VALUES ($1, $2, $3) RETURNING status",
                &[&inserted, &self.org, &title],
            )
            .await
            .map_err(sql_error)?
            .get(0);
        let renamed = "Renamed after a changes_only start";
        self.execute(
            "UPDATE tasks SET title = $2 WHERE id = $1",
            &[&inserted, &renamed],
        )
        .await?;
        let unseen: Uuid = self
            .sql
            .query_one(
                "SELECT id FROM tasks WHERE organization_id = $1 AND id <> $2 ORDER BY id LIMIT 1",
                &[&self.org, &inserted],
            )
            .await
            .map_err(sql_error)?
            .get(0);
        let unseen_title = "Updated, never sent to the changes_only stream";
        self.execute(
            "UPDATE tasks SET title = $2 WHERE id = $1",
            &[&unseen, &unseen_title],
        )
        .await?;
        self.loaded.push(inserted);
        Ok(json!({
            "inserted": {"id": inserted.to_string(), "title": title, "status": status},
            "updated": {"id": inserted.to_string(), "title": renamed},
            "unseen": {"id": unseen.to_string(), "title": unseen_title},
        }))
    }

    /// Two subsets: a where with params, ORDER BY with NULLS LAST and a limit that cuts the
    /// matches short; and structured expressions (`= ANY` over an array parameter, NOT IS NULL)
    /// with an offset.
    async fn subsets(&mut self) -> Result<Value, String> {
        let get_where = "priority IN ('high', 'urgent') AND NOT (status = 'Done')";
        let matching = self.count(get_where).await?;
        if matching < 3 {
            return Err(format!(
                "the seed gives only {matching} open high/urgent tasks; the GET subset needs 3"
            ));
        }
        let limit = matching - 1;
        let get_rows = self
            .rows(get_where, "due_date DESC NULLS LAST, id", limit, 0)
            .await?;

        let expr_where =
            "status = ANY('{Todo,\"In Progress\",Backlog}'::text[]) AND due_date IS NOT NULL";
        let (expr_limit, expr_offset) = (3, 1);
        let matching = self.count(expr_where).await?;
        if matching < expr_limit + expr_offset {
            return Err(format!(
                "the seed gives only {matching} open tasks with a due date; the structured \
                 subset needs {}",
                expr_limit + expr_offset
            ));
        }
        let expr_rows = self
            .rows(expr_where, "due_date, id DESC", expr_limit, expr_offset)
            .await?;
        self.subset_row = ids_of(&get_rows).next();
        for rows in [&get_rows, &expr_rows] {
            self.loaded.extend(ids_of(rows));
        }
        Ok(json!({
            "get": {
                "request": {
                    "where": "priority IN ($1, $2) AND NOT (status = $3)",
                    "params": {"1": "high", "2": "urgent", "3": "Done"},
                    "orderBy": "due_date DESC NULLS LAST, id",
                    "limit": limit,
                },
                "rows": get_rows,
            },
            "expr": {
                "request": {
                    "whereExpr": {"type": "func", "name": "and", "args": [
                        {"type": "func", "name": "in", "args": [
                            {"type": "ref", "column": "status"},
                            {"type": "val", "paramIndex": 1},
                        ]},
                        {"type": "func", "name": "not", "args": [
                            {"type": "func", "name": "isNull", "args": [
                                {"type": "ref", "column": "due_date"},
                            ]},
                        ]},
                    ]},
                    "params": {"1": "{Todo,\"In Progress\",Backlog}"},
                    "orderByExpr": [
                        {"column": "due_date", "direction": "asc"},
                        {"column": "id", "direction": "desc"},
                    ],
                    "limit": expr_limit,
                    "offset": expr_offset,
                },
                // What the client sends as subset__where for that expression.
                "compiledWhere": "(\"status\" = ANY($1)) AND (NOT (\"due_date\" IS NULL))",
                "rows": expr_rows,
            },
        }))
    }

    /// A rename of the first row of the GET subset and of a row no subset loaded.
    async fn update_subset_row(&mut self) -> Result<Value, String> {
        let updated = self.subset_row.ok_or("the GET subset loaded no rows")?;
        let title = "Renamed after its subset loaded";
        self.execute(
            "UPDATE tasks SET title = $2 WHERE id = $1",
            &[&updated, &title],
        )
        .await?;
        let unloaded: Uuid = self
            .sql
            .query_one(
                "SELECT id FROM tasks WHERE organization_id = $1 AND id <> ALL($2) ORDER BY id LIMIT 1",
                &[&self.org, &self.loaded],
            )
            .await
            .map_err(sql_error)?
            .get(0);
        let unloaded_title = "Renamed outside every subset";
        self.execute(
            "UPDATE tasks SET title = $2 WHERE id = $1",
            &[&unloaded, &unloaded_title],
        )
        .await?;
        Ok(json!({
            "updated": {"id": updated.to_string(), "title": title},
            "unloaded": {"id": unloaded.to_string(), "title": unloaded_title},
        }))
    }

    /// The POST subset: IN over three params, ORDER BY two columns, limit and offset.
    async fn post_subset(&mut self) -> Result<Value, String> {
        let condition = "status IN ('Backlog', 'Todo', 'Canceled')";
        let (limit, offset) = (4, 2);
        let matching = self.count(condition).await?;
        if matching < limit + offset {
            return Err(format!(
                "the seed gives only {matching} Backlog/Todo/Canceled tasks; the POST subset \
                 needs {}",
                limit + offset
            ));
        }
        let rows = self
            .rows(condition, "priority, id DESC", limit, offset)
            .await?;
        Ok(json!({
            "request": {
                "where": "status IN ($1, $2, $3)",
                "params": {"1": "Backlog", "2": "Todo", "3": "Canceled"},
                "orderBy": "priority ASC, id DESC",
                "limit": limit,
                "offset": offset,
            },
            "rows": rows,
        }))
    }

    /// How many of the organization's tasks meet `condition` (literal SQL).
    async fn count(&self, condition: &str) -> Result<i64, String> {
        let sql =
            format!("SELECT count(*) FROM tasks WHERE organization_id = $1 AND ({condition})");
        Ok(self
            .sql
            .query_one(&sql, &[&self.org])
            .await
            .map_err(sql_error)?
            .get(0))
    }

    /// The organization's tasks meeting `condition`, in `order`, as the script compares them.
    async fn rows(
        &self,
        condition: &str,
        order: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Value>, String> {
        let sql = format!(
            "SELECT id, title, status, priority, due_date::text FROM tasks \
             WHERE organization_id = $1 AND ({condition}) ORDER BY {order} LIMIT $2 OFFSET $3"
        );
        let rows = self
            .sql
            .query(&sql, &[&self.org, &limit, &offset])
            .await
            .map_err(sql_error)?;
        Ok(rows
            .iter()
            .map(|row| {
                json!({
                    "id": row.get::<_, Uuid>(0).to_string(),
                    "title": row.get::<_, String>(1),
                    "status": row.get::<_, String>(2),
                    "priority": row.get::<_, String>(3),
                    "due_date": row.get::<_, Option<String>>(4),
                })
            })
            .collect())
    }

    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<(), String> {
        self.sql.execute(sql, params).await.map_err(sql_error)?;
        Ok(())
    }
}

/// The Rust half of `tanstack-db.mjs`.
struct TanstackDriver {
    sql: tokio_postgres::Client,
    org: Uuid,
}

impl Phases for TanstackDriver {
    async fn phase(&mut self, phase: &str) -> Result<Value, String> {
        match phase {
            "tanstack" => {
                let mut state = self.state().await?;
                let matching = state["matching"].as_array().map_or(0, Vec::len);
                if matching < 2 {
                    return Err(format!(
                        "the seed gives only {matching} {QUERIED_STATUS} tasks; the live queries \
                         need 2"
                    ));
                }
                state["status"] = json!(QUERIED_STATUS);
                Ok(state)
            }
            "tanstack-live" => self.live_changes().await,
            other => Err(format!("the script asked for an unknown phase {other:?}")),
        }
    }
}

impl TanstackDriver {
    /// The organization's task ids, and those with the queried status.
    async fn state(&self) -> Result<Value, String> {
        let rows = self
            .sql
            .query(
                "SELECT id, status = $2 FROM tasks WHERE organization_id = $1 ORDER BY id",
                &[&self.org, &QUERIED_STATUS],
            )
            .await
            .map_err(sql_error)?;
        let all: Vec<Uuid> = rows.iter().map(|row| row.get(0)).collect();
        let matching: Vec<Uuid> = rows
            .iter()
            .filter(|row| row.get::<_, bool>(1))
            .map(|row| row.get(0))
            .collect();
        Ok(json!({ "all": strings(&all), "matching": strings(&matching) }))
    }

    /// A new task with the queried status and one without; a matching task moved to another
    /// status and another renamed; each its own transaction.
    async fn live_changes(&self) -> Result<Value, String> {
        let matching: Vec<Uuid> = self
            .sql
            .query(
                "SELECT id FROM tasks WHERE organization_id = $1 AND status = $2 ORDER BY id LIMIT 2",
                &[&self.org, &QUERIED_STATUS],
            )
            .await
            .map_err(sql_error)?
            .iter()
            .map(|row| row.get(0))
            .collect();
        let (moved, renamed) = (matching[0], matching[1]);
        let inserted = Uuid::new_v4();
        let inserted_other = Uuid::new_v4();
        let insert =
            "INSERT INTO tasks (id, organization_id, title, status) VALUES ($1, $2, $3, $4)";
        let title = "Added live with the queried status";
        self.sql
            .execute(insert, &[&inserted, &self.org, &title, &QUERIED_STATUS])
            .await
            .map_err(sql_error)?;
        let other_title = "Added live with another status";
        self.sql
            .execute(
                insert,
                &[&inserted_other, &self.org, &other_title, &"Backlog"],
            )
            .await
            .map_err(sql_error)?;
        self.sql
            .execute("UPDATE tasks SET status = 'Done' WHERE id = $1", &[&moved])
            .await
            .map_err(sql_error)?;
        let new_title = "Renamed live";
        self.sql
            .execute(
                "UPDATE tasks SET title = $2 WHERE id = $1",
                &[&renamed, &new_title],
            )
            .await
            .map_err(sql_error)?;
        let mut state = self.state().await?;
        state["renamed"] = json!({"id": renamed.to_string(), "title": new_title});
        state["inserted_other"] = json!(inserted_other.to_string());
        Ok(state)
    }
}

fn ids_of(rows: &[Value]) -> impl Iterator<Item = Uuid> + '_ {
    rows.iter().map(|row| {
        row["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("row ids are UUIDs")
    })
}

fn sql_error(error: tokio_postgres::Error) -> String {
    format!("SQL failed: {error}")
}
