-- The resource names DAV clients chose for items whose app id could not be
-- the name (another user's item had it: the same meeting in two users'
-- calendars under its UID).
CREATE TABLE dav_names (
	item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
	name TEXT NOT NULL
) STRICT;

CREATE INDEX dav_names_name ON dav_names (name);
