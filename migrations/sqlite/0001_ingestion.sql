-- The raw message is the record: exact bytes, stored once, addressed by sha256.
CREATE TABLE raw_messages (
    sha256      TEXT PRIMARY KEY NOT NULL,
    size        INTEGER NOT NULL,
    bytes       BLOB NOT NULL,
    stored_at   TEXT NOT NULL
);

-- One row per distinct message. Every column below `raw_size` is derived from
-- the raw bytes and rebuilt by `slushpile reparse`, except status (editorial
-- state) and the identity columns.
CREATE TABLE drafts (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    reference         TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    mailbox           TEXT NOT NULL,
    -- NULL only for a message too big to download: then raw_headers holds
    -- its header section instead.
    raw_sha256        TEXT REFERENCES raw_messages(sha256),
    raw_headers       BLOB,
    raw_size          INTEGER NOT NULL,
    internal_date     TEXT,
    created_at        TEXT NOT NULL,
    message_id        TEXT,
    from_name         TEXT,
    from_address      TEXT,
    reply_to          TEXT,
    to_addresses      TEXT NOT NULL DEFAULT '[]',
    date              TEXT,
    received_at       TEXT NOT NULL,
    subject           TEXT,
    title             TEXT NOT NULL DEFAULT '',
    body_text         TEXT NOT NULL DEFAULT '',
    body_html         TEXT,
    forwarded         TEXT NOT NULL DEFAULT '[]',
    classification    TEXT NOT NULL,
    defects           TEXT NOT NULL DEFAULT '[]',
    quarantine_reason TEXT
);
CREATE UNIQUE INDEX drafts_by_raw ON drafts(raw_sha256) WHERE raw_sha256 IS NOT NULL;
CREATE UNIQUE INDEX drafts_by_message_id ON drafts(message_id, from_address)
    WHERE message_id IS NOT NULL;
CREATE INDEX drafts_by_status ON drafts(status, received_at);

CREATE TABLE attachments (
    draft_id     INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    filename     TEXT,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    disposition  TEXT NOT NULL,
    content_id   TEXT,
    PRIMARY KEY (draft_id, idx)
);

-- Where a message was seen: a UID is only meaningful with its UIDVALIDITY.
-- Maildir sources use uidvalidity 0 and no UID (the file name is in events).
CREATE TABLE message_locations (
    mailbox     TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    draft_id    INTEGER NOT NULL REFERENCES drafts(id),
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (mailbox, uidvalidity, uid)
);

CREATE TABLE mailbox_state (
    mailbox     TEXT PRIMARY KEY NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id   INTEGER NOT NULL REFERENCES drafts(id),
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '{}',
    -- A message seen again with different bytes keeps them here.
    raw_sha256 TEXT REFERENCES raw_messages(sha256)
);
CREATE INDEX events_by_draft ON events(draft_id, id);

-- Per-day counters behind references such as SP-20261128-0007.
CREATE TABLE reference_counters (
    day  TEXT PRIMARY KEY NOT NULL,
    last INTEGER NOT NULL
);
CREATE INDEX events_by_raw ON events(raw_sha256) WHERE raw_sha256 IS NOT NULL;
