-- 0007_products: the catalogue (API.md 5.3).

CREATE TABLE products (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id   uuid NOT NULL DEFAULT gen_random_uuid(),
    sku         text NOT NULL CHECK (sku ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text NOT NULL DEFAULT ''
                CHECK (length(description) <= 10000),
    category    text NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
    price_cents integer NOT NULL
                CHECK (price_cents BETWEEN 0 AND 100000000),
    currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- never below zero, whatever the code does (orders lock and check too)
    stock       integer NOT NULL DEFAULT 0 CHECK (stock >= 0),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    version     integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT products_public_id_key UNIQUE (public_id)
);
-- A SKU names one live product; a deleted one's SKU may be used again.
CREATE UNIQUE INDEX products_sku_key ON products (sku)
    WHERE deleted_at IS NULL;

-- Keyset pagination on (sort key, public id) for every allowed sort over
-- live products; the public view (active ones) for the default sort and by
-- category.
CREATE INDEX products_created_idx ON products (created_at, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX products_active_created_idx ON products (created_at, public_id)
    WHERE deleted_at IS NULL AND active;
CREATE INDEX products_category_idx
    ON products (category, created_at, public_id) WHERE deleted_at IS NULL;
CREATE INDEX products_price_idx ON products (price_cents, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX products_name_idx ON products (name, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX products_stock_idx ON products (stock, public_id)
    WHERE deleted_at IS NULL;
