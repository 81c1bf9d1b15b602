-- What the sync engine keeps: pairs and their cursors, links, runs, the
-- audit log, held deletions and tenant settings. Times are unix
-- microseconds (UTC), 0 where a time is unset, as in the SQLite schema.

-- A pair binds one collection kind of an account to a remote collection.
CREATE TABLE pairs (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL REFERENCES users (id),
	kind TEXT NOT NULL, -- event | task | contact
	remote_id TEXT NOT NULL DEFAULT '',
	remote_name TEXT NOT NULL DEFAULT '',
	app_cursor BIGINT NOT NULL DEFAULT 0, -- feed position applied so far
	sync_token TEXT NOT NULL DEFAULT '',
	last_run BIGINT NOT NULL DEFAULT 0, -- 0: never
	last_error TEXT NOT NULL DEFAULT '',
	window_from BIGINT NOT NULL DEFAULT 0, -- the window the last successful run covered (micros; 0 = none)
	window_to BIGINT NOT NULL DEFAULT 0,
	created BIGINT NOT NULL,
	UNIQUE (account_id, kind)
);

CREATE INDEX pairs_tenant_user ON pairs (tenant_id, user_id);

-- A link is the remembered correspondence of an app item and a remote item.
CREATE TABLE links (
	pair_id BIGINT NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
	item_id BIGINT NOT NULL REFERENCES items (id),
	remote_id TEXT NOT NULL DEFAULT '', -- '' while the remote create is pending
	remote_etag TEXT NOT NULL DEFAULT '',
	app_version BIGINT NOT NULL DEFAULT 0,
	app_hash TEXT NOT NULL DEFAULT '',
	remote_hash TEXT NOT NULL DEFAULT '',
	base BYTEA, -- JSON body both sides agreed on; NULL when none
	origin TEXT NOT NULL DEFAULT '',
	key TEXT NOT NULL DEFAULT '', -- idempotency key of the remote create
	pending TEXT NOT NULL DEFAULT '', -- '' | create | update | delete
	span_from BIGINT NOT NULL DEFAULT 0,
	span_to BIGINT NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	synced BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (pair_id, item_id)
);

-- A remote item links to one app item per pair; pending creates have none yet.
CREATE UNIQUE INDEX links_remote ON links (pair_id, remote_id) WHERE remote_id <> '';
CREATE INDEX links_retry ON links (pair_id, item_id) WHERE pending <> '' OR error <> '';

CREATE TABLE runs (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	pair_id BIGINT NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
	user_id BIGINT NOT NULL,
	full_run BOOLEAN NOT NULL DEFAULT FALSE, -- a full (not incremental) run
	dry_run BOOLEAN NOT NULL DEFAULT FALSE,
	started BIGINT NOT NULL,
	finished BIGINT NOT NULL DEFAULT 0, -- 0: still running
	status TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	counts TEXT NOT NULL DEFAULT '{}' -- JSON of tidbro.RunCounts
);

CREATE INDEX runs_pair ON runs (pair_id, id);

-- The audit log is history: no foreign keys, so that it outlives the pairs
-- and runs it tells of.
CREATE TABLE audit (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL,
	user_id BIGINT NOT NULL,
	pair_id BIGINT NOT NULL,
	run_id BIGINT NOT NULL,
	at BIGINT NOT NULL,
	action TEXT NOT NULL,
	kind TEXT NOT NULL DEFAULT '',
	app_id TEXT NOT NULL DEFAULT '',
	remote_id TEXT NOT NULL DEFAULT '',
	rule TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT ''
);

CREATE INDEX audit_user ON audit (tenant_id, user_id, id);

-- Deletions waiting for a decision, one per pair and item.
CREATE TABLE holds (
	id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	user_id BIGINT NOT NULL,
	pair_id BIGINT NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
	item_id BIGINT NOT NULL,
	kind TEXT NOT NULL,
	app_id TEXT NOT NULL DEFAULT '',
	remote_id TEXT NOT NULL DEFAULT '',
	side TEXT NOT NULL, -- app | groupware: where the deletion happened
	created BIGINT NOT NULL,
	decision TEXT NOT NULL DEFAULT '', -- '' while waiting | propagate | restore
	UNIQUE (pair_id, item_id)
);

CREATE INDEX holds_user ON holds (tenant_id, user_id, id);

-- Small per-tenant documents by key (the job field mapping).
CREATE TABLE settings (
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	key TEXT NOT NULL,
	value BYTEA NOT NULL,
	updated BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, key)
);
