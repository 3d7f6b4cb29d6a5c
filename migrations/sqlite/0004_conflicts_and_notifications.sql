-- A write the API refused because the row changed meanwhile is kept as 'conflicted', with
-- what the server holds now (`conflict`, JSON), until the person keeps theirs or takes the
-- server's. SQLite cannot alter a CHECK, so the outbox is rebuilt with its rows.
CREATE TABLE outbox_rebuilt (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    command       TEXT NOT NULL,
    entity_table  TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'rejected', 'conflicted')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    txid          INTEGER,
    last_error    TEXT,
    conflict      TEXT,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
INSERT INTO outbox_rebuilt (id, command, entity_table, entity_id, payload, state, attempts, txid,
                            last_error, created_at)
SELECT id, command, entity_table, entity_id, payload, state, attempts, txid, last_error, created_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_state_idx ON outbox (state, id);

-- Desktop notifications (assigned to you, your pull request merged, …): on unless turned off.
ALTER TABLE settings ADD COLUMN notifications INTEGER NOT NULL DEFAULT 1 CHECK (notifications IN (0, 1));
