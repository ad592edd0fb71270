-- Notifications name the table they are about: workers of one schema are not woken by inserts
-- into another schema's table in the same database. The table's oid keeps the channel name
-- short (channel names are identifiers, at most 63 bytes) whatever the schema is called.
CREATE OR REPLACE FUNCTION preheat_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('preheat_tasks_' || TG_RELID::text, '');
    RETURN NULL;
END
$$;
