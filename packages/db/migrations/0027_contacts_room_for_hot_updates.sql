-- Room on each page of contacts for an updated row version (issue #18).
--
-- A returning customer's order completes her contact (address, Shopify customer id, …: no indexed
-- column). On a full page PostgreSQL writes the new version on another page and adds it to every
-- index of contacts, ~100 GIN keys and a trigram bucket included, a cost that grows with the indexes;
-- with room on the page the update is HOT and touches no index. Pages filled from now on keep 10%
-- free; pages already full get room as vacuum frees old versions (or at a table rewrite).
alter table contacts set (fillfactor = 90);
