-- Transaction ids of synced changes seen in the last minutes. A write's confirmation can come
-- back through sync before the API's answer has been recorded; the outbox looks here when it
-- records the answer, so such a write is confirmed at once instead of waiting forever.
CREATE TABLE seen_txids (
    table_name  TEXT NOT NULL,
    txid        INTEGER NOT NULL,
    seen_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (table_name, txid)
) STRICT;
