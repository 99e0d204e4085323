-- 0007_batch_published_through: a bulk rescan records its publication once per chunk on the batch, not per scan.
--
-- A batch is published page by page in scan-id order (scan-batches.ts listQueuedScans), so after chunk k the queue
-- holds the job of every queued scan of the batch whose id is at most that chunk's last id. published_through is
-- that id (only ever raised): a queued scan of the batch counts as published when its id <= published_through and
-- it was never claimed (attempt = 0). A scan the reaper re-queues has attempt >= 1 (every claim raises it), so the
-- mark never covers it: its published_at (reset by the re-queue) decides, as for single scans. Marking 10,000 scans
-- published is now ten one-row updates of the batch instead of ten 1,000-row updates of scans.
-- The outbox (scan-outbox.ts listUnpublished): queued scans with published_at NULL not covered by their batch's mark.
-- No index: the column is read through the batch's primary key, and updating it is a HOT update.

ALTER TABLE batches ADD COLUMN published_through uuid;
