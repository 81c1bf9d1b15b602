package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// The schedule has one row per pair (migration 004). Times are stored as
// micros with 0 for "unset": a NextRun of 0 (due at once, as a new pair is)
// reads back as the zero time.Time, and so does the LeaseUntil of a free
// lease; a zero NextRun given to ReleasePair is stored as 0.

const scheduleColumns = `pair_id, next_run, request, request_seq, lease_owner, lease_until, attempts, parked`

func scanSchedule(row scanner) (*tidbro.PairSchedule, error) {
	sch := &tidbro.PairSchedule{}
	var nextRun, leaseUntil int64
	if err := row.Scan(&sch.PairID, &nextRun, &sch.Request, &sch.RequestSeq, &sch.LeaseOwner, &leaseUntil,
		&sch.Attempts, &sch.Parked); err != nil {
		return nil, err
	}
	sch.NextRun, sch.LeaseUntil = fromOptMicros(nextRun), fromOptMicros(leaseUntil)
	return sch, nil
}

// claimable is when ClaimPairs may take a pair at now (both arguments are
// now): it is due (the generated column due is 0 while a request waits,
// else next_run), not parked, and its lease is free or expired. The partial
// index schedule_due serves it.
const claimable = `due <= ? AND parked = '' AND lease_until < ?`

func validLease(owner string, lease time.Duration) error {
	if owner == "" {
		return tidbro.Invalid("owner", "a lease needs an owner")
	}
	if lease <= 0 {
		return tidbro.Invalid("lease", "a lease must last some time, not %s", lease)
	}
	return nil
}

// ClaimPairs picks and leases the pairs in one statement. On PostgreSQL the
// pick skips rows another claim has locked, and re-checks the condition on
// rows one committed meanwhile, so two claims never take the same pair and
// neither waits for the other. SQLite runs one write transaction at a time,
// so there the statement alone is enough. A limit of 0 or less claims
// nothing.
func (s *Store) ClaimPairs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) (claimed []*tidbro.PairSchedule, err error) {
	if err := validLease(owner, lease); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	defer func() { err = wrap(err, "claim pairs for %q", owner) }()
	at := micros(now)
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rows, err := s.query(ctx, tx, `UPDATE schedule SET lease_owner = ?, lease_until = ?, unparked = FALSE
WHERE pair_id IN (SELECT pair_id FROM schedule WHERE `+claimable+`
	ORDER BY next_run, pair_id LIMIT ?`+s.d.SkipLocked+`)
RETURNING `+scheduleColumns, owner, micros(now.Add(lease)), at, at, limit)
		claimed, err = collect(rows, err, scanSchedule)
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING comes in no particular order.
	slices.SortFunc(claimed, func(a, b *tidbro.PairSchedule) int {
		return cmp.Or(a.NextRun.Compare(b.NextRun), cmp.Compare(a.PairID, b.PairID))
	})
	return claimed, nil
}

func (s *Store) LeasePair(ctx context.Context, pairID int64, owner string, now time.Time, lease time.Duration) (sch *tidbro.PairSchedule, err error) {
	if err := validLease(owner, lease); err != nil {
		return nil, err
	}
	defer func() { err = wrap(err, "lease pair %d", pairID) }()
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		sch, err = scanSchedule(s.queryRow(ctx, tx, `UPDATE schedule SET lease_owner = ?, lease_until = ?, unparked = FALSE
WHERE pair_id = ? AND (lease_owner = ? OR lease_until < ?)
RETURNING `+scheduleColumns, owner, micros(now.Add(lease)), pairID, owner, micros(now)))
		if isNoRows(err) {
			return s.leaseLost(ctx, tx, pairID, owner)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return sch, nil
}

// leaseLost tells why a lease operation of owner found no row to change:
// the pair is unknown (ENOTFOUND), or the lease is another owner's or
// nobody's (ECONFLICT).
func (s *Store) leaseLost(ctx context.Context, q querier, pairID int64, owner string) error {
	var holder string
	var until int64
	err := s.queryRow(ctx, q, `SELECT lease_owner, lease_until FROM schedule WHERE pair_id = ?`, pairID).Scan(&holder, &until)
	if isNoRows(err) {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d", pairID)
	}
	if err != nil {
		return err
	}
	if holder == "" {
		return tidbro.Errorf(tidbro.ECONFLICT, "pair %d is not leased to %q", pairID, owner)
	}
	return tidbro.Errorf(tidbro.ECONFLICT, "pair %d is leased to %q until %s, not to %q", pairID, holder,
		fromMicros(until).Format(time.RFC3339), owner)
}

// RenewLease extends the lease as long as owner holds it, even expired:
// an expired lease that no one else took is still owner's. An unknown pair
// (deleted during the run) is ENOTFOUND.
func (s *Store) RenewLease(ctx context.Context, pairID int64, owner string, until time.Time) error {
	if owner == "" {
		return tidbro.Invalid("owner", "a lease needs an owner")
	}
	err := s.writeLease(ctx, pairID, owner, `UPDATE schedule SET lease_until = ? WHERE pair_id = ? AND lease_owner = ?`,
		micros(until), pairID, owner)
	return wrap(err, "renew lease of pair %d", pairID)
}

// writeLease runs a statement that changes pairID's row only while owner
// holds its lease, and tells why when it changed none, in one transaction.
func (s *Store) writeLease(ctx context.Context, pairID int64, owner, query string, args ...any) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.exec(ctx, tx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return s.leaseLost(ctx, tx, pairID, owner)
		}
		return nil
	})
}

// ReleasePair stores sch's outcome of the run, with one exception: when
// RequestRuns unparked the pair during the lease, its settings changed after
// the run began, so a parking (or the count of failed attempts) the run
// decided on is stale; the pair stays unparked with no failed attempts, and
// the unparking request makes it due at once. An unknown pair is ENOTFOUND.
func (s *Store) ReleasePair(ctx context.Context, sch *tidbro.PairSchedule, owner string) error {
	if owner == "" {
		return tidbro.Invalid("owner", "a lease needs an owner")
	}
	if sch == nil {
		return tidbro.Invalid("schedule", "nothing to release")
	}
	if sch.Attempts < 0 {
		return tidbro.Invalid("attempts", "attempts count failed runs, not %d", sch.Attempts)
	}
	err := s.writeLease(ctx, sch.PairID, owner, `UPDATE schedule SET next_run = ?,
	attempts = CASE WHEN unparked THEN 0 ELSE ? END,
	parked = CASE WHEN unparked THEN '' ELSE ? END,
	request = CASE WHEN request_seq = ? THEN '' ELSE request END,
	lease_owner = '', lease_until = 0, unparked = FALSE
WHERE pair_id = ? AND lease_owner = ?`,
		optMicros(sch.NextRun), sch.Attempts, sch.Parked, sch.RequestSeq, sch.PairID, owner)
	return wrap(err, "release pair %d", sch.PairID)
}

// validRequest accepts RequestRun, RequestFull and RequestSince followed by
// a date (YYYY-MM-DD).
func validRequest(r string) error {
	switch r {
	case tidbro.RequestRun, tidbro.RequestFull:
		return nil
	}
	if d, ok := strings.CutPrefix(r, tidbro.RequestSince); ok {
		if t, err := time.Parse(time.DateOnly, d); err == nil && t.Format(time.DateOnly) == d {
			return nil
		}
	}
	return tidbro.Invalid("request", "%q is not a run request (%s, %s or %sYYYY-MM-DD)", r,
		tidbro.RequestRun, tidbro.RequestFull, tidbro.RequestSince)
}

// mergeRequest returns the SQL value of the request column after request r
// (valid) is merged with the waiting one, and its arguments: full outranks
// since, since outranks run, and of two since dates the earlier stands.
func mergeRequest(r string) (expr string, args []any) {
	switch r {
	case tidbro.RequestFull:
		return `?`, []any{r}
	case tidbro.RequestRun:
		return `CASE WHEN request = '' THEN ? ELSE request END`, []any{r}
	}
	// Two since requests compare as their dates whatever the collation: the
	// prefix and the punctuation of YYYY-MM-DD are alike in both, so only
	// the digits differ.
	return `CASE WHEN request = ? OR (request LIKE ? AND request < ?) THEN request ELSE ? END`,
		[]any{tidbro.RequestFull, tidbro.RequestSince + "%", r, r}
}

// RequestRuns updates every selected schedule in one statement. The rows
// are locked in pair order first (on PostgreSQL), so that two requests over
// overlapping sets of pairs (a tenant's and one of its users') cannot
// deadlock.
func (s *Store) RequestRuns(ctx context.Context, q tidbro.PairQuery, request string, unpark bool) (n int, err error) {
	if q.TenantID == 0 {
		return 0, tidbro.Invalid("tenantId", "runs are requested per tenant")
	}
	if err := validRequest(request); err != nil {
		return 0, err
	}
	defer func() { err = wrap(err, "request %s runs", request) }()
	merged, args := mergeRequest(request)
	set := `request = ` + merged + `, request_seq = request_seq + 1`
	if unpark {
		set += `, parked = '', attempts = 0, unparked = TRUE`
	}
	where, whereArgs := pairFilter(q)
	res, err := s.execWrite(ctx, `UPDATE schedule SET `+set+`
WHERE pair_id IN (SELECT pair_id FROM schedule WHERE pair_id IN (SELECT id FROM pairs WHERE `+where+`)
	ORDER BY pair_id`+s.d.ForUpdate+`)`, append(args, whereArgs...)...)
	if err != nil {
		return 0, err
	}
	affected, err := res.RowsAffected()
	return int(affected), err
}

func (s *Store) Schedule(ctx context.Context, pairID int64) (*tidbro.PairSchedule, error) {
	sch, err := scanSchedule(s.queryRow(ctx, s.db, `SELECT `+scheduleColumns+` FROM schedule WHERE pair_id = ?`, pairID))
	if isNoRows(err) {
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no pair %d", pairID)
	}
	if err != nil {
		return nil, wrap(err, "schedule of pair %d", pairID)
	}
	return sch, nil
}

// ScheduleCounts reads the whole table once; it serves /metrics, read far
// less often than pairs are claimed. A pair counts as due exactly when
// ClaimPairs at now would take it.
func (s *Store) ScheduleCounts(ctx context.Context, now time.Time) (due, leased, parked int, err error) {
	at := micros(now)
	err = s.queryRow(ctx, s.db, `SELECT COALESCE(SUM(CASE WHEN `+claimable+` THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN lease_until >= ? THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN parked <> '' THEN 1 ELSE 0 END), 0)
FROM schedule`, at, at, at).Scan(&due, &leased, &parked)
	return due, leased, parked, wrap(err, "schedule counts")
}

// UsersChangedSince reads the head first and then the changes up to it.
// Positions become visible in order, so every change at or below a visible
// head is visible to the later read: nothing between since and head is
// missed, and what comes after head is the next call's.
func (s *Store) UsersChangedSince(ctx context.Context, tenantID, since int64) (users []int64, head int64, err error) {
	head, err = s.Head(ctx, tenantID)
	if err != nil {
		return nil, 0, wrap(err, "users changed in tenant %d", tenantID)
	}
	if since >= head {
		return nil, head, nil
	}
	rows, err := s.query(ctx, s.db, `SELECT DISTINCT user_id FROM changes WHERE tenant_id = ? AND seq > ? AND seq <= ?
ORDER BY user_id`, tenantID, since, head)
	users, err = collect(rows, err, func(row scanner) (id int64, err error) { return id, row.Scan(&id) })
	if err != nil {
		return nil, 0, wrap(err, "users changed in tenant %d", tenantID)
	}
	return users, head, nil
}
