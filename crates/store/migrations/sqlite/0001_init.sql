-- Hallmark hub metadata, SQLite flavour. A PostgreSQL twin lives (issue 10) in
-- migrations/postgres with the same version numbers and names; keep them in step.
-- Times are Unix seconds (INTEGER); ids are 64-bit integers.

-- Users and organisations share one namespace ("owner" in owner/name).
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    kind          TEXT    NOT NULL CHECK (kind IN ('user', 'org')),
    email         TEXT,
    password_hash TEXT,
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    org_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'maintainer', 'reader')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

-- API tokens: only the SHA-256 of the (256-bit random) secret is stored.
CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    label        TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX tokens_user ON tokens(user_id);

-- Web sessions: the cookie value is stored hashed; the CSRF token is per session.
CREATE TABLE sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    csrf_token TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE repos (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL COLLATE NOCASE,
    private    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (owner_id, name)
);

-- Immutable revisions. commit_id = first 20 bytes (hex) of SHA-256 over the parent and the
-- file list (path, sha256, size). The signature columns are the latest verification result.
CREATE TABLE revisions (
    repo_id          INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    commit_id        TEXT    NOT NULL,
    parent_id        TEXT,
    uploader_id      INTEGER NOT NULL REFERENCES accounts(id),
    summary          TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    file_count       INTEGER NOT NULL,
    total_size       INTEGER NOT NULL,
    sig_status       TEXT    NOT NULL CHECK (sig_status IN ('unsigned', 'verified', 'failed')),
    sig_method       TEXT,
    sig_identity     TEXT,
    sig_issuer       TEXT,
    sig_log_index    INTEGER,
    sig_detail       TEXT,
    sig_checked_at   INTEGER,
    identity_changed_from TEXT,
    PRIMARY KEY (repo_id, commit_id)
);
CREATE INDEX revisions_time ON revisions(created_at);

CREATE TABLE revision_files (
    repo_id   INTEGER NOT NULL,
    commit_id TEXT    NOT NULL,
    path      TEXT    NOT NULL,
    sha256    TEXT    NOT NULL,
    size      INTEGER NOT NULL,
    PRIMARY KEY (repo_id, commit_id, path),
    FOREIGN KEY (repo_id, commit_id) REFERENCES revisions(repo_id, commit_id) ON DELETE CASCADE
);

-- Branch-like names (only "main" today) pointing at a revision.
CREATE TABLE refs (
    repo_id   INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    name      TEXT    NOT NULL,
    commit_id TEXT    NOT NULL,
    PRIMARY KEY (repo_id, name)
);

-- Uploads in progress: invisible to readers until committed as a revision.
CREATE TABLE uploads (
    id          TEXT    PRIMARY KEY,
    repo_id     INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE upload_files (
    upload_id TEXT    NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
    path      TEXT    NOT NULL,
    sha256    TEXT    NOT NULL,
    size      INTEGER NOT NULL,
    PRIMARY KEY (upload_id, path)
);
