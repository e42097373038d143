-- 0009: the customer's keyed pseudonym on the session records, for repeat-contact figures. The cluster never stores a
-- customer id: the API turns it into HMAC-SHA256(Privacy:PseudonymKey, id), lowercase hex, before any grain sees it.
-- The customer's age and the gateway's attributes live in payload only, and only while the session lives: the
-- terminal write (completed, abandoned, overflowed, refused) leaves them out.
--
-- Contract:
--   * customer_pseudonym is written with every state write, from the first; null only for rows written before this
--     migration. The same customer has the same pseudonym under one key; a new key starts new pseudonyms.
--   * No index: repeat-contact figures are analysts' queries over a day or more, not a routing path, and every index
--     costs each session's writes.

ALTER TABLE routing_session ADD COLUMN customer_pseudonym text NULL;

COMMENT ON COLUMN routing_session.customer_pseudonym IS
    'HMAC-SHA256 of the customer id under Privacy:PseudonymKey, lowercase hex: repeat contacts of one customer share it; it identifies nobody without the key.';
COMMENT ON COLUMN routing_session.payload IS
    'SessionRecord serialized with the Orleans serializer: the customer''s age and the gateway attributes while the session lives (never the customer id); none of them once it has ended.';
COMMENT ON TABLE routing_session IS
    'One row per session grain (storage "sessions"): Orleans-serialized state plus index columns written in the same statement. No customer identifiers: the customer is its keyed pseudonym.';
