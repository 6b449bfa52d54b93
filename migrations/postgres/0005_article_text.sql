-- The article inside an attached document (.docx, .odt, .doc, .pdf, .rtf):
-- its text, and a note when it could not be read (or only in part).
-- Derived like every attachment column: `slushpile reparse` reads the
-- documents of drafts stored before this migration.
ALTER TABLE attachments ADD COLUMN article_text TEXT;
ALTER TABLE attachments ADD COLUMN extraction_note TEXT;
