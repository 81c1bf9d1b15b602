package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tidbro/tidbro"
)

// CreateAppPassword locks the user's row, like PutAccount, so that it is
// ordered against a concurrent DeleteUser: either that finds the password and
// deletes it, or this finds no live user. Otherwise a password could outlive
// its user and come back to life with a revived user of the same row.
func (s *Store) CreateAppPassword(ctx context.Context, tenantID, userID int64, name string, secretHash []byte) (p *tidbro.AppPassword, err error) {
	if len(secretHash) == 0 {
		return nil, tidbro.Invalid("hash", "an app password needs the hash of its secret")
	}
	defer func() { err = wrap(err, "create app password %q", name) }()
	p = &tidbro.AppPassword{TenantID: tenantID, UserID: userID, Name: name}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var id int64
		err := s.queryRow(ctx, tx, `SELECT id FROM users WHERE id = ? AND tenant_id = ? AND deleted = FALSE`+s.d.ForUpdate,
			userID, tenantID).Scan(&id)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no user %d", userID)
		}
		if err != nil {
			return err
		}
		p.Created = now()
		// ON CONFLICT DO NOTHING tells a duplicate apart without decoding
		// driver-specific errors, and leaves PostgreSQL's transaction usable.
		err = s.queryRow(ctx, tx, `INSERT INTO app_passwords (tenant_id, user_id, name, hash, created) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (hash) DO NOTHING RETURNING id`, tenantID, userID, name, secretHash, micros(p.Created)).Scan(&p.ID)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ECONFLICT, "an app password with this secret exists")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

const appPasswordColumns = `p.id, p.tenant_id, p.user_id, p.name, p.created`

func scanAppPassword(row scanner) (*tidbro.AppPassword, error) {
	p := &tidbro.AppPassword{}
	var created int64
	if err := row.Scan(&p.ID, &p.TenantID, &p.UserID, &p.Name, &created); err != nil {
		return nil, err
	}
	p.Created = fromMicros(created)
	return p, nil
}

// AppPasswordByHash also requires a live user: DeleteUser removes the
// user's passwords, and the join keeps that true whatever a row says.
func (s *Store) AppPasswordByHash(ctx context.Context, secretHash []byte) (*tidbro.AppPassword, error) {
	p, err := scanAppPassword(s.queryRow(ctx, s.db, `SELECT `+appPasswordColumns+`
FROM app_passwords p JOIN users u ON u.id = p.user_id WHERE p.hash = ? AND u.deleted = FALSE`, secretHash))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no such app password")
	}
	if err != nil {
		return nil, wrap(err, "app password by hash")
	}
	return p, nil
}

// UserByAppPassword returns the live user whose app password hashes to
// secretHash (ENOTFOUND when there is none): AppPasswordByHash and User in
// one read, which the DAV server needs for every request. What it finds it
// keeps in memory for memoTTL, so that a client's requests after the first
// cost no read. Revoking an app password and putting or deleting a user
// through this Store forget what it keeps at once; the same through
// another Store (the tidbro command, another instance on PostgreSQL) take
// effect here within memoTTL.
func (s *Store) UserByAppPassword(ctx context.Context, secretHash []byte) (*tidbro.User, error) {
	key := string(secretHash)
	kept, ok, gen, begun := s.auth.get(key)
	if ok {
		return &kept, nil
	}
	u, err := scanUser(s.queryRow(ctx, s.db, `SELECT `+userColumns+`
FROM app_passwords p JOIN users u ON u.id = p.user_id AND u.tenant_id = p.tenant_id WHERE p.hash = ? AND u.deleted = FALSE`, secretHash))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no such app password")
	}
	if err != nil {
		return nil, wrap(err, "user by app password")
	}
	s.auth.put(key, gen, begun, *u)
	return u, nil
}

func (s *Store) AppPasswords(ctx context.Context, tenantID, userID int64) ([]*tidbro.AppPassword, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+appPasswordColumns+` FROM app_passwords p
WHERE p.tenant_id = ? AND p.user_id = ? ORDER BY p.id`, tenantID, userID)
	ps, err := collect(rows, err, scanAppPassword)
	return ps, wrap(err, "app passwords of user %d", userID)
}

func (s *Store) RevokeAppPassword(ctx context.Context, tenantID, userID, id int64) error {
	defer s.auth.drop()
	res, err := s.execWrite(ctx, `DELETE FROM app_passwords WHERE id = ? AND tenant_id = ? AND user_id = ?`, id, tenantID, userID)
	if err != nil {
		return wrap(err, "revoke app password %d", id)
	}
	return rowsAffected(res, "no app password %d", id)
}
