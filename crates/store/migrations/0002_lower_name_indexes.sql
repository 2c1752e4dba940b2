-- SQLite databases made before version 1 was shared kept names unique with COLLATE NOCASE
-- columns; give them the lower() indexes version 1 now creates (a no-op elsewhere).
CREATE UNIQUE INDEX IF NOT EXISTS accounts_name ON accounts (lower(name));
CREATE UNIQUE INDEX IF NOT EXISTS repos_owner_name ON repos (owner_id, lower(name));
