-- A pair's change-notification subscription at its remote (Graph): found
-- by the remote's id when a notification comes; only the hash of the
-- secret notifications carry is kept.
CREATE TABLE subscriptions (
	pair_id INTEGER PRIMARY KEY REFERENCES pairs (id) ON DELETE CASCADE,
	tenant_id INTEGER NOT NULL REFERENCES tenants (id),
	remote_id TEXT NOT NULL UNIQUE,
	resource TEXT NOT NULL,
	expires INTEGER NOT NULL,
	renewed INTEGER NOT NULL,
	secret_hash BLOB NOT NULL
) STRICT;
