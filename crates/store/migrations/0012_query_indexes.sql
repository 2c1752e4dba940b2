-- Incident-response queries at 100,000 revisions (issue 20 benchmark,
-- crates/hub/examples/querybench.rs). A signature window is on
-- COALESCE(integrated_time, created_at) (a claim without a log time counts from when it
-- was recorded), which the plain (signer|issuer, integrated_time) indexes of 0011 cannot
-- range over: with one issuer for every claim, "issuer in a window" read every claim.
-- These expression indexes make the window a range; (issuer, signer) lets the distinct
-- signers an identity pattern is matched against come from the index alone.
CREATE INDEX revision_claims_signer_when
    ON revision_claims (signer, (COALESCE(integrated_time, created_at)));
CREATE INDEX revision_claims_issuer_when
    ON revision_claims (issuer, (COALESCE(integrated_time, created_at)));
CREATE INDEX revision_claims_issuer_signer ON revision_claims (issuer, signer);
