// Package memremote is an in-memory tidbro.Remote with fault injection. It is
// the reference implementation of the remote contract (it passes
// remotetest.Run) and the remote of the sync engine's randomised tests, so it
// is fast and deterministic: ids, etags and tokens come from counters, every
// listing has a fixed order, and the fault plan is consulted in call order
// under the remote's lock.
package memremote

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
)

// Options select the flavour of remote. The zero value is a CalDAV-like event
// calendar: the key is the id, Changes is incremental.
type Options struct {
	// Kinds the collection holds; default event. An event collection also
	// takes jobs, stored as events as a real remote would.
	Kinds []tidbro.Kind
	// ServerIDs makes Create assign a fresh opaque id and remember key → id,
	// so that a repeated Create with the same key returns the existing item
	// (Graph's transactionId). Otherwise the key is the id (a CalDAV href).
	ServerIDs bool
	// WindowedRemovals: with a window, Changes reports items that were in the
	// window at the token and are no longer as Removed with Deleted=false, as
	// Graph's calendarView delta does; its tokens are bound to their window.
	WindowedRemovals bool
	// NoSyncTokens: every Changes call is a full listing (no RFC 6578).
	NoSyncTokens bool
	// FieldLimits truncates string fields with these JSON names, at any depth
	// of the body (an event's overrides too), to that many characters.
	FieldLimits map[string]int
	// NoPrivate: the remote cannot mark items private; the flag is dropped.
	NoPrivate bool
	// MaxBatch is the most ids per Fetch request; default 50.
	MaxBatch int
	// Now stamps RemoteItem.Modified; default time.Now.
	Now func() time.Time
}

// Remote is an in-memory remote collection. It is safe for concurrent use,
// and deep-copies every item crossing its boundary.
type Remote struct {
	opts Options
	caps tidbro.Capabilities

	mu       sync.Mutex
	items    map[string]*tidbro.RemoteItem
	idByKey  map[string]string // ServerIDs: create key → id, for live items
	keyByID  map[string]string
	seq      int64    // the last change; etags are made from it
	log      []change // every mutation, in seq order
	tokens   []tokenState
	fault    Fault
	requests int
	lastID   int
}

// change is one entry of the change log.
type change struct {
	seq     int64
	id      string
	existed bool // the item existed just before this change
}

// tokenState is what a sync token stands for.
type tokenState struct {
	seq    int64
	window *tidbro.TimeRange
	// inWindow holds the items inside window at the token, when there is a
	// window: items leaving it since are found by comparing with it.
	inWindow map[string]bool
}

// New returns an empty remote of the flavour opts selects.
func New(opts Options) *Remote {
	if len(opts.Kinds) == 0 {
		opts.Kinds = []tidbro.Kind{tidbro.KindEvent}
	}
	opts.Kinds = slices.Clone(opts.Kinds)
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 50
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.FieldLimits = maps.Clone(opts.FieldLimits)
	return &Remote{
		opts: opts,
		caps: tidbro.Capabilities{
			SyncTokens:  !opts.NoSyncTokens,
			ServerIDs:   opts.ServerIDs,
			Private:     !opts.NoPrivate,
			Kinds:       opts.Kinds,
			MaxBatch:    opts.MaxBatch,
			FieldLimits: opts.FieldLimits,
		},
		items:   map[string]*tidbro.RemoteItem{},
		idByKey: map[string]string{},
		keyByID: map[string]string{},
	}
}

var _ tidbro.Remote = (*Remote)(nil)

// Capabilities returns a copy, so callers cannot change the remote's.
func (r *Remote) Capabilities() tidbro.Capabilities {
	c := r.caps
	c.Kinds = slices.Clone(c.Kinds)
	c.FieldLimits = maps.Clone(c.FieldLimits)
	return c
}

const tokenPrefix = "memsync-"

// noSyncToken is what a remote without sync tokens hands out: any token
// gets a full listing there.
const noSyncToken = "memsync-none"

// Changes lists changes since token. Refs are in the order of their last
// change (a full listing: by id), so runs are reproducible.
func (r *Remote) Changes(ctx context.Context, token string, window *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lost, err := r.call(ctx, OpChanges, "")
	if err != nil {
		return nil, err
	}
	window = copyRange(window)
	var out *tidbro.RemoteChanges
	switch {
	case r.opts.NoSyncTokens:
		out, _ = r.fullListing(window)
		out.Token = noSyncToken
	case token == "":
		var in map[string]bool
		out, in = r.fullListing(window)
		out.Token = r.newToken(window, in)
	default:
		st, err := r.parseToken(token)
		if err != nil {
			return nil, err
		}
		if r.opts.WindowedRemovals && !sameRange(st.window, window) {
			return nil, tidbro.Errorf(tidbro.EINVALID, "invalid sync token %q: it was issued for another window", token)
		}
		out = r.incremental(st, window)
	}
	if lost {
		return nil, lostResponse(OpChanges, "")
	}
	return out, nil
}

func (r *Remote) fullListing(window *tidbro.TimeRange) (*tidbro.RemoteChanges, map[string]bool) {
	out := &tidbro.RemoteChanges{Full: true}
	var in map[string]bool
	if window != nil {
		in = map[string]bool{}
	}
	for _, id := range slices.Sorted(maps.Keys(r.items)) {
		it := r.items[id]
		if !inWindow(it, window) {
			continue
		}
		out.Changed = append(out.Changed, ref(it))
		if in != nil {
			in[id] = true
		}
	}
	return out, in
}

func (r *Remote) incremental(st tokenState, window *tidbro.TimeRange) *tidbro.RemoteChanges {
	start := sort.Search(len(r.log), func(i int) bool { return r.log[i].seq > st.seq })
	existed := map[string]bool{} // the item existed at the token
	lastChange := map[string]int64{}
	for _, c := range r.log[start:] {
		if _, seen := existed[c.id]; !seen {
			existed[c.id] = c.existed
		}
		lastChange[c.id] = c.seq
	}
	ids := slices.SortedFunc(maps.Keys(lastChange), func(a, b string) int { return cmp.Compare(lastChange[a], lastChange[b]) })

	wasIn := func(id string) bool {
		if st.inWindow != nil {
			return st.inWindow[id]
		}
		return existed[id]
	}
	// The window set carries over when the window is the same; otherwise it
	// is rebuilt below from the current items.
	var in map[string]bool
	keepIn := window != nil && st.inWindow != nil && sameRange(st.window, window)
	if keepIn {
		in = maps.Clone(st.inWindow)
	}
	windowed := r.opts.WindowedRemovals && window != nil

	out := &tidbro.RemoteChanges{}
	for _, id := range ids {
		it, alive := r.items[id]
		switch {
		case alive && inWindow(it, window):
			out.Changed = append(out.Changed, ref(it))
			if in != nil {
				in[id] = true
			}
		case alive:
			if wasIn(id) {
				if windowed {
					out.Removed = append(out.Removed, tidbro.Removed{ID: id, Deleted: false})
				} else {
					// A CalDAV server reports every change; reporting the one
					// that left the window lets the engine see it move.
					out.Changed = append(out.Changed, ref(it))
				}
			}
			delete(in, id)
		default:
			if existed[id] && (!windowed || wasIn(id)) {
				out.Removed = append(out.Removed, tidbro.Removed{ID: id, Deleted: true})
			}
			delete(in, id)
		}
	}
	if window != nil && !keepIn {
		_, in = r.fullListing(window)
	}
	out.Token = r.newToken(window, in)
	return out
}

func (r *Remote) newToken(window *tidbro.TimeRange, inWindow map[string]bool) string {
	r.tokens = append(r.tokens, tokenState{seq: r.seq, window: window, inWindow: inWindow})
	return tokenPrefix + strconv.Itoa(len(r.tokens)-1)
}

func (r *Remote) parseToken(token string) (tokenState, error) {
	s, ok := strings.CutPrefix(token, tokenPrefix)
	n, err := strconv.Atoi(s)
	if !ok || err != nil || n < 0 || n >= len(r.tokens) || strconv.Itoa(n) != s {
		return tokenState{}, tidbro.Errorf(tidbro.EINVALID, "invalid sync token %q", token)
	}
	return r.tokens[n], nil
}

// Fetch returns copies of the items with the given ids, in the order asked
// for, one request per MaxBatch ids. Items without a body of their kind are
// unreadable: they are reported in errs.
func (r *Remote) Fetch(ctx context.Context, ids []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var items []*tidbro.RemoteItem
	var errs []tidbro.ItemError
	seen := map[string]bool{}
	for batch := range slices.Chunk(ids, r.opts.MaxBatch) {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("memremote: fetch: %w", err)
		}
		r.requests++
		rejected := map[string]bool{}
		for _, id := range batch {
			switch a := r.faultFor(OpFetch, id); a {
			case None:
			case Reject:
				rejected[id] = true
			default:
				// A read has nothing to apply: a lost response is a failure.
				return nil, nil, faultError(a, OpFetch, id)
			}
		}
		for _, id := range batch {
			if seen[id] {
				continue
			}
			seen[id] = true
			it, ok := r.items[id]
			switch {
			case !ok:
			case rejected[id]:
				errs = append(errs, tidbro.ItemError{ID: id, Err: faultError(Reject, OpFetch, id)})
			case !hasBody(it):
				errs = append(errs, tidbro.ItemError{ID: id, Err: tidbro.Errorf(tidbro.EINVALID, "memremote: item %s has no %s body", id, it.Kind)})
			default:
				items = append(items, it.Clone())
			}
		}
	}
	return items, errs, nil
}

// Create writes a new item, or returns the reference of the item created
// with key already.
func (r *Remote) Create(ctx context.Context, key string, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lost, err := r.call(ctx, OpCreate, key)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if key == "" {
		return tidbro.RemoteRef{}, tidbro.Invalid("key", "memremote: create needs a key")
	}
	if err := r.check(it); err != nil {
		return tidbro.RemoteRef{}, err
	}
	id := key
	if r.opts.ServerIDs {
		id = r.idByKey[key]
	}
	out, exists := r.items[id]
	if !exists {
		stored := it.Clone()
		if r.opts.ServerIDs {
			stored.ID = r.newID()
			r.idByKey[key], r.keyByID[stored.ID] = stored.ID, key
		} else {
			stored.ID = key
		}
		out = r.write(stored)
	}
	if lost {
		return tidbro.RemoteRef{}, lostResponse(OpCreate, key)
	}
	return ref(out), nil
}

// Find returns the live item created with key (tidbro.Finder), as Graph's
// connector finds one by its extended property.
func (r *Remote) Find(ctx context.Context, key string) (tidbro.RemoteRef, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.call(ctx, OpFetch, key); err != nil {
		return tidbro.RemoteRef{}, false, err
	}
	id := key
	if r.opts.ServerIDs {
		id = r.idByKey[key]
	}
	if it, ok := r.items[id]; ok {
		return ref(it), true, nil
	}
	return tidbro.RemoteRef{}, false, nil
}

// Update replaces item it.ID if its etag is ifMatch. An empty ifMatch never
// matches: the engine always knows the etag it last saw.
func (r *Remote) Update(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (tidbro.RemoteRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var id string
	if it != nil {
		id = it.ID
	}
	lost, err := r.call(ctx, OpUpdate, id)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if err := r.check(it); err != nil {
		return tidbro.RemoteRef{}, err
	}
	cur, ok := r.items[id]
	if !ok {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.ENOTFOUND, "memremote: no item %q", id)
	}
	if cur.ETag != ifMatch {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "memremote: item %q has etag %s, not %s", id, cur.ETag, ifMatch)
	}
	if normKind(it.Kind) != cur.Kind {
		return tidbro.RemoteRef{}, tidbro.Invalid("kind", "memremote: item %q is a %s, not a %s", id, cur.Kind, it.Kind)
	}
	out := r.write(it.Clone())
	if lost {
		return tidbro.RemoteRef{}, lostResponse(OpUpdate, id)
	}
	return ref(out), nil
}

// Delete removes item id if its etag is ifMatch ("" for any).
func (r *Remote) Delete(ctx context.Context, id, ifMatch string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	lost, err := r.call(ctx, OpDelete, id)
	if err != nil {
		return err
	}
	if cur, ok := r.items[id]; ok {
		if ifMatch != "" && cur.ETag != ifMatch {
			return tidbro.Errorf(tidbro.EPRECONDITION, "memremote: item %q has etag %s, not %s", id, cur.ETag, ifMatch)
		}
		r.remove(id)
	}
	if lost {
		return lostResponse(OpDelete, id)
	}
	return nil
}

// call counts a request and consults the fault plan: err fails the call
// before anything is done; lost means apply it, then fail.
func (r *Remote) call(ctx context.Context, op Op, id string) (lost bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("memremote: %s: %w", op, err)
	}
	r.requests++
	switch a := r.faultFor(op, id); a {
	case None:
		return false, nil
	case FailAfter:
		return true, nil
	default:
		return false, faultError(a, op, id)
	}
}

// check refuses what a real remote would: a kind the collection does not
// hold, a missing body or an invalid one.
func (r *Remote) check(it *tidbro.RemoteItem) error {
	if it == nil {
		return tidbro.Invalid("item", "memremote: no item")
	}
	k := normKind(it.Kind)
	if !slices.Contains(r.opts.Kinds, k) {
		return tidbro.Invalid("kind", "memremote: this collection holds %v, not %q", r.opts.Kinds, it.Kind)
	}
	var err error
	switch {
	case k == tidbro.KindEvent && it.Event != nil:
		err = it.Event.Validate()
	case k == tidbro.KindTask && it.Task != nil:
		err = it.Task.Validate()
	case k == tidbro.KindContact && it.Contact != nil:
		err = it.Contact.Validate()
	default:
		return tidbro.Invalid("kind", "memremote: a %s needs a %s body", it.Kind, k)
	}
	if err != nil {
		return &tidbro.Error{Code: tidbro.EINVALID, Message: "memremote: refused: " + tidbro.ErrorMessage(err), Field: tidbro.ErrorField(err)}
	}
	return nil
}

// write stores it (owned by the remote from now on) as a new version.
func (r *Remote) write(it *tidbro.RemoteItem) *tidbro.RemoteItem {
	it.Kind = normKind(it.Kind)
	for _, body := range []any{it.Event, it.Task, it.Contact} {
		r.caps.Keep(body)
	}
	r.seq++
	it.ETag = `"` + strconv.FormatInt(r.seq, 10) + `"`
	it.Modified = r.opts.Now().Round(0) // without the monotonic reading, so copies compare equal
	_, existed := r.items[it.ID]
	r.items[it.ID] = it
	r.log = append(r.log, change{seq: r.seq, id: it.ID, existed: existed})
	return it
}

func (r *Remote) remove(id string) {
	delete(r.items, id)
	if key, ok := r.keyByID[id]; ok {
		delete(r.keyByID, id)
		delete(r.idByKey, key)
	}
	r.seq++
	r.log = append(r.log, change{seq: r.seq, id: id, existed: true})
}

func (r *Remote) newID() string {
	for {
		r.lastID++
		id := fmt.Sprintf("mem-%06d", r.lastID)
		if _, taken := r.items[id]; !taken {
			return id
		}
	}
}

// normKind stores jobs as events: a remote does not know the difference.
func normKind(k tidbro.Kind) tidbro.Kind {
	if k == tidbro.KindJob {
		return tidbro.KindEvent
	}
	return k
}

// hasBody reports whether it carries the body of its kind; external
// clients can store items without one, to stand for unreadable items.
func hasBody(it *tidbro.RemoteItem) bool {
	switch it.Kind {
	case tidbro.KindEvent, tidbro.KindJob:
		return it.Event != nil
	case tidbro.KindTask:
		return it.Task != nil
	case tidbro.KindContact:
		return it.Contact != nil
	}
	return false
}

func ref(it *tidbro.RemoteItem) tidbro.RemoteRef { return tidbro.RemoteRef{ID: it.ID, ETag: it.ETag} }

// inWindow reports whether an item belongs in a listing limited to window.
// Only events are windowed, as on the real remotes; an event whose extent
// cannot be worked out is listed rather than lost.
func inWindow(it *tidbro.RemoteItem, w *tidbro.TimeRange) bool {
	e := it.Event
	if w == nil || it.Kind != tidbro.KindEvent || e == nil || e.Start.IsZero() {
		return true
	}
	for _, o := range e.Overrides {
		if o.RecurrenceID == nil { // Occurs needs them; fall back to the extent
			from, to, _ := e.Span()
			return from.Before(w.To) && !to.Before(w.From)
		}
	}
	return e.Occurs(w.From, w.To)
}

func copyRange(w *tidbro.TimeRange) *tidbro.TimeRange {
	if w == nil {
		return nil
	}
	c := *w
	return &c
}

func sameRange(a, b *tidbro.TimeRange) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.From.Equal(b.From) && a.To.Equal(b.To)
}
