// Package engine synchronises pairs: it gathers what changed on both sides,
// plans with a pure function of (both sides, links, policy), and executes the
// plan idempotently, recording intent before every remote write.
package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tidbro/tidbro"
)

// State is what happened to an item on one side since the last sync.
type State int

const (
	Absent      State = iota // no item and no link
	New                      // an item the pair has never synchronised
	Unchanged                // linked, same content as at the last sync
	Changed                  // linked, different content
	Deleted                  // linked, gone (on the app side also: reassigned away)
	OutOfWindow              // exists, outside the window: never a deletion
)

var stateNames = [...]string{"absent", "new", "unchanged", "changed", "deleted", "out-of-window"}

func (s State) String() string { return stateNames[s] }

// Op is what an action does.
type Op string

const (
	CreateRemote  Op = "create-remote"
	UpdateRemote  Op = "update-remote"
	DeleteRemote  Op = "delete-remote"
	RestoreRemote Op = "restore-remote" // write the app's item again after a remote deletion
	CreateApp     Op = "create-app"     // import a groupware item
	UpdateApp     Op = "update-app"
	DeleteApp     Op = "delete-app"
	RestoreApp    Op = "restore-app" // bring the app item back from the remote's copy
	Merge         Op = "merge"       // write field-merged content to both sides
	Relink        Op = "relink"      // both sides agree: record it, write nothing
	Unlink        Op = "unlink"      // both sides are gone: forget the link
	Hold          Op = "hold"        // a deletion waits for a decision
	Skip          Op = "skip"        // nothing to do, for a stated reason
)

// Entry is one item as both sides and the link know it; the engine gathers
// entries, the planner decides on them.
type Entry struct {
	Link *tidbro.Link // nil: never synchronised
	// App is the app item now (nil when there is none). AppGone says a
	// linked app item was deleted or reassigned to another user (Departed).
	App      *tidbro.Item
	AppGone  bool
	Departed bool
	// Remote is the remote item when it was fetched (new or changed on the
	// remote, or needed for a decision); nil with a link means unchanged.
	Remote       *tidbro.RemoteItem
	RemoteGone   bool // the remote deleted it
	RemoteUnread bool // it could not be read this run: not a deletion
	// Decision is a held deletion's decision, if one was made.
	Decision string
	// UnlinkedImport: an app item this pair imported, whose link a crash
	// lost; it is joined to its groupware item, never exported as new.
	UnlinkedImport bool
	// ReadErr: the linked remote item could not be read this run.
	ReadErr error
	// ResumeFailed: resuming its interrupted create failed at the start of
	// this run (and was recorded); the next run tries again.
	ResumeFailed bool

	// light: App is the item's envelope only, read again whole before the
	// entry is planned (gather.light).
	light bool
}

// Input is everything the planner decides from.
type Input struct {
	Policy  tidbro.Policy // with defaults applied
	Kind    tidbro.Kind   // the pair's collection kind
	Caps    tidbro.Capabilities
	Mapping JobMapping
	Now     time.Time
	Entries []*Entry
	Full    bool // a full run: Entries cover everything on both sides
	// Links is how many items the pair had linked before this run, for the
	// mass-deletion guard; AllowMassDelete lifts the guard for one run.
	Links           int
	AllowMassDelete bool
	// Since: a full run limited to recent changes; what it does not see is
	// not gone.
	Since bool
	// DeferImports: an interrupted create is still unresolved, and its
	// remote item may be among the new ones; importing now could duplicate
	// it. Imports wait (the engine keeps the remote token).
	DeferImports bool
}

// Action is one planned step, with the rule that chose it.
type Action struct {
	Op       Op
	Rule     string
	Entry    *Entry
	AppState State
	RemState State
	Conflict bool // both sides changed; Rule says who won
	// Body is the content to write to the app (imports, updates from
	// groupware) or to both sides (Merge).
	Body any
	Err  error // the entry could not be planned; recorded as a per-item error
}

// Plan is the planner's answer. When Stop is set, nothing may be executed.
type Plan struct {
	Actions []Action
	Stop    string
}

// Mass-deletion guard thresholds: a side that was linked to at least
// emptySideMin items and is now empty, or more deletions than
// Policy.MassDeletePercent of the links (and at least massDeleteMin), stop
// the run before anything is written.
const (
	emptySideMin  = 5
	massDeleteMin = 10
)

// Plan decides what to do with every entry. It is a pure function of its
// input: no clock, no I/O.
func (in *Input) Plan() Plan {
	var p Plan
	p.Actions = make([]Action, 0, len(in.Entries))
	for _, e := range in.Entries {
		p.Actions = append(p.Actions, in.decide(e))
	}
	if !in.AllowMassDelete {
		p.Stop = in.massDeletion(p.Actions)
	}
	return p
}

func (in *Input) decide(e *Entry) Action {
	as, rs := in.appState(e), in.remoteState(e)
	a := Action{Entry: e, AppState: as, RemState: rs}
	if e.ResumeFailed {
		a.Op, a.Rule = Skip, "resuming the interrupted create failed; the next run tries again"
		return a
	}
	if e.ReadErr != nil {
		a.Op, a.Rule, a.Err = Skip, "cannot read the remote item", e.ReadErr
		return a
	}
	if in.DeferImports && e.Link == nil && e.App == nil && rs == New {
		a.Op, a.Rule = Skip, "an interrupted create is unresolved: imports wait for the next run"
		return a
	}
	if e.UnlinkedImport && e.Remote == nil && as == New {
		a.Op, a.Rule = Skip, "an import interrupted before its link was recorded waits for its groupware item"
		return a
	}
	if e.Link != nil && e.Link.Pending == tidbro.PendingCreate && as == Deleted {
		// The create may have reached the remote before the crash.
		a.Op, a.Rule = DeleteRemote, "app item deleted while its create was interrupted: undo the create"
		return a
	}
	a.Op, a.Rule = matrix[[2]State{as, rs}](in, e, in.lead(e))
	// A one-way pair never writes the side it follows, whatever the cell,
	// unless a person decided so for a held deletion.
	switch {
	case e.Decision != "":
	case in.Policy.Direction == tidbro.DirectionGroupwareToApp && writesRemote(a.Op):
		a.Op, a.Rule = Skip, "direction groupware-to-app: groupware is not written ("+a.Rule+")"
	case in.Policy.Direction == tidbro.DirectionAppToGroupware && writesApp(a.Op):
		a.Op, a.Rule = Skip, "direction app-to-groupware: the app is not written ("+a.Rule+")"
	}
	if writesRemote(a.Op) && a.Op != DeleteRemote && e.App != nil && e.App.Private() && !in.Caps.Private {
		// It would show there unmarked: keep it out, and take back a copy
		// made while it was not private, linked or joined (an import whose
		// link a crash lost has its groupware item all the same).
		a.Op, a.Rule = Skip, "private app item: the remote cannot mark items private ("+a.Rule+")"
		if (e.Link != nil && e.Link.RemoteID != "") || (e.UnlinkedImport && e.Remote != nil) {
			a.Op = DeleteRemote
		}
	}
	if a.Op == Skip && as == Unchanged && rs == Unchanged && e.Remote != nil &&
		(e.Remote.ETag != e.Link.RemoteETag || (e.Link.Pending != "" && e.Link.Pending != tidbro.PendingCreated) || e.Link.Error != "") {
		// Same content on both sides: record what the remote now calls it,
		// and close what an interrupted write left open.
		a.Op, a.Rule = Relink, "unchanged content under a new etag, or a write that completed without its answer"
		return a
	}
	bothMoved := (as == Changed || as == New) && (rs == Changed || rs == New)
	a.Conflict = bothMoved
	if bothMoved && a.Op != Skip {
		same, err := in.sameContent(e)
		if err != nil {
			a.Op, a.Rule, a.Err = Skip, "cannot render the app item", err
			return a
		}
		if same {
			a.Op, a.Rule, a.Conflict = Relink, "both sides hold the same content", false
			return a
		}
	}
	switch a.Op {
	case Merge:
		merged, clashes, err := in.merge(e)
		if err != nil {
			a.Op, a.Rule, a.Err = Skip, "cannot merge", err
			return a
		}
		a.Body = in.importView(merged, e.App).Body()
		if len(clashes) > 0 {
			a.Rule += fmt.Sprintf("; changed on both sides: %v", clashes)
		}
	case CreateApp, UpdateApp, RestoreApp:
		if e.Remote == nil {
			a.Op, a.Err = Skip, fmt.Errorf("%s needs the remote item, which was not fetched", a.Op)
			return a
		}
		a.Body = in.importView(e.Remote, e.App).Body()
	}
	return a
}

// sameContent reports whether the remote already holds what the app item
// would be written as.
func (in *Input) sameContent(e *Entry) (bool, error) {
	v, err := in.remoteView(e.App)
	if err != nil {
		return false, err
	}
	return viewHash(v) == RemoteHash(e.Remote), nil
}

func (in *Input) appState(e *Entry) State {
	// The window decides what is created and imported; a linked item is
	// compared wherever it is, so that moving it across the edge moves its
	// copy too (and is never taken for a deletion).
	live := e.App != nil && !e.App.Deleted && !e.AppGone
	switch {
	case e.Link == nil && !live:
		return Absent
	case e.Link != nil && !live:
		return Deleted
	case e.Link == nil && !in.inWindow(e.App.Span()) && !(e.UnlinkedImport && e.Remote != nil):
		return OutOfWindow
	case e.Link == nil:
		return New
	case e.App.Hash != e.Link.AppHash:
		return Changed
	}
	return Unchanged
}

func (in *Input) remoteState(e *Entry) State {
	switch {
	case e.Link == nil && e.Remote == nil:
		return Absent
	case e.Link != nil && e.Link.RemoteID == "":
		return Absent // its create never completed
	case e.Link != nil && e.RemoteGone:
		return Deleted
	case e.RemoteUnread && e.Remote == nil:
		return OutOfWindow // content unknown this run: left alone
	case e.Remote == nil:
		return Unchanged
	case e.Link == nil && !e.UnlinkedImport && !in.inWindow(e.Remote.Item(e.Remote.Kind).Span()):
		return OutOfWindow
	case e.Link == nil:
		return New
	case e.Link.RemoteETag != "" && e.Remote.ETag == e.Link.RemoteETag && e.Link.Pending == "":
		return Unchanged // the version we last saw: no need to hash it
	case RemoteHash(e.Remote) != e.Link.RemoteHash:
		return Changed
	}
	return Unchanged
}

// windowRange is the policy's window around today, for event pairs. It moves
// a day at a time, so a remote whose change tokens are bound to a window
// (Graph's calendarView) relists once a day, not on every run.
func (in *Input) windowRange() (tidbro.TimeRange, bool) {
	w := in.Policy.Window
	if w == nil || (in.Kind != tidbro.KindEvent && in.Kind != tidbro.KindJob) {
		return tidbro.TimeRange{}, false
	}
	today := in.Now.UTC().Truncate(24 * time.Hour)
	return tidbro.TimeRange{From: today.AddDate(0, 0, -w.PastDays), To: today.AddDate(0, 0, w.FutureDays+1)}, true
}

// inWindow applies the window to an item's span; tasks, contacts and
// undated items are always in.
func (in *Input) inWindow(from, to time.Time, ok bool) bool {
	r, windowed := in.windowRange()
	if !ok || !windowed {
		return true
	}
	return from.Before(r.To) && !to.Before(r.From)
}

// massDeletion returns why the plan must not run, or "".
func (in *Input) massDeletion(actions []Action) string {
	var appDeletes, remoteDeletes, appLive, remoteLive int
	for _, a := range actions {
		switch {
		case a.Op == DeleteApp:
			appDeletes++
		case a.Op == DeleteRemote && !a.Entry.Departed:
			remoteDeletes++
		}
		if a.AppState != Deleted && a.AppState != Absent {
			appLive++
		}
		if a.RemState != Deleted && a.RemState != Absent {
			remoteLive++
		}
	}
	var appGone, remoteGone int
	for _, a := range actions {
		if a.AppState == Deleted && !a.Entry.Departed {
			appGone++
		}
		if a.RemState == Deleted {
			remoteGone++
		}
	}
	if in.Links >= emptySideMin && !in.Since {
		if remoteGone == in.Links {
			return fmt.Sprintf("every one of the %d linked items is gone from groupware: nothing was changed (run with mass deletion allowed to propagate)", in.Links)
		}
		if appGone == in.Links {
			return fmt.Sprintf("every one of the %d linked items is gone from the app: nothing was changed (run with mass deletion allowed to propagate)", in.Links)
		}
	}
	if in.Full && !in.Since && in.Links >= emptySideMin {
		if appLive == 0 {
			return fmt.Sprintf("the app side is empty but %d items were linked: nothing was changed (run with mass deletion allowed to propagate)", in.Links)
		}
		if remoteLive == 0 {
			return fmt.Sprintf("the groupware side is empty but %d items were linked: nothing was changed (run with mass deletion allowed to propagate)", in.Links)
		}
	}
	limit := in.Links * in.Policy.MassDeletePercent / 100
	for side, n := range map[string]int{"groupware": remoteDeletes, "the app": appDeletes} {
		if n >= massDeleteMin && n > limit {
			return fmt.Sprintf("%d deletions in %s would exceed %d%% of %d linked items: nothing was changed (run with mass deletion allowed to propagate)",
				n, side, in.Policy.MassDeletePercent, in.Links)
		}
	}
	return ""
}

// merge merges the app's view and the remote's content against the link's
// base (the remote view both last agreed on). The result is what the remote
// should hold; the app takes it through importView.
func (in *Input) merge(e *Entry) (*tidbro.RemoteItem, []string, error) {
	view, err := in.remoteView(e.App)
	if err != nil {
		return nil, nil, err
	}
	fields, clashes, err := merge3(e.Link.Base, view.Body(), e.Remote.Body(), !e.Remote.Modified.After(e.App.Updated))
	if err != nil {
		return nil, nil, err
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, err
	}
	r := &tidbro.RemoteItem{ID: e.Remote.ID, ETag: e.Remote.ETag, Kind: e.Remote.Kind, Modified: e.Remote.Modified}
	switch r.Kind {
	case tidbro.KindEvent:
		r.Event = new(tidbro.Event)
		err = json.Unmarshal(raw, r.Event)
	case tidbro.KindTask:
		r.Task = new(tidbro.Task)
		err = json.Unmarshal(raw, r.Task)
	default:
		r.Contact = new(tidbro.Contact)
		err = json.Unmarshal(raw, r.Contact)
	}
	return r, clashes, err
}

func writesRemote(op Op) bool {
	return op == CreateRemote || op == UpdateRemote || op == DeleteRemote || op == RestoreRemote || op == Merge
}

func writesApp(op Op) bool {
	return op == CreateApp || op == UpdateApp || op == DeleteApp || op == RestoreApp || op == Merge
}
