package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/tidbro/tidbro"
)

func (s *Store) PutUser(ctx context.Context, u *tidbro.User) (created bool, err error) {
	if err := u.Validate(); err != nil {
		return false, err
	}
	defer func() { err = wrap(err, "put user %q", u.Username) }()
	defer s.auth.drop()
	var t time.Time
	var id, createdAt int64
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Locking the tenant serialises this with the tenant's other writers:
		// no two creations of one username race, and DeleteUser sees it whole.
		if err := s.lockTenant(ctx, tx, u.TenantID); err != nil {
			return err
		}
		t = now()
		var deleted bool
		err := s.queryRow(ctx, tx, `SELECT id, created, deleted FROM users WHERE tenant_id = ? AND username = ?`,
			u.TenantID, u.Username).Scan(&id, &createdAt, &deleted)
		switch {
		case isNoRows(err):
			created, createdAt = true, micros(t)
			return s.queryRow(ctx, tx, `INSERT INTO users (tenant_id, username, email, display_name, time_zone, deleted, created, updated)
VALUES (?, ?, ?, ?, ?, FALSE, ?, ?) RETURNING id`,
				u.TenantID, u.Username, u.Email, u.DisplayName, u.TimeZone, createdAt, micros(t)).Scan(&id)
		case err != nil:
			return err
		}
		// A deleted user comes back as a new user in the old row.
		if deleted {
			created, createdAt = true, micros(t)
		}
		_, err = s.exec(ctx, tx, `UPDATE users SET email = ?, display_name = ?, time_zone = ?, deleted = FALSE, created = ?, updated = ?
WHERE id = ?`, u.Email, u.DisplayName, u.TimeZone, createdAt, micros(t), id)
		return err
	})
	if err != nil {
		return false, err
	}
	u.ID, u.Created, u.Updated = id, fromMicros(createdAt), t
	return created, nil
}

// lockTenant locks the tenant's row for the rest of tx (the whole database
// in SQLite), or reports a missing tenant.
func (s *Store) lockTenant(ctx context.Context, tx *sql.Tx, tenantID int64) error {
	var id int64
	err := s.queryRow(ctx, tx, `SELECT id FROM tenants WHERE id = ?`+s.d.ForUpdate, tenantID).Scan(&id)
	if isNoRows(err) {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %d", tenantID)
	}
	return err
}

// userColumns are read with scanUser, from users u.
const userColumns = `u.id, u.tenant_id, u.username, u.email, u.display_name, u.time_zone, u.created, u.updated`

func scanUser(row interface{ Scan(...any) error }) (*tidbro.User, error) {
	u := &tidbro.User{}
	var created, updated int64
	if err := row.Scan(&u.ID, &u.TenantID, &u.Username, &u.Email, &u.DisplayName, &u.TimeZone, &created, &updated); err != nil {
		return nil, err
	}
	u.Created, u.Updated = fromMicros(created), fromMicros(updated)
	return u, nil
}

func (s *Store) User(ctx context.Context, tenantID int64, username string) (*tidbro.User, error) {
	u, err := scanUser(s.queryRow(ctx, s.db, `SELECT `+userColumns+` FROM users u
WHERE u.tenant_id = ? AND u.username = ? AND u.deleted = FALSE`, tenantID, username))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no user %q", username)
	}
	if err != nil {
		return nil, wrap(err, "user %q", username)
	}
	return u, nil
}

func (s *Store) Users(ctx context.Context, tenantID int64) ([]*tidbro.User, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+userColumns+` FROM users u
WHERE u.tenant_id = ? AND u.deleted = FALSE ORDER BY u.username`, tenantID)
	if err != nil {
		return nil, wrap(err, "users")
	}
	defer rows.Close()
	var us []*tidbro.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, wrap(err, "users")
		}
		us = append(us, u)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "users")
	}
	return us, nil
}

// DeleteUser marks the user deleted, deletes their accounts and app
// passwords and turns each of their live items into a tombstone at a feed
// position of its own.
func (s *Store) DeleteUser(ctx context.Context, tenantID int64, username string) (err error) {
	defer func() { err = wrap(err, "delete user %q", username) }()
	defer s.auth.drop()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// Lock the tenant first, like every item write, so that no item of the
		// user is written between listing them and committing.
		var seq int64
		err := s.queryRow(ctx, tx, `SELECT seq FROM tenants WHERE id = ?`+s.d.ForUpdate, tenantID).Scan(&seq)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %d", tenantID)
		}
		if err != nil {
			return err
		}
		t := micros(now())
		// Marking the user first locks its row, which PutAccount waits on.
		var userID int64
		err = s.queryRow(ctx, tx, `UPDATE users SET deleted = TRUE, updated = ?
WHERE tenant_id = ? AND username = ? AND deleted = FALSE RETURNING id`, t, tenantID, username).Scan(&userID)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no user %q", username)
		}
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM accounts WHERE user_id = ?`, userID); err != nil {
			return err
		}
		// The row stays (a user of that name comes back in it), so its app
		// passwords go now rather than by cascade: revived, the user must not
		// find the old ones working again.
		if _, err := s.exec(ctx, tx, `DELETE FROM app_passwords WHERE user_id = ?`, userID); err != nil {
			return err
		}
		// So are the user's documents: they are not in the change feed.
		if _, err := s.exec(ctx, tx, `DELETE FROM files WHERE user_id = ?`, userID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, `DELETE FROM file_locks WHERE user_id = ?`, userID); err != nil {
			return err
		}
		ids, err := s.liveItemIDs(ctx, tx, userID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			seq++
			it := &tidbro.Item{ID: id, TenantID: tenantID, ChangedBy: tidbro.OriginApp}
			if err := s.queryRow(ctx, tx, `UPDATE items SET deleted = TRUE, version = version + 1, seq = ?, changed_by = ?, updated = ?
WHERE id = ? RETURNING kind, version`, seq, it.ChangedBy, t, id).Scan(&it.Kind, &it.Version); err != nil {
				return err
			}
			if err := s.logChange(ctx, tx, seq, it, userID, tidbro.OpDelete); err != nil {
				return err
			}
		}
		_, err = s.exec(ctx, tx, `UPDATE tenants SET seq = ? WHERE id = ?`, seq, tenantID)
		return err
	})
}

func (s *Store) liveItemIDs(ctx context.Context, tx *sql.Tx, ownerID int64) ([]int64, error) {
	rows, err := s.query(ctx, tx, `SELECT id FROM items WHERE owner_id = ? AND deleted = FALSE ORDER BY id`, ownerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
