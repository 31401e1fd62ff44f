-- 0001_users: remove Conduit's accounts.
DROP TABLE users;
