-- A row never moves to another organization. Desktops sync each organization as shapes of its
-- own (`organization_id = $1`), and two organizations' streams have no order between them: a
-- row leaving one and arriving in the other could be applied in either order. Nothing in the
-- product moves rows between tenants (a webhook never does, the API cannot), so the database
-- refuses it outright.
CREATE FUNCTION superset_keep_organization() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
        RAISE EXCEPTION 'a % row cannot move to another organization', TG_TABLE_NAME
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER organization_members_keep_organization BEFORE UPDATE OF organization_id
    ON organization_members FOR EACH ROW EXECUTE FUNCTION superset_keep_organization();
CREATE TRIGGER repositories_keep_organization BEFORE UPDATE OF organization_id
    ON repositories FOR EACH ROW EXECUTE FUNCTION superset_keep_organization();
CREATE TRIGGER tasks_keep_organization BEFORE UPDATE OF organization_id
    ON tasks FOR EACH ROW EXECUTE FUNCTION superset_keep_organization();
CREATE TRIGGER workspaces_keep_organization BEFORE UPDATE OF organization_id
    ON workspaces FOR EACH ROW EXECUTE FUNCTION superset_keep_organization();

-- Joining an organization is announced too: a desktop's directory (the organizations shape
-- scoped to all of a user's memberships) is then a different shape, and its held live request
-- ends at once so the desktop opens the new organization's streams without waiting.
CREATE FUNCTION superset_membership_added() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('superset_membership_removed',
                      json_build_object('organization_id', NEW.organization_id,
                                        'user_id', NEW.user_id, 'joined', true)::text);
    RETURN NEW;
END
$$;
CREATE TRIGGER organization_members_added AFTER INSERT ON organization_members
    FOR EACH ROW EXECUTE FUNCTION superset_membership_added();
