-- Where the remote's own app shows a linked item (Outlook on the web's
-- webLink), for the app's "open in Outlook".
ALTER TABLE links ADD COLUMN web_link TEXT NOT NULL DEFAULT '';
