-- The outbox: one row per draft that was considered for an acknowledgement,
-- written in the same transaction as the draft.
CREATE TABLE acks (
    draft_id        BIGINT PRIMARY KEY NOT NULL REFERENCES drafts(id),
    -- pending | sent | suppressed | failed
    status          TEXT NOT NULL,
    -- why it was suppressed
    reason          TEXT,
    to_address      TEXT,
    to_name         TEXT,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    -- a sender claims due rows for a while; after a crash they come due again
    lease_until     TIMESTAMPTZ,
    lease_owner     TEXT,
    last_error      TEXT,
    message_id      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX acks_due ON acks(status, next_attempt_at);
CREATE INDEX acks_by_recipient ON acks(to_address, created_at);

-- The receiving provider's DMARC / DKIM / SPF verdict (JSON), for editors.
ALTER TABLE drafts ADD COLUMN sender_auth TEXT;
