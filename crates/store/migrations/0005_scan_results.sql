-- Scan on upload (issue 16): every revision's files are scanned by hallmark-scan at
-- commit. The revision keeps the worst verdict over its files and the scanner policy
-- that judged them (NULL for revisions stored before scanning: shown as unverified);
-- each finding is one row. An organisation may refuse uploads whose verdict is at least
-- refuse_scan ('dangerous', 'suspicious' or 'unverified'; NULL: refuse nothing).
ALTER TABLE revisions ADD COLUMN scan_verdict TEXT
    CHECK (scan_verdict IN ('clean', 'unverified', 'suspicious', 'dangerous'));
ALTER TABLE revisions ADD COLUMN scan_policy TEXT;

CREATE TABLE scan_findings (
    id        {id},
    repo_id   BIGINT NOT NULL,
    commit_id TEXT   NOT NULL,
    path      TEXT   NOT NULL,
    rule      TEXT   NOT NULL,
    severity  TEXT   NOT NULL,
    message   TEXT   NOT NULL,
    FOREIGN KEY (repo_id, commit_id) REFERENCES revisions(repo_id, commit_id) ON DELETE CASCADE
);
CREATE INDEX scan_findings_revision ON scan_findings(repo_id, commit_id);

ALTER TABLE accounts ADD COLUMN refuse_scan TEXT
    CHECK (refuse_scan IN ('unverified', 'suspicious', 'dangerous'));
