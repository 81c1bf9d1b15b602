-- A pair's change-notification subscription at its remote (Graph): found
-- by the remote's id when a notification comes; only the hash of the
-- secret notifications carry is kept.
CREATE TABLE subscriptions (
	pair_id BIGINT PRIMARY KEY REFERENCES pairs (id) ON DELETE CASCADE,
	tenant_id BIGINT NOT NULL REFERENCES tenants (id),
	remote_id TEXT NOT NULL UNIQUE,
	resource TEXT NOT NULL,
	expires BIGINT NOT NULL,
	renewed BIGINT NOT NULL,
	secret_hash BYTEA NOT NULL
);
