-- Incident response (issue 20): what the claims of each revision name, so that "which
-- revisions were trained on dataset D / fine-tuned from M / built by B" is an index
-- lookup, and incidents that revoke revisions.
--
-- claim_refs: one row per thing a bom or provenance claim names, `value` normalised
-- (lower-case; purls without qualifiers; digests as `sha256:<hex>`). kind `model` is
-- the revision's own OMS root digest (the claim's subject), which fine-tuned models name
-- as their base model.
CREATE TABLE claim_refs (
    repo_id   BIGINT NOT NULL,
    commit_id TEXT   NOT NULL,
    claim_id  BIGINT NOT NULL REFERENCES revision_claims(id) ON DELETE CASCADE,
    kind      TEXT   NOT NULL
        CHECK (kind IN ('dataset', 'base-model', 'training-commit', 'builder', 'model')),
    value     TEXT   NOT NULL,
    FOREIGN KEY (repo_id, commit_id) REFERENCES revisions(repo_id, commit_id) ON DELETE CASCADE
);
CREATE INDEX claim_refs_value ON claim_refs(kind, value);
CREATE INDEX claim_refs_revision ON claim_refs(repo_id, commit_id);

-- Signatures by identity or issuer in a time window; revisions flagged by a rule.
CREATE INDEX revision_claims_signer ON revision_claims(signer, integrated_time);
CREATE INDEX revision_claims_issuer ON revision_claims(issuer, integrated_time);
CREATE INDEX revision_claims_time ON revision_claims(integrated_time);
CREATE INDEX scan_findings_rule ON scan_findings(rule);

-- An incident revokes every revision its selector matches (signed by `identity` or
-- `key`, naming `dataset`, containing a file `sha256`) from `since` (Unix seconds) until
-- it is closed. Its signed statements (open, close) are kept with their log entries.
CREATE TABLE incidents (
    id                {id},
    selector          TEXT   NOT NULL CHECK (selector IN ('identity', 'key', 'dataset', 'sha256')),
    value             TEXT   NOT NULL,
    issuer            TEXT,
    since             BIGINT NOT NULL,
    reason            TEXT   NOT NULL,
    opened_by         TEXT   NOT NULL,
    opened_at         BIGINT NOT NULL,
    closed_by         TEXT,
    closed_at         BIGINT,
    log_index         BIGINT,
    bundle_json       TEXT,
    close_log_index   BIGINT,
    close_bundle_json TEXT
);
CREATE INDEX incidents_open ON incidents(closed_at);

CREATE TABLE incident_revisions (
    incident_id BIGINT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    repo_id     BIGINT NOT NULL,
    commit_id   TEXT   NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (incident_id, repo_id, commit_id),
    FOREIGN KEY (repo_id, commit_id) REFERENCES revisions(repo_id, commit_id) ON DELETE CASCADE
);
CREATE INDEX incident_revisions_revision ON incident_revisions(repo_id, commit_id);
