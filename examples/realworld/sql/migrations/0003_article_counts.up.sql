-- 0003_article_counts: what every read of an article shows, kept on its
-- row (the single article and a page of the list then read one row each
-- instead of joining tags and counting favorites: bench/realworld.sh).
-- tag_list is the author's order, written with article_tags in one
-- transaction; article_tags still serves ?tag= and GET /api/tags.
-- favorites_count moves with each favorite in the same statement.
ALTER TABLE articles
    ADD COLUMN tag_list text[] NOT NULL DEFAULT '{}',
    ADD COLUMN favorites_count integer NOT NULL DEFAULT 0
        CHECK (favorites_count >= 0);
UPDATE articles a SET
    tag_list = coalesce((SELECT array_agg(t.name ORDER BY at.position)
                         FROM article_tags at JOIN tags t ON t.id = at.tag_id
                         WHERE at.article_id = a.id), '{}'),
    favorites_count = (SELECT count(*) FROM favorites f
                       WHERE f.article_id = a.id);
