-- 0006_posts: posts (API.md 5.2).

CREATE TABLE posts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_id    uuid NOT NULL DEFAULT gen_random_uuid(),
    author_id    bigint NOT NULL REFERENCES users (id),
    title        text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body         text NOT NULL DEFAULT '' CHECK (length(body) <= 100000),
    status       text NOT NULL DEFAULT 'draft'
                 CHECK (status IN ('draft', 'published')),
    visibility   text NOT NULL DEFAULT 'public'
                 CHECK (visibility IN ('public', 'private')),
    tags         text[] NOT NULL DEFAULT '{}'
                 CHECK (cardinality(tags) <= 10),
    -- set when the post is first published, kept after
    published_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CONSTRAINT posts_public_id_key UNIQUE (public_id),
    CONSTRAINT posts_published_check
        CHECK (status = 'draft' OR published_at IS NOT NULL)
);

-- Keyset pagination on (sort key, public id) for every allowed sort, over
-- live posts; the anonymous view (published and public) has its own index
-- for the default sort, as has every author's list.
CREATE INDEX posts_created_idx ON posts (created_at, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX posts_public_created_idx ON posts (created_at, public_id)
    WHERE deleted_at IS NULL AND status = 'published'
      AND visibility = 'public';
CREATE INDEX posts_author_created_idx ON posts (author_id, created_at, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX posts_updated_idx ON posts (updated_at, public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX posts_published_idx
    ON posts ((coalesce(published_at, '-infinity'::timestamptz)), public_id)
    WHERE deleted_at IS NULL;
CREATE INDEX posts_title_idx ON posts (title, public_id)
    WHERE deleted_at IS NULL;
-- tag=a&tag=b: tags @> '{a}' AND tags @> '{b}'.
CREATE INDEX posts_tags_idx ON posts USING gin (tags)
    WHERE deleted_at IS NULL;
