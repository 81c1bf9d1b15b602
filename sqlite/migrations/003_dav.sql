-- What tidbro's own CalDAV/CardDAV server keeps. Times are unix
-- microseconds (UTC).

-- App passwords let a user's DAV clients in (HTTP Basic); only a hash of
-- the secret is stored. Revoking deletes the row.
CREATE TABLE app_passwords (
	id INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are not reused: a revoked id must not come to name another password
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	hash BLOB NOT NULL UNIQUE,
	created INTEGER NOT NULL
) STRICT;

CREATE INDEX app_passwords_user ON app_passwords (user_id, id);

-- The representation (iCalendar, vCard) the DAV server last served or took
-- from a client for an item, and the item version it is of.
CREATE TABLE dav_objects (
	item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
	version INTEGER NOT NULL,
	data BLOB NOT NULL
) STRICT;
