package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/tidbro/tidbro"
)

// StartRun records a run of r.PairID. It takes the tenant from the pair,
// and the user too when r.UserID is zero; a zero Started is now and an
// empty Status RunRunning. r's times are stored at microsecond precision,
// and r is updated to what was stored.
func (s *Store) StartRun(ctx context.Context, r *tidbro.Run) (err error) {
	defer func() { err = wrap(err, "start run of pair %d", r.PairID) }()
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return err
	}
	run := *r
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var tenantID, userID int64
		err := s.queryRow(ctx, tx, `SELECT tenant_id, user_id FROM pairs WHERE id = ?`, r.PairID).Scan(&tenantID, &userID)
		if isNoRows(err) {
			return tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d", r.PairID)
		}
		if err != nil {
			return err
		}
		if run.UserID == 0 {
			run.UserID = userID
		}
		if run.Started.IsZero() {
			run.Started = now()
		}
		run.Started, run.Finished = fromMicros(micros(run.Started)), fromOptMicros(optMicros(run.Finished))
		if run.Status == "" {
			run.Status = tidbro.RunRunning
		}
		return s.queryRow(ctx, tx, `INSERT INTO runs (tenant_id, pair_id, user_id, full_run, dry_run, started, finished, status, error, counts)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			tenantID, run.PairID, run.UserID, run.Full, run.DryRun, micros(run.Started), optMicros(run.Finished),
			run.Status, run.Error, string(counts)).Scan(&run.ID)
	})
	if err != nil {
		return err
	}
	*r = run
	return nil
}

// FinishRun stores r's Finished (now when zero), Status, Error and Counts.
func (s *Store) FinishRun(ctx context.Context, r *tidbro.Run) error {
	counts, err := json.Marshal(r.Counts)
	if err != nil {
		return wrap(err, "finish run %d", r.ID)
	}
	finished := r.Finished
	if finished.IsZero() {
		finished = now()
	}
	res, err := s.execWrite(ctx, `UPDATE runs SET finished = ?, status = ?, error = ?, counts = ? WHERE id = ?`,
		micros(finished), r.Status, r.Error, string(counts), r.ID)
	if err != nil {
		return wrap(err, "finish run %d", r.ID)
	}
	if err := rowsAffected(res, "no run %d", r.ID); err != nil {
		return err
	}
	r.Finished = fromMicros(micros(finished))
	return nil
}

const runColumns = `id, pair_id, user_id, full_run, dry_run, started, finished, status, error, counts`

func scanRun(row scanner) (*tidbro.Run, error) {
	r := &tidbro.Run{}
	var started, finished int64
	var counts string
	if err := row.Scan(&r.ID, &r.PairID, &r.UserID, &r.Full, &r.DryRun, &started, &finished, &r.Status, &r.Error, &counts); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return nil, fmt.Errorf("run %d: decode counts: %w", r.ID, err)
	}
	r.Started, r.Finished = fromMicros(started), fromOptMicros(finished)
	return r, nil
}

// Runs returns a pair's runs, newest first; limit as in pageSize.
func (s *Store) Runs(ctx context.Context, pairID int64, limit int) ([]*tidbro.Run, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+runColumns+` FROM runs WHERE pair_id = ? ORDER BY id DESC LIMIT ?`,
		pairID, pageSize(limit))
	runs, err := collect(rows, err, scanRun)
	return runs, wrap(err, "runs of pair %d", pairID)
}

const auditColumns = `tenant_id, user_id, pair_id, run_id, at, action, kind, app_id, remote_id, rule, error`

// auditRows are the row counts of AddAudit's INSERTs, largest first: a few
// statement texts, each prepared once, where a text per number of entries
// was parsed anew each time (a tenth of a first run's store time).
var auditRows = [...]int{64, 16, 4, 1}

// auditInserts are the INSERTs of auditRows rows.
var auditInserts = func() (qs [len(auditRows)]string) {
	row := "(" + placeholders(11) + ")"
	for i, n := range auditRows {
		qs[i] = `INSERT INTO audit (` + auditColumns + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
	}
	return qs
}()

// AddAudit writes the entries in one transaction, in multi-row INSERTs. A
// zero At is now. The entries' IDs are not filled in.
func (s *Store) AddAudit(ctx context.Context, entries []tidbro.AuditEntry) (err error) {
	if len(entries) == 0 {
		return nil
	}
	defer func() { err = wrap(err, "add %d audit entries", len(entries)) }()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := micros(now())
		args := make([]any, 0, 11*auditRows[0])
		for rest := entries; len(rest) > 0; {
			i := 0
			for auditRows[i] > len(rest) {
				i++
			}
			args = args[:0]
			for _, e := range rest[:auditRows[i]] {
				at := t
				if !e.At.IsZero() {
					at = micros(e.At)
				}
				args = append(args, e.TenantID, e.UserID, e.PairID, e.RunID, at, e.Action, e.Kind, e.AppID, e.RemoteID, e.Rule, e.Error)
			}
			if _, err := s.execFixed(ctx, tx, auditInserts[i], args...); err != nil {
				return err
			}
			rest = rest[auditRows[i]:]
		}
		return nil
	})
}

// AuditLog pages newest first by id; limit as in pageSize.
func (s *Store) AuditLog(ctx context.Context, tenantID, userID, beforeID int64, limit int) ([]tidbro.AuditEntry, error) {
	q := `SELECT id, ` + auditColumns + ` FROM audit WHERE tenant_id = ? AND user_id = ?`
	args := []any{tenantID, userID}
	if beforeID > 0 {
		q += ` AND id < ?`
		args = append(args, beforeID)
	}
	rows, err := s.query(ctx, s.db, q+` ORDER BY id DESC LIMIT ?`, append(args, pageSize(limit))...)
	entries, err := collect(rows, err, func(row scanner) (tidbro.AuditEntry, error) {
		var e tidbro.AuditEntry
		var at int64
		err := row.Scan(&e.ID, &e.TenantID, &e.UserID, &e.PairID, &e.RunID, &at, &e.Action, &e.Kind, &e.AppID, &e.RemoteID, &e.Rule, &e.Error)
		e.At = fromMicros(at)
		return e, err
	})
	return entries, wrap(err, "audit log")
}
