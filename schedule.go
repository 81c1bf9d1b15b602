package tidbro

import (
	"context"
	"time"
)

// PairSchedule is when a pair runs next, what run was asked for, and which
// instance holds it. Every instance of tidbro serve (and tidbro sync) runs a
// pair only under its lease, so a pair has at most one run at a time across
// instances; a lease that is not renewed (its holder died) expires, and
// another instance takes the pair over.
type PairSchedule struct {
	PairID  int64
	NextRun time.Time // when the pair is due by its interval or backoff
	// Request is a run asked for (an app change, the API, the CLI, a
	// settings change): RequestRun, RequestFull, or RequestSince+"2006-01-02".
	// Due at once, whatever NextRun says.
	Request    string
	RequestSeq int64 // counts requests, so that releasing clears only the one run
	LeaseOwner string
	LeaseUntil time.Time
	Attempts   int    // consecutive failed runs (for backoff)
	Parked     string // why the pair waits for a settings change (bad credentials, no mailbox); "" when it does not
}

// Run requests.
const (
	RequestRun   = "run"
	RequestFull  = "full"
	RequestSince = "since:"
)

// SchedStore keeps the pairs' schedules. A pair gets its schedule when it
// is created (due at once).
type SchedStore interface {
	// ClaimPairs leases up to limit pairs that are due at now (NextRun
	// passed, or a request waiting and no backoff after failures), not
	// parked and not leased (or whose lease expired), to owner until
	// now+lease; oldest due first. Parked pairs with a request are claimed
	// only when the request unparked them.
	ClaimPairs(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]*PairSchedule, error)
	// LeasePair leases one pair whatever its schedule (tidbro sync);
	// ECONFLICT when another owner holds an unexpired lease.
	LeasePair(ctx context.Context, pairID int64, owner string, now time.Time, lease time.Duration) (*PairSchedule, error)
	// RenewLease extends owner's lease; ECONFLICT when owner lost it.
	RenewLease(ctx context.Context, pairID int64, owner string, until time.Time) error
	// ReleasePair ends owner's lease and stores s.NextRun, s.Attempts and
	// s.Parked; the request s was claimed with (s.RequestSeq) is cleared,
	// one that came meanwhile stays. ECONFLICT when owner lost the lease.
	ReleasePair(ctx context.Context, s *PairSchedule, owner string) error
	// RequestRuns asks for a run of the pairs q selects (q.PairID narrows
	// to one), merging with a waiting request: full outranks since, since
	// outranks run, and of two since dates the earlier stands. A request
	// waits out a backoff after failures; unpark (settings changed, or a
	// person asked) lets parked and backing-off pairs run at once. It
	// returns how many pairs it asked.
	RequestRuns(ctx context.Context, q PairQuery, request string, unpark bool) (int, error)
	// Schedule returns a pair's schedule.
	Schedule(ctx context.Context, pairID int64) (*PairSchedule, error)
	// ScheduleCounts counts, over all tenants, the pairs due at now and not
	// leased, the leased ones, and the parked ones (for /metrics).
	ScheduleCounts(ctx context.Context, now time.Time) (due, leased, parked int, err error)
	// UsersChangedSince returns the users whose collections changed after
	// feed position since in a tenant (departures included), and the feed
	// position it read up to.
	UsersChangedSince(ctx context.Context, tenantID, since int64) (users []int64, head int64, err error)
}
