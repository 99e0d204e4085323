-- 0002_scan_summaries_outbox: each image's latest completed scan summary, the dispatch outbox and the
-- report-stream marker.
--
-- Summary: written in the same statement as the scan's completion (scans.ts transitionScan), so lists sort by
-- severity (critical count first, then high, medium, low, unknown, then id for a stable keyset) and filter by
-- minimum severity and fixable findings in Postgres alone. NULL counts: the image was never scanned.
-- Outbox: published_at is set once the work queue stored a queued scan's job; queued scans without it are
-- published again after a restart (the queue drops duplicates by scan id), so nothing is lost mid-batch.
-- report_attempt: the attempt whose report stream has started, so a second stream of that attempt is refused
-- instead of appending its rows twice.
-- images.last_scan_id goes: a bulk rescan had to update every image of the batch to maintain it (the most
-- expensive part of a 10,000-image batch); the newest scan of a digest is read through scans_digest_newest.

ALTER TABLE images
  ADD COLUMN summary_attempt integer,
  ADD COLUMN critical integer,
  ADD COLUMN high integer,
  ADD COLUMN medium integer,
  ADD COLUMN low integer,
  ADD COLUMN unknown integer,
  ADD COLUMN total integer,
  ADD COLUMN fixable integer,
  ADD COLUMN packages integer,
  ADD COLUMN os jsonb,
  ADD CONSTRAINT images_summary_whole CHECK (
    (summary_attempt IS NULL) = (critical IS NULL) AND (critical IS NULL) = (high IS NULL)
    AND (critical IS NULL) = (medium IS NULL) AND (critical IS NULL) = (low IS NULL)
    AND (critical IS NULL) = (unknown IS NULL) AND (critical IS NULL) = (total IS NULL)
    AND (critical IS NULL) = (fixable IS NULL) AND (critical IS NULL) = (packages IS NULL)
    AND least(critical, high, medium, low, unknown, fixable, packages) >= 0
  ),
  -- 1 critical … 5 unknown, 6 no findings, NULL never scanned: the minimum-severity filter is worst <= rank
  ADD COLUMN worst smallint GENERATED ALWAYS AS (
    CASE
      WHEN critical IS NULL THEN NULL
      WHEN critical > 0 THEN 1
      WHEN high > 0 THEN 2
      WHEN medium > 0 THEN 3
      WHEN low > 0 THEN 4
      WHEN unknown > 0 THEN 5
      ELSE 6
    END
  ) STORED;

CREATE INDEX images_sort_severity ON images (
  org_id, (coalesce(critical, -1)), (coalesce(high, -1)), (coalesce(medium, -1)), (coalesce(low, -1)),
  (coalesce(unknown, -1)), id
);
CREATE INDEX images_worst ON images (org_id, worst, id) WHERE worst IS NOT NULL;
CREATE INDEX images_fixable ON images (org_id, id) WHERE fixable > 0;

-- No index mentions published_at or report_attempt, and pages keep free space, so marking 10,000 scans
-- published (and a batch touching 10,000 images' last_scan_id) are HOT updates that rewrite no index; the
-- outbox sweep walks scans_queued (status = 'queued') and filters on published_at.
ALTER TABLE scans
  ADD COLUMN published_at timestamptz,
  ADD COLUMN report_attempt integer,
  SET (fillfactor = 70);
ALTER TABLE images SET (fillfactor = 80), DROP COLUMN last_scan_id;
CREATE INDEX scans_digest_newest ON scans (org_id, digest, created_at DESC, id DESC);
-- A scan's org is already checked by its composite (org_id, image_id) reference to images, whose org_id
-- references orgs (deleting an org still cascades through images); the separate check cost every inserted scan
-- a lookup.
ALTER TABLE scans DROP CONSTRAINT scans_org_id_fkey;
