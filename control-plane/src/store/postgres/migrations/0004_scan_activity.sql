-- 0004_scan_activity: the last sign of life of a running scan's current attempt, for the stale-scan reaper
-- (control-plane/src/dispatch/reaper.ts).
--
-- active_at is set when a worker claims an attempt and when its report stream starts, and refreshed while that
-- stream stays open (grpc/worker-service.ts). A running scan whose active_at is older than the reaper's idle
-- limit has lost its worker *and* its job (a NATS crash can redeliver the job with a lower delivery count than
-- the scan's attempt, which the claim then drops): the reaper re-queues it or, after its last attempt, fails it.
-- NULL for scans no worker runs (CLI uploads), which the reaper never touches.
-- scans_running lists the few running scans without naming active_at, so refreshing it stays a HOT update.

ALTER TABLE scans ADD COLUMN active_at timestamptz;
UPDATE scans SET active_at = updated_at WHERE status = 'running' AND published_at IS NOT NULL;
CREATE INDEX scans_running ON scans (id) WHERE status = 'running';
