-- Accounts an operator can run (issue 15, finding 9): a disabled user's tokens and
-- sessions stop working and the hub signs nothing for them; tokens may expire; operator
-- actions are recorded; hub-wide settings (the default token lifetime) live in the database
-- so `hub serve` and `hub admin` read the same value.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Operator actions: who (an admin's name, or `cli:<login>` for `hub admin` commands), what,
-- on which account/repo/token, with a detail that never holds a secret.
CREATE TABLE admin_events (
    id     {id},
    at     BIGINT NOT NULL,
    actor  TEXT   NOT NULL,
    action TEXT   NOT NULL,
    target TEXT   NOT NULL,
    detail TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX admin_events_at ON admin_events(at);
