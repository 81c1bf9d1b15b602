package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/tidbro/tidbro"
)

// executor carries out a plan. Every remote write is preceded by recording
// its intent on the link (Pending, and for creates the idempotency key), so
// that a crash between any two steps leaves a state the next run resumes
// from without duplicating or losing anything.
type executor struct {
	e      *Engine
	p      *tidbro.Pair
	remote tidbro.Remote
	in     *Input
	run    *tidbro.Run

	mu    sync.Mutex
	audit []tidbro.AuditEntry // recorded, not yet written to the store
	// auditStuck: writing a batch of audit entries failed; the rest waits
	// for the run's end, where a failure fails the run.
	auditStuck   bool
	errs         []error
	keepToken    bool // an import failed transiently: replay the remote's changes next run
	remoteWrites atomic.Int64
	created      atomic.Int64 // links this run marked PendingCreated
	done, total  int          // actions recorded, and planned

	// intents are the creates whose intent writeIntents prepared, by
	// entry: whether each resumes an interrupted create, and whether its
	// intent is recorded.
	intents sync.Map
	results batch[*tidbro.Link] // what remote writes and imports learned (copies)
	forgot  batch[int64]        // the items the run is done with
}

type intent struct{ resumed, recorded bool }

// auditFlush is how many audit entries a run holds before it writes them:
// a run over many items does not keep an entry per item until its end.
// A variable for the tests.
var auditFlush = 500

// execute carries out the actions; the errors are in x.errs, and x.total
// is the caller's to set. Each action, once applied and recorded, is
// released (Action.release): a big run does not keep every item's content
// until it ends.
func (x *executor) execute(ctx context.Context, actions []Action) {
	parallel := x.e.Parallel
	if parallel <= 0 {
		parallel = 4
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range actions {
		a := actions[i]
		if a.Op == Skip && a.Err == nil {
			x.record(ctx, a, nil)
			actions[i].release()
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if needsIntent(&a) {
			if _, ok := x.intents.Load(a.Entry); !ok {
				x.writeIntents(ctx, actions[i:])
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := x.apply(ctx, &a)
			if err != nil {
				x.fail(ctx, &a, err)
			} else if a.Entry.Decision != "" && a.Op != Hold {
				err = x.e.Store.DeleteHold(ctx, x.p.ID, a.itemID())
			}
			x.record(ctx, a, err)
			actions[i].release() // no other goroutine touches actions[i] now
		})
	}
	wg.Wait()
	// Before the caller reads links again (tokenAfterOwnWrites), and even
	// when the run is cancelled: these writes happened.
	x.resultsLost(x.results.flush(context.WithoutCancel(ctx)))
	x.resultsLost(x.forgot.flush(context.WithoutCancel(ctx)))
}

// resultsLost reports write results the store refused: the writes
// happened, and the next run finds created items by their keys and relinks
// the rest by their content.
func (x *executor) resultsLost(errs []error) {
	for _, err := range errs {
		x.e.log().Error("cannot record a write's result; the next run relinks the item", "pair", x.p.ID, "err", err)
		x.mu.Lock()
		x.errs = append(x.errs, err)
		x.mu.Unlock()
	}
}

func isCreate(a *Action) bool { return a.Op == CreateRemote || a.Op == RestoreRemote }

// needsIntent: the remote writes whose intents writeIntents records in
// batches. Merges record their own, as do deletes of items whose create was
// interrupted (resolveCreate first learns their remote id).
func needsIntent(a *Action) bool {
	switch a.Op {
	case UpdateRemote:
		return true
	case DeleteRemote:
		return !resolvesCreate(a.Entry)
	}
	return isCreate(a)
}

// resolvesCreate: the entry's link has a create whose remote id is not
// known yet (resolveCreate).
func resolvesCreate(en *Entry) bool { return en.Link != nil && en.Link.RemoteID == "" }

// intended returns the link of en's remote write with its intent
// recorded: as writeIntents prepared it, or as prepare does now, and
// recorded now unless writeIntents did. resumed says an earlier attempt
// of a create may have happened.
func (x *executor) intended(ctx context.Context, en *Entry, prepare func() (*tidbro.Link, bool)) (l *tidbro.Link, resumed bool, err error) {
	var st intent
	if v, ok := x.intents.LoadAndDelete(en); ok {
		l, st = en.Link, v.(intent)
	} else {
		l, st.resumed = prepare()
	}
	if !st.recorded {
		if err := x.e.Store.PutLink(ctx, l); err != nil {
			return nil, false, err
		}
	}
	return l, st.resumed, nil
}

// writeIntents records the intents of the plan's next creates and updates,
// from rest, in one transaction rather than one each (see linkBatchSize).
// When that fails, each write records its own and meets its own error.
func (x *executor) writeIntents(ctx context.Context, rest []Action) {
	var links []*tidbro.Link
	var entries []*Entry
	var states []intent
	for i := range rest {
		a := &rest[i]
		if len(links) == linkBatchSize {
			break
		}
		if !needsIntent(a) {
			continue
		}
		if _, ok := x.intents.Load(a.Entry); ok {
			continue
		}
		var l *tidbro.Link
		var resumed bool
		switch a.Op {
		case UpdateRemote:
			l = x.prepareUpdate(a.Entry, a.Entry.App)
		case DeleteRemote:
			l = x.prepareDelete(a.Entry)
		default:
			l, resumed = x.prepareCreate(a)
		}
		links, entries, states = append(links, l), append(entries, a.Entry), append(states, intent{resumed: resumed})
	}
	recorded := x.e.Store.PutLinks(ctx, links) == nil
	for i, en := range entries {
		states[i].recorded = recorded
		x.intents.Store(en, states[i])
	}
}

// recordFetchErrs records the remote items that could not be read.
func (x *executor) recordFetchErrs(ctx context.Context, fetchErrs []tidbro.ItemError) {
	for _, fe := range fetchErrs {
		x.record(ctx, Action{Op: Skip, Rule: "cannot read the remote item", Entry: &Entry{Remote: &tidbro.RemoteItem{ID: fe.ID}}}, fe.Err)
	}
}

// release drops what an executed action holds of its item's content (the
// body it wrote, the entry's items and link), keeping what names and
// describes it: the action's fields, and Entry.String.
func (a *Action) release() {
	a.Body = nil
	en := a.Entry
	switch {
	case en.App != nil:
		app := en.App
		en.App = &tidbro.Item{ID: app.ID, TenantID: app.TenantID, Kind: app.Kind, AppID: app.AppID, Type: app.Type,
			Origin: app.Origin, OwnerID: app.OwnerID, Version: app.Version, Deleted: app.Deleted}
		en.Remote, en.Link = nil, nil
	case en.Remote != nil:
		en.Remote = &tidbro.RemoteItem{ID: en.Remote.ID, ETag: en.Remote.ETag, Kind: en.Remote.Kind}
		en.Link = nil
	case en.Link != nil:
		en.Link = &tidbro.Link{PairID: en.Link.PairID, ItemID: en.Link.ItemID, RemoteID: en.Link.RemoteID, Origin: en.Link.Origin}
	}
}

func (a *Action) itemID() int64 {
	switch {
	case a.Entry.App != nil:
		return a.Entry.App.ID
	case a.Entry.Link != nil:
		return a.Entry.Link.ItemID
	}
	return 0
}

// record counts the action and adds its audit entry, writing the entries
// recorded so far once there are auditFlush of them. A failed write keeps
// them for the run's end (engine.run), as does a run not recorded yet.
func (x *executor) record(ctx context.Context, a Action, err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.done++
	if x.e.Progress != nil {
		x.e.Progress(x.p.ID, x.done, x.total)
	}
	count(&x.run.Counts, a, err)
	if err == nil {
		err = a.Err
	}
	if err != nil {
		x.errs = append(x.errs, fmt.Errorf("%s: %s: %w", a.Entry, a.Op, err))
	}
	if a.Op == Skip && err == nil && a.AppState == Unchanged && a.RemState == Unchanged {
		return // nothing happened and nothing to explain
	}
	en := a.Entry
	ae := tidbro.AuditEntry{TenantID: x.p.TenantID, UserID: x.p.UserID, PairID: x.p.ID, RunID: x.run.ID, At: x.in.Now,
		Action: string(a.Op), Kind: x.p.Kind, Rule: a.Rule}
	if en.App != nil {
		ae.Kind, ae.AppID = en.App.Kind, en.App.AppID
	}
	switch {
	case en.Remote != nil:
		ae.RemoteID = en.Remote.ID
	case en.Link != nil:
		ae.RemoteID = en.Link.RemoteID
	}
	if err != nil {
		ae.Error = err.Error()
	}
	x.audit = append(x.audit, ae)
	if len(x.audit) >= auditFlush && !x.auditStuck && x.run.ID != 0 {
		if err := x.e.Store.AddAudit(ctx, x.audit); err != nil {
			x.auditStuck = true
			return
		}
		x.audit = nil
	}
}

// fail records a per-item failure on the item's link, for the next run.
func (x *executor) fail(ctx context.Context, a *Action, err error) {
	l := a.Entry.Link
	if l == nil {
		if tidbro.Transient(err) && a.Op == CreateApp {
			x.mu.Lock()
			x.keepToken = true
			x.mu.Unlock()
		}
		return
	}
	l.Error, l.Attempts = err.Error(), l.Attempts+1
	if perr := x.e.Store.PutLink(context.WithoutCancel(ctx), l); perr != nil {
		x.e.log().Error("cannot record a per-item error", "pair", x.p.ID, "item", l.ItemID, "err", perr)
	}
}

func (x *executor) apply(ctx context.Context, a *Action) error {
	switch a.Op {
	case CreateRemote, RestoreRemote:
		return x.createRemote(ctx, a)
	case UpdateRemote:
		return x.updateRemote(ctx, a.Entry, a.Entry.App)
	case DeleteRemote:
		return x.deleteRemote(ctx, a)
	case CreateApp, UpdateApp, RestoreApp:
		_, err := x.writeApp(ctx, a, true)
		return err
	case Merge:
		stored, err := x.writeApp(ctx, a, false)
		if err != nil {
			return err
		}
		return x.updateRemote(ctx, a.Entry, stored)
	case DeleteApp:
		return x.deleteApp(ctx, a)
	case Relink:
		en := a.Entry
		return x.linked(ctx, x.link(en, en.App.Origin), en.App, refOf(en.Remote), en.Remote.Item(en.Remote.Kind))
	case Unlink:
		x.resultsLost(x.forgot.add(ctx, a.itemID()))
		return nil
	case Hold:
		return x.hold(ctx, a)
	case Skip:
		return a.Err
	}
	return fmt.Errorf("unknown action %q", a.Op)
}

// link returns the entry's link, or a new one for an item linked now.
func (x *executor) link(en *Entry, origin tidbro.Origin) *tidbro.Link {
	if en.Link != nil {
		return en.Link
	}
	if origin == "" {
		origin = tidbro.OriginApp
	}
	en.Link = &tidbro.Link{PairID: x.p.ID, ItemID: en.App.ID, Origin: origin}
	return en.Link
}

// key is the idempotency key of a remote create: the same on every retry of
// one create, a new one for a restore (the old id may be a remote tombstone).
func (x *executor) key(itemID int64, restore bool) string {
	k := fmt.Sprintf("tidbro-%d-%d", x.p.ID, itemID)
	if restore {
		k += fmt.Sprintf("-r%d", x.run.ID)
	}
	return k
}

// prepareCreate readies the link of a create as its intent: pending,
// with the key the remote create uses. resumed says an earlier attempt
// may have happened.
func (x *executor) prepareCreate(a *Action) (l *tidbro.Link, resumed bool) {
	en := a.Entry
	l = x.link(en, en.App.Origin)
	// A resumed create may find the item the interrupted attempt made,
	// holding an older version (settleResumed).
	resumed = l.Pending == tidbro.PendingCreate && a.Op == CreateRemote
	if l.Key == "" || a.Op == RestoreRemote {
		l.Key = x.key(en.App.ID, a.Op == RestoreRemote)
	}
	l.RemoteID, l.RemoteETag, l.Pending = "", "", tidbro.PendingCreate
	return l, resumed
}

func (x *executor) createRemote(ctx context.Context, a *Action) error {
	en := a.Entry
	l, resumed, err := x.intended(ctx, en, func() (*tidbro.Link, bool) { return x.prepareCreate(a) })
	if err != nil {
		return err
	}
	// Rendered after the intent: a job whose mapping fails is retried, from
	// its link, once the mapping is fixed.
	ref, view, err := x.create(ctx, l.Key, en.App, resumed)
	if err != nil {
		return err
	}
	if resumed {
		if ref, err = x.settleResumed(ctx, ref, view); err != nil {
			return err
		}
	}
	if err := x.settle(l, en.App, ref, view, tidbro.PendingCreated); err != nil {
		return err
	}
	x.resultsLost(x.results.add(ctx, new(*l))) // a copy: l may change on
	return nil
}

// settleResumed makes the item a resumed create found hold view: the
// interrupted attempt wrote the app item as it was then (it may have been
// edited since), or a groupware user edited what it made. Linked as it
// is, the item would keep the older content for good, since nothing
// reports it changed.
func (x *executor) settleResumed(ctx context.Context, ref tidbro.RemoteRef, view *tidbro.Item) (tidbro.RemoteRef, error) {
	items, _, err := x.remote.Fetch(ctx, []string{ref.ID})
	if err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("reading the item an interrupted create made: %w", err)
	}
	if len(items) == 0 {
		ref.ETag = "" // gone again: the next listing tells
		return ref, nil
	}
	cur := items[0]
	if RemoteHash(cur) == viewHash(view) {
		return refOf(cur), nil
	}
	ri := remoteItem(cur.ID, view)
	ri.Raw = cur.Raw
	x.remoteWrites.Add(1)
	updated, err := x.remote.Update(ctx, ri, cur.ETag)
	if err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("bringing the item an interrupted create made up to date: %w", err)
	}
	return updated, nil
}

func remoteItem(id string, v *tidbro.Item) *tidbro.RemoteItem {
	return &tidbro.RemoteItem{ID: id, Kind: v.Kind, Event: v.Event, Task: v.Task, Contact: v.Contact}
}

// prepareUpdate readies the link of an update as its intent: pending.
func (x *executor) prepareUpdate(en *Entry, app *tidbro.Item) *tidbro.Link {
	l := en.Link
	if l == nil { // matched on a full run, or an interrupted import joined
		l = x.link(en, app.Origin)
		l.RemoteID, l.RemoteETag = en.Remote.ID, en.Remote.ETag
	}
	l.Pending = tidbro.PendingUpdate
	return l
}

func (x *executor) updateRemote(ctx context.Context, en *Entry, app *tidbro.Item) error {
	view, err := x.in.remoteView(app)
	if err != nil {
		return err
	}
	l, _, err := x.intended(ctx, en, func() (*tidbro.Link, bool) { return x.prepareUpdate(en, app), false })
	if err != nil {
		return err
	}
	ri := remoteItem(l.RemoteID, view)
	etag := l.RemoteETag
	if en.Remote != nil {
		ri.Raw, etag = en.Remote.Raw, en.Remote.ETag
	}
	x.remoteWrites.Add(1)
	ref, err := x.remote.Update(ctx, ri, etag)
	if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
		return fmt.Errorf("the remote item changed meanwhile; it is replanned next run: %w", err)
	}
	if err != nil {
		return err
	}
	return x.linked(ctx, l, app, ref, view)
}

// resolveCreate learns the remote id of an interrupted create: it may have
// happened, and creating again with the same key is idempotent and tells the
// id. The link keeps its pending create; the etag stays unknown.
func (x *executor) resolveCreate(ctx context.Context, en *Entry) error {
	l := en.Link
	ref, _, err := x.create(ctx, l.Key, en.App, true)
	if err != nil {
		return err
	}
	l.RemoteID, l.RemoteETag = ref.ID, ""
	return x.e.Store.PutLink(ctx, l)
}

// create renders the app item as the remote should hold it and creates it
// under key (idempotent: a repeat finds the first). A resumed create first
// asks a remote that can look items up by key (tidbro.Finder).
func (x *executor) create(ctx context.Context, key string, app *tidbro.Item, resumed bool) (tidbro.RemoteRef, *tidbro.Item, error) {
	view, err := x.in.remoteView(app)
	if err != nil {
		return tidbro.RemoteRef{}, nil, err
	}
	if f, ok := x.remote.(tidbro.Finder); ok && resumed {
		ref, found, err := f.Find(ctx, key)
		if err != nil {
			return tidbro.RemoteRef{}, nil, err
		}
		if found {
			return ref, view, nil
		}
	}
	x.remoteWrites.Add(1)
	ref, err := x.remote.Create(ctx, key, remoteItem("", view))
	return ref, view, err
}

// prepareDelete readies the link of a delete as its intent: pending. An
// interrupted import that joined gets its link now.
func (x *executor) prepareDelete(en *Entry) *tidbro.Link {
	l := en.Link
	if l == nil {
		l = x.link(en, en.App.Origin)
		l.RemoteID, l.RemoteETag = en.Remote.ID, en.Remote.ETag
	}
	l.Pending = tidbro.PendingDelete
	return l
}

func (x *executor) deleteRemote(ctx context.Context, a *Action) error {
	en := a.Entry
	if resolvesCreate(en) { // then writeIntents left it alone
		if err := x.resolveCreate(ctx, en); err != nil {
			return err
		}
	}
	l, _, err := x.intended(ctx, en, func() (*tidbro.Link, bool) { return x.prepareDelete(en), false })
	if err != nil {
		return err
	}
	etag := l.RemoteETag
	if en.Remote != nil {
		etag = en.Remote.ETag
	}
	x.remoteWrites.Add(1)
	err = x.remote.Delete(ctx, l.RemoteID, etag)
	if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
		return fmt.Errorf("the remote item changed meanwhile; it is replanned next run: %w", err)
	}
	if err != nil {
		return err
	}
	x.resultsLost(x.forgot.add(ctx, l.ItemID))
	return nil
}

// importID is the app id of an imported groupware item: derived from the
// pair and the remote id, so a retried import finds its first attempt.
func importID(pairID int64, remoteID string) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d\x00%s", pairID, remoteID))
	return importPrefix(pairID) + hex.EncodeToString(sum[:10])
}

func importPrefix(pairID int64) string { return fmt.Sprintf("gw-%d-", pairID) }

// writeApp writes the action's body to the app; link says whether the link
// is recorded now (Merge records it after the remote write).
func (x *executor) writeApp(ctx context.Context, a *Action, link bool) (*tidbro.Item, error) {
	en := a.Entry
	it := &tidbro.Item{TenantID: x.p.TenantID, ChangedBy: tidbro.OriginGroupware}
	var cond tidbro.Precondition
	if a.Op == CreateApp {
		it.Kind, it.AppID, it.Type, it.Origin, it.OwnerID = en.Remote.Kind, importID(x.p.ID, en.Remote.ID), tidbro.TypeGroupware, tidbro.OriginGroupware, x.p.UserID
	} else {
		it.Kind, it.AppID, it.Type, it.Origin, it.OwnerID = en.App.Kind, en.App.AppID, en.App.Type, en.App.Origin, en.App.OwnerID
		if a.Op != RestoreApp {
			cond.IfMatch = en.App.Version // an app edit meanwhile wins this round
		}
	}
	switch b := a.Body.(type) {
	case *tidbro.Event:
		it.Event = b
	case *tidbro.Task:
		it.Task = b
	case *tidbro.Contact:
		it.Contact = b
	default:
		return nil, fmt.Errorf("no body to write for %s", a.Op)
	}
	if err := it.Validate(); err != nil {
		return nil, fmt.Errorf("the remote item is not valid in the app: %w", err)
	}
	stored, _, err := x.e.Store.PutItem(ctx, it, cond)
	if err != nil {
		return nil, err
	}
	if !link {
		return stored, nil
	}
	origin := tidbro.OriginGroupware
	if en.App != nil {
		origin = en.App.Origin
	}
	if en.Link == nil {
		en.Link = &tidbro.Link{PairID: x.p.ID, ItemID: stored.ID, Origin: origin}
	}
	return stored, x.linked(ctx, en.Link, stored, refOf(en.Remote), en.Remote.Item(en.Remote.Kind))
}

func (x *executor) deleteApp(ctx context.Context, a *Action) error {
	en := a.Entry
	_, err := x.e.Store.DeleteItem(ctx, x.p.TenantID, en.App.Kind, en.App.AppID, tidbro.Precondition{IfMatch: en.App.Version}, tidbro.OriginGroupware)
	if err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		return err
	}
	x.resultsLost(x.forgot.add(ctx, a.itemID()))
	return nil
}

func (x *executor) hold(ctx context.Context, a *Action) error {
	en := a.Entry
	h := &tidbro.Hold{TenantID: x.p.TenantID, UserID: x.p.UserID, PairID: x.p.ID, ItemID: a.itemID(), Kind: x.p.Kind, Side: "groupware"}
	if en.App != nil {
		h.Kind, h.AppID = en.App.Kind, en.App.AppID
	}
	if en.Link != nil {
		h.RemoteID = en.Link.RemoteID
	}
	if a.AppState == Deleted {
		h.Side = "app"
	}
	return x.e.Store.PutHold(ctx, h)
}

func refOf(r *tidbro.RemoteItem) tidbro.RemoteRef {
	return tidbro.RemoteRef{ID: r.ID, ETag: r.ETag, WebLink: r.WebLink}
}

// linked records that app item and remote ref now hold the same thing;
// agreed is that content as the remote holds it (the base for merges).
// The record joins the run's batch of results: lost to a crash, it leaves
// both sides changed to the same content (or an unlinked import, which
// joins its groupware item), which the next run relinks.
func (x *executor) linked(ctx context.Context, l *tidbro.Link, app *tidbro.Item, ref tidbro.RemoteRef, agreed *tidbro.Item) error {
	if err := x.settle(l, app, ref, agreed, ""); err != nil {
		return err
	}
	x.resultsLost(x.results.add(ctx, new(*l))) // a copy: l may change on
	return nil
}

// settle fills l with what app and ref now agree on (agreed), leaving
// pending as given (PendingCreated after a create).
func (x *executor) settle(l *tidbro.Link, app *tidbro.Item, ref tidbro.RemoteRef, agreed *tidbro.Item, pending string) error {
	base, hash, err := linkBase(agreed)
	if err != nil {
		return err
	}
	l.RemoteID, l.RemoteETag = ref.ID, ref.ETag
	if ref.WebLink != "" {
		l.WebLink = ref.WebLink
	}
	l.AppVersion, l.AppHash = app.Version, app.Hash
	l.RemoteHash, l.Base = hash, base
	l.SpanFrom, l.SpanTo, _ = app.Span()
	// In UTC, as the store keeps them: a span in the event's zone holds
	// on to a *time.Location of its own (time.LoadLocation does not share).
	l.SpanFrom, l.SpanTo = l.SpanFrom.UTC(), l.SpanTo.UTC()
	if l.Synced.IsZero() {
		// A new link: its remote item may have been made after the saved
		// token (by us, or by a user whose item this imports), so its
		// deletion may never be reported from that token.
		pending = tidbro.PendingCreated
	}
	if l.Pending == tidbro.PendingCreated && pending == "" {
		pending = tidbro.PendingCreated // only a token that covers it clears the mark
	}
	if pending == tidbro.PendingCreated {
		x.created.Add(1)
	}
	l.Pending, l.Error, l.Attempts, l.Synced = pending, "", 0, x.in.Now
	return nil
}
