-- 0006_posts: back to 0005.
DROP TABLE posts;
