package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tidbro/tidbro"
)

func (s *Store) PutAccount(ctx context.Context, a *tidbro.Account) (created bool, err error) {
	if err := a.Validate(); err != nil {
		return false, err
	}
	defer func() { err = wrap(err, "put account %q", a.Name) }()
	policy, err := json.Marshal(a.Policy)
	if err != nil {
		return false, err
	}
	var secret []byte
	if a.Password != "" {
		if secret, err = s.seal(a.Password); err != nil {
			return false, err
		}
	}
	var t time.Time
	var tenantID, id, createdAt int64
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Locking the user's row orders this after a concurrent DeleteUser
		// (which then finds no live user) or before it (which then deletes
		// this account too).
		err := s.queryRow(ctx, tx, `SELECT tenant_id FROM users WHERE id = ? AND deleted = FALSE`+s.d.ForUpdate, a.UserID).Scan(&tenantID)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no user %d", a.UserID)
		}
		if err != nil {
			return err
		}
		t = now()
		err = s.queryRow(ctx, tx, `SELECT id, created FROM accounts WHERE user_id = ? AND name = ?`, a.UserID, a.Name).Scan(&id, &createdAt)
		switch {
		case isNoRows(err):
			created, createdAt = true, micros(t)
			return s.queryRow(ctx, tx, `INSERT INTO accounts (tenant_id, user_id, name, kind, url, username, secret, policy, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				tenantID, a.UserID, a.Name, a.Kind, a.URL, a.Username, secret, string(policy), createdAt, micros(t)).Scan(&id)
		case err != nil:
			return err
		case secret == nil:
			// An empty password keeps the stored one.
			_, err = s.exec(ctx, tx, `UPDATE accounts SET kind = ?, url = ?, username = ?, policy = ?, updated = ? WHERE id = ?`,
				a.Kind, a.URL, a.Username, string(policy), micros(t), id)
		default:
			_, err = s.exec(ctx, tx, `UPDATE accounts SET kind = ?, url = ?, username = ?, secret = ?, policy = ?, updated = ? WHERE id = ?`,
				a.Kind, a.URL, a.Username, secret, string(policy), micros(t), id)
		}
		return err
	})
	if err != nil {
		return false, err
	}
	a.ID, a.TenantID, a.Created, a.Updated = id, tenantID, fromMicros(createdAt), t
	return created, nil
}

func (s *Store) seal(password string) ([]byte, error) {
	if s.sealer == nil {
		return nil, errors.New("no sealer to encrypt the password with")
	}
	b, err := s.sealer.Seal([]byte(password))
	if err != nil {
		return nil, fmt.Errorf("seal password: %w", err)
	}
	return b, nil
}

func (s *Store) open(secret []byte) (string, error) {
	if len(secret) == 0 {
		return "", nil
	}
	if s.sealer == nil {
		return "", errors.New("no sealer to decrypt the password with")
	}
	b, err := s.sealer.Open(secret)
	if err != nil {
		return "", fmt.Errorf("open password: %w", err)
	}
	return string(b), nil
}

const accountColumns = `id, tenant_id, user_id, name, kind, url, username, secret, policy, created, updated`

func (s *Store) scanAccount(row interface{ Scan(...any) error }) (*tidbro.Account, error) {
	a := &tidbro.Account{}
	var secret []byte
	var policy string
	var created, updated int64
	if err := row.Scan(&a.ID, &a.TenantID, &a.UserID, &a.Name, &a.Kind, &a.URL, &a.Username, &secret, &policy, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(policy), &a.Policy); err != nil {
		return nil, fmt.Errorf("account %d: decode policy: %w", a.ID, err)
	}
	var err error
	if a.Password, err = s.open(secret); err != nil {
		return nil, fmt.Errorf("account %d: %w", a.ID, err)
	}
	a.Created, a.Updated = fromMicros(created), fromMicros(updated)
	return a, nil
}

func (s *Store) Account(ctx context.Context, userID int64, name string) (*tidbro.Account, error) {
	a, err := s.scanAccount(s.queryRow(ctx, s.db, `SELECT `+accountColumns+` FROM accounts WHERE user_id = ? AND name = ?`, userID, name))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no account %q", name)
	}
	if err != nil {
		return nil, wrap(err, "account %q", name)
	}
	return a, nil
}

func (s *Store) Accounts(ctx context.Context, userID int64) ([]*tidbro.Account, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+accountColumns+` FROM accounts WHERE user_id = ? ORDER BY name`, userID)
	if err != nil {
		return nil, wrap(err, "accounts")
	}
	defer rows.Close()
	var as []*tidbro.Account
	for rows.Next() {
		a, err := s.scanAccount(rows)
		if err != nil {
			return nil, wrap(err, "accounts")
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "accounts")
	}
	return as, nil
}

func (s *Store) DeleteAccount(ctx context.Context, userID int64, name string) error {
	res, err := s.execWrite(ctx, `DELETE FROM accounts WHERE user_id = ? AND name = ?`, userID, name)
	if err != nil {
		return wrap(err, "delete account %q", name)
	}
	return rowsAffected(res, "no account %q", name)
}

func (s *Store) AccountByID(ctx context.Context, id int64) (*tidbro.Account, error) {
	a, err := s.scanAccount(s.queryRow(ctx, s.db, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no account %d", id)
	}
	if err != nil {
		return nil, wrap(err, "account %d", id)
	}
	return a, nil
}
