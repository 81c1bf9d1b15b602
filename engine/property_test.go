package engine

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/memremote"
)

var (
	scenarios = flag.Int("scenarios", 1000, "randomised sync scenarios to run")
	onlySeed  = flag.Int64("seed", -1, "run only this scenario seed")
)

// TestPropertyConverges runs seeded random scenarios: edits on both sides
// (creates, updates, deletions, private toggles, moves across the window
// edge, reassignments, concurrent edits of one item) interleaved with runs
// under injected remote faults and store crashes, under random policies and
// remote flavours. After the faults stop and held deletions are decided, a
// few clean runs must bring both sides to what the policy prescribes:
// nothing lost, nothing duplicated, linked items agreeing.
func TestPropertyConverges(t *testing.T) {
	st := openStore(t)
	first, n := int64(0), int64(*scenarios)
	if *onlySeed >= 0 {
		first, n = *onlySeed, 1
	}
	if testing.Short() {
		n = min(n, 100)
	}
	var failed atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for seed := first; seed < first+n; seed++ {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := scenario(t, st, seed); err != nil {
				failed.Add(1)
				t.Errorf("seed %d: %v\n(rerun: go test ./engine -run TestPropertyConverges -seed %d -v)", seed, err, seed)
			}
		})
	}
	wg.Wait()
	t.Logf("%d scenarios, %d failed", n, failed.Load())
}

// scenarioT collects a scenario's failure instead of failing the test at once.
type scenarioT struct {
	testing.TB
	err error
}

func (s *scenarioT) Fatalf(format string, args ...any) {
	s.err = fmt.Errorf(format, args...)
	panic(s)
}
func (s *scenarioT) Fatal(args ...any) { s.Fatalf("%s", fmt.Sprint(args...)) }
func (s *scenarioT) Helper()           {}

func scenario(t *testing.T, st tidbro.Store, seed int64) (err error) {
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	p := tidbro.Policy{
		Direction: pick(tidbro.DirectionTwoWay, tidbro.DirectionTwoWay, tidbro.DirectionAppToGroupware, tidbro.DirectionGroupwareToApp),
		Ownership: pick(tidbro.OwnershipShared, tidbro.OwnershipOrigin),
		Deletions: pick(tidbro.DeletionsPropagate, tidbro.DeletionsRestore, tidbro.DeletionsHold),
		Conflicts: pick(tidbro.ConflictsApp, tidbro.ConflictsGroupware, tidbro.ConflictsNewest, tidbro.ConflictsMerge),
		Private:   pick(tidbro.PrivateSkip, tidbro.PrivateBusy, tidbro.PrivateImport),
	}.WithDefaults()
	if rng.IntN(3) > 0 {
		p.Window = &tidbro.Window{PastDays: 7, FutureDays: 30}
	}
	var ro memremote.Options
	switch rng.IntN(4) {
	case 1:
		ro.ServerIDs, ro.WindowedRemovals = true, true
	case 2:
		ro.NoSyncTokens = true
	}
	if rng.IntN(4) == 0 {
		ro.FieldLimits = map[string]int{"summary": 12}
	}
	ro.NoPrivate = rng.IntN(5) == 0
	desc := fmt.Sprintf("policy %s/%s/%s/%s/private %s window %v; remote %+v", p.Direction, p.Ownership, p.Deletions, p.Conflicts, p.Private, p.Window, ro)

	sT := &scenarioT{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if r != any(sT) {
				panic(r)
			}
			err = fmt.Errorf("%s: %w", desc, sT.err)
		}
	}()
	h := newHarnessOn(sT, st, fmt.Sprintf("s%d", seed), p, ro, "a", "b")
	h.eng.Parallel = 1 + 3*int(seed%2) // odd seeds run actions concurrently (their failures may not replay exactly)
	users := []string{"a", "b"}
	userMade := map[string]bool{} // remote ids created by the groupware "users" of the scenario
	var log []string
	day := func() time.Time {
		return h.now.Add(time.Duration(rng.IntN(120)-60) * 24 * time.Hour).Add(time.Duration(rng.IntN(10)) * time.Hour).Truncate(time.Hour)
	}
	randomEvent := func() *tidbro.Event {
		ev := event(pick("Visit", "Call", "Review with the regional team", "Lunch"), day())
		ev.Private = rng.IntN(5) == 0
		if rng.IntN(3) == 0 {
			ev.Location = pick("Room 1", "Site", "")
		}
		return ev
	}
	live := func(user string) []*tidbro.Item {
		var out []*tidbro.Item
		for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob} {
			items, _, err := st.Items(h.ctx, tidbro.ItemQuery{TenantID: h.tenant.ID, OwnerID: h.users[user].ID, Kind: k, Limit: 1000})
			if err != nil {
				sT.Fatal(err)
			}
			out = append(out, items...)
		}
		return out
	}
	steps := 12 + rng.IntN(20)
	for step := range steps {
		u := pick(users...)
		r := h.remote(u)
		switch op := rng.IntN(10); op {
		case 0, 1: // app create or update of an id from a small pool
			kind := tidbro.KindEvent
			id := fmt.Sprintf("i%d", rng.IntN(10))
			if rng.IntN(4) == 0 {
				kind, id = tidbro.KindJob, "j"+id
			}
			if cur := h.item(kind, id); cur != nil && cur.Origin == tidbro.OriginGroupware {
				continue
			}
			h.put(u, id, kind, randomEvent())
			log = append(log, fmt.Sprintf("%d app put %s for %s", step, id, u))
		case 2: // app edit or delete of a live item
			items := live(u)
			if len(items) == 0 {
				continue
			}
			it := items[rng.IntN(len(items))]
			if rng.IntN(3) == 0 {
				h.del(it.Kind, it.AppID)
				log = append(log, fmt.Sprintf("%d app delete %s", step, it.AppID))
			} else {
				ev := *it.Event
				ev.Summary += "+"
				if rng.IntN(3) == 0 {
					ev.Start, ev.End = day(), time.Time{}
					ev.End = ev.Start.Add(time.Hour)
				}
				if rng.IntN(5) == 0 {
					ev.Private = !ev.Private
				}
				h.put(u, it.AppID, it.Kind, &ev)
				log = append(log, fmt.Sprintf("%d app edit %s", step, it.AppID))
			}
		case 3: // app reassignment
			items := live(u)
			if len(items) == 0 {
				continue
			}
			it := items[rng.IntN(len(items))]
			other := map[string]string{"a": "b", "b": "a"}[u]
			h.put(other, it.AppID, it.Kind, it.Event)
			log = append(log, fmt.Sprintf("%d app reassign %s to %s", step, it.AppID, other))
		case 4: // groupware create
			ref := r.Put(&tidbro.RemoteItem{Kind: tidbro.KindEvent, Event: randomEvent()})
			userMade[ref.ID] = true
			log = append(log, fmt.Sprintf("%d remote create %s for %s", step, ref.ID, u))
		case 5, 6: // groupware edit or delete
			items := r.Items()
			if len(items) == 0 {
				continue
			}
			it := items[rng.IntN(len(items))]
			if rng.IntN(3) == 0 {
				r.Remove(it.ID)
				log = append(log, fmt.Sprintf("%d remote delete %s", step, it.ID))
			} else {
				it.Event.Location += "*"
				if rng.IntN(4) == 0 {
					it.Event.Start = day()
					it.Event.End = it.Event.Start.Add(2 * time.Hour)
				}
				if rng.IntN(6) == 0 {
					it.Event.Private = !it.Event.Private
				}
				r.Put(it)
				log = append(log, fmt.Sprintf("%d remote edit %s", step, it.ID))
			}
		default: // a run, possibly under faults and a crash
			rate := []float64{0, 0, 0.1, 0.3}[rng.IntN(4)]
			r.SetFault(memremote.RandomFaults(rand.New(rand.NewPCG(uint64(seed), uint64(step))), rate))
			crash := -1
			if rng.IntN(3) == 0 {
				crash = rng.IntN(12)
			}
			eng := *h.eng
			eng.Store = &crashStore{Store: st, after: crash}
			res, err := eng.RunPair(h.ctx, h.pairs[u].ID, Options{AllowMassDelete: true})
			r.SetFault(nil)
			log = append(log, fmt.Sprintf("%d run %s faults %.1f crash %d: %v%s", step, u, rate, crash, err, describeRun(res)))
		}
		if rng.IntN(8) == 0 {
			h.now = h.now.Add(time.Duration(rng.IntN(5)) * 24 * time.Hour) // time passes: items cross the window edge
		}
	}

	// Decide what is held (before every round: a round may hold more), then
	// run until nothing moves.
	decided := false // a person's decision may override a one-way direction
	decideHolds := func() {
		for _, u := range users {
			holds, err := st.Holds(h.ctx, h.tenant.ID, h.users[u].ID)
			if err != nil {
				sT.Fatal(err)
			}
			for _, hd := range holds {
				if hd.Decision != "" {
					continue
				}
				d := pick(tidbro.DecisionPropagate, tidbro.DecisionRestore)
				if err := st.DecideHold(h.ctx, h.tenant.ID, h.users[u].ID, hd.ID, d); err != nil {
					sT.Fatal(err)
				}
				log = append(log, fmt.Sprintf("decide %s %s", hd.AppID, d))
				decided = true
			}
		}
	}
	spy := map[string]*writeSpy{}
	for _, u := range users {
		spy[u] = &writeSpy{}
		h.remote(u).SetFault(spy[u].fault)
	}
	for round := range 5 {
		decideHolds()
		quiet := true
		for _, u := range users {
			res, err := h.eng.RunPair(h.ctx, h.pairs[u].ID, Options{AllowMassDelete: true})
			log = append(log, fmt.Sprintf("final %d run %s: %v%s", round, u, err, describeRun(res)))
			if err != nil {
				return fmt.Errorf("%s: final run %d of %s: %v\n%s", desc, round, u, err, strings.Join(log, "\n"))
			}
			if len(res.Errors) > 0 {
				return fmt.Errorf("%s: final run %d of %s: %v\n%s", desc, round, u, res.Errors, strings.Join(log, "\n"))
			}
			c := res.Run.Counts
			if c.App != (tidbro.SideCounts{Skipped: c.App.Skipped}) || c.Remote != (tidbro.SideCounts{}) {
				quiet = false
			}
		}
		if quiet && round > 0 {
			break
		}
		if round == 4 {
			return fmt.Errorf("%s: still changing after 5 clean rounds\n%s", desc, strings.Join(log, "\n"))
		}
	}
	for _, u := range users {
		if decided {
			spy[u] = &writeSpy{}
		}
		if err := h.check(u, p, ro, userMade, spy[u]); err != nil {
			return fmt.Errorf("%s: user %s: %w\n%s", desc, u, err, strings.Join(log, "\n"))
		}
	}
	return nil
}

// writeSpy counts the remote writes the final runs make.
type writeSpy struct{ writes atomic.Int64 }

func (w *writeSpy) fault(op memremote.Op, _ string) memremote.FaultAction {
	if op == memremote.OpCreate || op == memremote.OpUpdate || op == memremote.OpDelete {
		w.writes.Add(1)
	}
	return memremote.None
}

// check verifies the end state of one user's pair.
func (h *harness) check(user string, p tidbro.Policy, ro memremote.Options, userMade map[string]bool, spy *writeSpy) error {
	pr := h.pairs[user]
	r := h.remote(user)
	in := &Input{Policy: p, Kind: tidbro.KindEvent, Caps: r.Capabilities(), Now: h.now}
	links := map[string]*tidbro.Link{}
	byItem := map[int64]*tidbro.Link{}
	var after int64
	for {
		ls, err := h.store.Links(h.ctx, pr.ID, after, 1000)
		if err != nil {
			return err
		}
		for _, l := range ls {
			if l.RemoteID == "" || l.Pending != "" || l.Error != "" {
				// Outside the window nothing is retried; it waits for the item to come back in.
				if items, err := h.store.ItemsByID(h.ctx, h.tenant.ID, []int64{l.ItemID}); err != nil || len(items) != 1 || in.inWindow(items[0].Span()) {
					return fmt.Errorf("link of item %d left unfinished: pending %q, error %q", l.ItemID, l.Pending, l.Error)
				}
			}
			links[l.RemoteID], byItem[l.ItemID] = l, l
			after = l.ItemID
		}
		if len(ls) < 1000 {
			break
		}
	}
	remoteByID := map[string]*tidbro.RemoteItem{}
	for _, it := range r.Items() {
		remoteByID[it.ID] = it
		inWin := in.inWindow(it.Item(it.Kind).Span())
		l := links[it.ID]
		if l == nil {
			importable := p.Direction != tidbro.DirectionAppToGroupware && (!it.Event.Private || p.Private != tidbro.PrivateSkip || ro.NoPrivate)
			switch {
			case it.Event.Private && p.Private == tidbro.PrivateSkip && !ro.NoPrivate:
				// made private in groupware: policy skip takes it out of the app
			case !userMade[it.ID]:
				return fmt.Errorf("remote item %s (%q) is linked to nothing and no groupware user made it: a duplicate", it.ID, it.Event.Summary)
			case importable && inWin:
				return fmt.Errorf("groupware item %s (%q) in the window was not imported", it.ID, it.Event.Summary)
			}
		}
	}
	for rid, l := range links {
		items, err := h.store.ItemsByID(h.ctx, h.tenant.ID, []int64{l.ItemID})
		if err != nil || len(items) != 1 {
			return fmt.Errorf("link to missing app item %d: %v", l.ItemID, err)
		}
		app := items[0]
		rem := remoteByID[rid]
		if app.Deleted || app.OwnerID != h.users[user].ID {
			if p.Direction == tidbro.DirectionGroupwareToApp && rem != nil {
				continue // import only: the app's deletion or reassignment does not touch groupware
			}
			return fmt.Errorf("link from %s to an app item that is deleted or another user's", rid)
		}
		if rem == nil {
			if in.inWindow(app.Span()) {
				return fmt.Errorf("app item %s is linked to remote %s, which is gone", app.AppID, rid)
			}
			continue
		}
		if !in.inWindow(app.Span()) || !in.inWindow(rem.Item(rem.Kind).Span()) {
			continue // outside the window nothing is synchronised
		}
		if rem.Event.Private && p.Private == tidbro.PrivateBusy && app.Origin == tidbro.OriginGroupware && !ro.NoPrivate {
			continue // imported as busy only, on purpose different
		}
		view, err := in.remoteView(app)
		if err != nil {
			return err
		}
		if viewHash(view) != RemoteHash(rem) {
			return fmt.Errorf("app %s and remote %s disagree:\napp    %s\nremote %s", app.AppID, rid, mustJSONString(view.Event), mustJSONString(rem.Event))
		}
	}
	for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob} {
		items, _, err := h.store.Items(h.ctx, tidbro.ItemQuery{TenantID: h.tenant.ID, OwnerID: h.users[user].ID, Kind: k, Limit: 1000})
		if err != nil {
			return err
		}
		for _, it := range items {
			if byItem[it.ID] != nil {
				continue
			}
			exportable := p.Direction != tidbro.DirectionGroupwareToApp && (!it.Event.Private || !ro.NoPrivate)
			if it.Origin == tidbro.OriginGroupware {
				// An import whose source is still there must be linked to it.
				for rid := range remoteByID {
					if importID(pr.ID, rid) == it.AppID {
						return fmt.Errorf("app item %s imported from %s, which still exists, is linked to nothing", it.AppID, rid)
					}
				}
				continue
			}
			if exportable && in.inWindow(it.Span()) && it.Origin != tidbro.OriginGroupware {
				return fmt.Errorf("app item %s (%q) in the window was not exported", it.AppID, it.Event.Summary)
			}
		}
	}
	if p.Direction == tidbro.DirectionGroupwareToApp && spy.writes.Load() > 0 {
		return fmt.Errorf("import only, yet the final runs wrote to groupware %d times", spy.writes.Load())
	}
	return nil
}

func mustJSONString(v any) string { return string(mustJSONb(v)) }

// crashStore fails every write after the first `after` writes (after < 0:
// never), as if the process died there: a run stops in the middle, with
// whatever it recorded before.
type crashStore struct {
	tidbro.Store
	after  int
	writes atomic.Int64
}

var errCrash = errors.New("simulated crash")

func (c *crashStore) write() error {
	if c.after >= 0 && c.writes.Add(1) > int64(c.after) {
		return errCrash
	}
	return nil
}

func (c *crashStore) PutItem(ctx context.Context, it *tidbro.Item, cond tidbro.Precondition) (*tidbro.Item, bool, error) {
	if err := c.write(); err != nil {
		return nil, false, err
	}
	return c.Store.PutItem(ctx, it, cond)
}

func (c *crashStore) DeleteItem(ctx context.Context, tenantID int64, kind tidbro.Kind, appID string, cond tidbro.Precondition, by tidbro.Origin) (*tidbro.Item, error) {
	if err := c.write(); err != nil {
		return nil, err
	}
	return c.Store.DeleteItem(ctx, tenantID, kind, appID, cond, by)
}

func (c *crashStore) PutLink(ctx context.Context, l *tidbro.Link) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.PutLink(ctx, l)
}

// PutLinks is one transaction: one write, all of it or nothing.
func (c *crashStore) PutLinks(ctx context.Context, links []*tidbro.Link) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.PutLinks(ctx, links)
}

// DeleteLinks is one transaction: one write, all of it or nothing.
func (c *crashStore) DeleteLinks(ctx context.Context, pairID int64, itemIDs []int64) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.DeleteLinks(ctx, pairID, itemIDs)
}

func (c *crashStore) SavePairState(ctx context.Context, p *tidbro.Pair) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.SavePairState(ctx, p)
}

func (c *crashStore) PutHold(ctx context.Context, h *tidbro.Hold) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.PutHold(ctx, h)
}

func (c *crashStore) AddAudit(ctx context.Context, entries []tidbro.AuditEntry) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.AddAudit(ctx, entries)
}

func describeRun(res *Result) string {
	if res == nil {
		return ""
	}
	var b strings.Builder
	for _, a := range res.Actions {
		if a.Op == Skip && a.AppState == Unchanged && a.RemState == Unchanged {
			continue
		}
		fmt.Fprintf(&b, "\n    %s: %v×%v → %s (%s)", a.Entry, a.AppState, a.RemState, a.Op, a.Rule)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(&b, "\n    error: %v", e)
	}
	return b.String()
}

func (c *crashStore) ConfirmCreated(ctx context.Context, pairID int64) error {
	if err := c.write(); err != nil {
		return err
	}
	return c.Store.ConfirmCreated(ctx, pairID)
}
