-- Tasks made here get a short readable key like Linear's (ACME-17), and the server remembers
-- who last wrote each field of a task, so a write based on a stale value can be told who
-- changed it. Both tables are server-only (not in the publication); the one change a desktop
-- sees is `external_key` filled in for local tasks.

-- One counter per organization. The prefix is fixed when the counter is made, so keys stay
-- alike if the organization's slug changes later.
CREATE TABLE task_keys (
    organization_id  uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    prefix           text NOT NULL,
    last_number      integer NOT NULL
);

-- The prefix of an organization's keys: the first dash-separated part of its slug, letters and
-- digits only, upper-cased, at most 6 characters; TASK when nothing is left.
CREATE FUNCTION superset_task_key_prefix(slug text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(left(upper(regexp_replace(split_part(slug, '-', 1), '[^A-Za-z0-9]', '',
                                                     'g')), 6), ''), 'TASK')
$$;

-- Handing out keys. A counter row is locked (FOR UPDATE) by the first key a transaction takes
-- from it, so concurrent writers of one organization take turns; a new counter starts after
-- the highest number the organization's tasks already use with its prefix (a Linear team may
-- share it), so no key repeats one of those. Updating the counter row once per key would make
-- a bulk insert quadratic (each update leaves a row version the next must step over), so the
-- last key taken is kept in a transaction-local setting `superset.task_key_<org>` and written
-- to the counter once per statement by `superset_save_task_keys`; the organizations waiting
-- for that are listed in `superset.task_keys_taken`. Settings, like rows, roll back with a
-- failed (sub)transaction.
CREATE FUNCTION superset_counted_task_key(org uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    key_prefix  text;
    number      integer;
BEGIN
    SELECT prefix, last_number INTO key_prefix, number
      FROM task_keys WHERE organization_id = org FOR UPDATE;
    IF NOT FOUND THEN
        SELECT superset_task_key_prefix(slug) INTO key_prefix FROM organizations WHERE id = org;
        IF NOT FOUND THEN
            RETURN NULL; -- no such organization: the insert fails on its foreign key
        END IF;
        SELECT coalesce(max(substring(external_key FROM '^' || key_prefix || '-([0-9]{1,9})$')
                            ::integer), 0)
          INTO number
          FROM tasks
         WHERE organization_id = org AND external_key LIKE key_prefix || '-%';
        -- Two first keys at once: the second waits here for the first to commit, then counts
        -- on from its counter.
        INSERT INTO task_keys (organization_id, prefix, last_number)
        VALUES (org, key_prefix, number)
        ON CONFLICT (organization_id) DO NOTHING;
        SELECT prefix, last_number INTO key_prefix, number
          FROM task_keys WHERE organization_id = org FOR UPDATE;
    END IF;
    PERFORM set_config('superset.task_keys_taken',
                       concat_ws(',', nullif(current_setting('superset.task_keys_taken', true), ''),
                                 org),
                       true);
    RETURN key_prefix || '-' || number;
END
$$;

-- The next key of `org`, such as ACME-17.
CREATE FUNCTION superset_next_task_key(org uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    setting  text := 'superset.task_key_' || replace(org::text, '-', '');
    last     text := coalesce(nullif(current_setting(setting, true), ''),
                              superset_counted_task_key(org));
    next_key text;
BEGIN
    IF last IS NULL THEN
        RETURN NULL;
    END IF;
    next_key := split_part(last, '-', 1) || '-' || (split_part(last, '-', 2)::integer + 1);
    PERFORM set_config(setting, next_key, true);
    RETURN next_key;
END
$$;

-- Writes the keys taken since the last call to their counters.
CREATE FUNCTION superset_save_task_keys() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    org      text;
    setting  text;
BEGIN
    FOREACH org IN ARRAY string_to_array(
        coalesce(nullif(current_setting('superset.task_keys_taken', true), ''), ''), ',')
    LOOP
        setting := 'superset.task_key_' || replace(org, '-', '');
        UPDATE task_keys
           SET last_number = split_part(current_setting(setting), '-', 2)::integer
         WHERE organization_id = org::uuid;
        PERFORM set_config(setting, '', true);
    END LOOP;
    PERFORM set_config('superset.task_keys_taken', '', true);
END
$$;

CREATE FUNCTION superset_assign_task_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.external_key := superset_next_task_key(NEW.organization_id);
    RETURN NEW;
END
$$;

CREATE FUNCTION superset_save_task_keys_after() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM superset_save_task_keys();
    RETURN NULL;
END
$$;

-- Every local task gets its key as it is inserted: the API, the seed and the bench alike.
CREATE TRIGGER tasks_assign_key BEFORE INSERT ON tasks
    FOR EACH ROW WHEN (NEW.external_provider IS NULL AND NEW.external_key IS NULL)
    EXECUTE FUNCTION superset_assign_task_key();
CREATE TRIGGER tasks_save_keys AFTER INSERT ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION superset_save_task_keys_after();

-- Local tasks made before keys existed get theirs in the order they were made.
DO $$
DECLARE
    task  record;
BEGIN
    FOR task IN
        SELECT id, organization_id FROM tasks
         WHERE external_provider IS NULL AND external_key IS NULL
         ORDER BY created_at, id
    LOOP
        UPDATE tasks SET external_key = superset_next_task_key(task.organization_id)
         WHERE id = task.id;
    END LOOP;
    PERFORM superset_save_task_keys();
END
$$;

-- Who last wrote each field of a task through the API (NULL: unknown, or no longer a user).
CREATE TABLE task_field_writes (
    task_id     uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    field       text NOT NULL,
    user_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (task_id, field)
);
CREATE INDEX task_field_writes_user_id_idx ON task_field_writes (user_id);
