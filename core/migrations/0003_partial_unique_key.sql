-- Most tasks have no key: a partial index leaves them out, where the column's UNIQUE
-- constraint gave every insert an index entry (for its NULL) and every claim and result a
-- bigger index to keep. Inserts name the predicate in `ON CONFLICT`.
ALTER TABLE preheat_tasks DROP CONSTRAINT preheat_tasks_unique_key_key;
CREATE UNIQUE INDEX preheat_tasks_unique_key ON preheat_tasks (unique_key) WHERE unique_key IS NOT NULL;
