-- 0005_scan_matched_db_version: the vulnerability database snapshot a scan was actually matched against.
--
-- scans.db_version is the snapshot the scan was scheduled against (the control plane's current one when it was
-- requested); a worker may match with another one (it follows snapshot updates on its own schedule, and a job
-- leases the snapshot it started with). The worker names its snapshot in the report's `started` event
-- (ReportStarted.db_version), recorded here when that stream starts (the latest attempt's); a CLI upload records
-- its report's database version. NULL: no report started yet (or a worker that did not say).

ALTER TABLE scans
  ADD COLUMN matched_db_version text
    CHECK (matched_db_version IS NULL OR length(matched_db_version) BETWEEN 1 AND 200);
