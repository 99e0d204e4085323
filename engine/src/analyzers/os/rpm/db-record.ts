/** What every rpmdb backend reader yields: header blobs, or problems it stepped over. */

/** Random access to the database file (an AnalyzerInput's FileContent satisfies it). */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset` (fewer at the end of the file). */
  readAt(offset: number, length: number): Promise<Buffer>;
}

/**
 * One record of a package database: a header blob with its record key (BDB key, NDB package
 * index, SQLite hnum), or a problem (a corrupt page, slot or blob) the reader skipped.
 */
export type DbRecord = { kind: 'blob'; key: number; blob: Buffer } | { kind: 'problem'; message: string };
