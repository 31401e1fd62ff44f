-- 0002_jobs: remove the job queue.
DROP TABLE jobs;
