-- test migration: a table
CREATE TABLE widgets (id integer PRIMARY KEY);
