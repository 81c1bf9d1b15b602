package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tidbro/tidbro"
)

const subscriptionColumns = `pair_id, tenant_id, remote_id, resource, expires, renewed, secret_hash`

func scanSubscription(row scanner) (*tidbro.Subscription, error) {
	sub := &tidbro.Subscription{}
	var expires, renewed int64
	if err := row.Scan(&sub.PairID, &sub.TenantID, &sub.RemoteID, &sub.Resource, &expires, &renewed, &sub.SecretHash); err != nil {
		return nil, err
	}
	sub.Expires, sub.Renewed = fromMicros(expires), fromMicros(renewed)
	return sub, nil
}

// PutSubscription upserts the pair's subscription; the tenant is the
// pair's.
func (s *Store) PutSubscription(ctx context.Context, sub *tidbro.Subscription) error {
	if sub.RemoteID == "" || len(sub.SecretHash) == 0 {
		return tidbro.Invalid("remoteId", "a subscription needs the remote's id and the secret's hash")
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.queryRow(ctx, tx, `INSERT INTO subscriptions (`+subscriptionColumns+`)
SELECT id, tenant_id, ?, ?, ?, ?, ? FROM pairs WHERE id = ?
ON CONFLICT (pair_id) DO UPDATE SET remote_id = excluded.remote_id, resource = excluded.resource,
	expires = excluded.expires, renewed = excluded.renewed, secret_hash = excluded.secret_hash
RETURNING tenant_id`,
			sub.RemoteID, sub.Resource, micros(sub.Expires), micros(sub.Renewed), sub.SecretHash, sub.PairID).Scan(&sub.TenantID)
	})
	if isNoRows(err) {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d", sub.PairID)
	}
	return wrap(err, "put subscription of pair %d", sub.PairID)
}

func (s *Store) Subscription(ctx context.Context, pairID int64) (*tidbro.Subscription, error) {
	sub, err := scanSubscription(s.queryRow(ctx, s.db, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE pair_id = ?`, pairID))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "pair %d has no subscription", pairID)
	}
	return sub, wrap(err, "subscription of pair %d", pairID)
}

func (s *Store) SubscriptionByRemoteID(ctx context.Context, remoteID string) (*tidbro.Subscription, error) {
	sub, err := scanSubscription(s.queryRow(ctx, s.db, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE remote_id = ?`, remoteID))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no subscription %q", remoteID)
	}
	return sub, wrap(err, "subscription %q", remoteID)
}

func (s *Store) DeleteSubscription(ctx context.Context, pairID int64) error {
	_, err := s.execWrite(ctx, `DELETE FROM subscriptions WHERE pair_id = ?`, pairID)
	return wrap(err, "delete subscription of pair %d", pairID)
}
