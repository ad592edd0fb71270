-- The lease owner's index served a heartbeat that renewed every row of its owner; the heartbeat
-- now renews the rows the worker holds, by id. Without statistics (a new table, a fresh
-- backlog) the planner also drove each batch of results from this index (all the rows the
-- worker ever leased, dead entries included) and re-read the batch for every one of them:
-- 74 ms a batch. Dropped: results find their rows by primary key, and each claim writes one
-- index entry less.
DROP INDEX preheat_tasks_leased;
