package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/tidbro/tidbro"
)

// Connector opens the remote collection a pair is bound to. A pair not
// bound yet (RemoteID empty) is bound by the connector, which sets RemoteID
// and RemoteName for the engine to store; create says whether it may make a
// missing collection on the remote (not on dry runs).
type Connector func(ctx context.Context, acc *tidbro.Account, p *tidbro.Pair, create bool) (tidbro.Remote, error)

// Engine runs pairs.
type Engine struct {
	Store   tidbro.Store
	Connect Connector
	Log     *slog.Logger
	// Parallel bounds concurrent remote writes within a run (default 4).
	Parallel int
	Now      func() time.Time
	// Progress, when set, hears how far a run's execution is.
	Progress func(pairID int64, done, total int)
	// Notify, when its NotificationURL is set, is where remotes that can
	// notify of changes send them: pairs on such remotes keep a
	// subscription (its Secret is made per subscription).
	Notify tidbro.SubscriptionRequest
}

// Options select the kind of run.
type Options struct {
	// Full relists both sides and rematches by link, then UID, then
	// start+summary ("Full sync now").
	Full bool
	// Since, with Full, limits the rematch to items changed since then
	// ("sync from date"); items not seen are left alone, never deleted.
	Since time.Time
	// DryRun plans and reports, writing nothing.
	DryRun bool
	// AllowMassDelete lifts the mass-deletion guard for this run.
	AllowMassDelete bool
}

// Result is what a run did.
type Result struct {
	Run     *tidbro.Run
	Actions []Action
	Errors  []error // per-item errors; the run went on past each
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Engine) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

// RunPair synchronises one pair once. A returned error means the run as a
// whole failed (nothing durable was skipped: cursors stay where they were);
// per-item failures are in Result.Errors and in the run's status.
func (e *Engine) RunPair(ctx context.Context, pairID int64, o Options) (*Result, error) {
	p, err := e.Store.Pair(ctx, pairID)
	if err != nil {
		return nil, fmt.Errorf("pair %d: %w", pairID, err)
	}
	acc, err := e.Store.AccountByID(ctx, p.AccountID)
	if err != nil {
		return nil, fmt.Errorf("pair %d: account: %w", pairID, err)
	}
	run := &tidbro.Run{PairID: p.ID, UserID: p.UserID, Full: o.Full, DryRun: o.DryRun, Started: e.now(), Status: tidbro.RunRunning}
	orig := *p
	res, err := e.run(ctx, p, acc, run, o)
	if res == nil {
		res = &Result{Run: run}
	}
	run.Finished = e.now()
	switch {
	case err != nil:
		run.Status, run.Error = tidbro.RunFailed, err.Error()
	case run.Status == tidbro.RunRunning && len(res.Errors) > 0:
		run.Status = tidbro.RunErrors
	case run.Status == tidbro.RunRunning:
		run.Status = tidbro.RunOK
	}
	if o.DryRun {
		return res, err
	}
	p.LastRun, p.LastError = run.Finished, run.Error
	// The run's own context may be cancelled; its record must still land.
	bg := context.WithoutCancel(ctx)
	quiet := err == nil && run.Status == tidbro.RunOK && len(res.Actions) == 0
	var ferr error
	switch {
	case run.ID != 0:
		ferr = e.Store.FinishRun(bg, run)
	case !quiet:
		ferr = e.Store.StartRun(bg, run) // recorded whole, at its end
	}
	if ferr != nil {
		err = errors.Join(err, ferr)
	}
	if err != nil || run.Status == tidbro.RunStopped {
		// The cursors stay where they were; only the outcome is recorded.
		orig.LastRun, orig.LastError = p.LastRun, p.LastError
		if serr := e.Store.SavePairState(bg, &orig); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	return res, err
}

func (e *Engine) run(ctx context.Context, p *tidbro.Pair, acc *tidbro.Account, run *tidbro.Run, o Options) (*Result, error) {
	bound := p.RemoteID
	remote, err := e.Connect(ctx, acc, p, !o.DryRun)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if p.RemoteID != bound && !o.DryRun {
		if _, err := e.Store.PutPair(ctx, p); err != nil {
			return nil, fmt.Errorf("binding to %s: %w", p.RemoteID, err)
		}
	}
	if p.AppCursor == 0 && p.SyncToken == "" {
		// A pair's first run matches what both sides hold already, so that
		// connecting to a filled calendar duplicates nothing.
		o.Full, run.Full = true, true
	}
	mapping, err := e.jobMapping(ctx, p.TenantID)
	if err != nil {
		return nil, err
	}
	in := &Input{Policy: acc.Policy.WithDefaults(), Kind: p.Kind, Caps: remote.Capabilities(), Mapping: mapping,
		Now: e.now(), Full: o.Full, AllowMassDelete: o.AllowMassDelete, Since: !o.Since.IsZero()}
	if in.Links, err = e.Store.CountLinks(ctx, p.ID); err != nil {
		return nil, err
	}
	x := &executor{e: e, p: p, remote: remote, in: in, run: run,
		results: batch[*tidbro.Link]{write: func(ctx context.Context, links []*tidbro.Link) []error { return putLinks(ctx, e.Store, links) }},
		forgot:  batch[int64]{write: func(ctx context.Context, ids []int64) []error { return deleteLinks(ctx, e.Store, p.ID, ids) }}}
	g := &gather{e: e, p: p, remote: remote, in: in, opts: o}
	if !o.DryRun {
		g.resume = x
		g.light = o.Full && in.Links == 0
	}
	if err := g.collect(ctx); err != nil {
		return nil, err
	}
	var res *Result
	if g.light {
		res, err = e.executePages(ctx, in, g, x)
		if err != nil || run.Status == tidbro.RunStopped {
			return res, err
		}
	} else {
		plan := in.Plan()
		// The actions hold the entries now; execution releases each one
		// after its action (Action.release).
		in.Entries = nil
		res = &Result{Run: run, Actions: plan.Actions}
		if plan.Stop != "" {
			return res, e.stop(ctx, p, run, o, plan.Stop)
		}
		if o.DryRun {
			for _, a := range plan.Actions {
				count(&run.Counts, a, a.Err)
			}
			return res, nil
		}
		if len(plan.Actions) > 0 || len(g.fetchErrs) > 0 {
			if err := e.recordRun(ctx, run); err != nil {
				return res, err
			}
		}
		x.total = len(plan.Actions) + len(g.fetchErrs)
		x.recordFetchErrs(ctx, g.fetchErrs)
		x.execute(ctx, plan.Actions)
	}
	res.Errors = x.errs
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := e.Store.AddAudit(ctx, x.audit); err != nil {
		return res, err
	}
	// Everything the cursors cover is now durable: applied, or recorded on
	// its link for the next run.
	p.AppCursor, p.SyncToken = g.appHead, g.token
	if w := g.window(); w != nil {
		p.WindowFrom, p.WindowTo = w.From, w.To
	}
	covered := false // whether the saved token covers every create so far
	switch {
	case x.keepToken || in.DeferImports:
		p.SyncToken = g.oldToken
	case x.remoteWrites.Load() > 0:
		p.SyncToken = e.tokenAfterOwnWrites(ctx, p, remote, g)
		covered = p.SyncToken != g.token
	default:
		covered = true
	}
	p.LastRun, p.LastError = e.now(), ""
	if err := e.Store.SavePairState(ctx, p); err != nil {
		return res, err
	}
	e.keepSubscribed(ctx, p, remote)
	// Only once the covering token is saved may the marks go.
	if covered && (g.unconfirmed || x.created.Load() > 0) {
		return res, e.Store.ConfirmCreated(ctx, p.ID)
	}
	return res, nil
}

// executePages plans and executes a pair's first run (see gather.light) a
// page of entries at a time: each page's app items are read whole again,
// planned, executed and released, so that the run holds the content of one
// page, not of every item. The mass-deletion guard sees a page at a time:
// a pair with nothing linked has nothing to delete, so it never stops one.
func (e *Engine) executePages(ctx context.Context, in *Input, g *gather, x *executor) (*Result, error) {
	entries := in.Entries
	in.Entries = nil
	res := &Result{Run: x.run, Actions: make([]Action, 0, len(entries))}
	if len(entries) > 0 || len(g.fetchErrs) > 0 {
		if err := e.recordRun(ctx, x.run); err != nil {
			return res, err
		}
	}
	x.total = len(entries) + len(g.fetchErrs)
	x.recordFetchErrs(ctx, g.fetchErrs)
	for len(entries) > 0 && ctx.Err() == nil {
		n := min(len(entries), firstRunPage)
		page, err := g.materialize(ctx, entries[:n])
		if err != nil {
			return res, err
		}
		entries = entries[n:]
		x.total -= n - len(page) // gone since they were listed
		in.Entries = page
		plan := in.Plan()
		in.Entries = nil
		if plan.Stop != "" {
			res.Actions = append(res.Actions, plan.Actions...)
			return res, e.stop(ctx, g.p, x.run, g.opts, plan.Stop)
		}
		x.execute(ctx, plan.Actions)
		res.Actions = append(res.Actions, plan.Actions...)
	}
	return res, nil
}

// stop records that the mass-deletion guard stopped the run.
func (e *Engine) stop(ctx context.Context, p *tidbro.Pair, run *tidbro.Run, o Options, why string) error {
	run.Status, run.Error = tidbro.RunStopped, why
	e.log().Warn("mass-deletion guard stopped a run", "pair", p.ID, "reason", why)
	if o.DryRun {
		return nil
	}
	if err := e.recordRun(ctx, run); err != nil {
		return err
	}
	return e.Store.AddAudit(ctx, []tidbro.AuditEntry{{TenantID: p.TenantID, UserID: p.UserID, PairID: p.ID, RunID: run.ID,
		At: e.now(), Action: "stop", Kind: p.Kind, Rule: why}})
}

// recordRun records a run before its first write or audit entry (they
// name it). A run that finds nothing to do is never recorded: the pair's
// lastRun tells when it looked, and a pair polled every few minutes does
// not fill the store with hundreds of empty runs a day.
func (e *Engine) recordRun(ctx context.Context, run *tidbro.Run) error {
	if run.ID != 0 {
		return nil
	}
	return e.Store.StartRun(ctx, run)
}

// tokenAfterOwnWrites moves the remote token past this run's own writes
// when nothing else changed meanwhile. Remotes need not report an item
// created and deleted after a token (RFC 6578 servers do not); without this,
// a groupware user deleting an item tidbro created in the previous run
// would go unseen.
func (e *Engine) tokenAfterOwnWrites(ctx context.Context, p *tidbro.Pair, remote tidbro.Remote, g *gather) string {
	ch, err := remote.Changes(ctx, g.token, g.window())
	if err != nil || ch.Full {
		return g.token
	}
	// In chunks: after a first run every item is new since the token, and
	// their links need not all be held at once.
	for refs := range slices.Chunk(ch.Changed, tidbro.MaxPageSize) {
		etag, err := linkedETags(ctx, e.Store, p.ID, refs, func(r tidbro.RemoteRef) string { return r.ID })
		if err != nil {
			return g.token
		}
		for _, r := range refs {
			if e, ok := etag[r.ID]; !ok || e != r.ETag {
				return g.token // someone else wrote too: the next run reads it from here
			}
		}
	}
	for refs := range slices.Chunk(ch.Removed, tidbro.MaxPageSize) {
		etag, err := linkedETags(ctx, e.Store, p.ID, refs, func(r tidbro.Removed) string { return r.ID })
		if err != nil {
			return g.token
		}
		for _, r := range refs {
			if _, linked := etag[r.ID]; linked {
				return g.token
			}
		}
	}
	return ch.Token
}

// linkedETags returns the etags the pair's links record for the remote
// items refs name (by id), by remote id; items not linked are left out.
func linkedETags[T any](ctx context.Context, store tidbro.SyncStore, pairID int64, refs []T, id func(T) string) (map[string]string, error) {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = id(r)
	}
	return store.LinkedETags(ctx, pairID, ids)
}

func (e *Engine) jobMapping(ctx context.Context, tenantID int64) (JobMapping, error) {
	b, err := e.Store.Setting(ctx, tenantID, JobMappingKey)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		b, err = nil, nil // no mapping: jobs keep their own fields
	}
	if err != nil {
		return JobMapping{}, err
	}
	return ParseJobMapping(b)
}

// count adds an action to the run's counts; err marks it failed.
func count(c *tidbro.RunCounts, a Action, err error) {
	if err != nil || a.Err != nil {
		if isAppOp(a.Op) {
			c.App.Errors++
		} else {
			c.Remote.Errors++
		}
		return
	}
	if a.Conflict {
		c.Remote.Conflicts++
	}
	switch a.Op {
	case CreateRemote:
		c.Remote.Created++
	case UpdateRemote:
		c.Remote.Updated++
	case DeleteRemote:
		c.Remote.Deleted++
	case RestoreRemote:
		c.Remote.Restored++
	case CreateApp:
		c.App.Created++
	case UpdateApp:
		c.App.Updated++
	case DeleteApp:
		c.App.Deleted++
	case RestoreApp:
		c.App.Restored++
	case Merge:
		c.App.Updated++
		c.Remote.Updated++
	case Hold:
		c.App.Held++
	case Skip:
		if a.AppState != Unchanged || a.RemState != Unchanged {
			c.App.Skipped++
		}
	}
}

func isAppOp(op Op) bool {
	return op == CreateApp || op == UpdateApp || op == DeleteApp || op == RestoreApp
}
