-- Documents read after the commit: a message whose documents were not all
-- read within [extract] inline_timeout is stored at once with this flag
-- (0/1), and the daemon reads the rest right after, clearing it. Derived
-- like the columns it sits beside: `slushpile reparse` reads everything
-- and clears it too. A partial index keeps the daemon's look-up free.
ALTER TABLE drafts ADD COLUMN extraction_pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE follow_ups ADD COLUMN extraction_pending BIGINT NOT NULL DEFAULT 0;
CREATE INDEX drafts_extraction_pending ON drafts (id) WHERE extraction_pending = 1;
CREATE INDEX follow_ups_extraction_pending ON follow_ups (id) WHERE extraction_pending = 1;
