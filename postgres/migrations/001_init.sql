-- Times are unix microseconds (UTC), as in the SQLite schema.

CREATE TABLE tenants (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	seq BIGINT NOT NULL DEFAULT 0, -- newest position of the tenant's change feed
	created BIGINT NOT NULL
);

CREATE TABLE tokens (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	name TEXT NOT NULL,
	hash BYTEA NOT NULL UNIQUE,
	created BIGINT NOT NULL,
	revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE INDEX tokens_tenant ON tokens (tenant_id);

CREATE TABLE users (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	username TEXT NOT NULL,
	email TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	time_zone TEXT NOT NULL DEFAULT '',
	deleted BOOLEAN NOT NULL DEFAULT FALSE,
	created BIGINT NOT NULL,
	updated BIGINT NOT NULL,
	UNIQUE (tenant_id, username)
);

CREATE TABLE accounts (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	url TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	secret BYTEA, -- the password, sealed
	policy TEXT NOT NULL, -- JSON of tidbro.Policy
	created BIGINT NOT NULL,
	updated BIGINT NOT NULL,
	UNIQUE (user_id, name)
);

CREATE TABLE items (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	kind TEXT NOT NULL,
	app_id TEXT NOT NULL,
	type TEXT NOT NULL DEFAULT '',
	origin TEXT NOT NULL,
	changed_by TEXT NOT NULL,
	owner_id BIGINT NOT NULL REFERENCES users (id),
	version BIGINT NOT NULL,
	seq BIGINT NOT NULL, -- feed position of the item's last change
	deleted BOOLEAN NOT NULL DEFAULT FALSE,
	created BIGINT NOT NULL,
	updated BIGINT NOT NULL,
	hash TEXT NOT NULL,
	span_from BIGINT NOT NULL, -- 0, 0 for items without a time
	span_to BIGINT NOT NULL,
	body TEXT NOT NULL, -- JSON of the Event, Task or Contact
	UNIQUE (tenant_id, kind, app_id)
);

CREATE INDEX items_owner_kind_span ON items (owner_id, kind, span_from, id);

-- The change feed: one entry per write, in position order. The item's row
-- holds its current state; an entry records what that write did.
CREATE TABLE changes (
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	seq BIGINT NOT NULL,
	item_id BIGINT NOT NULL REFERENCES items (id),
	user_id BIGINT NOT NULL REFERENCES users (id), -- whose collection changed
	kind TEXT NOT NULL,
	op TEXT NOT NULL, -- upsert | delete | depart
	version BIGINT NOT NULL,
	changed_by TEXT NOT NULL,
	PRIMARY KEY (tenant_id, seq)
);

CREATE INDEX changes_user ON changes (user_id, kind, seq);
