-- The contributor's side of the loop: their later mail as a thread, and
-- letters to them (decisions, status answers, withdrawal confirmations).

-- Secrets the store keeps for itself. `thread`: the key of the tags that
-- make our Message-IDs unguessable (a reply naming one answers mail we
-- sent); created on first use, copied by `store copy`.
CREATE TABLE store_secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- A contributor's follow-up: its own raw message, joined to the draft it
-- answers. Every column after `created_at` is derived and rebuilt by
-- `slushpile reparse`.
CREATE TABLE follow_ups (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id     INTEGER NOT NULL REFERENCES drafts(id),
    raw_sha256   TEXT NOT NULL REFERENCES raw_messages(sha256),
    -- reply | status | withdraw: what it asked for, as decided at ingestion
    intent       TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    message_id   TEXT,
    from_name    TEXT,
    from_address TEXT,
    subject      TEXT,
    body_text    TEXT NOT NULL DEFAULT '',
    -- JSON list of attachments, with the article text of documents
    attachments  TEXT NOT NULL DEFAULT '[]',
    -- lower-cased subject, text, attachment names and articles: the queue's
    -- search finds a draft by its contributor's later mail too
    search_text  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX follow_ups_by_draft ON follow_ups(draft_id, id);
CREATE UNIQUE INDEX follow_ups_by_raw ON follow_ups(raw_sha256);
CREATE INDEX follow_ups_by_message_id ON follow_ups(message_id) WHERE message_id IS NOT NULL;

-- Contributor mail no editor has opened the draft since (有新來信).
ALTER TABLE drafts ADD COLUMN unseen_mail INTEGER NOT NULL DEFAULT 0;

-- Letters to contributors, queued in the transaction of the decision (or
-- the follow-up) that causes them and sent by the outbox like
-- acknowledgements. subject/body NULL: the template's, rendered when sent.
CREATE TABLE letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    draft_id        INTEGER NOT NULL REFERENCES drafts(id),
    -- accept | revise | decline | status | withdrawn
    kind            TEXT NOT NULL,
    -- held | pending | sent | failed | suppressed | cancelled
    status          TEXT NOT NULL,
    reason          TEXT,
    subject         TEXT,
    body            TEXT,
    note            TEXT,
    author          TEXT NOT NULL,
    to_address      TEXT,
    to_name         TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    lease_until     TEXT,
    lease_owner     TEXT,
    last_error      TEXT,
    message_id      TEXT,
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX letters_due ON letters(status, next_attempt_at);
CREATE INDEX letters_by_draft ON letters(draft_id, id);
