-- 0003_article_counts: tags and favorites counted again on each read.
ALTER TABLE articles DROP COLUMN favorites_count, DROP COLUMN tag_list;
