package sqlstore

import (
	"context"
	"database/sql"

	"github.com/tidbro/tidbro"
)

func (s *Store) CreateTenant(ctx context.Context, name string) (*tidbro.Tenant, error) {
	if err := tidbro.ValidAppID("name", name); err != nil {
		return nil, err
	}
	t := &tidbro.Tenant{Name: name, Created: now()}
	// ON CONFLICT DO NOTHING returns no row for a duplicate, which tells it
	// apart without decoding driver-specific constraint errors.
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.queryRow(ctx, tx, `INSERT INTO tenants (name, seq, created) VALUES (?, 0, ?)
ON CONFLICT (name) DO NOTHING RETURNING id`, name, micros(t.Created)).Scan(&t.ID)
	})
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ECONFLICT, "tenant %q exists", name)
	}
	if err != nil {
		return nil, wrap(err, "create tenant %q", name)
	}
	return t, nil
}

func (s *Store) Tenant(ctx context.Context, name string) (*tidbro.Tenant, error) {
	t := &tidbro.Tenant{}
	var created int64
	err := s.queryRow(ctx, s.db, `SELECT id, name, created FROM tenants WHERE name = ?`, name).Scan(&t.ID, &t.Name, &created)
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %q", name)
	}
	if err != nil {
		return nil, wrap(err, "tenant %q", name)
	}
	t.Created = fromMicros(created)
	return t, nil
}

func (s *Store) Tenants(ctx context.Context) ([]*tidbro.Tenant, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, name, created FROM tenants ORDER BY name`)
	if err != nil {
		return nil, wrap(err, "tenants")
	}
	defer rows.Close()
	var ts []*tidbro.Tenant
	for rows.Next() {
		t := &tidbro.Tenant{}
		var created int64
		if err := rows.Scan(&t.ID, &t.Name, &created); err != nil {
			return nil, wrap(err, "tenants")
		}
		t.Created = fromMicros(created)
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "tenants")
	}
	return ts, nil
}

func (s *Store) Head(ctx context.Context, tenantID int64) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, s.db, `SELECT seq FROM tenants WHERE id = ?`, tenantID).Scan(&seq)
	if isNoRows(err) {
		return 0, tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %d", tenantID)
	}
	return seq, wrap(err, "head of tenant %d", tenantID)
}

func (s *Store) CreateToken(ctx context.Context, tenantID int64, name string, secretHash []byte) (*tidbro.Token, error) {
	if len(secretHash) == 0 {
		return nil, tidbro.Invalid("hash", "a token needs the hash of its secret")
	}
	if err := s.tenantExists(ctx, tenantID); err != nil {
		return nil, err
	}
	t := &tidbro.Token{TenantID: tenantID, Name: name, Created: now()}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		return s.queryRow(ctx, tx, `INSERT INTO tokens (tenant_id, name, hash, created, revoked) VALUES (?, ?, ?, ?, FALSE)
ON CONFLICT (hash) DO NOTHING RETURNING id`, tenantID, name, secretHash, micros(t.Created)).Scan(&t.ID)
	})
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ECONFLICT, "a token with this secret exists")
	}
	if err != nil {
		return nil, wrap(err, "create token %q", name)
	}
	return t, nil
}

func (s *Store) tenantExists(ctx context.Context, tenantID int64) error {
	var id int64
	err := s.queryRow(ctx, s.db, `SELECT id FROM tenants WHERE id = ?`, tenantID).Scan(&id)
	if isNoRows(err) {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %d", tenantID)
	}
	return wrap(err, "tenant %d", tenantID)
}

const tokenColumns = `id, tenant_id, name, created, revoked`

func scanToken(row interface{ Scan(...any) error }) (*tidbro.Token, error) {
	t := &tidbro.Token{}
	var created int64
	if err := row.Scan(&t.ID, &t.TenantID, &t.Name, &created, &t.Revoked); err != nil {
		return nil, err
	}
	t.Created = fromMicros(created)
	return t, nil
}

func (s *Store) TokenByHash(ctx context.Context, secretHash []byte) (*tidbro.Token, error) {
	t, err := scanToken(s.queryRow(ctx, s.db, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ? AND revoked = FALSE`, secretHash))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no such token")
	}
	if err != nil {
		return nil, wrap(err, "token by hash")
	}
	return t, nil
}

func (s *Store) RevokeToken(ctx context.Context, tenantID, id int64) error {
	res, err := s.execWrite(ctx, `UPDATE tokens SET revoked = TRUE WHERE tenant_id = ? AND id = ?`, tenantID, id)
	if err != nil {
		return wrap(err, "revoke token %d", id)
	}
	return rowsAffected(res, "no token %d", id)
}

func (s *Store) Tokens(ctx context.Context, tenantID int64) ([]*tidbro.Token, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+tokenColumns+` FROM tokens WHERE tenant_id = ? ORDER BY id`, tenantID)
	if err != nil {
		return nil, wrap(err, "tokens")
	}
	defer rows.Close()
	var ts []*tidbro.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, wrap(err, "tokens")
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(err, "tokens")
	}
	return ts, nil
}
