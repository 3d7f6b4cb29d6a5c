-- Why each row of a subquery shape is in it (Electric's `tags`): a move-out event removes the
-- tags it matches, and a row left with none leaves the shape. `table_name` is the table the row
-- is written to (`users`, or `staging_users` while a refetch loads beside the visible rows).
CREATE TABLE synced_row_tags (
    table_name  TEXT NOT NULL,
    row_id      TEXT NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (table_name, row_id, tag)
) STRICT, WITHOUT ROWID;
