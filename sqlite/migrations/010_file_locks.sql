-- WebDAV write locks (RFC 4918 class 2) in the document areas. A lock is
-- on root and, when deep, everything below it; expires is when it stops
-- counting (rows past it are ignored, and deleted by the next lock write
-- of the area). token is a random urn:uuid: URI, unique by itself; every
-- lookup still names the user, so that one area never finds another's.
CREATE TABLE file_locks (
	token TEXT PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	root TEXT NOT NULL,
	deep INTEGER NOT NULL,
	shared INTEGER NOT NULL,
	owner TEXT NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL
) STRICT;

CREATE INDEX file_locks_user ON file_locks (user_id, expires);
