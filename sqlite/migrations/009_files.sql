-- Every user's document area on the DAV server (WebDAV, RFC 4918):
-- collections and documents by path, with the properties clients set on
-- them (a JSON array). The root ("") has a row only once it has properties.
-- data is the last column, so that listings never read a document's pages.
CREATE TABLE files (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	path TEXT NOT NULL,
	parent TEXT NOT NULL,
	collection INTEGER NOT NULL,
	content_type TEXT NOT NULL,
	size INTEGER NOT NULL,
	etag TEXT NOT NULL,
	created INTEGER NOT NULL,
	modified INTEGER NOT NULL,
	props TEXT NOT NULL,
	data BLOB NOT NULL,
	UNIQUE (user_id, path)
) STRICT;

CREATE INDEX files_parent ON files (user_id, parent, path);
