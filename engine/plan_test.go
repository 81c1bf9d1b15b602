package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// entry builds an entry whose two sides are in the given states.
func entry(t *testing.T, in *Input, app, rem State, kind tidbro.Kind, origin tidbro.Origin) *Entry {
	t.Helper()
	start := now.Add(24 * time.Hour)
	ev := func(summary string, at time.Time) *tidbro.Event {
		return &tidbro.Event{Summary: summary, Start: at, End: at.Add(time.Hour)}
	}
	it := &tidbro.Item{ID: 7, Kind: kind, AppID: "A7", Type: "appointment", Origin: origin, Event: ev("app v2", start), Updated: now.Add(-time.Hour)}
	if app == OutOfWindow {
		it.Event = ev("app v2", now.AddDate(3, 0, 0))
	}
	it.Hash = it.ContentHash()
	r := &tidbro.RemoteItem{ID: "r7", ETag: "e2", Kind: tidbro.KindEvent, Event: ev("remote v2", start), Modified: now.Add(-2 * time.Hour)}
	e := &Entry{}
	linked := app != New && app != Absent && rem != New && rem != Absent || app == Changed || app == Unchanged || app == Deleted ||
		rem == Changed || rem == Unchanged || rem == Deleted
	if app == OutOfWindow && (rem == New || rem == Absent) || rem == OutOfWindow && (app == New || app == Absent) {
		linked = false
	}
	if linked {
		e.Link = &tidbro.Link{ItemID: 7, RemoteID: "r7", RemoteETag: "e2", AppHash: it.Hash, RemoteHash: RemoteHash(r), Origin: origin}
	}
	switch app {
	case New, Unchanged, OutOfWindow:
		e.App = it
	case Changed:
		e.App = it
		e.Link.AppHash = "before"
	case Deleted:
		e.App, e.AppGone = it, true
	}
	switch rem {
	case New, Unchanged:
		e.Remote = r
	case Changed:
		e.Remote = r
		e.Link.RemoteHash, e.Link.RemoteETag = "before", "e1"
	case Deleted:
		e.RemoteGone = true
	case OutOfWindow:
		if e.Link != nil {
			e.RemoteUnread = true
		} else {
			r.Event = ev("remote", now.AddDate(3, 0, 0))
			e.Remote = r
		}
	case Absent:
		if e.Link != nil {
			e.Link.RemoteID = ""
		}
	}
	if got := [2]State{in.appState(e), in.remoteState(e)}; got != [2]State{app, rem} {
		t.Fatalf("fixture for %v/%v classifies as %v/%v", app, rem, got[0], got[1])
	}
	return e
}

func input(p tidbro.Policy) *Input {
	return &Input{Policy: p.WithDefaults(), Kind: tidbro.KindEvent, Caps: tidbro.Capabilities{Private: true}, Now: now}
}

func policy(mods ...string) tidbro.Policy {
	p := tidbro.DefaultPolicy()
	for _, m := range mods {
		k, v, _ := strings.Cut(m, "=")
		switch k {
		case "direction":
			p.Direction = v
		case "ownership":
			p.Ownership = v
		case "deletions":
			p.Deletions = v
		case "conflicts":
			p.Conflicts = v
		case "private":
			p.Private = v
		}
	}
	return p
}

var allStates = []State{Absent, New, Unchanged, Changed, Deleted, OutOfWindow}

// TestMatrixCoversEveryCell: every reachable pair of states has a decision.
func TestMatrixCoversEveryCell(t *testing.T) {
	for _, a := range allStates {
		for _, r := range allStates {
			linkedApp, linkedRemote := a == Unchanged || a == Changed || a == Deleted, r == Unchanged || r == Changed || r == Deleted
			if linkedApp && (r == New) || linkedRemote && (a == New || a == Absent || a == OutOfWindow) {
				continue // an unlinked side next to a linked one cannot happen
			}
			if _, ok := matrix[[2]State{a, r}]; !ok {
				t.Errorf("no decision for app %v × remote %v", a, r)
			}
		}
	}
}

func TestDecisionTable(t *testing.T) {
	type row struct {
		policy      []string
		app, rem    State
		kind        tidbro.Kind
		origin      tidbro.Origin
		want        Op
		ruleContain string
	}
	A, G := tidbro.OriginApp, tidbro.OriginGroupware
	rows := []row{
		// two-way, shared (the defaults)
		{nil, New, Absent, "", A, CreateRemote, "new in the app"},
		{nil, Absent, New, "", G, CreateApp, "import"},
		{nil, Unchanged, Unchanged, "", A, Skip, "unchanged"},
		{nil, Changed, Unchanged, "", A, UpdateRemote, "changed in the app"},
		{nil, Unchanged, Changed, "", A, UpdateApp, "changed in groupware"},
		{nil, Changed, Changed, "", A, UpdateRemote, "app edit is newer"},
		{nil, Deleted, Unchanged, "", A, DeleteRemote, "deleted in app"},
		{nil, Unchanged, Deleted, "", A, DeleteApp, "deleted in groupware"},
		{nil, Deleted, Deleted, "", A, Unlink, "both sides"},
		{nil, Changed, Deleted, "", A, RestoreRemote, "the edit wins"},
		{nil, Deleted, Changed, "", A, RestoreApp, "the edit wins"},
		{nil, Deleted, Absent, "", A, Unlink, ""},
		{nil, Unchanged, Absent, "", A, CreateRemote, ""},
		{nil, Unchanged, OutOfWindow, "", A, Skip, "outside the window"},
		{nil, OutOfWindow, Absent, "", A, Skip, "outside the window"},
		{nil, Absent, OutOfWindow, "", G, Skip, "outside the window"},
		{nil, Deleted, OutOfWindow, "", A, DeleteRemote, ""},
		// deletions
		{[]string{"deletions=hold"}, Deleted, Unchanged, "", A, Hold, "hold"},
		{[]string{"deletions=hold"}, Unchanged, Deleted, "", A, Hold, "hold"},
		{[]string{"deletions=hold"}, Changed, Deleted, "", A, Hold, "hold"},
		{[]string{"deletions=restore"}, Deleted, Unchanged, "", A, RestoreApp, "restore"},
		{[]string{"deletions=restore"}, Unchanged, Deleted, "", A, RestoreRemote, "restore"},
		// conflicts
		{[]string{"conflicts=groupware"}, Changed, Changed, "", A, UpdateApp, "conflicts groupware"},
		{[]string{"conflicts=app"}, Changed, Changed, "", A, UpdateRemote, "conflicts app"},
		// app-to-groupware: groupware edits and deletions are reverted
		{[]string{"direction=app-to-groupware"}, Absent, New, "", G, Skip, "not imported"},
		{[]string{"direction=app-to-groupware"}, Unchanged, Changed, "", A, UpdateRemote, "reverted"},
		{[]string{"direction=app-to-groupware"}, Unchanged, Deleted, "", A, RestoreRemote, "restored"},
		{[]string{"direction=app-to-groupware"}, Changed, Changed, "", A, UpdateRemote, "app leads"},
		{[]string{"direction=app-to-groupware"}, Deleted, Unchanged, "", A, DeleteRemote, ""},
		{[]string{"direction=app-to-groupware", "deletions=hold"}, Deleted, Unchanged, "", A, Hold, ""},
		// groupware-to-app: import only
		{[]string{"direction=groupware-to-app"}, New, Absent, "", A, Skip, "not exported"},
		{[]string{"direction=groupware-to-app"}, Changed, Unchanged, "", G, UpdateApp, "reverted"},
		{[]string{"direction=groupware-to-app"}, Deleted, Unchanged, "", G, RestoreApp, "restored"},
		{[]string{"direction=groupware-to-app"}, Unchanged, Deleted, "", G, DeleteApp, ""},
		// origin ownership: the other side's edits and deletions are reverted
		{[]string{"ownership=origin"}, Unchanged, Changed, "", A, UpdateRemote, "born in the app"},
		{[]string{"ownership=origin"}, Unchanged, Deleted, "", A, RestoreRemote, "born in the app"},
		{[]string{"ownership=origin"}, Changed, Unchanged, "", G, UpdateApp, "born in groupware"},
		{[]string{"ownership=origin"}, Deleted, Unchanged, "", G, RestoreApp, "born in groupware"},
		{[]string{"ownership=origin"}, Unchanged, Deleted, "", G, DeleteApp, "born in groupware"},
		{[]string{"ownership=origin"}, Deleted, Unchanged, "", A, DeleteRemote, "born in the app"},
		// jobs are exported
		{nil, Unchanged, Changed, tidbro.KindJob, A, UpdateRemote, "jobs are exported"},
		{nil, Unchanged, Deleted, tidbro.KindJob, A, RestoreRemote, "jobs are exported"},
	}
	for _, r := range rows {
		kind := r.kind
		if kind == "" {
			kind = tidbro.KindEvent
		}
		name := fmt.Sprintf("%v/%s/%v×%v", r.policy, kind, r.app, r.rem)
		t.Run(name, func(t *testing.T) {
			in := input(policy(r.policy...))
			e := entry(t, in, r.app, r.rem, kind, r.origin)
			a := in.decide(e)
			if a.Op != r.want || !strings.Contains(a.Rule, r.ruleContain) {
				t.Fatalf("got %s (%s), want %s (rule containing %q)", a.Op, a.Rule, r.want, r.ruleContain)
			}
		})
	}
}

// TestPolicyInvariants walks every policy over every cell and checks what
// each policy promises never to do.
func TestPolicyInvariants(t *testing.T) {
	appWrites := map[Op]bool{CreateApp: true, UpdateApp: true, DeleteApp: true, RestoreApp: true, Merge: true}
	remoteWrites := map[Op]bool{CreateRemote: true, UpdateRemote: true, DeleteRemote: true, RestoreRemote: true, Merge: true}
	for _, dir := range []string{tidbro.DirectionTwoWay, tidbro.DirectionAppToGroupware, tidbro.DirectionGroupwareToApp} {
		for _, own := range []string{tidbro.OwnershipShared, tidbro.OwnershipOrigin} {
			for _, del := range []string{tidbro.DeletionsPropagate, tidbro.DeletionsRestore, tidbro.DeletionsHold} {
				for _, con := range []string{tidbro.ConflictsApp, tidbro.ConflictsGroupware, tidbro.ConflictsNewest, tidbro.ConflictsMerge} {
					for _, origin := range []tidbro.Origin{tidbro.OriginApp, tidbro.OriginGroupware} {
						in := input(policy("direction="+dir, "ownership="+own, "deletions="+del, "conflicts="+con))
						for cell := range matrix {
							if cell[0] == OutOfWindow && (cell[1] == Unchanged || cell[1] == Changed || cell[1] == Deleted || cell[1] == OutOfWindow) ||
								cell[1] == OutOfWindow && cell[0] == Deleted {
								continue // a linked app item is compared wherever it is: never out of the window
							}
							e := entry(t, in, cell[0], cell[1], tidbro.KindEvent, origin)
							a := in.decide(e)
							where := fmt.Sprintf("%s/%s/%s/%s origin %s, %v×%v: %s (%s)", dir, own, del, con, origin, cell[0], cell[1], a.Op, a.Rule)
							deletes := a.Op == DeleteApp || a.Op == DeleteRemote
							// Where a side is new or absent, the item's origin is that of the side it exists on.
							linked := cell[0] != New && cell[0] != Absent && cell[1] != New && cell[1] != Absent
							switch {
							case cell[0] == OutOfWindow || cell[1] == OutOfWindow:
								if a.Op != Skip {
									t.Errorf("leaving the window must change nothing: %s", where)
								}
							case dir == tidbro.DirectionAppToGroupware && (a.Op == CreateApp || a.Op == UpdateApp || a.Op == DeleteApp || a.Op == Merge):
								t.Errorf("app-to-groupware wrote the app from groupware: %s", where)
							case dir == tidbro.DirectionGroupwareToApp && (a.Op == CreateRemote || a.Op == UpdateRemote || a.Op == DeleteRemote || a.Op == RestoreRemote || a.Op == Merge):
								t.Errorf("groupware-to-app wrote groupware: %s", where)
							case linked && dir == tidbro.DirectionTwoWay && own == tidbro.OwnershipOrigin && origin == tidbro.OriginApp && appWrites[a.Op]:
								t.Errorf("an app-born item was changed by groupware under origin ownership: %s", where)
							case linked && dir == tidbro.DirectionTwoWay && own == tidbro.OwnershipOrigin && origin == tidbro.OriginGroupware && remoteWrites[a.Op]:
								t.Errorf("a groupware-born item was changed by the app under origin ownership: %s", where)
							case del == tidbro.DeletionsHold && deletes:
								t.Errorf("deletions hold, yet deleted: %s", where)
							case (cell[0] == Deleted) != (cell[1] == Deleted) && a.Op == Skip:
								t.Errorf("a one-sided deletion was ignored: %s", where)
							case cell[0] == Changed && cell[1] == Unchanged && a.Op != UpdateRemote && a.Op != UpdateApp:
								t.Errorf("an app edit went nowhere: %s", where)
							}
						}
					}
				}
			}
		}
	}
}

func TestRemoteTruncationIsNoChange(t *testing.T) {
	in := input(policy())
	in.Caps.FieldLimits = map[string]int{"summary": 10}
	e := entry(t, in, Changed, Changed, tidbro.KindEvent, tidbro.OriginApp)
	e.App.Event.Summary = "A long subject that the remote cuts"
	e.Remote.Event = cloneEvent(e.App.Event)
	e.Remote.Event.Summary = "A long sub"
	if a := in.decide(e); a.Op != Relink {
		t.Fatalf("a truncated echo of the app's subject counts as a change: %s (%s)", a.Op, a.Rule)
	}
	// An import keeps the app's full text where the remote holds it cut.
	e.Remote.Event.Location = "Room 2"
	a := in.decide(e)
	if a.Op != UpdateRemote {
		t.Fatalf("got %s", a.Op)
	}
	v := in.importView(e.Remote, e.App)
	if v.Event.Summary != e.App.Event.Summary || v.Event.Location != "Room 2" {
		t.Fatalf("import view: summary %q location %q", v.Event.Summary, v.Event.Location)
	}
}

func TestPrivateGroupwareItems(t *testing.T) {
	for _, c := range []struct {
		policy string
		want   Op
		busy   bool
	}{{"skip", Skip, false}, {"busy", CreateApp, true}, {"import", CreateApp, false}} {
		in := input(policy("private=" + c.policy))
		e := entry(t, in, Absent, New, tidbro.KindEvent, tidbro.OriginGroupware)
		e.Remote.Event.Private = true
		e.Remote.Event.Location = "Doctor"
		a := in.decide(e)
		if a.Op != c.want {
			t.Fatalf("private %s: %s", c.policy, a.Op)
		}
		if a.Op == CreateApp {
			ev := a.Body.(*tidbro.Event)
			if c.busy != (ev.Summary == "Busy" && ev.Location == "") || !ev.Private {
				t.Fatalf("private %s imported as %+v", c.policy, ev)
			}
		}
	}
}

func TestMergeKeepsBothSidesEdits(t *testing.T) {
	in := input(policy("conflicts=merge"))
	e := entry(t, in, Changed, Changed, tidbro.KindEvent, tidbro.OriginApp)
	base := &tidbro.Item{Kind: tidbro.KindEvent, Event: cloneEvent(e.App.Event)}
	base.Event.Summary, base.Event.Location = "old", "old room"
	e.Link.Base = mustJSON(t, base.Event)
	e.App.Event.Summary, e.App.Event.Location = "new subject", "old room" // the app changed the subject
	e.Remote.Event = cloneEvent(base.Event)
	e.Remote.Event.Location = "new room" // groupware changed the room
	a := in.decide(e)
	if a.Op != Merge {
		t.Fatalf("got %s (%s)", a.Op, a.Rule)
	}
	ev := a.Body.(*tidbro.Event)
	if ev.Summary != "new subject" || ev.Location != "new room" {
		t.Fatalf("merged %q at %q", ev.Summary, ev.Location)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSONb(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestMassDeletionGuard(t *testing.T) {
	in := input(policy())
	in.Links = 40
	for range 25 {
		in.Entries = append(in.Entries, entry(t, in, Unchanged, Deleted, tidbro.KindEvent, tidbro.OriginApp))
	}
	if p := in.Plan(); p.Stop == "" {
		t.Fatal("25 of 40 deleted in groupware did not stop the run")
	}
	in.AllowMassDelete = true
	if p := in.Plan(); p.Stop != "" {
		t.Fatal("allowed mass deletion still stopped")
	}
	in = input(policy())
	in.Links, in.Full = 6, true
	for range 6 {
		in.Entries = append(in.Entries, entry(t, in, Unchanged, Deleted, tidbro.KindEvent, tidbro.OriginApp))
	}
	if p := in.Plan(); !strings.Contains(p.Stop, "gone from groupware") {
		t.Fatalf("an emptied remote did not stop the run: %q", p.Stop)
	}
	in = input(policy())
	in.Links = 40
	for range 5 {
		in.Entries = append(in.Entries, entry(t, in, Unchanged, Deleted, tidbro.KindEvent, tidbro.OriginApp))
	}
	if p := in.Plan(); p.Stop != "" {
		t.Fatalf("5 deletions stopped the run: %s", p.Stop)
	}
}

// The remote's view of an item never changes the app item it came from.
func TestRemoteViewLeavesTheAppItemAlone(t *testing.T) {
	in := input(policy())
	in.Caps = tidbro.Capabilities{FieldLimits: map[string]int{"summary": 3, "description": 3}}
	start := now.Add(time.Hour)
	it := &tidbro.Item{Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: "Weekly", Start: start, End: start.Add(time.Hour), Private: true,
		RRule: "FREQ=WEEKLY", Alarms: []tidbro.Alarm{{Trigger: "-PT5M", Description: "Reminder"}},
		Overrides: []tidbro.Event{{Summary: "Weekly, moved", Start: start.Add(7 * 24 * time.Hour)}}}}
	before := mustJSONb(it.Event)
	v, err := in.remoteView(it)
	if err != nil {
		t.Fatal(err)
	}
	if v.Event.Summary != "Wee" || v.Event.Overrides[0].Summary != "Wee" || v.Event.Alarms[0].Description != "Rem" || v.Event.Private {
		t.Fatalf("view %+v", v.Event)
	}
	if after := mustJSONb(it.Event); string(after) != string(before) {
		t.Fatalf("the app item changed:\n%s\n%s", before, after)
	}
}

// A cut override summary never replaces the app's full one either.
func TestImportKeepsFullTextsAtAnyDepth(t *testing.T) {
	in := input(policy())
	in.Caps.FieldLimits = map[string]int{"summary": 5}
	start := now.Add(time.Hour)
	app := &tidbro.Item{Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: "A long series", Start: start, End: start.Add(time.Hour),
		RRule: "FREQ=WEEKLY", Overrides: []tidbro.Event{{Summary: "A long exception", Start: start.Add(7 * 24 * time.Hour)}}}}
	view, err := in.remoteView(app)
	if err != nil {
		t.Fatal(err)
	}
	r := &tidbro.RemoteItem{ID: "r", Kind: tidbro.KindEvent, Event: view.Event}
	r.Event.Location = "Room 2" // the groupware user's edit
	before := mustJSONb(r.Event)
	got := in.importView(r, app)
	if got.Event.Summary != "A long series" || got.Event.Overrides[0].Summary != "A long exception" || got.Event.Location != "Room 2" {
		t.Fatalf("imported %s", mustJSONb(got.Event))
	}
	if string(mustJSONb(r.Event)) != string(before) {
		t.Fatal("importing changed the fetched remote item")
	}
}

// A private app item is kept off a remote that cannot mark items private,
// and a copy the remote holds already is taken back: a linked one, and
// the groupware item of an import whose link a crash lost (joined to it by
// its import id, gather.joinUnlinkedImports). Skipping the latter left the
// groupware item linked to nothing for good (property seed 4785).
func TestPrivateAppItemOnARemoteWithoutPrivate(t *testing.T) {
	for _, c := range []struct {
		name     string
		app, rem State
		origin   tidbro.Origin
		unlinked bool
		want     Op
	}{
		{"new", New, Absent, tidbro.OriginApp, false, Skip},
		{"linked, changed", Changed, Unchanged, tidbro.OriginApp, false, DeleteRemote},
		{"linked import, changed", Changed, Unchanged, tidbro.OriginGroupware, false, DeleteRemote},
		{"import whose link was lost", New, New, tidbro.OriginGroupware, true, DeleteRemote},
	} {
		in := input(policy())
		in.Caps.Private = false
		e := entry(t, in, c.app, c.rem, tidbro.KindEvent, c.origin)
		e.App.Event.Private = true
		e.App.Hash = e.App.ContentHash()
		e.UnlinkedImport = c.unlinked
		if a := in.decide(e); a.Op != c.want || !strings.Contains(a.Rule, "private app item") {
			t.Errorf("%s: got %s (%s), want %s", c.name, a.Op, a.Rule, c.want)
		}
	}
}
