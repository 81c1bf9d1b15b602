package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/tidbro/tidbro"
)

const pairColumns = `id, tenant_id, account_id, user_id, kind, remote_id, remote_name, app_cursor, sync_token, last_run, last_error,
window_from, window_to, created`

func scanPair(row scanner) (*tidbro.Pair, error) {
	p := &tidbro.Pair{}
	var lastRun, windowFrom, windowTo, created int64
	if err := row.Scan(&p.ID, &p.TenantID, &p.AccountID, &p.UserID, &p.Kind, &p.RemoteID, &p.RemoteName,
		&p.AppCursor, &p.SyncToken, &lastRun, &p.LastError, &windowFrom, &windowTo, &created); err != nil {
		return nil, err
	}
	p.LastRun, p.Created = fromOptMicros(lastRun), fromMicros(created)
	p.WindowFrom, p.WindowTo = fromOptMicros(windowFrom), fromOptMicros(windowTo)
	return p, nil
}

// PutPair takes the pair's tenant and user from its account; p's TenantID
// and UserID may be zero, and must match when they are not. On create it
// stores p's state as given and gives the pair its schedule, due at once;
// on update it stores only RemoteID and RemoteName. Either way p is then
// filled with the stored pair.
func (s *Store) PutPair(ctx context.Context, p *tidbro.Pair) (created bool, err error) {
	if err := validPairKind(p.Kind); err != nil {
		return false, err
	}
	defer func() { err = wrap(err, "put %s pair of account %d", p.Kind, p.AccountID) }()
	var stored *tidbro.Pair
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Locking the account orders this with a concurrent DeleteAccount and
		// with a concurrent creation of the same pair.
		var tenantID, userID int64
		err := s.queryRow(ctx, tx, `SELECT tenant_id, user_id FROM accounts WHERE id = ?`+s.d.ForUpdate, p.AccountID).Scan(&tenantID, &userID)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no account %d", p.AccountID)
		}
		if err != nil {
			return err
		}
		if (p.TenantID != 0 && p.TenantID != tenantID) || (p.UserID != 0 && p.UserID != userID) {
			return tidbro.Invalid("accountId", "account %d belongs to another user", p.AccountID)
		}
		var id int64
		err = s.queryRow(ctx, tx, `SELECT id FROM pairs WHERE account_id = ? AND kind = ?`, p.AccountID, p.Kind).Scan(&id)
		switch {
		case isNoRows(err):
			created = true
			err = s.queryRow(ctx, tx, `INSERT INTO pairs (tenant_id, account_id, user_id, kind, remote_id, remote_name,
	app_cursor, sync_token, last_run, last_error, window_from, window_to, created)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				tenantID, p.AccountID, userID, p.Kind, p.RemoteID, p.RemoteName,
				p.AppCursor, p.SyncToken, optMicros(p.LastRun), p.LastError, optMicros(p.WindowFrom), optMicros(p.WindowTo), micros(now())).Scan(&id)
			if err == nil {
				// A new pair is due at once.
				_, err = s.exec(ctx, tx, `INSERT INTO schedule (pair_id, next_run) VALUES (?, 0)`, id)
			}
		case err != nil:
		default:
			_, err = s.exec(ctx, tx, `UPDATE pairs SET remote_id = ?, remote_name = ? WHERE id = ?`, p.RemoteID, p.RemoteName, id)
		}
		if err != nil {
			return err
		}
		stored, err = scanPair(s.queryRow(ctx, tx, `SELECT `+pairColumns+` FROM pairs WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return false, err
	}
	*p = *stored
	return created, nil
}

func (s *Store) Pair(ctx context.Context, id int64) (*tidbro.Pair, error) {
	p, err := scanPair(s.queryRow(ctx, s.db, `SELECT `+pairColumns+` FROM pairs WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d", id)
	}
	if err != nil {
		return nil, wrap(err, "pair %d", id)
	}
	return p, nil
}

func (s *Store) Pairs(ctx context.Context, q tidbro.PairQuery) ([]*tidbro.Pair, error) {
	if q.TenantID == 0 {
		return nil, tidbro.Invalid("tenantId", "pairs are listed per tenant")
	}
	where, args := pairFilter(q)
	rows, err := s.query(ctx, s.db, `SELECT `+pairColumns+` FROM pairs WHERE `+where+` ORDER BY id`, args...)
	ps, err := collect(rows, err, scanPair)
	return ps, wrap(err, "pairs")
}

// pairFilter is the condition on the pairs table that q selects, and its
// arguments; q.TenantID is always part of it.
func pairFilter(q tidbro.PairQuery) (where string, args []any) {
	var b strings.Builder
	b.WriteString(`tenant_id = ?`)
	args = []any{q.TenantID}
	if q.UserID != 0 {
		b.WriteString(` AND user_id = ?`)
		args = append(args, q.UserID)
	}
	if q.AccountID != 0 {
		b.WriteString(` AND account_id = ?`)
		args = append(args, q.AccountID)
	}
	if q.PairID != 0 {
		b.WriteString(` AND id = ?`)
		args = append(args, q.PairID)
	}
	return b.String(), args
}

func (s *Store) SavePairState(ctx context.Context, p *tidbro.Pair) error {
	res, err := s.execWrite(ctx, `UPDATE pairs SET app_cursor = ?, sync_token = ?, last_run = ?, last_error = ?,
	window_from = ?, window_to = ? WHERE id = ?`,
		p.AppCursor, p.SyncToken, optMicros(p.LastRun), p.LastError, optMicros(p.WindowFrom), optMicros(p.WindowTo), p.ID)
	if err != nil {
		return wrap(err, "save state of pair %d", p.ID)
	}
	return rowsAffected(res, "no pair %d", p.ID)
}

// DeletePair deletes the pair; its links, holds, runs and schedule go with
// it (ON DELETE CASCADE), its audit entries stay.
func (s *Store) DeletePair(ctx context.Context, id int64) error {
	res, err := s.execWrite(ctx, `DELETE FROM pairs WHERE id = ?`, id)
	if err != nil {
		return wrap(err, "delete pair %d", id)
	}
	return rowsAffected(res, "no pair %d", id)
}
