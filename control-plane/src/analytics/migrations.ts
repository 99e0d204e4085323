/**
 * The analytics schema as numbered migrations, applied in order by migrate.ts. ClickHouse has no transactional
 * DDL and takes one statement per request over HTTP, so a migration is a list of statements, each idempotent
 * (`IF NOT EXISTS` / `IF EXISTS`): a migration interrupted half-way, or run by two control planes at once, is
 * simply run again. Never edit a shipped migration (its checksum is recorded); add the next number.
 *
 * Visibility model: `packages` and `findings` hold rows per (org, scan, attempt) as workers stream them; nothing
 * reads them except through `image_latest` / `scan_summaries`, which name each image's published (scan, attempt)
 * and, since migration 2, the attempts holding its findings and inventory rows (itself, unless it is a rematch
 * scan sharing rows). A half-written attempt is therefore never seen, and a retry (attempt + 1) never doubles
 * counts.
 */

/** One numbered migration: statements run in order. */
export interface AnalyticsMigration {
  version: number;
  name: string;
  statements: readonly string[];
}

const DATETIME = "DateTime64(3, 'UTC')";

export const ANALYTICS_MIGRATIONS: readonly AnalyticsMigration[] = [
  {
    version: 1,
    name: 'init',
    statements: [
      // Inventories. Read per attempt only (publish counts them; a rematch reads them back), so the key starts
      // with (org, scan, attempt); name + package_key order the rows and make each package's key unique.
      // `package_key` is the JSON of [ecosystem, version, path, purl, layer]: what tells two packages of one
      // name apart. `package` is the engine's Package as JSON.
      `CREATE TABLE IF NOT EXISTS packages (
        org_id String,
        scan_id String,
        attempt UInt32,
        name String,
        package_key String,
        package String,
        inserted_at ${DATETIME} DEFAULT now64(3)
      ) ENGINE = MergeTree
      ORDER BY (org_id, scan_id, attempt, name, package_key)`,

      // Findings. Every read is "the findings of some (scan, attempt)s", sorted worst first, then id, then package:
      // the key is exactly that order, so an image's page is a key-range read in key order (no sort), and the
      // keyset cursor (severity_rank, id, package_name, package_key) > (…) is a key condition. Small granules
      // (256 rows, measured against 1024 at 5M findings: about half the latency of a page and of the CVE
      // lookup): an image has a few hundred findings, and a read decompresses whole granules of Finding JSON.
      // severity_rank: 0 CRITICAL, 1 HIGH, 2 MEDIUM, 3 LOW, 4 UNKNOWN. fixable: a fixed version is known.
      // id, aliases, package_name, title feed the filters; `finding` is the engine's Finding as JSON (default LZ4:
      // decompressing granules of JSON is what a page costs, and LZ4 does it several times faster than ZSTD).
      `CREATE TABLE IF NOT EXISTS findings (
        org_id String,
        scan_id String,
        attempt UInt32,
        severity_rank UInt8,
        id String,
        aliases Array(String),
        package_name String,
        package_key String,
        fixable Bool,
        title String,
        finding String,
        inserted_at ${DATETIME} DEFAULT now64(3)
      ) ENGINE = MergeTree
      ORDER BY (org_id, scan_id, attempt, severity_rank, id, package_name, package_key)
      SETTINGS index_granularity = 256`,

      // "Which images have CVE-X": one row per (vulnerability id or alias, attempt), upper-cased so lookups
      // ignore case, keyed by (org, vulnerability id) so the lookup is a point read however many findings exist.
      // Filled by the materialised view below on every insert into `findings`; ReplacingMergeTree folds the
      // repeats (one CVE in many packages of an attempt) when parts merge.
      `CREATE TABLE IF NOT EXISTS finding_ids (
        org_id String,
        vulnerability_id String,
        scan_id String,
        attempt UInt32
      ) ENGINE = ReplacingMergeTree
      ORDER BY (org_id, vulnerability_id, scan_id, attempt)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS finding_ids_mv TO finding_ids AS
      SELECT org_id, vulnerability_id, scan_id, attempt
      FROM findings
      ARRAY JOIN arrayDistinct(arrayMap(x -> upperUTF8(x), arrayPushFront(aliases, id))) AS vulnerability_id`,

      // Published attempts with their counts: the record that an attempt is visible (pruning keeps these).
      `CREATE TABLE IF NOT EXISTS scan_summaries (
        org_id String,
        scan_id String,
        attempt UInt32,
        digest String,
        completed_at ${DATETIME},
        os String,
        critical UInt32,
        high UInt32,
        medium UInt32,
        low UInt32,
        unknown UInt32,
        fixable UInt32,
        packages UInt32,
        published_at ${DATETIME} DEFAULT now64(3)
      ) ENGINE = ReplacingMergeTree
      ORDER BY (org_id, scan_id, attempt)`,

      // Each image's latest completed scan with its counts: the only entry point of every dashboard read.
      // ReplacingMergeTree versioned by completed_at keeps, per (org, image), the row of the newest completion
      // whatever the insert order (an older completion published late never wins); reads use FINAL. Keyed by
      // (org, image) so summary() reads one org's range (10,000 small rows) and imageSummaries() point-reads.
      `CREATE TABLE IF NOT EXISTS image_latest (
        org_id String,
        image_id String,
        scan_id String,
        attempt UInt32,
        digest String,
        completed_at ${DATETIME},
        os String,
        critical UInt32,
        high UInt32,
        medium UInt32,
        low UInt32,
        unknown UInt32,
        fixable UInt32,
        packages UInt32
      ) ENGINE = ReplacingMergeTree(completed_at)
      ORDER BY (org_id, image_id)`,
    ],
  },
  {
    version: 2,
    name: 'attempt-sources',
    // A published attempt names the attempts whose rows hold its findings and its inventory. An ordinary scan
    // holds its own (the defaults: existing rows, and rows inserted without these columns, read as themselves).
    // A rematch scan's inventory is the one it re-evaluated, so it points at that attempt's inventory instead of
    // copying it; scans of one rematch batch with identical inventories share one set of finding rows, written
    // once under the first of them. Readers go from scan_summaries / image_latest to these columns, never to
    // `findings` / `packages` by the published (scan, attempt) itself. Sources are always published attempts of
    // the same org, so pruning (which spares published attempts) never removes rows a published attempt shows.
    statements: ['scan_summaries', 'image_latest'].flatMap((table) => [
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS findings_scan_id String DEFAULT scan_id`,
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS findings_attempt UInt32 DEFAULT attempt`,
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS packages_scan_id String DEFAULT scan_id`,
      `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS packages_attempt UInt32 DEFAULT attempt`,
    ]),
  },
  {
    version: 3,
    name: 'content-digests',
    // A published attempt records the content digests of the rows it shows (rows.ts rowsDigest: SHA-256 of the
    // sorted row JSON, one per kind). Publishing a rescan of the same image digest whose rows have a digest some
    // published attempt already records points at that attempt's rows instead of writing them again
    // (storeAttemptRows). '' (existing rows, rematch scans, uploads): no digest, never matched.
    statements: [
      `ALTER TABLE scan_summaries ADD COLUMN IF NOT EXISTS packages_digest String DEFAULT ''`,
      `ALTER TABLE scan_summaries ADD COLUMN IF NOT EXISTS findings_digest String DEFAULT ''`,
    ],
  },
  {
    version: 4,
    name: 'latest-content-digests',
    // Each image's latest attempt carries its content digests too, so storeAttemptRows finds reusable rows in
    // image_latest (one row per image of the org) instead of reading every summary the org ever published:
    // `digest` is not in scan_summaries' key (queries.ts reusableRows). '' (rows written before): never matched.
    statements: [
      `ALTER TABLE image_latest ADD COLUMN IF NOT EXISTS packages_digest String DEFAULT ''`,
      `ALTER TABLE image_latest ADD COLUMN IF NOT EXISTS findings_digest String DEFAULT ''`,
    ],
  },
];
