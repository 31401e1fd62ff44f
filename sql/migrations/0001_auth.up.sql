-- 0001_auth: the accounts and access-control tables authentication needs.
-- Public ids are UUIDs; the integer keys never leave the database.

CREATE TABLE users (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id          uuid NOT NULL DEFAULT gen_random_uuid(),
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    password_hash      text NOT NULL,
    email_verified_at  timestamptz,
    disabled_at        timestamptz,
    -- access tokens issued before this instant are refused (API.md §3)
    tokens_valid_after timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    version            integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT users_public_id_key UNIQUE (public_id)
);
-- Emails compare case-insensitively and are unique among live users only:
-- a soft-deleted user's email may be registered again.
CREATE UNIQUE INDEX users_email_key ON users (lower(email))
    WHERE deleted_at IS NULL;
-- Listing and keyset pagination by creation time.
CREATE INDEX users_created_at_idx ON users (created_at, id)
    WHERE deleted_at IS NULL;

CREATE TABLE permissions (
    id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (name ~ '^[a-z_]+:[a-z_]+$')
);

CREATE TABLE roles (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_-]{0,63}$'),
    seeded     boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE role_permissions (
    role_id       integer NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_id integer NOT NULL REFERENCES permissions (id)
                  ON DELETE CASCADE,
    PRIMARY KEY (role_id, permission_id)
);
CREATE INDEX role_permissions_permission_idx
    ON role_permissions (permission_id);

CREATE TABLE user_roles (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- a role still assigned cannot be deleted (409 in API.md §4)
    role_id integer NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_idx ON user_roles (role_id);

-- The permissions and seeded roles of API.md §4.
INSERT INTO permissions (name) VALUES
    ('posts:create'), ('orders:create'),
    ('posts:read_any'), ('posts:write_any'), ('products:write'),
    ('users:read'), ('users:write'), ('users:delete'), ('roles:manage'),
    ('posts:delete_any'), ('products:delete'), ('orders:read_any'),
    ('orders:manage'), ('jobs:manage'), ('audit:read');

INSERT INTO roles (name, seeded) VALUES
    ('user', true), ('editor', true), ('admin', true);

INSERT INTO role_permissions (role_id, permission_id)
SELECT r.id, p.id
  FROM roles r
  JOIN permissions p ON
       (r.name = 'user' AND p.name IN ('posts:create', 'orders:create'))
    OR (r.name = 'editor' AND p.name IN ('posts:create', 'orders:create',
            'posts:read_any', 'posts:write_any', 'products:write',
            'users:read'))
    OR r.name = 'admin';
