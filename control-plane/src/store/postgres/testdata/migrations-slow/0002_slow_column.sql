-- test migration: slow on purpose, so two concurrent runners overlap; applying it twice would fail
SELECT pg_sleep(0.3);
ALTER TABLE widgets ADD COLUMN name text;
