package sqlstore

import "time"

// SetAuthTTL sets how long s's UserByAppPassword answers from memory.
func SetAuthTTL(s *Store, ttl time.Duration) {
	s.auth.mu.Lock()
	defer s.auth.mu.Unlock()
	s.auth.ttl = ttl
}
