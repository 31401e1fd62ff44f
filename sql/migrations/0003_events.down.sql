-- 0003_events: remove the events table.
DROP TABLE events;
