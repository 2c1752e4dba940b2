-- Incident-response queries at 100,000 revisions, second pass (issue 20 benchmark,
-- crates/hub/examples/querybench.rs; plans in src/sql/queries.rs).
--
-- claim_refs by value: one value's references in revision order, with the claim they
-- cite, from the index alone. A builder named by 19,000 revisions then yields its first
-- 1,000 (the query's limit) without reading and sorting the other 18,000.
DROP INDEX claim_refs_value;
CREATE INDEX claim_refs_value ON claim_refs (kind, value, repo_id, commit_id, claim_id);

-- claim_refs by revision and kind: the transitive closure looks up the root digests
-- (kind `model`) of up to 1,000 revisions per generation. With (repo_id, commit_id)
-- alone the planner preferred the (kind, value) index, reading every `model` reference
-- once per revision looked up.
DROP INDEX claim_refs_revision;
CREATE INDEX claim_refs_revision ON claim_refs (repo_id, commit_id, kind, value);
