package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

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
// for settingTTL, so that the DAV server's read of its tenant's policy on
// every request costs no query. PutSetting through this Store forgets what
// it keeps at once; a write through another Store (another process on the
// database, another instance on PostgreSQL) shows here within settingTTL.
func (s *Store) Setting(ctx context.Context, tenantID int64, key string) ([]byte, error) {
	c, k := &s.settings, settingKey{tenantID, key}
	value, found, gen, begun, ok := c.get(k)
	if !ok {
		err := s.queryRow(ctx, s.db, `SELECT value FROM settings WHERE tenant_id = ? AND key = ?`, tenantID, key).Scan(&value)
		if err != nil && !isNoRows(err) {
			return nil, wrap(err, "setting %q", key)
		}
		found = err == nil
		if found && value == nil {
			value = []byte{}
		}
		c.put(k, gen, begun, value, found)
	}
	if !found {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no setting %q", key)
	}
	return value, nil
}

// settingTTL bounds how long Setting answers from memory, and so how late
// it sees a write it learns of only through the database.
const settingTTL = 5 * time.Second

// maxSettingEntries bounds the memory of a settingsCache.
const maxSettingEntries = 10000

type settingKey struct {
	tenantID int64
	key      string
}

// settingsCache keeps what Setting read, each with the time its read
// began, the way authCache keeps users: drop forgets it all after a write,
// and gen, which drop advances, keeps a read that began before the drop
// from putting back what it may have read before that write.
type settingsCache struct {
	ttl     time.Duration // 0 is settingTTL; tests shorten it
	mu      sync.Mutex
	gen     uint64
	entries map[settingKey]settingEntry
}

type settingEntry struct {
	value []byte
	found bool      // false: the setting is unset
	begun time.Time // when the read began
}

func (c *settingsCache) fresh(e settingEntry, now time.Time) bool {
	ttl := c.ttl
	if ttl == 0 {
		ttl = settingTTL
	}
	return now.Sub(e.begun) < ttl
}

// get returns a copy of the fresh value kept for k and whether the setting
// is set, with ok; or what a read of it then passes to put.
func (c *settingsCache) get(k settingKey) (value []byte, found bool, gen uint64, now time.Time, ok bool) {
	now = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, kept := c.entries[k]; kept && c.fresh(e, now) {
		return bytes.Clone(e.value), e.found, 0, now, true
	}
	return nil, false, c.gen, now, false
}

// put keeps a copy of what a read found for k, unless a drop came after the
// get that gave gen. When full it first forgets stale entries, or all.
func (c *settingsCache) put(k settingKey, gen uint64, begun time.Time, value []byte, found bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil {
		c.entries = map[settingKey]settingEntry{}
	}
	if len(c.entries) >= maxSettingEntries {
		now := time.Now()
		for k, e := range c.entries {
			if !c.fresh(e, now) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxSettingEntries {
			clear(c.entries)
		}
	}
	c.entries[k] = settingEntry{value: bytes.Clone(value), found: found, begun: begun}
}

// drop forgets every kept setting. PutSetting calls it after its write
// commits (or fails).
func (c *settingsCache) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.entries)
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
