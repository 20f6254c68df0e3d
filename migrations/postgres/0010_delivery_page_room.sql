-- Room on a delivery's page for its claim's and its result's versions (issue 16). PostgreSQL
-- only: SQLite rewrites pages in place and has no fillfactor.
--
-- A claim is a HOT update (it changes no indexed column, src/store/manual-retry.ts claimSet)
-- only when the new version fits on the row's page; at fillfactor 70 a page of freshly queued
-- deliveries had room for the claims of fewer than half of them, and each claim that moved to
-- another page wrote an entry in every index and a row lock. At 50 they all fit (measured:
-- 20,000 of 20,000 claims HOT), and the result's update, once the claim's old version is
-- pruned, mostly stays on the page too. Pages written before keep their layout until rewritten.
ALTER TABLE deliveries SET (fillfactor = 50);
