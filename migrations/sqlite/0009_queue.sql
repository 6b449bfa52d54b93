-- The editors' queue at scale. 字數, the article's length in characters
-- with whitespace (full-width spaces included) not counted, is derived
-- like every other column (rewritten by reparse and by reading deferred
-- documents); existing drafts are counted here the same way as
-- `Submission::length_chars` does: the body plus the documents' text.
ALTER TABLE drafts ADD COLUMN length_chars INTEGER NOT NULL DEFAULT 0;
UPDATE drafts SET length_chars = LENGTH(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(body_text, ' ', ''), char(9), ''), char(10), ''), char(13), ''), '　', ''))
    + COALESCE((SELECT SUM(LENGTH(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(a.article_text, ' ', ''), char(9), ''), char(10), ''), char(13), ''), '　', ''))) FROM attachments a
                WHERE a.draft_id = drafts.id AND a.article_text IS NOT NULL), 0);

-- Every sortable column answers a page without reading the whole table;
-- title, sender and status are sorted by these very expressions
-- (store/sql/listing.rs). Status and kind of mail ride along so the tabs'
-- conditions are checked in the index: a far page of a tab skips its
-- rows without reading them.
CREATE INDEX drafts_by_received ON drafts(received_at, id, status, classification);
CREATE INDEX drafts_by_length ON drafts(length_chars, id, status, classification);
CREATE INDEX drafts_by_waiting ON drafts(status_changed_at, id, status, classification);
CREATE INDEX drafts_by_title ON drafts(COALESCE(edited_title, title), id, status, classification);
CREATE INDEX drafts_by_sender ON drafts(COALESCE(from_address, ''), id, status, classification);
CREATE INDEX drafts_by_status_rank ON drafts((CASE status WHEN 'new' THEN 0 WHEN 'claimed' THEN 1 WHEN 'sent_for_signoff' THEN 2 WHEN 'revision_requested' THEN 3 WHEN 'withdrawal_requested' THEN 4 WHEN 'signed_off' THEN 5 WHEN 'rejected' THEN 6 WHEN 'withdrawn' THEN 7 WHEN 'archived' THEN 8 WHEN 'quarantined' THEN 9 WHEN 'purged' THEN 10 ELSE 11 END), id, status, classification);
-- The tabs' counts from an index alone, for everyone's drafts and for
-- one editor's.
CREATE INDEX drafts_by_kind ON drafts(status, classification);
CREATE INDEX drafts_by_holder ON drafts(claimed_by, status, classification);
-- Statistics read the decisions of the last weeks by kind and time.
CREATE INDEX events_by_kind ON events(kind, at);
