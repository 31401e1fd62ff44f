-- 0002_jobs: the background job queue, kept in PostgreSQL so that a job is
-- queued in the same transaction as the change that causes it.

CREATE TABLE jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id       uuid NOT NULL DEFAULT gen_random_uuid(),
    type            text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    payload         jsonb NOT NULL DEFAULT '{}',
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'succeeded',
                                      'failed', 'dead')),
    priority        integer NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts    integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_at          timestamptz NOT NULL DEFAULT now(),
    locked_until    timestamptz,
    locked_by       text,
    last_error      text,
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT jobs_public_id_key UNIQUE (public_id),
    CONSTRAINT jobs_idempotency_key_key UNIQUE (idempotency_key)
);
-- Claiming: the due jobs in the order they are taken.
CREATE INDEX jobs_due_idx ON jobs (priority DESC, run_at, id)
    WHERE status IN ('queued', 'failed');
-- Reclaiming: running jobs whose lease ran out (their worker died).
CREATE INDEX jobs_lease_idx ON jobs (locked_until)
    WHERE status = 'running';
-- Listing by status (keelctl jobs list, /v1/jobs) and the health counts.
CREATE INDEX jobs_status_idx ON jobs (status, created_at, id);
