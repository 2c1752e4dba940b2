-- Claims (issue 16): every signature and attestation of a revision is kept as a signed
-- in-toto statement about the revision's OMS manifest, one row per claim. The bundle's
-- bytes are a blob (bundle_sha256: the blob collector keeps it while the row exists);
-- log_index / integrated_time say where the hub's transparency log holds it (NULL when
-- the hub signs with a key and has no log). `asserts` is what the statement says, in
-- words, for the revision page. (Distinct from commit_claims, the per-repo commit lock.)
CREATE TABLE revision_claims (
    id              {id},
    repo_id         BIGINT NOT NULL,
    commit_id       TEXT   NOT NULL,
    kind            TEXT   NOT NULL
        CHECK (kind IN ('publisher-signature', 'hub-signature', 'scan', 'bom', 'provenance')),
    predicate_type  TEXT   NOT NULL,
    signer          TEXT   NOT NULL,
    issuer          TEXT,
    status          TEXT   NOT NULL CHECK (status IN ('verified', 'untrusted', 'failed')),
    log_index       BIGINT,
    integrated_time BIGINT,
    bundle_sha256   TEXT   NOT NULL,
    asserts         TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    FOREIGN KEY (repo_id, commit_id) REFERENCES revisions(repo_id, commit_id) ON DELETE CASCADE
);
CREATE INDEX revision_claims_revision ON revision_claims(repo_id, commit_id);
CREATE INDEX revision_claims_sha256 ON revision_claims(bundle_sha256);

-- What an organisation (or user) accepts as a publisher's signer: a public key (PEM), a
-- certificate chain (PEM, anchors) or a keyless identity with its OIDC issuer. `label`
-- names the entry (key fingerprint, chain subject, identity) and is unique per account.
CREATE TABLE org_trust (
    id         {id},
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL CHECK (kind IN ('public-key', 'certificate-chain', 'identity')),
    value      TEXT   NOT NULL,
    issuer     TEXT,
    label      TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX org_trust_entry ON org_trust(account_id, kind, label);
