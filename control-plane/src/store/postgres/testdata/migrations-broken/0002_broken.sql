-- test migration: creates a table, then fails; the table must be rolled back
CREATE TABLE gadgets (id integer);
SELECT * FROM no_such_table;
