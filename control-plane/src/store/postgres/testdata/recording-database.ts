/**
 * Test support (not built): a database that passes every statement on to `db` and records its text, with the
 * select list shortened to `SELECT … FROM`, so a test can assert which statements a store call issued.
 */
import type { SqlDatabase } from '../sql.js';

export function recordingDatabase(db: SqlDatabase): { db: SqlDatabase; statements: string[] } {
  const statements: string[] = [];
  return {
    statements,
    db: {
      ...db,
      query: (text, values) => {
        statements.push(text.replace(/^SELECT .* FROM/s, 'SELECT … FROM'));
        return db.query(text, values);
      },
    },
  };
}
