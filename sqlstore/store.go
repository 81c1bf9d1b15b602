// Package sqlstore implements tidbro.Store over database/sql, once for both
// databases: the SQL is shared and a Dialect carries the few differences.
// Packages sqlite and postgres open the database, run their migrations and
// return a *Store.
//
// Times are stored as unix microseconds (UTC). Every item write takes the
// next position of its tenant's feed with
//
//	UPDATE tenants SET seq = seq + 1 WHERE id = ? RETURNING seq
//
// as the first statement of its transaction. The row lock this takes (the
// database write lock in SQLite) serialises a tenant's writers, so positions
// commit in order and a reader never sees position N+1 before N.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
)

// Store is a tidbro.Store over a SQL database.
type Store struct {
	db     *sql.DB
	d      Dialect
	sealer tidbro.Sealer
	writer chan struct{} // the writer slot, with Dialect.SingleWriter
	stmts  sync.Map      // query text → *sql.Stmt: parsing SQL costs more than running it
}

var _ tidbro.Store = (*Store)(nil)

// New returns a store over db, whose schema must be migrated already. sealer
// encrypts account passwords at rest.
func New(db *sql.DB, d Dialect, sealer tidbro.Sealer) *Store {
	s := &Store{db: db, d: d, sealer: sealer}
	if d.SingleWriter {
		s.writer = make(chan struct{}, 1)
	}
	return s
}

// DB returns the underlying database, for maintenance and tests.
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	return s.db.Close()
}

// begin starts a write transaction. done rolls it back unless it was
// committed, and frees the writer slot.
func (s *Store) begin(ctx context.Context) (tx *sql.Tx, done func(), err error) {
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	release := func() {
		if s.writer != nil {
			<-s.writer
		}
	}
	tx, err = s.db.BeginTx(ctx, &sql.TxOptions{Isolation: s.d.Isolation})
	if err != nil {
		release()
		return nil, nil, err
	}
	return tx, func() { tx.Rollback(); release() }, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, q, query, len(args)); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, s.d.Rebind(query), args...)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	if st := s.stmt(ctx, q, query, len(args)); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, s.d.Rebind(query), args...)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	if st := s.stmt(ctx, q, query, len(args)); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, s.d.Rebind(query), args...)
}

// maxCachedArgs keeps statements with long IN lists, whose text varies
// with their length, out of the cache.
const maxCachedArgs = 16

// stmt returns the prepared statement of query for q (a transaction's own
// when q is one), or nil to run it unprepared: when it has many arguments,
// or preparing it failed (running it reports why).
func (s *Store) stmt(ctx context.Context, q querier, query string, nargs int) *sql.Stmt {
	if nargs > maxCachedArgs {
		return nil
	}
	v, ok := s.stmts.Load(query)
	if !ok {
		st, err := s.db.PrepareContext(ctx, s.d.Rebind(query))
		if err != nil {
			return nil
		}
		if v, ok = s.stmts.LoadOrStore(query, st); ok {
			st.Close()
		}
	}
	st := v.(*sql.Stmt)
	if tx, ok := q.(*sql.Tx); ok {
		return tx.StmtContext(ctx, st)
	}
	return st
}

// now is the time written as created/updated, at the stored precision, so
// that what a write returns equals what a later read returns.
func now() time.Time { return time.Now().Truncate(time.Microsecond).UTC() }

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// pageSize applies DefaultPageSize and MaxPageSize to a requested limit.
func pageSize(limit int) int {
	switch {
	case limit <= 0:
		return tidbro.DefaultPageSize
	case limit > tidbro.MaxPageSize:
		return tidbro.MaxPageSize
	}
	return limit
}

// rowsAffected reports a missing row as ENOTFOUND with the given message.
func rowsAffected(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return tidbro.Errorf(tidbro.ENOTFOUND, format, args...)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// wrap adds context to err (nil stays nil); tidbro.ErrorCode still finds a
// domain error inside.
func wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
