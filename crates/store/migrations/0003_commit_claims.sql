-- One push per repo is signed at a time: before the hub signs (and logs) a revision it
-- claims the repo for the upload, checking that main still points at the upload's parent,
-- so a push that would lose the race at commit is refused before it writes a log entry.
-- A claim lapses at expires_at (a crashed hub does not block the repo) and goes with its
-- upload (committed, aborted or swept).
CREATE TABLE commit_claims (
    repo_id    BIGINT PRIMARY KEY REFERENCES repos(id) ON DELETE CASCADE,
    upload_id  TEXT   NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

-- The blob garbage collector asks whether any revision or open upload refers to a digest.
CREATE INDEX revision_files_sha256 ON revision_files(sha256);
CREATE INDEX upload_files_sha256 ON upload_files(sha256);
