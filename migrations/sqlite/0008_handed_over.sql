-- At most once after the hand-over: set (and committed) when the SMTP
-- server has said "go ahead" to DATA, just before the message's bytes and
-- the final dot go out. A row still pending with this set was interrupted
-- after the server may have taken the message: it is never sent again but
-- recorded as `uncertain`, because a second copy in the contributor's
-- inbox is worse than an acknowledgement that may, rarely, not arrive.
ALTER TABLE acks ADD COLUMN handed_over_at TEXT;
ALTER TABLE letters ADD COLUMN handed_over_at TEXT;
