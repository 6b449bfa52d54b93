-- The editors' workflow: new → claimed → sent_for_signoff → signed_off,
-- with rejected, archived, quarantined and purged. The submission itself is
-- never changed: editors' title and notes live in columns of their own.
ALTER TABLE drafts ADD COLUMN claimed_by TEXT;
ALTER TABLE drafts ADD COLUMN lease_until TEXT;
ALTER TABLE drafts ADD COLUMN status_changed_at TEXT;
ALTER TABLE drafts ADD COLUMN edited_title TEXT;
ALTER TABLE drafts ADD COLUMN notes TEXT NOT NULL DEFAULT '';
-- Derived (rebuilt by reparse): lower-cased subject, body and attachment
-- names, searched by substring so two-character Chinese queries match.
ALTER TABLE drafts ADD COLUMN search_text TEXT NOT NULL DEFAULT '';

UPDATE drafts SET status_changed_at = created_at,
    search_text = lower(coalesce(subject, '') || char(10) || body_text || char(10) ||
        coalesce((SELECT group_concat(filename, char(10)) FROM attachments a
                  WHERE a.draft_id = drafts.id), ''));

CREATE INDEX drafts_by_lease ON drafts(status, lease_until);

CREATE TABLE editors (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL UNIQUE,
    -- editor | signer
    role         TEXT NOT NULL,
    -- sha256 of the token's secret part: the token itself is never stored
    token_hash   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_seen_at TEXT
);

-- Web sessions: the cookie value is hashed like a token.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    editor_id  INTEGER NOT NULL REFERENCES editors(id),
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
