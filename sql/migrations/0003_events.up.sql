-- 0003_events: domain events ("user.registered", "order.created", ...),
-- recorded in the transaction of the change they describe.  Each one
-- queues a webhook.deliver job per configured subscriber (event_record()).

CREATE TABLE events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id      uuid NOT NULL DEFAULT gen_random_uuid(),
    type           text NOT NULL CHECK (type ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    aggregate_type text NOT NULL
                   CHECK (aggregate_type ~ '^[a-z][a-z0-9_]{0,31}$'),
    aggregate_id   text NOT NULL
                   CHECK (length(aggregate_id) BETWEEN 1 AND 64),
    data           jsonb NOT NULL DEFAULT '{}'
                   CHECK (jsonb_typeof(data) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_public_id_key UNIQUE (public_id)
);
-- The history of one aggregate (an order's events, in order).
CREATE INDEX events_aggregate_idx ON events (aggregate_type, aggregate_id, id);
-- Pruning and time ranges.
CREATE INDEX events_created_idx ON events (created_at);
