-- Where a raw message's bytes live when not in `bytes` (an SQLite store's
-- pack files). PostgreSQL deployments keep the bytes in the database, which
-- instances on different machines share: here both columns stay NULL, and
-- the interface is the same for a blob store that may follow.
ALTER TABLE raw_messages ADD COLUMN pack BIGINT;
ALTER TABLE raw_messages ADD COLUMN pack_offset BIGINT;
