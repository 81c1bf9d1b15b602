// Package scheduler makes tidbro serve synchronise by itself: it runs every
// pair on its interval, at once when its user's data changes in the app (any
// writer: the REST API, the DAV server, the CLI, another instance), when the
// API, the CLI or a settings change asks, and at start-up.
//
// Runs are claimed as leases on the pairs' schedules in the database, not
// taken from a job queue: a run is the engine's idempotent catch-up of one
// pair from its durable cursors, so a pair needs one "due" flag and a lease,
// never a queue of jobs. Changes wait in the change feed (store-and-forward)
// until a run delivers them, however long the remote is down or the user is
// not set up. An instance that dies stops renewing its leases; another
// takes its pairs over when they expire, and the engine resumes whatever the
// run left half done.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/engine"
)

// Defaults.
const (
	DefaultInterval = 5 * time.Minute  // polling a CalDAV remote costs one request when nothing changed
	DefaultLease    = 30 * time.Second // how long a dead instance holds its pairs
	DefaultTick     = 200 * time.Millisecond
	maxBackoff      = time.Hour
)

// SettingKey is the tenant setting with the default interval.
const SettingKey = "schedule"

// Settings is the tenant's schedule: Interval as a Go duration ("10m").
type Settings struct {
	Interval string `json:"interval"`
}

// Scheduler claims due pairs and runs them.
type Scheduler struct {
	Store  tidbro.Store
	Engine *engine.Engine
	Log    *slog.Logger
	// Owner names this instance in leases; unique per process.
	Owner   string
	Workers int           // concurrent runs (default 4)
	Lease   time.Duration // default DefaultLease
	// RetryMin is the first backoff after a transient failure (default
	// 30 s); it doubles per failure up to an hour.
	RetryMin time.Duration
	Tick     time.Duration // how often the feed and the schedules are read (default DefaultTick)
	Metrics  *Metrics      // may be nil
	Now      func() time.Time

	wake    chan struct{}
	running sync.WaitGroup
	mu      sync.Mutex
	busy    int
	seen    map[int64]int64 // tenant → feed position the watcher has read up to
}

// NewOwner returns a lease owner name for this process.
func NewOwner() string {
	host, _ := os.Hostname()
	n, _ := rand.Int(rand.Reader, big.NewInt(1<<32))
	return fmt.Sprintf("%s/%d/%08x", host, os.Getpid(), n)
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Wake makes the scheduler look for work now rather than at its next tick.
func (s *Scheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run schedules until ctx is cancelled, then waits for the runs in flight
// (their context is cancelled too; the engine leaves them resumable).
func (s *Scheduler) Run(ctx context.Context) error {
	if s.Owner == "" {
		s.Owner = NewOwner()
	}
	if s.Workers <= 0 {
		s.Workers = 4
	}
	if s.Lease <= 0 {
		s.Lease = DefaultLease
	}
	if s.Tick <= 0 {
		s.Tick = DefaultTick
	}
	s.wake = make(chan struct{}, 1)
	s.seen = map[int64]int64{}
	if err := s.startUp(ctx); err != nil {
		return err
	}
	t := time.NewTicker(s.Tick)
	defer t.Stop()
	defer s.running.Wait()
	for {
		if err := s.watchFeed(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("scheduler: reading the change feed", "err", err)
		}
		if err := s.claim(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("scheduler: claiming pairs", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// startUp asks for a run of every pair and starts watching each tenant's
// feed from its present end.
func (s *Scheduler) startUp(ctx context.Context) error {
	ts, err := s.Store.Tenants(ctx)
	if err != nil {
		return fmt.Errorf("scheduler: tenants: %w", err)
	}
	for _, t := range ts {
		head, err := s.Store.Head(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("scheduler: feed of tenant %s: %w", t.Name, err)
		}
		s.seen[t.ID] = head
		if _, err := s.Store.RequestRuns(ctx, tidbro.PairQuery{TenantID: t.ID}, tidbro.RequestRun, false); err != nil {
			return fmt.Errorf("scheduler: start-up runs of tenant %s: %w", t.Name, err)
		}
	}
	return nil
}

// watchFeed asks for runs of the pairs of every user whose data changed
// since the last look: whoever wrote it, on whichever instance.
func (s *Scheduler) watchFeed(ctx context.Context) error {
	ts, err := s.Store.Tenants(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		// A tenant added while running is unknown: read from its start (0).
		users, head, err := s.Store.UsersChangedSince(ctx, t.ID, s.seen[t.ID])
		if err != nil {
			return err
		}
		for _, u := range users {
			if _, err := s.Store.RequestRuns(ctx, tidbro.PairQuery{TenantID: t.ID, UserID: u}, tidbro.RequestRun, false); err != nil {
				return err
			}
		}
		s.seen[t.ID] = head
	}
	return nil
}

// claim leases as many due pairs as there are idle workers, and runs them.
func (s *Scheduler) claim(ctx context.Context) error {
	s.mu.Lock()
	free := s.Workers - s.busy
	s.mu.Unlock()
	if free <= 0 {
		return nil
	}
	claims, err := s.Store.ClaimPairs(ctx, s.Owner, s.now(), s.Lease, free)
	if err != nil {
		return err
	}
	for _, c := range claims {
		s.mu.Lock()
		s.busy++
		s.mu.Unlock()
		s.running.Add(1)
		go func() {
			defer func() {
				s.mu.Lock()
				s.busy--
				s.mu.Unlock()
				s.running.Done()
				s.Wake() // a worker is free
			}()
			s.runClaimed(ctx, c)
		}()
	}
	return nil
}

// runClaimed runs one leased pair and schedules its next run by the
// outcome.
func (s *Scheduler) runClaimed(ctx context.Context, c *tidbro.PairSchedule) {
	start := s.now()
	var res *engine.Result
	var err error
	if lost := s.underLease(ctx, c.PairID, func(ctx context.Context) {
		res, err = s.Engine.RunPair(ctx, c.PairID, Options(c.Request))
	}); lost {
		return // another instance has the pair now
	}
	s.release(ctx, c, res, err, s.now().Sub(start))
}

// underLease runs fn while renewing the pair's lease; when the lease is
// lost, fn's context is cancelled and lost is true.
func (s *Scheduler) underLease(ctx context.Context, pairID int64, fn func(context.Context)) (lost bool) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				if err := s.Store.RenewLease(runCtx, pairID, s.Owner, s.now().Add(s.Lease)); err != nil {
					if runCtx.Err() == nil {
						s.log().Warn("scheduler: lost the lease of a pair; stopping its run", "pair", pairID, "err", err)
						mu.Lock()
						lost = true
						mu.Unlock()
						cancel()
					}
					return
				}
			}
		}
	}()
	fn(runCtx)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	return lost
}

// release records the outcome and ends the lease: the next run after the
// interval, a backoff after a transient failure, parked after a permanent
// one.
func (s *Scheduler) release(ctx context.Context, c *tidbro.PairSchedule, res *engine.Result, err error, took time.Duration) {
	next := *c
	status := ""
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down: due again at once, for whichever instance is left.
		next.NextRun = s.now()
		status = "cancelled"
	case err != nil && permanent(err):
		next.Parked, next.Attempts = err.Error(), c.Attempts+1
		status = tidbro.RunFailed
		level := slog.LevelWarn
		if tidbro.ErrorField(err) == "mailbox" {
			level = slog.LevelInfo // a user without a mailbox is not set up: no alarm
		}
		s.log().Log(ctx, level, "scheduler: pair parked until its settings change", "pair", c.PairID, "err", err)
	case err != nil:
		next.Attempts = c.Attempts + 1
		next.NextRun = s.now().Add(backoff(s.RetryMin, next.Attempts))
		status = tidbro.RunFailed
		s.log().Info("scheduler: run failed; retrying", "pair", c.PairID, "attempt", next.Attempts, "retry", next.NextRun, "err", err)
	case res.Run.Status == tidbro.RunStopped:
		// The mass-deletion guard: a person decides, not a retry loop.
		next.Parked, next.Attempts = res.Run.Error, 0
		status = res.Run.Status
	case len(res.Errors) > 0:
		// Some items failed (and are on their links to retry): sooner
		// than the interval, backing off if they keep failing.
		next.Attempts, next.Parked = c.Attempts+1, ""
		next.NextRun = s.now().Add(min(backoff(s.RetryMin, next.Attempts), s.interval(ctx, c.PairID)))
		status = res.Run.Status
	default:
		next.Attempts, next.Parked = 0, ""
		next.NextRun = s.now().Add(s.interval(ctx, c.PairID))
		status = res.Run.Status
	}
	if err == nil {
		s.Metrics.run(status, took, &res.Run.Counts, len(res.Errors))
	} else {
		s.Metrics.failed(status, took, err)
	}
	if err := s.Store.ReleasePair(context.WithoutCancel(ctx), &next, s.Owner); err != nil {
		s.log().Warn("scheduler: releasing a pair", "pair", c.PairID, "err", err)
	}
}

// ErrBusy is RunNow's error when another instance is running the pair.
var ErrBusy = errors.New("another instance is synchronising this pair")

// RunNow runs one pair at once under a lease of its own (tidbro sync), so
// that it never runs beside a scheduled run of the same pair.
func (s *Scheduler) RunNow(ctx context.Context, pairID int64, o engine.Options) (*engine.Result, error) {
	if s.Owner == "" {
		s.Owner = NewOwner()
	}
	if s.Lease <= 0 {
		s.Lease = DefaultLease
	}
	c, err := s.Store.LeasePair(ctx, pairID, s.Owner, s.now(), s.Lease)
	if tidbro.ErrorCode(err) == tidbro.ECONFLICT {
		return nil, ErrBusy
	}
	if err != nil {
		return nil, err
	}
	start := s.now()
	var res *engine.Result
	if lost := s.underLease(ctx, pairID, func(ctx context.Context) { res, err = s.Engine.RunPair(ctx, pairID, o) }); lost {
		return res, ErrBusy
	}
	if !o.DryRun {
		s.release(ctx, c, res, err, s.now().Sub(start))
		return res, err
	}
	c.RequestSeq = -1 // a dry run leaves a waiting request waiting
	if rerr := s.Store.ReleasePair(context.WithoutCancel(ctx), c, s.Owner); rerr != nil {
		s.log().Warn("scheduler: releasing a pair after a dry run", "pair", pairID, "err", rerr)
	}
	return res, err
}

// Options turns a run request into engine options.
func Options(request string) engine.Options {
	switch {
	case request == tidbro.RequestFull:
		return engine.Options{Full: true}
	}
	if date, ok := strings.CutPrefix(request, tidbro.RequestSince); ok {
		if d, err := time.Parse("2006-01-02", date); err == nil {
			return engine.Options{Full: true, Since: d}
		}
	}
	return engine.Options{}
}

// permanent reports whether a failed run cannot succeed until someone
// changes the account: wrong credentials, a server that is not what the
// account says, a missing collection or mailbox.
func permanent(err error) bool {
	switch tidbro.ErrorCode(err) {
	case tidbro.EUNAUTHORIZED, tidbro.EFORBIDDEN, tidbro.EINVALID, tidbro.ENOTFOUND:
		return !errors.Is(err, context.DeadlineExceeded)
	}
	return false
}

// backoff grows as first × 2^(attempts-1) (first: 30 s when 0) up to an
// hour, with ±20% jitter so that pairs failing together do not retry
// together.
func backoff(first time.Duration, attempts int) time.Duration {
	d := first
	if d <= 0 {
		d = 30 * time.Second
	}
	for i := 1; i < attempts && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(d/5)*2+1))
	return d - d/5 + time.Duration(n.Int64())
}

// interval is the pair's account's interval, else its tenant's, else the
// default.
func (s *Scheduler) interval(ctx context.Context, pairID int64) time.Duration {
	p, err := s.Store.Pair(ctx, pairID)
	if err != nil {
		return DefaultInterval
	}
	if acc, err := s.Store.AccountByID(ctx, p.AccountID); err == nil && acc.Policy.Interval != "" {
		if d, err := time.ParseDuration(acc.Policy.Interval); err == nil {
			return d
		}
	}
	if b, err := s.Store.Setting(ctx, p.TenantID, SettingKey); err == nil {
		var st Settings
		if json.Unmarshal(b, &st) == nil {
			if d, err := time.ParseDuration(st.Interval); err == nil && d > 0 {
				return d
			}
		}
	}
	return DefaultInterval
}
