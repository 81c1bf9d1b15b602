package storetest

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

func testItemsByID(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, bob := setup(t, s)
	other := newTenant(t, s, "other")
	carol := newUser(t, s, other.ID, "carol")
	ev := put(t, s, event(tn.ID, alice.ID, "ev-1", time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), time.Hour))
	c := put(t, s, contact(tn.ID, bob.ID, "c-1"))
	put(t, s, contact(tn.ID, alice.ID, "c-2"))
	gone := must(s.DeleteItem(ctx, tn.ID, tidbro.KindContact, "c-2", tidbro.Precondition{}, tidbro.OriginGroupware))(t)
	foreign := put(t, s, contact(other.ID, carol.ID, "c-1"))

	got := must(s.ItemsByID(ctx, tn.ID, []int64{c.ID, foreign.ID + 1000, gone.ID, ev.ID, foreign.ID, ev.ID}))(t)
	byID := map[int64]*tidbro.Item{}
	for _, it := range got {
		byID[it.ID] = it
	}
	if len(got) != 3 || len(byID) != 3 {
		t.Fatalf("ItemsByID = %v, want ev-1, c-1 and the tombstone of c-2", appIDs(got))
	}
	for _, want := range []*tidbro.Item{ev, c, gone} {
		if got := byID[want.ID]; !reflect.DeepEqual(got, want) {
			t.Errorf("ItemsByID of %s = %+v, want %+v", want.AppID, got, want)
		}
	}
	if !byID[gone.ID].Deleted || byID[c.ID].Owner != "bob" {
		t.Errorf("tombstone %+v, bob's contact %+v", byID[gone.ID], byID[c.ID])
	}
	if got := must(s.ItemsByID(ctx, tn.ID, nil))(t); len(got) != 0 {
		t.Errorf("ItemsByID of no ids = %v", appIDs(got))
	}
	if got := must(s.ItemsByID(ctx, other.ID, []int64{ev.ID, c.ID}))(t); len(got) != 0 {
		t.Errorf("ItemsByID of another tenant's ids = %v", appIDs(got))
	}
}

func testLinkFields(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	a := newAccount(t, s, alice, "work")
	p, q := newPair(t, s, a, tidbro.KindContact), newPair(t, s, a, tidbro.KindEvent)
	items := putContacts(t, s, tn.ID, alice.ID, "c", 6)
	link := func(pairID, itemID int64) *tidbro.Link {
		t.Helper()
		ls := must(s.LinksByItem(ctx, pairID, []int64{itemID}))(t)
		if len(ls) > 1 {
			t.Fatalf("LinksByItem(%d, %d) = %d links", pairID, itemID, len(ls))
		}
		if len(ls) == 0 {
			return nil
		}
		return ls[0]
	}

	// Every field round-trips; times at microsecond precision.
	full := &tidbro.Link{
		PairID: p.ID, ItemID: items[0].ID, RemoteID: "https://dav.example.com/work/c-0.vcf", RemoteETag: `"etag-1"`,
		AppVersion: 3, AppHash: "app-hash", RemoteHash: "remote-hash",
		Base:   []byte("{\"fn\":\"Ada \u00e9\"}\x00\xff"),
		Origin: tidbro.OriginGroupware, Key: "idem-key-1", Pending: tidbro.PendingUpdate,
		SpanFrom: micro(1), SpanTo: micro(2), Error: "412 from the remote", Attempts: 2, Synced: micro(3),
		WebLink: "https://outlook.office365.com/owa/?itemid=AAMk%2Fx&exvsurl=1&path=/calendar/item",
	}
	noErr(t, s.PutLink(ctx, full))
	if got := link(p.ID, items[0].ID); !reflect.DeepEqual(got, full) {
		t.Errorf("link = %+v, want %+v", got, full)
	}
	if got := must(s.LinksByRemote(ctx, p.ID, []string{full.RemoteID}))(t); len(got) != 1 || !reflect.DeepEqual(got[0], full) {
		t.Errorf("LinksByRemote = %+v, want %+v", got, full)
	}
	// Zero times and no base read back as such.
	bare := &tidbro.Link{PairID: p.ID, ItemID: items[1].ID, RemoteID: "r-1", Origin: tidbro.OriginApp}
	noErr(t, s.PutLink(ctx, bare))
	if got := link(p.ID, items[1].ID); !reflect.DeepEqual(got, bare) {
		t.Errorf("link = %+v, want %+v", got, bare)
	}

	// PutLink replaces every field.
	repl := &tidbro.Link{PairID: p.ID, ItemID: items[0].ID, RemoteID: "r-0", RemoteETag: `"etag-2"`, AppVersion: 4,
		AppHash: "app-hash-2", RemoteHash: "remote-hash-2", Origin: tidbro.OriginApp, SpanFrom: micro(10), SpanTo: micro(10), Synced: micro(11)}
	noErr(t, s.PutLink(ctx, repl))
	if got := link(p.ID, items[0].ID); !reflect.DeepEqual(got, repl) {
		t.Errorf("replaced link = %+v, want %+v", got, repl)
	}
	if got := must(s.LinksByRemote(ctx, p.ID, []string{full.RemoteID}))(t); len(got) != 0 {
		t.Errorf("the replaced link is still found by its old remote id: %+v", got)
	}
	if n := must(s.CountLinks(ctx, p.ID))(t); n != 2 {
		t.Errorf("CountLinks = %d, want 2", n)
	}

	// A remote id links to one item per pair.
	err := s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: items[2].ID, RemoteID: "r-0"})
	wantCode(t, err, tidbro.ECONFLICT, "a second link to remote r-0")
	if got := link(p.ID, items[2].ID); got != nil {
		t.Errorf("the conflicting link was stored: %+v", got)
	}
	err = s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: items[1].ID, RemoteID: "r-0"})
	wantCode(t, err, tidbro.ECONFLICT, "relinking item 1 to remote r-0")
	if got := link(p.ID, items[1].ID); !reflect.DeepEqual(got, bare) {
		t.Errorf("a failed replace changed the link: %+v", got)
	}
	// ... but the same remote id may be linked in another pair,
	noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: q.ID, ItemID: items[2].ID, RemoteID: "r-0"}))
	// and is free again once its link moves on.
	noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: items[0].ID, RemoteID: "r-0-moved"}))
	noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: items[2].ID, RemoteID: "r-0"}))

	// Pending creates have no remote id yet, any number of them.
	for _, it := range items[3:] {
		noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: it.ID, Pending: tidbro.PendingCreate, Key: "k-" + it.AppID}))
	}
	if n := must(s.CountLinks(ctx, p.ID))(t); n != 6 {
		t.Errorf("CountLinks with pending creates = %d, want 6", n)
	}
	if got := must(s.LinksByRemote(ctx, p.ID, []string{""}))(t); len(got) != 0 {
		t.Errorf("LinksByRemote of the empty remote id = %d links", len(got))
	}

	err = s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: items[0].ID, Pending: "later"})
	wantCode(t, err, tidbro.EINVALID, "link with an unknown pending write")
	err = s.PutLink(ctx, &tidbro.Link{PairID: q.ID + 1000, ItemID: items[0].ID})
	wantCode(t, err, tidbro.ENOTFOUND, "link in an unknown pair")
	err = s.PutLink(ctx, &tidbro.Link{PairID: p.ID, ItemID: items[5].ID + 1000})
	wantCode(t, err, tidbro.ENOTFOUND, "link of an unknown item")

	noErr(t, s.DeleteLinks(ctx, p.ID, []int64{items[0].ID}))
	if got := link(p.ID, items[0].ID); got != nil {
		t.Errorf("deleted link: %+v", got)
	}
	noErr(t, s.DeleteLinks(ctx, p.ID, []int64{items[0].ID}))
	noErr(t, s.DeleteLinks(ctx, q.ID+1000, []int64{items[0].ID}))
	noErr(t, s.DeleteLinks(ctx, p.ID, nil))
	if n := must(s.CountLinks(ctx, p.ID))(t); n != 5 {
		t.Errorf("CountLinks after a delete = %d, want 5", n)
	}
	if got := link(q.ID, items[2].ID); got == nil || got.RemoteID != "r-0" {
		t.Errorf("the other pair's link = %+v", got)
	}

	// Writers racing to link one remote item: one wins, the others conflict.
	racers := putContacts(t, s, tn.ID, alice.ID, "race", 8)
	errs := make([]error, len(racers))
	var wg sync.WaitGroup
	for i, it := range racers {
		wg.Go(func() {
			errs[i] = s.PutLink(ctx, &tidbro.Link{PairID: q.ID, ItemID: it.ID, RemoteID: "contended"})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch tidbro.ErrorCode(err) {
		case "":
			won++
		case tidbro.ECONFLICT:
		default:
			t.Errorf("racing PutLink: %v", err)
		}
	}
	if got := must(s.LinksByRemote(ctx, q.ID, []string{"contended"}))(t); won != 1 || len(got) != 1 {
		t.Errorf("%d racing PutLinks succeeded and %d links hold the remote id, want 1 and 1", won, len(got))
	}
}

// testLinksBulk works on 1200 links: more than one chunk of any sensible
// IN list, and more than a page.
func testLinksBulk(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	const n = 1200
	tn, alice, _ := setup(t, s)
	a := newAccount(t, s, alice, "work")
	p, q := newPair(t, s, a, tidbro.KindContact), newPair(t, s, a, tidbro.KindEvent)
	items := putContacts(t, s, tn.ID, alice.ID, "c", n)
	remoteID := func(i int) string { return fmt.Sprintf("https://dav.example.com/c/%04d.vcf", i) }
	retry := map[int64]bool{}
	ids, remoteIDs := make([]int64, n), make([]string, n)
	for i, it := range items {
		l := &tidbro.Link{PairID: p.ID, ItemID: it.ID, RemoteID: remoteID(i), RemoteETag: fmt.Sprintf(`"e%d"`, i), AppVersion: it.Version, AppHash: it.Hash}
		switch {
		case i%97 == 0:
			l.Pending = tidbro.PendingUpdate
		case i%89 == 0:
			l.Error, l.Attempts = "500 from the remote", 1
		case i%83 == 0:
			l.Pending, l.Error = tidbro.PendingDelete, "timeout"
		case i%79 == 0:
			l.Pending = tidbro.PendingCreated
		}
		if l.Pending != "" || l.Error != "" {
			retry[it.ID] = true
		}
		noErr(t, s.PutLink(ctx, l))
		ids[i], remoteIDs[i] = it.ID, l.RemoteID
	}
	// A few links of another pair, to the same items and remote ids.
	for i := 0; i < n; i += 100 {
		noErr(t, s.PutLink(ctx, &tidbro.Link{PairID: q.ID, ItemID: items[i].ID, RemoteID: remoteID(i), Pending: tidbro.PendingCreate}))
	}

	if got := must(s.CountLinks(ctx, p.ID))(t); got != n {
		t.Errorf("CountLinks = %d, want %d", got, n)
	}
	if got := must(s.CountLinks(ctx, q.ID))(t); got != n/100 {
		t.Errorf("CountLinks of the other pair = %d, want %d", got, n/100)
	}

	// Lookups in shuffled order, with unknown ids and duplicates.
	rng := rand.New(rand.NewPCG(1, 2))
	lookupIDs := slices.Clone(ids)
	lookupRemote := slices.Clone(remoteIDs)
	for i := range 300 {
		lookupIDs = append(lookupIDs, items[n-1].ID+1+int64(i), ids[i*3])
		lookupRemote = append(lookupRemote, fmt.Sprintf("unknown-%d", i), remoteIDs[i*3])
	}
	rng.Shuffle(len(lookupIDs), func(i, j int) { lookupIDs[i], lookupIDs[j] = lookupIDs[j], lookupIDs[i] })
	rng.Shuffle(len(lookupRemote), func(i, j int) { lookupRemote[i], lookupRemote[j] = lookupRemote[j], lookupRemote[i] })
	wantRemote := map[int64]string{}
	for i, id := range ids {
		wantRemote[id] = remoteIDs[i]
	}
	check := func(what string, links []*tidbro.Link) {
		t.Helper()
		seen := map[int64]bool{}
		for _, l := range links {
			if l.PairID != p.ID || wantRemote[l.ItemID] != l.RemoteID || seen[l.ItemID] {
				t.Fatalf("%s: unexpected %+v", what, l)
			}
			seen[l.ItemID] = true
		}
		if len(seen) != n {
			t.Errorf("%s: %d links, want %d", what, len(seen), n)
		}
	}
	check("LinksByItem", must(s.LinksByItem(ctx, p.ID, lookupIDs))(t))
	byRemote := must(s.LinksByRemote(ctx, p.ID, lookupRemote))(t)
	check("LinksByRemote", byRemote)
	// LinkedETags: the same links' etags, keyed by remote id; unknown ids
	// and the empty id absent.
	wantETags := map[string]string{}
	for _, l := range byRemote {
		wantETags[l.RemoteID] = l.RemoteETag
	}
	if len(wantETags) != n || wantETags[remoteID(7)] != `"e7"` {
		t.Fatalf("LinksByRemote: etags %d, want %d", len(wantETags), n)
	}
	if got := must(s.LinkedETags(ctx, p.ID, append(slices.Clone(lookupRemote), "")))(t); !reflect.DeepEqual(got, wantETags) {
		t.Errorf("LinkedETags: %d etags, want %d (or different values)", len(got), len(wantETags))
	}
	if got := must(s.LinkedETags(ctx, q.ID, lookupRemote[:1]))(t); len(got) > 1 {
		t.Errorf("LinkedETags of one id = %v", got)
	}
	if got := must(s.LinksByItem(ctx, q.ID, lookupIDs))(t); len(got) != n/100 {
		t.Errorf("LinksByItem of the other pair = %d links, want %d", len(got), n/100)
	}
	if got := must(s.LinksByRemote(ctx, q.ID, lookupRemote))(t); len(got) != n/100 {
		t.Errorf("LinksByRemote of the other pair = %d links, want %d", len(got), n/100)
	}
	if got := must(s.LinksByItem(ctx, p.ID, nil))(t); len(got) != 0 {
		t.Errorf("LinksByItem of no ids = %d links", len(got))
	}

	// The items behind the links, in chunks too.
	got := must(s.ItemsByID(ctx, tn.ID, lookupIDs))(t)
	if len(got) != n {
		t.Errorf("ItemsByID of %d ids (%d known) = %d items", len(lookupIDs), n, len(got))
	}
	for _, it := range got {
		if _, ok := wantRemote[it.ID]; !ok || it.Owner != "alice" {
			t.Fatalf("ItemsByID returned %+v", it)
		}
	}

	// Paging by item id.
	var paged []int64
	for after := int64(0); ; {
		page := must(s.Links(ctx, p.ID, after, 250))(t)
		if len(page) > 250 {
			t.Fatalf("a page of %d links, limit 250", len(page))
		}
		for _, l := range page {
			paged = append(paged, l.ItemID)
		}
		if len(page) < 250 {
			break
		}
		after = page[len(page)-1].ItemID
	}
	sorted := slices.Sorted(slices.Values(ids))
	if !slices.Equal(paged, sorted) {
		t.Errorf("paging gave %d links, want %d in item order", len(paged), len(sorted))
	}
	if page := must(s.Links(ctx, p.ID, sorted[9], 5))(t); len(page) != 5 || page[0].ItemID != sorted[10] || page[4].ItemID != sorted[14] {
		t.Errorf("Links after the 10th item = %d links starting %v", len(page), page)
	}
	if page := must(s.Links(ctx, p.ID, 0, 0))(t); len(page) != tidbro.DefaultPageSize {
		t.Errorf("Links with no limit = %d, want %d", len(page), tidbro.DefaultPageSize)
	}
	// The engine reads pages larger than MaxPageSize.
	if page := must(s.Links(ctx, p.ID, 0, 5000))(t); len(page) != n {
		t.Errorf("Links with limit 5000 = %d, want %d", len(page), n)
	}

	var retried []int64
	for _, l := range must(s.LinksToRetry(ctx, p.ID))(t) {
		if l.PairID != p.ID || (l.Pending == "" && l.Error == "") {
			t.Errorf("LinksToRetry returned %+v", l)
		}
		retried = append(retried, l.ItemID)
	}
	slices.Sort(retried)
	if want := slices.Sorted(maps.Keys(retry)); !slices.Equal(retried, want) {
		t.Errorf("LinksToRetry = %v, want %v", retried, want)
	}
	if got := must(s.LinksToRetry(ctx, q.ID))(t); len(got) != n/100 {
		t.Errorf("LinksToRetry of the other pair = %d, want %d", len(got), n/100)
	}

	// Confirming created links clears only that mark, only in that pair.
	noErr(t, s.ConfirmCreated(ctx, p.ID))
	left := 0
	for _, l := range must(s.LinksToRetry(ctx, p.ID))(t) {
		if l.Pending == tidbro.PendingCreated {
			t.Errorf("still marked created: %+v", l)
		}
		left++
	}
	created := 0
	for i := range items {
		if i%79 == 0 && i%97 != 0 && i%89 != 0 && i%83 != 0 {
			created++
		}
	}
	if created == 0 || left != len(retry)-created {
		t.Errorf("after ConfirmCreated %d links to retry, want %d (%d were marked created)", left, len(retry)-created, created)
	}
	if got := must(s.LinksToRetry(ctx, q.ID))(t); len(got) != n/100 {
		t.Errorf("ConfirmCreated touched another pair: %d to retry, want %d", len(got), n/100)
	}

	// DeleteLinks: more than one IN list's worth, with their holds; the
	// other pair's links and holds, and the rest, stay.
	hold := func(pairID int64, i int) {
		noErr(t, s.PutHold(ctx, &tidbro.Hold{PairID: pairID, ItemID: items[i].ID, Kind: tidbro.KindContact, AppID: items[i].AppID, RemoteID: remoteID(i), Side: "groupware"}))
	}
	hold(p.ID, 0)
	hold(p.ID, 650)
	hold(p.ID, n-1)
	hold(q.ID, 0)
	noErr(t, s.DeleteLinks(ctx, p.ID, ids[:700]))
	if got := must(s.CountLinks(ctx, p.ID))(t); got != n-700 {
		t.Errorf("CountLinks after deleting 700 = %d, want %d", got, n-700)
	}
	if got := must(s.LinksByItem(ctx, p.ID, ids[:700]))(t); len(got) != 0 {
		t.Errorf("%d deleted links remain", len(got))
	}
	if got := must(s.CountLinks(ctx, q.ID))(t); got != n/100 {
		t.Errorf("DeleteLinks touched another pair: %d links, want %d", got, n/100)
	}
	left2 := must(s.HoldsOfPair(ctx, p.ID))(t)
	if len(left2) != 1 || left2[0].ItemID != items[n-1].ID {
		t.Errorf("holds of the pair after DeleteLinks: %+v, want the last item's", left2)
	}
	if got := must(s.HoldsOfPair(ctx, q.ID))(t); len(got) != 1 {
		t.Errorf("DeleteLinks touched another pair's holds: %+v", got)
	}
}

// PutLinks writes a batch in one transaction: all of it, or, when one link
// is refused, none of it.
func testPutLinks(t *testing.T, s tidbro.Store) {
	ctx := t.Context()
	tn, alice, _ := setup(t, s)
	p := newPair(t, s, newAccount(t, s, alice, "work"), tidbro.KindContact)
	items := putContacts(t, s, tn.ID, alice.ID, "c", 5)
	link := func(i int, remoteID string) *tidbro.Link {
		return &tidbro.Link{PairID: p.ID, ItemID: items[i].ID, RemoteID: remoteID, AppVersion: items[i].Version, Pending: tidbro.PendingCreated}
	}
	noErr(t, s.PutLinks(ctx, []*tidbro.Link{link(0, "r0"), link(1, "r1")}))
	// r0 is item 0's: the batch with it for item 3 is refused whole.
	err := s.PutLinks(ctx, []*tidbro.Link{link(2, "r2"), link(3, "r0"), link(4, "r4")})
	wantCode(t, err, tidbro.ECONFLICT, "a batch with a taken remote id")
	got := must(s.LinksByItem(ctx, p.ID, []int64{items[0].ID, items[1].ID, items[2].ID, items[3].ID, items[4].ID}))(t)
	var remote []string
	for _, l := range got {
		remote = append(remote, l.RemoteID)
	}
	slices.Sort(remote)
	if !slices.Equal(remote, []string{"r0", "r1"}) {
		t.Errorf("after a refused batch the links are %v, want [r0 r1]", remote)
	}
	noErr(t, s.PutLinks(ctx, []*tidbro.Link{link(2, "r2"), link(3, "r3"), link(4, "r4")}))
	if n := must(s.CountLinks(ctx, p.ID))(t); n != 5 {
		t.Errorf("CountLinks = %d, want 5", n)
	}
	noErr(t, s.PutLinks(ctx, nil))
}
