-- 0008_orders: orders and their items (API.md 5.4), and the idempotency
-- keys of creates (API.md 1.6).

CREATE TABLE orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id     bigint NOT NULL REFERENCES users (id),
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'paid', 'shipped', 'delivered',
                                  'cancelled')),
    -- 50 items of 1000 at 100 000 000 cents overflow an integer
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT orders_public_id_key UNIQUE (public_id)
);
-- Keyset pagination for each sort, over one user's orders (the common
-- case) and over all of them (orders:read_any).
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at, public_id);
CREATE INDEX orders_user_total_idx ON orders (user_id, total_cents, public_id);
CREATE INDEX orders_created_idx ON orders (created_at, public_id);
CREATE INDEX orders_total_idx ON orders (total_cents, public_id);
CREATE INDEX orders_status_idx ON orders (status, created_at, public_id);

-- What was bought, copied from the product when the order was placed.
CREATE TABLE order_items (
    order_id         bigint NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position         smallint NOT NULL CHECK (position BETWEEN 1 AND 50),
    product_id       bigint NOT NULL REFERENCES products (id),
    sku              text NOT NULL,
    name             text NOT NULL,
    quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, position),
    CONSTRAINT order_items_product_key UNIQUE (order_id, product_id)
);
-- The foreign key's check when a product row goes.
CREATE INDEX order_items_product_idx ON order_items (product_id);

-- A create's answer, kept per user and key for 24 hours so that a retry
-- gets it again instead of doing the work twice.  The row is written in
-- the transaction of the create itself: it exists exactly when the create
-- committed.  request_hash is SHA-256 of the method, path and body.
CREATE TABLE idempotency_keys (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    status       smallint NOT NULL CHECK (status BETWEEN 200 AND 599),
    location     text,
    etag         text,
    body         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
-- The purge job's scan.
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
