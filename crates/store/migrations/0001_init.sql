-- Hallmark hub metadata: one schema for SQLite and PostgreSQL. Times are Unix seconds;
-- ids are 64-bit integers. src/sql/schema.rs renders it for each database, replacing two
-- tokens (braced names, see src/sql/dialect.rs): id, a primary key the database assigns
-- (SQLite's INTEGER PRIMARY KEY, the rowid; PostgreSQL's identity column), and seq, the
-- column giving revisions their insertion order (none in SQLite, which has the rowid).
-- Names are unique case-insensitively through lower() indexes; queries compare lower(name).

-- Users and organisations share one namespace ("owner" in owner/name).
CREATE TABLE accounts (
    id            {id},
    name          TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('user', 'org')),
    email         TEXT,
    password_hash TEXT,
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL
);
CREATE UNIQUE INDEX accounts_name ON accounts (lower(name));

CREATE TABLE memberships (
    org_id     BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT   NOT NULL CHECK (role IN ('owner', 'maintainer', 'reader')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

-- API tokens: only the SHA-256 of the (256-bit random) secret is stored.
CREATE TABLE tokens (
    id           {id},
    user_id      BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    label        TEXT   NOT NULL,
    scope        TEXT   NOT NULL CHECK (scope IN ('read', 'write')),
    secret_hash  TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX tokens_user ON tokens(user_id);

-- Web sessions: the cookie value is stored hashed; the CSRF token is per session.
CREATE TABLE sessions (
    id_hash    TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE repos (
    id         {id},
    owner_id   BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    private    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX repos_owner_name ON repos (owner_id, lower(name));

-- Immutable revisions. commit_id = first 20 bytes (hex) of SHA-256 over the parent and the
-- file list (path, sha256, size). The signature columns are the latest verification result.
CREATE TABLE revisions (
    repo_id          BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    commit_id        TEXT   NOT NULL,
    parent_id        TEXT,
    uploader_id      BIGINT NOT NULL REFERENCES accounts(id),
    summary          TEXT   NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    file_count       BIGINT NOT NULL,
    total_size       BIGINT NOT NULL,
    sig_status       TEXT   NOT NULL CHECK (sig_status IN ('unsigned', 'verified', 'failed')),
    sig_method       TEXT,
    sig_identity     TEXT,
    sig_issuer       TEXT,
    sig_log_index    BIGINT,
    sig_detail       TEXT,
    sig_checked_at   BIGINT,
    identity_changed_from TEXT,{seq}
    PRIMARY KEY (repo_id, commit_id)
);
CREATE INDEX revisions_time ON revisions(created_at);

CREATE TABLE revision_files (
    repo_id   BIGINT NOT NULL,
    commit_id TEXT   NOT NULL,
    path      TEXT   NOT NULL,
    sha256    TEXT   NOT NULL,
    size      BIGINT NOT NULL,
    PRIMARY KEY (repo_id, commit_id, path),
    FOREIGN KEY (repo_id, commit_id) REFERENCES revisions(repo_id, commit_id) ON DELETE CASCADE
);

-- Branch-like names (only "main" today) pointing at a revision.
CREATE TABLE refs (
    repo_id   BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    name      TEXT   NOT NULL,
    commit_id TEXT   NOT NULL,
    PRIMARY KEY (repo_id, name)
);

-- Uploads in progress: invisible to readers until committed as a revision.
CREATE TABLE uploads (
    id          TEXT   PRIMARY KEY,
    repo_id     BIGINT NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE upload_files (
    upload_id TEXT   NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    path      TEXT   NOT NULL,
    sha256    TEXT   NOT NULL,
    size      BIGINT NOT NULL,
    PRIMARY KEY (upload_id, path)
);
