-- Every user's document area on the DAV server (WebDAV, RFC 4918):
-- collections and documents by path, with the properties clients set on
-- them (a JSON array). The root ("") has a row only once it has properties.
-- Paths compare bytewise (COLLATE "C"), as in SQLite: a subtree is the
-- range between "p/" and "p0".
CREATE TABLE files (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	path TEXT COLLATE "C" NOT NULL,
	parent TEXT COLLATE "C" NOT NULL,
	collection BOOLEAN NOT NULL,
	content_type TEXT NOT NULL,
	size BIGINT NOT NULL,
	etag TEXT NOT NULL,
	created BIGINT NOT NULL,
	modified BIGINT NOT NULL,
	props TEXT NOT NULL,
	data BYTEA NOT NULL,
	UNIQUE (user_id, path)
);

CREATE INDEX files_parent ON files (user_id, parent, path);
