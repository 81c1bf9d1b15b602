package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tidbro/tidbro"
)

const holdColumns = `id, tenant_id, user_id, pair_id, item_id, kind, app_id, remote_id, side, created, decision`

func scanHold(row scanner) (*tidbro.Hold, error) {
	h := &tidbro.Hold{}
	var created int64
	if err := row.Scan(&h.ID, &h.TenantID, &h.UserID, &h.PairID, &h.ItemID, &h.Kind, &h.AppID, &h.RemoteID, &h.Side,
		&created, &h.Decision); err != nil {
		return nil, err
	}
	h.Created = fromMicros(created)
	return h, nil
}

func validDecision(d string) error {
	if d != tidbro.DecisionPropagate && d != tidbro.DecisionRestore {
		return tidbro.Invalid("decision", "%q is not a decision (propagate, restore)", d)
	}
	return nil
}

// PutHold upserts the hold of (PairID, ItemID). The tenant and user are
// the pair's; h's may be zero and must match when they are not. A new hold
// takes h.Decision (normally empty); an existing one keeps its id, created
// time and decision, and takes h's Kind, AppID, RemoteID and Side. h is
// then filled with what is stored.
func (s *Store) PutHold(ctx context.Context, h *tidbro.Hold) (err error) {
	if h.Decision != "" {
		if err := validDecision(h.Decision); err != nil {
			return err
		}
	}
	defer func() { err = wrap(err, "put hold of item %d in pair %d", h.ItemID, h.PairID) }()
	var tenantID, userID, id, created int64
	var decision string
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := s.queryRow(ctx, tx, `SELECT tenant_id, user_id FROM pairs WHERE id = ?`, h.PairID).Scan(&tenantID, &userID)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d", h.PairID)
		}
		if err != nil {
			return err
		}
		if (h.TenantID != 0 && h.TenantID != tenantID) || (h.UserID != 0 && h.UserID != userID) {
			return tidbro.Invalid("pairId", "pair %d belongs to another user", h.PairID)
		}
		return s.queryRow(ctx, tx, `INSERT INTO holds (tenant_id, user_id, pair_id, item_id, kind, app_id, remote_id, side, created, decision)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (pair_id, item_id) DO UPDATE SET kind = excluded.kind, app_id = excluded.app_id,
	remote_id = excluded.remote_id, side = excluded.side
RETURNING id, created, decision`,
			tenantID, userID, h.PairID, h.ItemID, h.Kind, h.AppID, h.RemoteID, h.Side, micros(now()), h.Decision).Scan(&id, &created, &decision)
	})
	if err != nil {
		return err
	}
	h.ID, h.TenantID, h.UserID, h.Created, h.Decision = id, tenantID, userID, fromMicros(created), decision
	return nil
}

// Holds returns the user's holds, oldest first.
func (s *Store) Holds(ctx context.Context, tenantID, userID int64) ([]*tidbro.Hold, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+holdColumns+` FROM holds WHERE tenant_id = ? AND user_id = ? ORDER BY id`, tenantID, userID)
	hs, err := collect(rows, err, scanHold)
	return hs, wrap(err, "holds")
}

// HoldsOfPair returns the pair's holds, oldest first.
func (s *Store) HoldsOfPair(ctx context.Context, pairID int64) ([]*tidbro.Hold, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+holdColumns+` FROM holds WHERE pair_id = ? ORDER BY id`, pairID)
	hs, err := collect(rows, err, scanHold)
	return hs, wrap(err, "holds of pair %d", pairID)
}

func (s *Store) DecideHold(ctx context.Context, tenantID, userID, id int64, decision string) error {
	if err := validDecision(decision); err != nil {
		return err
	}
	res, err := s.execWrite(ctx, `UPDATE holds SET decision = ? WHERE id = ? AND tenant_id = ? AND user_id = ?`,
		decision, id, tenantID, userID)
	if err != nil {
		return wrap(err, "decide hold %d", id)
	}
	return rowsAffected(res, "no hold %d", id)
}

func (s *Store) DeleteHold(ctx context.Context, pairID, itemID int64) error {
	_, err := s.execWrite(ctx, `DELETE FROM holds WHERE pair_id = ? AND item_id = ?`, pairID, itemID)
	return wrap(err, "delete hold of item %d in pair %d", itemID, pairID)
}
