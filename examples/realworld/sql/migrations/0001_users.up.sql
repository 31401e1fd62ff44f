-- 0001_users: Conduit's accounts (RealWorld "users" and "profiles").
-- Usernames and emails are unique as given; emails compare without case.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id     uuid NOT NULL DEFAULT gen_random_uuid(),
    username      text NOT NULL CHECK (length(username) BETWEEN 1 AND 100),
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    password_hash text NOT NULL,
    bio           text,
    image         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_public_id_key UNIQUE (public_id),
    CONSTRAINT users_username_key UNIQUE (username)
);
-- The constraint name says the field (db_constraint_field: "email").
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
