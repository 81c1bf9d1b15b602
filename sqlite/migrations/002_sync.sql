-- What the sync engine keeps: pairs and their cursors, links, runs, the
-- audit log, held deletions and tenant settings. Times are unix
-- microseconds (UTC), 0 where a time is unset; booleans are 0/1.

-- A pair binds one collection kind of an account to a remote collection.
CREATE TABLE pairs (
	id INTEGER PRIMARY KEY AUTOINCREMENT, -- ids are not reused: the audit log names them
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL REFERENCES users (id),
	kind TEXT NOT NULL, -- event | task | contact
	remote_id TEXT NOT NULL DEFAULT '',
	remote_name TEXT NOT NULL DEFAULT '',
	app_cursor INTEGER NOT NULL DEFAULT 0, -- feed position applied so far
	sync_token TEXT NOT NULL DEFAULT '',
	last_run INTEGER NOT NULL DEFAULT 0, -- 0: never
	last_error TEXT NOT NULL DEFAULT '',
	window_from INTEGER NOT NULL DEFAULT 0, -- the window the last successful run covered (micros; 0 = none)
	window_to INTEGER NOT NULL DEFAULT 0,
	created INTEGER NOT NULL,
	UNIQUE (account_id, kind)
) STRICT;

CREATE INDEX pairs_tenant_user ON pairs (tenant_id, user_id);

-- A link is the remembered correspondence of an app item and a remote item.
CREATE TABLE links (
	pair_id INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
	item_id INTEGER NOT NULL REFERENCES items (id),
	remote_id TEXT NOT NULL DEFAULT '', -- '' while the remote create is pending
	remote_etag TEXT NOT NULL DEFAULT '',
	app_version INTEGER NOT NULL DEFAULT 0,
	app_hash TEXT NOT NULL DEFAULT '',
	remote_hash TEXT NOT NULL DEFAULT '',
	base BLOB, -- JSON body both sides agreed on; NULL when none
	origin TEXT NOT NULL DEFAULT '',
	key TEXT NOT NULL DEFAULT '', -- idempotency key of the remote create
	pending TEXT NOT NULL DEFAULT '', -- '' | create | update | delete
	span_from INTEGER NOT NULL DEFAULT 0,
	span_to INTEGER NOT NULL DEFAULT 0,
	error TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	synced INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (pair_id, item_id)
) STRICT;

-- A remote item links to one app item per pair; pending creates have none yet.
CREATE UNIQUE INDEX links_remote ON links (pair_id, remote_id) WHERE remote_id <> '';
CREATE INDEX links_retry ON links (pair_id, item_id) WHERE pending <> '' OR error <> '';

CREATE TABLE runs (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	pair_id INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
	user_id INTEGER NOT NULL,
	full_run INTEGER NOT NULL DEFAULT 0, -- a full (not incremental) run
	dry_run INTEGER NOT NULL DEFAULT 0,
	started INTEGER NOT NULL,
	finished INTEGER NOT NULL DEFAULT 0, -- 0: still running
	status TEXT NOT NULL,
	error TEXT NOT NULL DEFAULT '',
	counts TEXT NOT NULL DEFAULT '{}' -- JSON of tidbro.RunCounts
) STRICT;

CREATE INDEX runs_pair ON runs (pair_id, id);

-- The audit log is history: no foreign keys, so that it outlives the pairs
-- and runs it tells of.
CREATE TABLE audit (
	id INTEGER PRIMARY KEY,
	tenant_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	pair_id INTEGER NOT NULL,
	run_id INTEGER NOT NULL,
	at INTEGER NOT NULL,
	action TEXT NOT NULL,
	kind TEXT NOT NULL DEFAULT '',
	app_id TEXT NOT NULL DEFAULT '',
	remote_id TEXT NOT NULL DEFAULT '',
	rule TEXT NOT NULL DEFAULT '',
	error TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_user ON audit (tenant_id, user_id, id);

-- Deletions waiting for a decision, one per pair and item.
CREATE TABLE holds (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	user_id INTEGER NOT NULL,
	pair_id INTEGER NOT NULL REFERENCES pairs (id) ON DELETE CASCADE,
	item_id INTEGER NOT NULL,
	kind TEXT NOT NULL,
	app_id TEXT NOT NULL DEFAULT '',
	remote_id TEXT NOT NULL DEFAULT '',
	side TEXT NOT NULL, -- app | groupware: where the deletion happened
	created INTEGER NOT NULL,
	decision TEXT NOT NULL DEFAULT '', -- '' while waiting | propagate | restore
	UNIQUE (pair_id, item_id)
) STRICT;

CREATE INDEX holds_user ON holds (tenant_id, user_id, id);

-- Small per-tenant documents by key (the job field mapping).
CREATE TABLE settings (
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	key TEXT NOT NULL,
	value BLOB NOT NULL,
	updated INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, key)
) STRICT;
