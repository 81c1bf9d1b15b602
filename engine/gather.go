package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// gather collects the entries of one run: what changed on the app side
// (the user's change feed since the pair's cursor), what changed on the
// remote (since its sync token), what is to be retried, and the links that
// join them. Its cost grows with the changes, not with the collection,
// except in full runs.
type gather struct {
	e      *Engine
	p      *tidbro.Pair
	remote tidbro.Remote
	in     *Input
	opts   Options
	resume *executor // completes interrupted creates before joining; nil on dry runs

	appHead         int64  // the feed position this run covers
	token, oldToken string // the remote's new and previous sync tokens

	byItem     map[int64]*Entry
	byRemote   map[string]*Entry
	fetchErrs  []tidbro.ItemError // remote items that could not be read
	unreadable map[string]bool
	// unconfirmed: some links are marked PendingCreated.
	unconfirmed bool
	// light: a full run of a pair with nothing linked yet (its first run)
	// keeps the first firstRunWhole app items it lists whole, and of the
	// rest only their envelopes (Entry.light) and their match keys until
	// they are matched; the engine reads those items again a page at a time
	// to plan and execute them (executePages). A first run of a big
	// calendar thus never holds every item's content.
	light     bool
	envelopes int                // light entries
	keys      map[int64][]string // their match keys
}

// A light first run (gather.light) keeps up to firstRunWhole app items
// whole (small runs read each item once), and plans and executes
// firstRunPage entries at a time. Variables for the tests.
var (
	firstRunWhole = 5000
	firstRunPage  = tidbro.MaxPageSize
)

const linkPage = 5000

func (g *gather) collect(ctx context.Context) error {
	g.byItem, g.byRemote = map[int64]*Entry{}, map[string]*Entry{}
	g.oldToken = g.p.SyncToken
	var err error
	if g.appHead, err = g.e.Store.Head(ctx, g.p.TenantID); err != nil {
		return err
	}
	if g.opts.Full {
		err = g.full(ctx)
	} else {
		err = g.incremental(ctx)
	}
	if err != nil {
		return err
	}
	g.in.Entries = append(g.in.Entries, g.entries()...)
	g.byItem, g.byRemote = nil, nil // the entries are the planner's now
	if g.envelopes == 0 {
		g.light = false // every item is whole: planned at once, as any run
	}
	return nil
}

// entries returns the gathered entries in a stable order.
func (g *gather) entries() []*Entry {
	var out []*Entry
	for _, id := range sortedKeys(g.byItem) {
		out = append(out, g.byItem[id])
	}
	for _, id := range sortedKeys(g.byRemote) {
		if en := g.byRemote[id]; en.Link == nil && en.App == nil {
			out = append(out, en)
		}
	}
	return out
}

func sortedKeys[K int64 | string, V any](m map[K]V) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// carries reports whether the pair synchronises items of kind k: its
// collection holds them and the policy includes them.
func (g *gather) carries(k tidbro.Kind) bool {
	return slices.Contains(g.p.Kind.PairKinds(), k) && slices.Contains(g.in.Policy.Kinds, k)
}

func (g *gather) incremental(ctx context.Context) error {
	st := g.e.Store
	// App side: the user's feed since the cursor, up to the head.
	since := g.p.AppCursor
	for since < g.appHead {
		cs, err := st.Changes(ctx, tidbro.ChangeQuery{TenantID: g.p.TenantID, OwnerID: g.p.UserID, Since: since, Limit: tidbro.MaxPageSize})
		if err != nil {
			return err
		}
		if len(cs) < tidbro.MaxPageSize {
			since = g.appHead // this page holds the rest of the user's feed
		}
		for _, c := range cs {
			if c.Seq > g.appHead {
				since = g.appHead // written after this run began: the next run's
				break
			}
			since = max(since, c.Seq)
			if !g.carries(c.Item.Kind) {
				continue
			}
			en := g.itemEntry(c.Item.ID)
			en.App = c.Item
			// The newest entry of an item decides: it may have left and come back.
			en.Departed = c.Op == tidbro.OpDepart || c.Item.OwnerID != g.p.UserID
			en.AppGone = en.Departed || c.Item.Deleted
		}
	}
	// Items whose last attempt failed or was interrupted, and decided holds.
	retry, err := st.LinksToRetry(ctx, g.p.ID)
	if err != nil {
		return err
	}
	for _, l := range retry {
		g.itemEntry(l.ItemID).Link = l
	}
	if err := g.holds(ctx); err != nil {
		return err
	}
	if err := g.windowMoved(ctx); err != nil {
		return err
	}
	if err := g.linkItems(ctx); err != nil {
		return err
	}
	g.resumeCreates(ctx)
	return g.remoteSide(ctx)
}

// resumeCreates finishes creates a crash or a lost response interrupted,
// before the remote's changes are joined to links: the remote may list the
// item already, and it must join its link, not be imported as new.
// Creating again with the recorded key is idempotent.
func (g *gather) resumeCreates(ctx context.Context) {
	if g.resume == nil {
		for _, en := range g.byItem {
			if en.Link != nil && en.Link.Pending == tidbro.PendingCreate {
				g.in.DeferImports = true // a dry run resolves nothing
			}
		}
		return
	}
	for _, id := range sortedKeys(g.byItem) {
		en := g.byItem[id]
		if en.Link == nil || en.Link.Pending != tidbro.PendingCreate || en.App == nil {
			continue
		}
		if err := g.e.recordRun(ctx, g.resume.run); err != nil {
			g.in.DeferImports = true // the store fails: the run's writes will too
			return
		}
		if en.AppGone {
			// Only learn the id, so the remote's listing joins the link; the
			// planner then undoes the create.
			if err := g.resume.resolveCreate(ctx, en); err != nil {
				g.in.DeferImports = true
				g.resume.fail(ctx, &Action{Op: DeleteRemote, Entry: en}, err)
			} else {
				g.byRemote[en.Link.RemoteID] = en
			}
			continue
		}
		a := Action{Op: CreateRemote, Rule: "resume an interrupted create", Entry: en, AppState: Changed, RemState: Absent}
		err := g.resume.createRemote(ctx, &a)
		if err != nil {
			g.in.DeferImports = true
			en.ResumeFailed = true // recorded below; not tried twice in one run
		}
		if err != nil {
			g.resume.fail(ctx, &a, err)
		} else {
			g.byRemote[en.Link.RemoteID] = en
		}
		g.resume.record(ctx, a, err)
	}
}

func (g *gather) itemEntry(id int64) *Entry {
	en := g.byItem[id]
	if en == nil {
		en = &Entry{}
		g.byItem[id] = en
	}
	return en
}

func (g *gather) holds(ctx context.Context) error {
	hs, err := g.e.Store.HoldsOfPair(ctx, g.p.ID)
	if err != nil {
		return err
	}
	for _, h := range hs {
		if h.Decision != "" {
			g.itemEntry(h.ItemID).Decision = h.Decision
		}
	}
	return nil
}

// linkItems loads the links of the item entries and the app items the feed
// did not carry.
func (g *gather) linkItems(ctx context.Context) error {
	ids := sortedKeys(g.byItem)
	links, err := g.e.Store.LinksByItem(ctx, g.p.ID, ids)
	if err != nil {
		return err
	}
	for _, l := range links {
		en := g.byItem[l.ItemID]
		en.Link = l
		if l.RemoteID != "" {
			g.byRemote[l.RemoteID] = en
		}
	}
	var missing []int64
	for _, id := range ids {
		if g.byItem[id].App == nil {
			missing = append(missing, id)
		}
	}
	return g.loadItems(ctx, missing)
}

func (g *gather) loadItems(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	items, err := g.e.Store.ItemsByID(ctx, g.p.TenantID, ids)
	if err != nil {
		return err
	}
	for _, it := range items {
		en := g.byItem[it.ID]
		en.App = it
		en.Departed = it.OwnerID != g.p.UserID
		en.AppGone = en.Departed || it.Deleted
	}
	for _, id := range ids {
		if en := g.byItem[id]; en.App == nil {
			en.AppGone = true
		}
	}
	return nil
}

// window is the remote time range the policy keeps in sync.
func (g *gather) window() *tidbro.TimeRange {
	r, ok := g.in.windowRange()
	if !ok {
		return nil
	}
	return &r
}

// windowMoved adds the app items that entered the window since the last
// run without changing (the window moves with the calendar), and makes the
// remote relist: its incremental changes would not show them either.
func (g *gather) windowMoved(ctx context.Context) error {
	r, ok := g.in.windowRange()
	if !ok || g.p.WindowTo.IsZero() || (r.From.Equal(g.p.WindowFrom) && r.To.Equal(g.p.WindowTo)) {
		return nil
	}
	g.oldToken = ""
	var spans []tidbro.TimeRange
	if r.To.After(g.p.WindowTo) {
		spans = append(spans, tidbro.TimeRange{From: maxTime(g.p.WindowTo, r.From), To: r.To})
	}
	if r.From.Before(g.p.WindowFrom) {
		spans = append(spans, tidbro.TimeRange{From: r.From, To: minTime(g.p.WindowFrom, r.To)})
	}
	for _, span := range spans {
		if !span.To.After(span.From) {
			continue
		}
		for _, k := range g.p.Kind.PairKinds() {
			cursor := ""
			for {
				items, next, err := g.e.Store.Items(ctx, tidbro.ItemQuery{TenantID: g.p.TenantID, OwnerID: g.p.UserID, Kind: k,
					From: span.From, To: span.To, Cursor: cursor, Limit: tidbro.MaxPageSize})
				if err != nil {
					return err
				}
				for _, it := range items {
					if en := g.itemEntry(it.ID); en.App == nil {
						en.App = it
					}
				}
				if next == "" {
					break
				}
				cursor = next
			}
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// remoteSide reads the remote's changes since the token (or everything when
// the remote has no usable token) and fetches what it needs.
func (g *gather) remoteSide(ctx context.Context) error {
	ch, err := g.remote.Changes(ctx, g.oldToken, g.window())
	if g.oldToken != "" && tidbro.ErrorCode(err) == tidbro.EINVALID {
		g.e.log().Info("remote refused the sync token: listing everything", "pair", g.p.ID)
		ch, err = g.remote.Changes(ctx, "", g.window())
	}
	if err != nil {
		return fmt.Errorf("remote changes: %w", err)
	}
	g.token = ch.Token
	var fetch, verify []string
	listed := map[string]bool{}
	unlinked := map[string]bool{}
	var ids []string
	for _, r := range ch.Changed {
		ids = append(ids, r.ID)
	}
	for _, r := range ch.Removed {
		ids = append(ids, r.ID)
	}
	if err := g.remoteLinks(ctx, ids); err != nil {
		return err
	}
	for _, r := range ch.Changed {
		listed[r.ID] = true
		en := g.byRemote[r.ID]
		switch {
		case en == nil:
			unlinked[r.ID] = true
			fetch = append(fetch, r.ID)
		case en.Link.RemoteETag != r.ETag:
			fetch = append(fetch, r.ID)
		}
	}
	for _, r := range ch.Removed {
		if en := g.byRemote[r.ID]; en != nil {
			if r.Deleted {
				en.RemoteGone = true
			} else {
				verify = append(verify, r.ID)
			}
		}
	}
	if ch.Full {
		// What a full listing does not show is gone, or outside the window:
		// fetching it tells which.
		var load []int64
		if err := g.allLinks(ctx, func(l *tidbro.Link) {
			if l.RemoteID == "" || listed[l.RemoteID] {
				return
			}
			verify = append(verify, l.RemoteID)
			if g.byRemote[l.RemoteID] == nil {
				en := g.itemEntry(l.ItemID)
				en.Link = l
				g.byRemote[l.RemoteID] = en
				if en.App == nil {
					load = append(load, l.ItemID)
				}
			}
		}); err != nil {
			return err
		}
		if err := g.loadItems(ctx, load); err != nil {
			return err
		}
	}
	// Linked items the app changed or deleted: their remote copy is needed
	// to decide and to write (it carries what tidbro does not model).
	// Items created after the token are fetched too: their deletion may
	// never be reported (see tidbro.PendingCreated).
	for _, en := range g.byItem {
		if en.Link != nil && en.Link.RemoteID != "" &&
			(en.AppGone || en.App == nil || en.App.Hash != en.Link.AppHash || en.Link.Pending != "" || en.Link.Error != "" || en.Decision != "") {
			fetch = append(fetch, en.Link.RemoteID) // fetch drops repeats
			g.byRemote[en.Link.RemoteID] = en       // a resumed create may have learnt its id just now
		}
		if en.Link != nil && en.Link.Pending == tidbro.PendingCreated {
			g.unconfirmed = true
		}
	}
	got, err := g.fetch(ctx, append(fetch, verify...))
	if err != nil {
		return err
	}
	for _, id := range fetch {
		r, ok := got[id]
		if g.unreadable[id] {
			continue // not read is not gone
		}
		if !ok {
			if en := g.byRemote[id]; en != nil && en.Link != nil {
				en.RemoteGone = true // listed as changed, gone by the time we asked
			}
			continue
		}
		if unlinked[id] {
			g.byRemote[id] = &Entry{Remote: r}
		} else {
			g.byRemote[id].Remote = r
		}
	}
	for _, id := range verify {
		en := g.byRemote[id]
		if g.unreadable[id] {
			continue
		}
		if r, ok := got[id]; ok {
			en.Remote = r // not deleted: it moved, maybe out of the window
		} else {
			en.RemoteGone = true
		}
	}
	g.joinUnlinkedImports()
	return g.recoverUnlinkedImports(ctx)
}

// recoverUnlinkedImports finds the groupware items of unlinked imports that
// this run's changes did not list (they may have left the window since):
// a full listing without a window, in this rare case only, finds them.
func (g *gather) recoverUnlinkedImports(ctx context.Context) error {
	orphans := map[string]*Entry{}
	for _, en := range g.byItem {
		if en.UnlinkedImport && en.Remote == nil {
			orphans[en.App.AppID] = en
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	ch, err := g.remote.Changes(ctx, "", nil)
	if err != nil {
		return fmt.Errorf("remote listing to recover interrupted imports: %w", err)
	}
	want := map[string]*Entry{}
	var ids []string
	for _, r := range ch.Changed {
		if en := orphans[importID(g.p.ID, r.ID)]; en != nil {
			want[r.ID] = en
			ids = append(ids, r.ID)
		}
	}
	got, err := g.fetch(ctx, ids)
	if err != nil {
		return err
	}
	for id, r := range got {
		want[id].Remote = r
	}
	return nil
}

// joinUnlinkedImports pairs app items this pair imported but never linked
// (a crash between the app write and the link) with their groupware items,
// found by the import id.
func (g *gather) joinUnlinkedImports() {
	prefix := importPrefix(g.p.ID)
	var orphans map[string]*Entry
	for _, en := range g.byItem {
		if en.Link == nil && en.App != nil && !en.AppGone && strings.HasPrefix(en.App.AppID, prefix) {
			if orphans == nil {
				orphans = map[string]*Entry{}
			}
			en.UnlinkedImport = true
			orphans[en.App.AppID] = en
		}
	}
	if orphans == nil {
		return
	}
	for id, r := range g.byRemote {
		if r.Link != nil || r.App != nil || r.Remote == nil {
			continue
		}
		if en := orphans[importID(g.p.ID, id)]; en != nil {
			en.Remote = r.Remote
			r.App = en.App // claimed
		}
	}
}

// remoteLinks joins remote ids to links (and their app items).
func (g *gather) remoteLinks(ctx context.Context, ids []string) error {
	var need []string
	for _, id := range ids {
		if g.byRemote[id] == nil {
			need = append(need, id)
		}
	}
	if len(need) == 0 {
		return nil
	}
	links, err := g.e.Store.LinksByRemote(ctx, g.p.ID, need)
	if err != nil {
		return err
	}
	var load []int64
	for _, l := range links {
		en := g.itemEntry(l.ItemID)
		en.Link = l
		g.byRemote[l.RemoteID] = en
		if en.App == nil {
			load = append(load, l.ItemID)
		}
	}
	return g.loadItems(ctx, load)
}

func (g *gather) allLinks(ctx context.Context, fn func(*tidbro.Link)) error {
	var after int64
	for {
		ls, err := g.e.Store.Links(ctx, g.p.ID, after, linkPage)
		if err != nil {
			return err
		}
		for _, l := range ls {
			fn(l)
			after = l.ItemID
		}
		if len(ls) < linkPage {
			return nil
		}
	}
}

// fetch gets remote items in batches; per-item failures are noted on the
// entries and do not fail the run.
func (g *gather) fetch(ctx context.Context, ids []string) (map[string]*tidbro.RemoteItem, error) {
	out := map[string]*tidbro.RemoteItem{}
	ids = uniq(ids)
	batch := g.in.Caps.MaxBatch
	if batch <= 0 {
		batch = 50
	}
	for chunk := range slices.Chunk(ids, batch) {
		items, errs, err := g.remote.Fetch(ctx, chunk)
		if err != nil {
			return nil, fmt.Errorf("remote fetch: %w", err)
		}
		for _, it := range items {
			out[it.ID] = it
		}
		for _, ie := range errs {
			g.markUnreadable(ie)
		}
	}
	return out, nil
}

// markUnreadable keeps a linked item that could not be read out of this
// run: unreadable is not deleted.
func (g *gather) markUnreadable(ie tidbro.ItemError) {
	if g.unreadable == nil {
		g.unreadable = map[string]bool{}
	}
	g.unreadable[ie.ID] = true
	if en := g.byRemote[ie.ID]; en != nil && en.Link != nil {
		// Recorded on the link, so the next run reads it again.
		en.RemoteGone, en.RemoteUnread, en.ReadErr = false, true, ie.Err
		return
	}
	g.fetchErrs = append(g.fetchErrs, ie)
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// full relists both sides and rematches what no link joins.
func (g *gather) full(ctx context.Context) error {
	st := g.e.Store
	whole := 0 // app items listed whole
	for _, k := range g.p.Kind.PairKinds() {
		cursor := ""
		for {
			items, next, err := st.Items(ctx, tidbro.ItemQuery{TenantID: g.p.TenantID, OwnerID: g.p.UserID, Kind: k, Cursor: cursor, Limit: tidbro.MaxPageSize})
			if err != nil {
				return err
			}
			for _, it := range items {
				en := g.itemEntry(it.ID)
				if !g.light || whole < firstRunWhole {
					en.App = it
					whole++
					continue
				}
				if g.keys == nil {
					g.keys = map[int64][]string{}
				}
				en.App, en.light, g.keys[it.ID] = envelope(it), true, matchKeys(it)
				g.envelopes++
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	var unlisted []int64
	linked := false
	if err := g.allLinks(ctx, func(l *tidbro.Link) {
		linked = true
		en := g.itemEntry(l.ItemID)
		en.Link = l
		if l.RemoteID != "" {
			g.byRemote[l.RemoteID] = en
		}
		if en.App == nil {
			unlisted = append(unlisted, l.ItemID)
		}
	}); err != nil {
		return err
	}
	if g.light && linked {
		// Links made since they were counted: this run is planned whole.
		if err := g.materializeAll(ctx); err != nil {
			return err
		}
	}
	if err := g.loadItems(ctx, unlisted); err != nil {
		return err
	}
	if err := g.holds(ctx); err != nil {
		return err
	}
	g.resumeCreates(ctx)
	g.oldToken = "" // relist the remote
	if err := g.remoteSide(ctx); err != nil {
		return err
	}
	g.match()
	g.keys = nil
	if !g.opts.Since.IsZero() {
		g.onlySince(g.opts.Since)
	}
	return nil
}

// envelope is what gathering reads of an unlinked app item (see
// gather.light): not its body, nor its hash (which only a link is compared
// with).
func envelope(it *tidbro.Item) *tidbro.Item {
	return &tidbro.Item{ID: it.ID, TenantID: it.TenantID, Kind: it.Kind, AppID: it.AppID, OwnerID: it.OwnerID,
		Version: it.Version, Deleted: it.Deleted, Updated: it.Updated}
}

// materialize reads again, whole, the app items of the light entries
// among entries (see gather.light), and returns the entries to plan. An
// item gone since it was listed (deleted, or no longer the user's) is
// taken as not listed: its entry is left out, unless it holds more than
// the item (a remote item matched to it, which is then imported; a
// decision); a linked one is gone as loadItems would find it.
func (g *gather) materialize(ctx context.Context, entries []*Entry) ([]*Entry, error) {
	var ids []int64
	for _, en := range entries {
		if en.light {
			ids = append(ids, en.App.ID)
		}
	}
	if len(ids) == 0 {
		return entries, nil
	}
	items, err := g.e.Store.ItemsByID(ctx, g.p.TenantID, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*tidbro.Item, len(items))
	for _, it := range items {
		byID[it.ID] = it
	}
	out := make([]*Entry, 0, len(entries))
	for _, en := range entries {
		if !en.light {
			out = append(out, en)
			continue
		}
		en.light = false
		it := byID[en.App.ID]
		switch {
		case it != nil && !it.Deleted && it.OwnerID == g.p.UserID:
			en.App = it
		case en.Link != nil:
			en.App = it
			en.Departed = it != nil && it.OwnerID != g.p.UserID
			en.AppGone = it == nil || en.Departed || it.Deleted
		default:
			en.App, en.UnlinkedImport = nil, false
			if en.Remote == nil && en.Decision == "" {
				continue
			}
		}
		out = append(out, en)
	}
	return out, nil
}

// materializeAll reads the light entries' items whole (materialize), and
// ends the light gathering: the run is planned at once.
func (g *gather) materializeAll(ctx context.Context) error {
	var ids []int64
	for _, id := range sortedKeys(g.byItem) {
		if g.byItem[id].light {
			ids = append(ids, id)
		}
	}
	for chunk := range slices.Chunk(ids, tidbro.MaxPageSize) {
		page := make([]*Entry, len(chunk))
		for i, id := range chunk {
			page[i] = g.byItem[id]
		}
		kept, err := g.materialize(ctx, page)
		if err != nil {
			return err
		}
		keep := make(map[*Entry]bool, len(kept))
		for _, en := range kept {
			keep[en] = true
		}
		for i, id := range chunk {
			if !keep[page[i]] {
				delete(g.byItem, id) // gone since it was listed
			}
		}
	}
	g.light, g.keys = false, nil
	return nil
}

// match pairs unlinked app items with unlinked remote items holding the
// same thing, so that a first connection to a filled calendar, or a reset,
// duplicates nothing: by UID, then by start and summary (tasks: summary and
// due; contacts: name and first e-mail).
func (g *gather) match() {
	remotes := map[string][]*Entry{}
	for _, id := range sortedKeys(g.byRemote) {
		en := g.byRemote[id]
		if en.Link != nil || en.Remote == nil || en.App != nil {
			continue
		}
		for _, k := range matchKeys(en.Remote.Item(en.Remote.Kind)) {
			remotes[k] = append(remotes[k], en)
		}
	}
	for _, id := range sortedKeys(g.byItem) {
		en := g.byItem[id]
		if en.Link != nil || en.App == nil || en.AppGone {
			continue
		}
		keys := g.keys[id]
		if !en.light {
			keys = matchKeys(en.App)
		}
		for _, k := range keys {
			cands := remotes[k]
			i := slices.IndexFunc(cands, func(r *Entry) bool { return r.App == nil })
			if i < 0 {
				continue
			}
			r := cands[i]
			en.Remote = r.Remote
			r.App = en.App // claimed: no longer a separate entry
			break
		}
	}
}

func matchKeys(it *tidbro.Item) []string {
	switch {
	case it.Event != nil:
		keys := []string{}
		if it.Event.UID != "" {
			keys = append(keys, "uid:"+it.Event.UID)
		}
		return append(keys, "ev:"+it.Event.Start.UTC().Format(time.RFC3339)+"|"+it.Event.Summary)
	case it.Task != nil:
		keys := []string{}
		if it.Task.UID != "" {
			keys = append(keys, "uid:"+it.Task.UID)
		}
		due := ""
		if it.Task.Due != nil {
			due = it.Task.Due.UTC().Format(time.RFC3339)
		}
		return append(keys, "task:"+it.Task.Summary+"|"+due)
	case it.Contact != nil:
		keys := []string{}
		if it.Contact.UID != "" {
			keys = append(keys, "uid:"+it.Contact.UID)
		}
		email := ""
		if len(it.Contact.Emails) > 0 {
			email = it.Contact.Emails[0].Address
		}
		return append(keys, "contact:"+it.Contact.DisplayName+"|"+it.Contact.GivenName+"|"+it.Contact.FamilyName+"|"+email)
	}
	return nil
}

// onlySince drops entries neither side changed since t ("sync from date").
func (g *gather) onlySince(t time.Time) {
	for id, en := range g.byItem {
		appOld := en.App == nil || en.App.Updated.Before(t)
		remOld := en.Remote == nil || en.Remote.Modified.Before(t)
		if appOld && remOld && !en.RemoteGone && !en.AppGone {
			delete(g.byItem, id)
		}
	}
	for id, en := range g.byRemote {
		if en.Link == nil && en.App == nil && en.Remote != nil && en.Remote.Modified.Before(t) {
			delete(g.byRemote, id)
		}
	}
}
