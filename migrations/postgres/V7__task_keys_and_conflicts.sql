-- Tasks created in Superset get short keys numbered per organization, as Linear's are
-- (`ACME-17`), in the column the desktop shows as the key; and each task field remembers who
-- wrote it last, so a refused stale write can say who changed what. Both tables are
-- server-only (not in the publication).

-- Each organization's counter: its prefix (from its slug) and the last number given.
CREATE TABLE task_keys (
    organization_id  uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    prefix           text NOT NULL CHECK (prefix ~ '^[A-Z0-9]{1,5}$'),
    last_number      integer NOT NULL CHECK (last_number >= 0)
);

-- The prefix of an organization's keys: the first dash-separated part of its slug, letters and
-- digits only, upper-cased, at most five characters; TASK when nothing is left.
CREATE FUNCTION superset_task_key_prefix(slug text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(upper(left(regexp_replace(split_part(slug, '-', 1), '[^a-zA-Z0-9]', '', 'g'), 5)), ''), 'TASK')
$$;

-- The next key of organization `org`. The counter row is locked until the transaction ends, so
-- two creates never get the same number. A new counter starts after the highest number its
-- prefix already has among the organization's tasks (a Linear team may share the prefix).
CREATE FUNCTION superset_next_task_key(org uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    key_prefix text;
    number integer;
BEGIN
    UPDATE task_keys SET last_number = last_number + 1 WHERE organization_id = org
    RETURNING prefix, last_number INTO key_prefix, number;
    IF NOT FOUND THEN
        SELECT superset_task_key_prefix(slug) INTO key_prefix FROM organizations WHERE id = org;
        SELECT coalesce(max(substring(external_key FROM '-([0-9]{1,9})$')::integer), 0) + 1
          INTO number
          FROM tasks
         WHERE organization_id = org AND external_key LIKE key_prefix || '-%';
        INSERT INTO task_keys (organization_id, prefix, last_number)
        VALUES (org, key_prefix, number)
        ON CONFLICT (organization_id) DO UPDATE SET last_number = task_keys.last_number + 1
        RETURNING prefix, last_number INTO key_prefix, number;
    END IF;
    RETURN key_prefix || '-' || number;
END
$$;

CREATE FUNCTION superset_assign_task_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.external_provider IS NULL AND NEW.external_key IS NULL THEN
        NEW.external_key := superset_next_task_key(NEW.organization_id);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER tasks_assign_key BEFORE INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION superset_assign_task_key();

-- The tasks created before keys existed get theirs, oldest first.
DO $$
DECLARE
    task record;
BEGIN
    FOR task IN
        SELECT id, organization_id FROM tasks
         WHERE external_provider IS NULL AND external_key IS NULL
         ORDER BY created_at, id
    LOOP
        UPDATE tasks SET external_key = superset_next_task_key(task.organization_id)
         WHERE id = task.id;
    END LOOP;
END
$$;

-- Who wrote each task field last (NULL: a tracker, or someone since removed).
CREATE TABLE task_field_writes (
    task_id     uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    field       text NOT NULL,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, field)
);
