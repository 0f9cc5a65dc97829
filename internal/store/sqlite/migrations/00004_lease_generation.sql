-- Fencing of the provisioning engine's jobs. A process paused past its
-- lease (a long GC pause, a frozen VM, a partition) resumes believing it
-- still holds the job, and its writes would land after another process
-- took the job over. Each lease therefore carries a generation that grows
-- whenever the lease passes to a holder that did not hold it unexpired,
-- and the engine's writes of job state are made conditional on the
-- generation they were started under (store.Lease, PutJobState).
--
-- A released lease now stays as a row with no owner, expired, rather than
-- being deleted, so that the generation survives the release and the next
-- claim increments it: a generation that restarted at 1 would let a write
-- fenced with an old lease of generation 1 through.

-- +goose Up
-- A lease that exists when this runs has been claimed: it is generation 1.
ALTER TABLE job_leases ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;

-- +goose Down
-- Before this migration a lease without an owner did not exist: a
-- released lease was deleted.
DELETE FROM job_leases WHERE owner = '';
ALTER TABLE job_leases DROP COLUMN generation;
