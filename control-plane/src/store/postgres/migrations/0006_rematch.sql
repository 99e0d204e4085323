-- 0006_rematch: rematch of stored inventories after a vulnerability database update (control-plane/src/rematch).
--
-- A rematch run re-evaluates every image's latest stored inventory against one snapshot version, in batches that go
-- through the work queue at priority `rematch` (below scheduled). A batch lists its items (the rematch scan id it
-- will record, the previous scan and attempt whose inventory it re-reads, the digest and the images); completing it
-- inserts one completed scan per item (kind 'rematch', ON CONFLICT DO NOTHING on the pre-chosen ids: a redelivered
-- batch never duplicates rows), moves the images' latest-scan summary, and records what changed against the previous
-- scan in rematch_changes ('found' by re-evaluation, 'resolved').

CREATE OR REPLACE FUNCTION scan_priority_rank(priority text) RETURNS smallint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT CASE priority WHEN 'manual' THEN 3 WHEN 'ci' THEN 2 WHEN 'scheduled' THEN 1 WHEN 'rematch' THEN 0 END::smallint $$;

ALTER TABLE scans
  ADD COLUMN kind text NOT NULL DEFAULT 'scan' CHECK (kind IN ('scan', 'rematch')),
  ADD COLUMN previous_scan_id uuid;

CREATE TABLE rematch_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  db_version text NOT NULL CHECK (length(db_version) BETWEEN 1 AND 200),
  -- 'snapshot': a newly published snapshot (at most one such run per version); 'api': POST /db/rematch
  trigger text NOT NULL CHECK (trigger IN ('snapshot', 'api')),
  images integer NOT NULL DEFAULT 0,
  batches integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rematch_runs_snapshot ON rematch_runs (db_version) WHERE trigger = 'snapshot';

CREATE TABLE rematch_batches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES rematch_runs (id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  db_version text NOT NULL,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  attempt integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  -- the attempt whose report is being recorded (a second report of one attempt is refused)
  report_attempt integer,
  -- [{scanId, previousScanId, previousAttempt, digest, imageIds, os}]
  items jsonb NOT NULL,
  -- the claim's distinct inventories: for inventory i, the indexes of the items sharing it
  groups jsonb,
  published_at timestamptz,
  error_code text,
  error_message text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  CHECK ((status IN ('completed', 'failed')) = (finished_at IS NOT NULL))
);
CREATE INDEX rematch_batches_run ON rematch_batches (run_id, status);
CREATE INDEX rematch_batches_unpublished ON rematch_batches (created_at) WHERE published_at IS NULL;

CREATE TABLE rematch_changes (
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  scan_id uuid NOT NULL,
  change text NOT NULL CHECK (change IN ('found', 'resolved')),
  vulnerability_id text NOT NULL,
  package_name text NOT NULL,
  package_key text NOT NULL,
  installed_version text NOT NULL,
  severity text NOT NULL,
  -- the snapshot the re-evaluation used
  db_version text NOT NULL,
  PRIMARY KEY (org_id, scan_id, change, vulnerability_id, package_name, package_key)
);
