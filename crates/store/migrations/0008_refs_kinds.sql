-- Branches and tags (issue 17). A ref is a branch (moved only by committing a signed
-- revision onto it) or a tag (an immutable pointer: created once, never moved, only
-- deleted). Both share one namespace per repo, so a name never means two commits.
-- Existing refs ("main") are branches.
ALTER TABLE refs ADD COLUMN kind TEXT NOT NULL DEFAULT 'branch'
    CHECK (kind IN ('branch', 'tag'));
ALTER TABLE refs ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE refs ADD COLUMN message TEXT;
