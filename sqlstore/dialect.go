package sqlstore

import (
	"database/sql"
	"strconv"
	"strings"
)

// Dialect is what differs between the databases at the level of the shared
// SQL. Everything else (types, identity columns) lives in each database's
// migrations.
type Dialect struct {
	Name string
	// NumberedParams rewrites the ? placeholders of the shared SQL as
	// $1, $2, ... (PostgreSQL).
	NumberedParams bool
	// ForUpdate is appended to a SELECT whose rows the transaction must lock
	// against concurrent writers. SQLite has no row locks and needs none: its
	// write transactions begin IMMEDIATE and hold the database's write lock.
	ForUpdate string
	// SkipLocked is appended to the SELECT that picks the pairs a claim
	// leases, so that instances claiming at once take different pairs
	// rather than queue on the same rows. Empty in SQLite, whose single
	// writer claims alone.
	SkipLocked string
	// Isolation is the level of write transactions. PostgreSQL's must be
	// READ COMMITTED, whatever the server's default: each statement after the
	// tenant's row lock must see what the writer before committed.
	Isolation sql.IsolationLevel
	// SingleWriter queues a process's write transactions in Go and commits
	// them in batches (see Store.write). SQLite has one writer at a time
	// anyway, waiting in its busy handler (which sleeps in steps of up to
	// 100ms) is several times slower, and a batch's one commit, with its
	// one fsync, serves all its writers.
	SingleWriter bool
	// LockMigrations and UnlockMigrations run on one connection around a
	// migration run, so that instances starting together migrate one at a
	// time. Empty when each migration's own transaction is enough (SQLite).
	LockMigrations   string
	UnlockMigrations string
}

// SQLite is the dialect of modernc.org/sqlite opened with _txlock=immediate.
var SQLite = Dialect{Name: "sqlite", SingleWriter: true}

// migrationLockKey names tidbro's advisory lock: "tidbro" read as a number,
// a constant other applications sharing the database are unlikely to use.
const migrationLockKey = "32775794768114287"

// Postgres is the dialect of PostgreSQL through pgx's database/sql driver.
var Postgres = Dialect{
	Name:             "postgres",
	NumberedParams:   true,
	ForUpdate:        " FOR UPDATE",
	SkipLocked:       " FOR UPDATE SKIP LOCKED",
	Isolation:        sql.LevelReadCommitted,
	LockMigrations:   "SELECT pg_advisory_lock(" + migrationLockKey + ")",
	UnlockMigrations: "SELECT pg_advisory_unlock(" + migrationLockKey + ")",
}

// Rebind returns query with its ? placeholders in the dialect's style. The
// shared SQL has no ? inside string literals, so a plain scan is enough.
func (d Dialect) Rebind(query string) string {
	if !d.NumberedParams || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
