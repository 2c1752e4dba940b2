-- Log monitoring by organisation (issue 20 §3): each org's watch list (the JSON of
-- `hallmark_tlog::monitor::rules::WatchFile`), the hub monitor's memory for it (the last
-- verified checkpoint and the first-signer record, `MonitorState` JSON; `state_seq`
-- counts saves so that replicas never overwrite each other's newer state), and the
-- alerts it raised. An alert is stored once per org: `dedup` is the SHA-256 of its JSON,
-- so two replicas that judge the same entries record (and announce) it once.
CREATE TABLE org_watch (
    org_id     BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    rules_json TEXT   NOT NULL,
    state_json TEXT,
    state_seq  BIGINT NOT NULL DEFAULT 0,
    updated_by TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE monitor_alerts (
    id         {id},
    org_id     BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    dedup      TEXT   NOT NULL,
    log_index  BIGINT,
    kind       TEXT   NOT NULL,
    alert_json TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, dedup)
);
CREATE INDEX monitor_alerts_org ON monitor_alerts(org_id, id);
