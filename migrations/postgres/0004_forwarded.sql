-- Forwarded submissions. Attachments inside forwarded messages are listed
-- with a tree path (`2.0`); a part whose closing boundary never came is
-- marked incomplete (0/1: an integer as wide as the other integer columns,
-- so both backends read it alike); a submission an editor forwarded names
-- that editor, and its sender is the original one.
-- Derived like every attachment column: `slushpile reparse` lists the
-- contents of forwards in drafts stored before this migration.
ALTER TABLE attachments ADD COLUMN path TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN incomplete BIGINT NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN forwarded_by TEXT;
UPDATE attachments SET path = CAST(idx AS TEXT);
