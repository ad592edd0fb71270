-- The W3C traceparent of the submit (#16), so that a task submitted in one process and run in
-- another continues the same trace. Written and read only by builds with the `otel` feature;
-- the schema is the same in every build.
ALTER TABLE preheat_tasks ADD COLUMN traceparent text;
