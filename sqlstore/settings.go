package sqlstore

import (
	"bytes"
	"context"
	"errors"

	"github.com/tidbro/tidbro"
)

// maxSettingKey bounds a setting's key.
const maxSettingKey = 200

func (s *Store) PutSetting(ctx context.Context, tenantID int64, key string, value []byte) error {
	if key == "" || len(key) > maxSettingKey {
		return tidbro.Invalid("key", "a setting's key has 1 to %d bytes", maxSettingKey)
	}
	if value == nil {
		value = []byte{}
	}
	defer s.settings.drop()
	_, err := s.execWrite(ctx, `INSERT INTO settings (tenant_id, key, value, updated) VALUES (?, ?, ?, ?)
ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated = excluded.updated`,
		tenantID, key, value, micros(now()))
	if _, foreignKey := violation(err); foreignKey {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no tenant %d", tenantID)
	}
	return wrap(err, "put setting %q", key)
}

// Setting keeps what it read (a value, or that there is none) in memory
// for memoTTL, so that the DAV server's read of its tenant's policy on
// every request costs no query. PutSetting through this Store forgets what
// it keeps at once; a write through another Store (another process on the
// database, another instance on PostgreSQL) shows here within memoTTL.
func (s *Store) Setting(ctx context.Context, tenantID int64, key string) ([]byte, error) {
	k := settingKey{tenantID, key}
	kept, ok, gen, begun := s.settings.get(k)
	if !ok {
		err := s.queryRow(ctx, s.db, `SELECT value FROM settings WHERE tenant_id = ? AND key = ?`, tenantID, key).Scan(&kept.value)
		if err != nil && !isNoRows(err) {
			return nil, wrap(err, "setting %q", key)
		}
		kept.found = err == nil
		if kept.found && kept.value == nil {
			kept.value = []byte{}
		}
		s.settings.put(k, gen, begun, setting{bytes.Clone(kept.value), kept.found})
	}
	if !kept.found {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no setting %q", key)
	}
	return bytes.Clone(kept.value), nil // the caller's to change
}

type settingKey struct {
	tenantID int64
	key      string
}

// setting is what Setting keeps of a read: the value, or that it is unset.
type setting struct {
	value []byte
	found bool
}

// PutSealedSetting stores a setting encrypted with the store's sealer (the
// same as account passwords), under its own key space.
func (s *Store) PutSealedSetting(ctx context.Context, tenantID int64, key string, value []byte) error {
	if s.sealer == nil {
		return errors.New("no sealer to encrypt the setting with")
	}
	b, err := s.sealer.Seal(value)
	if err != nil {
		return wrap(err, "seal setting %q", key)
	}
	return s.PutSetting(ctx, tenantID, sealedPrefix+key, b)
}

// SealedSetting returns a setting PutSealedSetting stored, decrypted.
func (s *Store) SealedSetting(ctx context.Context, tenantID int64, key string) ([]byte, error) {
	b, err := s.Setting(ctx, tenantID, sealedPrefix+key)
	if err != nil {
		return nil, err
	}
	if s.sealer == nil {
		return nil, errors.New("no sealer to decrypt the setting with")
	}
	v, err := s.sealer.Open(b)
	return v, wrap(err, "open setting %q", key)
}

// sealedPrefix keeps sealed settings apart from plain ones: a plain read
// of a sealed key finds nothing.
const sealedPrefix = "sealed:"
