-- Times are unix microseconds (UTC); booleans are 0/1.

CREATE TABLE tenants (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	seq INTEGER NOT NULL DEFAULT 0, -- newest position of the tenant's change feed
	created INTEGER NOT NULL
) STRICT;

CREATE TABLE tokens (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	name TEXT NOT NULL,
	hash BLOB NOT NULL UNIQUE,
	created INTEGER NOT NULL,
	revoked INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX tokens_tenant ON tokens (tenant_id);

CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	username TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	time_zone TEXT NOT NULL DEFAULT '',
	deleted INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL,
	UNIQUE (tenant_id, username)
) STRICT;

CREATE TABLE accounts (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	url TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	secret BLOB, -- the password, sealed
	policy TEXT NOT NULL, -- JSON of tidbro.Policy
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL,
	UNIQUE (user_id, name)
) STRICT;

CREATE TABLE items (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	kind TEXT NOT NULL,
	app_id TEXT NOT NULL,
	type TEXT NOT NULL DEFAULT '',
	origin TEXT NOT NULL,
	changed_by TEXT NOT NULL,
	owner_id INTEGER NOT NULL REFERENCES users (id),
	version INTEGER NOT NULL,
	seq INTEGER NOT NULL, -- feed position of the item's last change
	deleted INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL,
	updated INTEGER NOT NULL,
	hash TEXT NOT NULL,
	span_from INTEGER NOT NULL, -- 0, 0 for items without a time
	span_to INTEGER NOT NULL,
	body TEXT NOT NULL, -- JSON of the Event, Task or Contact
	UNIQUE (tenant_id, kind, app_id)
) STRICT;

CREATE INDEX items_owner_kind_span ON items (owner_id, kind, span_from, id);

-- The change feed: one entry per write, in position order. The item's row
-- holds its current state; an entry records what that write did.
CREATE TABLE changes (
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	seq INTEGER NOT NULL,
	item_id INTEGER NOT NULL REFERENCES items (id),
	user_id INTEGER NOT NULL REFERENCES users (id), -- whose collection changed
	kind TEXT NOT NULL,
	op TEXT NOT NULL, -- upsert | delete | depart
	version INTEGER NOT NULL,
	changed_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
) STRICT;

CREATE INDEX changes_user ON changes (user_id, kind, seq);
