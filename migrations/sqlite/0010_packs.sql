-- Raw bytes move out of the database into append-only pack files beside it
-- (`<database>-packs/NNNNNN.pack`), written once instead of into the WAL and
-- again at the checkpoint. A row with `pack` set keeps an empty `bytes`; a
-- row without it still holds its bytes here until the store is opened by a
-- version that moves them (a resumable step, a few MB per transaction).
ALTER TABLE raw_messages ADD COLUMN pack INTEGER;
ALTER TABLE raw_messages ADD COLUMN pack_offset INTEGER;
CREATE INDEX raw_messages_by_pack ON raw_messages(pack, pack_offset) WHERE pack IS NOT NULL;
CREATE INDEX raw_messages_unpacked ON raw_messages(sha256) WHERE pack IS NULL;

-- Each pack's committed length: bytes beyond it were written by a batch
-- that never committed, and are overwritten or cut off. Every pack but the
-- newest is sealed.
CREATE TABLE packs (
    id      INTEGER PRIMARY KEY,
    length  INTEGER NOT NULL
);
