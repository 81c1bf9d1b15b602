-- What tidbro's own CalDAV/CardDAV server keeps. Times are unix
-- microseconds (UTC), as in the SQLite schema.

-- App passwords let a user's DAV clients in (HTTP Basic); only a hash of
-- the secret is stored. Revoking deletes the row.
CREATE TABLE app_passwords (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	hash BYTEA NOT NULL UNIQUE,
	created BIGINT NOT NULL
);

CREATE INDEX app_passwords_user ON app_passwords (user_id, id);

-- The representation (iCalendar, vCard) the DAV server last served or took
-- from a client for an item, and the item version it is of.
CREATE TABLE dav_objects (
	item_id BIGINT PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
	version BIGINT NOT NULL,
	data BYTEA NOT NULL
);
