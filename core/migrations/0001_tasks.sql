-- preheat's durable task table, shared by every process of a deployment.
--
-- `run_at` is when a ready task is due and, while a task runs, when its lease expires: one
-- partial index then serves both the claim of due work and the reclaim of expired leases.
CREATE TABLE preheat_tasks (
    id          bigserial PRIMARY KEY,
    task        text        NOT NULL,
    input       jsonb       NOT NULL,
    state       text        NOT NULL DEFAULT 'ready'
                CHECK (state IN ('ready', 'running', 'completed', 'dead')),
    run_at      timestamptz NOT NULL DEFAULT now(),
    -- Attempts claimed, the one running included.
    attempt     integer     NOT NULL DEFAULT 0,
    -- Idempotency: a second submit with a key already present is a no-op.
    unique_key  text        UNIQUE,
    flow_id     bigint,
    lease_owner bigint,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);

CREATE INDEX preheat_tasks_due ON preheat_tasks (run_at) WHERE state IN ('ready', 'running');
CREATE INDEX preheat_tasks_leased ON preheat_tasks (lease_owner) WHERE state = 'running';
CREATE INDEX preheat_tasks_flow ON preheat_tasks (flow_id) WHERE flow_id IS NOT NULL;
CREATE INDEX preheat_tasks_finished ON preheat_tasks (finished_at) WHERE state = 'completed';

CREATE SEQUENCE preheat_flow_ids;

-- The outputs a task with several upstream tasks has collected, keyed by upstream task id.
CREATE TABLE preheat_flow_parts (
    flow_id bigint NOT NULL,
    task    text   NOT NULL,
    parts   jsonb  NOT NULL,
    PRIMARY KEY (flow_id, task)
);

-- Wakes listening workers once per inserting statement, at commit.
CREATE FUNCTION preheat_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('preheat_tasks', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER preheat_tasks_inserted AFTER INSERT ON preheat_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION preheat_notify();
