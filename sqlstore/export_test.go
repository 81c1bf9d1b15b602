package sqlstore

import "time"

// SetAuthTTL sets how long s's UserByAppPassword answers from memory.
func SetAuthTTL(s *Store, ttl time.Duration) {
	s.auth.setTTL(ttl)
}

// SetSettingTTL sets how long s's Setting answers from memory.
func SetSettingTTL(s *Store, ttl time.Duration) { s.settings.setTTL(ttl) }
