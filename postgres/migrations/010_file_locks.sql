-- WebDAV write locks (RFC 4918 class 2) in the document areas. A lock is
-- on root and, when deep, everything below it; expires is when it stops
-- counting (rows past it are ignored, and deleted by the next lock write
-- of the area). token is a random urn:uuid: URI, unique by itself; every
-- lookup still names the user, so that one area never finds another's.
-- root compares bytewise, like files.path.
CREATE TABLE file_locks (
	token TEXT PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	root TEXT COLLATE "C" NOT NULL,
	deep BOOLEAN NOT NULL,
	shared BOOLEAN NOT NULL,
	owner TEXT NOT NULL,
	created BIGINT NOT NULL,
	expires BIGINT NOT NULL
);

CREATE INDEX file_locks_user ON file_locks (user_id, expires);
