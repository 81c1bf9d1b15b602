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
// commit in order and a reader never sees position N+1 before N. In SQLite
// several writers can share one transaction (see Store.write): they take
// their positions one after the other inside it, and they all become
// visible at its COMMIT, so the order holds there too.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
)

// Store is a tidbro.Store over a SQL database.
type Store struct {
	db     *sql.DB
	d      Dialect
	sealer tidbro.Sealer
	stmts  sync.Map // query text → *sql.Stmt: parsing SQL costs more than running it

	auth     memo[string, tidbro.User] // the users of verified app passwords, by hash (see UserByAppPassword)
	settings memo[settingKey, setting] // what Setting read

	// With Dialect.SingleWriter: the writer slot, and the writers waiting
	// for a batch (see write).
	writer chan struct{}
	mu     sync.Mutex
	queue  []*writer
	// batch is the transaction of the batch running, and its statements
	// by query: Tx.StmtContext makes a statement anew on every call, and
	// a batch runs the same few many times. Only the writer slot's holder
	// touches it.
	batch struct {
		tx    *sql.Tx
		stmts map[string]*sql.Stmt
	}
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

// write runs fn as a write transaction and commits it. An error of fn
// rolls back what fn wrote and is returned; fn runs its statements with
// the context it is given, and must not write through s itself (with
// SingleWriter it would wait for the slot it runs under).
//
// With Dialect.SingleWriter, writers queue and whoever takes the writer
// slot commits a batch of queued writers in one physical transaction (see
// commitBatch): one fsync for all of them rather than one each, so that
// throughput grows with the number of concurrent writers instead of being
// one writer per disk flush. A writer whose ctx ends while it waits leaves
// the queue; once in a batch it waits for the batch's commit.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.writer == nil {
		return s.writeAlone(ctx, fn)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &writer{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.mu.Lock()
	s.queue = append(s.queue, w)
	s.mu.Unlock()
	for {
		select {
		case <-w.done:
			return w.result()
		case s.writer <- struct{}{}:
			s.commitBatch()
		case <-ctx.Done():
			if s.dequeue(w) {
				return ctx.Err()
			}
			<-w.done
			return w.result()
		}
	}
}

// writeAlone runs fn in a transaction of its own.
func (s *Store) writeAlone(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: s.d.Isolation})
	if err != nil {
		return wrap(err, "begin")
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	return wrap(tx.Commit(), "commit")
}

// execWrite runs one write statement. With SingleWriter it queues like any
// write (run alone, it would wait for a batch's lock in SQLite's busy
// handler); otherwise it runs on its own, without a transaction around it.
func (s *Store) execWrite(ctx context.Context, query string, args ...any) (res sql.Result, err error) {
	if s.writer == nil {
		return s.exec(ctx, s.db, query, args...)
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err = s.exec(ctx, tx, query, args...)
		return err
	})
	return res, err
}

// writer is a queued write of a SingleWriter store.
type writer struct {
	ctx      context.Context
	fn       func(ctx context.Context, tx *sql.Tx) error
	err      error
	panicked any           // what fn panicked with, re-raised in the writer's goroutine
	done     chan struct{} // closed when err is final
}

func (w *writer) result() error {
	if w.panicked != nil {
		panic(w.panicked)
	}
	return w.err
}

// maxBatch bounds a batch, and so how long a writer waits for the writers
// before it.
const maxBatch = 64

// dequeue takes w out of the queue unless a batch took it already.
func (s *Store) dequeue(w *writer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.queue, w)
	if i < 0 {
		return false
	}
	s.queue = slices.Delete(s.queue, i, i+1)
	return true
}

// take moves queued writers to the end of batch, up to maxBatch in all.
func (s *Store) take(batch []*writer) []*writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(len(s.queue), maxBatch-len(batch))
	batch = append(batch, s.queue[:n]...)
	s.queue = slices.Delete(s.queue, 0, n)
	return batch
}

// commitBatch runs a batch of queued writers (see runBatch), answers them
// and frees the writer slot, which the caller holds. Only after the COMMIT
// does any writer of the batch learn that its write succeeded, so an
// acknowledged write is as durable as before; a failed COMMIT fails them
// all.
func (s *Store) commitBatch() {
	defer func() { <-s.writer }()
	batch, err := s.runBatch()
	for _, w := range batch {
		if w.err == nil && w.panicked == nil {
			w.err = err
		}
		close(w.done)
	}
}

// runBatch runs queued writers in one transaction, each inside a SAVEPOINT
// so that a writer's error rolls back its own writes only, and commits.
// The transaction's first writer needs none (most batches hold one): its
// error rolls back the transaction, which holds its writes alone, and a
// new one takes the rest. Writers that queue while it runs join the batch
// before the COMMIT, which they would otherwise wait for before their own.
// It returns the writers it took.
//
// Statements run under a context without cancellation: a cancelled
// statement would roll back the whole transaction (database/sql does that
// for a cancelled transaction context, and an interrupted SQLite write does
// it too), so a writer's ctx is only checked before its turn.
func (s *Store) runBatch() (batch []*writer, err error) {
	batch = s.take(nil)
	if len(batch) == 0 {
		return nil, nil
	}
	ctx := context.Background()
	begin := func() (*sql.Tx, error) {
		tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: s.d.Isolation})
		s.batch.tx, s.batch.stmts = tx, map[string]*sql.Stmt{}
		return tx, wrap(err, "begin")
	}
	tx, err := begin()
	if err != nil {
		return batch, err
	}
	defer func() {
		if tx != nil {
			tx.Rollback()
		}
		s.batch.tx, s.batch.stmts = nil, nil
	}()
	first := true // no writer has written in tx
	for i := 0; ; i++ {
		if i == len(batch) {
			if batch = s.take(batch); i == len(batch) {
				break
			}
		}
		w := batch[i]
		if w.err = w.ctx.Err(); w.err != nil {
			continue
		}
		if !first {
			if _, err := s.exec(ctx, tx, `SAVEPOINT writer`); err != nil {
				return batch, wrap(err, "savepoint")
			}
		}
		w.run(tx)
		failed := w.err != nil || w.panicked != nil
		switch {
		case first && failed:
			tx.Rollback()
			if tx, err = begin(); err != nil {
				return batch, err
			}
		case first:
			first = false
		case failed:
			// This fails when SQLite rolled the whole transaction back
			// itself (as after an I/O error): then the batch fails.
			if _, err := s.exec(ctx, tx, `ROLLBACK TO writer`); err != nil {
				return batch, wrap(err, "roll back to savepoint")
			}
			fallthrough
		default:
			if _, err := s.exec(ctx, tx, `RELEASE writer`); err != nil {
				return batch, wrap(err, "release savepoint")
			}
		}
	}
	return batch, wrap(tx.Commit(), "commit")
}

// run calls w.fn, catching a panic so that it fails w alone and does not
// leave the writer slot taken.
func (w *writer) run(tx *sql.Tx) {
	defer func() {
		if r := recover(); r != nil {
			w.panicked = r
		}
	}()
	w.err = w.fn(context.WithoutCancel(w.ctx), tx)
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

// queryFixed and execFixed are query and exec for a statement of one of a
// few texts with many arguments (a padded IN list: see chunks), which is
// prepared once all the same.
func (s *Store) execFixed(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	if st := s.prepared(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, s.d.Rebind(query), args...)
}

func (s *Store) queryFixed(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, s.d.Rebind(query), args...)
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
const maxCachedArgs = 20

// stmt returns the prepared statement of query for q (a transaction's own
// when q is one), or nil to run it unprepared: when it has many arguments,
// or preparing it failed (running it reports why).
func (s *Store) stmt(ctx context.Context, q querier, query string, nargs int) *sql.Stmt {
	if nargs > maxCachedArgs {
		return nil
	}
	return s.prepared(ctx, q, query)
}

// prepared is stmt without the bound on arguments.
func (s *Store) prepared(ctx context.Context, q querier, query string) *sql.Stmt {
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
	tx, ok := q.(*sql.Tx)
	switch {
	case !ok:
		return st
	case tx != s.batch.tx:
		return tx.StmtContext(ctx, st)
	}
	txst := s.batch.stmts[query]
	if txst == nil {
		txst = tx.StmtContext(ctx, st)
		s.batch.stmts[query] = txst
	}
	return txst
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
