package engine

import (
	"fmt"

	"github.com/tidbro/tidbro"
)

// The decision matrix: app state × remote state → decision. Each decision
// reads the policy through lead (who may change and delete the item) and
// names the rule it applied; the rule goes into the audit log.
var matrix = map[[2]State]decision{
	{New, Absent}:          exportNew,
	{Absent, New}:          importNew,
	{New, New}:             bothChanged, // matched on a full run: first connection to a filled calendar
	{Absent, Absent}:       nothing("nothing on either side"),
	{Unchanged, Unchanged}: nothing("unchanged on both sides"),
	{Changed, Unchanged}:   appChanged,
	{Unchanged, Changed}:   remoteChanged,
	{Changed, Changed}:     bothChanged,
	{Deleted, Unchanged}:   appDeleted,
	{Deleted, OutOfWindow}: appDeleted, // a real app deletion, wherever the remote copy is
	{Unchanged, Deleted}:   remoteDeleted,
	{Deleted, Deleted}:     bothDeleted,
	{Changed, Deleted}:     appEditRemoteDelete,
	{Deleted, Changed}:     appDeleteRemoteEdit,
	{Deleted, Absent}:      bothDeleted, // the remote copy was never made
	{Changed, Absent}:      exportNew,   // linked, the create never completed
	{Unchanged, Absent}:    exportNew,
	// Outside the window nothing is created or imported; a linked item is
	// compared wherever it is (so the app side of a link is never
	// out-of-window), and a remote item whose content is unknown is left be.
	{OutOfWindow, Absent}:      nothing("outside the window"),
	{Absent, OutOfWindow}:      nothing("outside the window"),
	{OutOfWindow, New}:         nothing("outside the window"),
	{New, OutOfWindow}:         nothing("outside the window"),
	{OutOfWindow, OutOfWindow}: nothing("outside the window"),
	{Unchanged, OutOfWindow}:   nothing("outside the window"),
	{Changed, OutOfWindow}:     nothing("outside the window"),
}

type decision func(in *Input, e *Entry, l lead) (Op, string)

// lead says which side may change and delete an item.
type lead struct {
	side string // "app", "groupware" or "" (both)
	why  string
}

func (in *Input) lead(e *Entry) lead {
	k, origin := e.kind(), e.origin()
	switch {
	case in.Policy.Direction == tidbro.DirectionAppToGroupware:
		return lead{"app", "direction app-to-groupware"}
	case in.Policy.Direction == tidbro.DirectionGroupwareToApp:
		return lead{"groupware", "direction groupware-to-app"}
	case k == tidbro.KindJob:
		return lead{"app", "jobs are exported: the app leads"}
	case in.Policy.Ownership == tidbro.OwnershipOrigin && origin == tidbro.OriginGroupware:
		return lead{"groupware", "ownership origin: born in groupware"}
	case in.Policy.Private == tidbro.PrivateBusy && origin == tidbro.OriginGroupware && e.App != nil && e.App.Private():
		// The app holds only "busy": it must never overwrite the real item.
		return lead{"groupware", "private groupware item imported as busy only"}
	case in.Policy.Ownership == tidbro.OwnershipOrigin:
		return lead{"app", "ownership origin: born in the app"}
	}
	return lead{"", "two-way, shared"}
}

func nothing(why string) decision {
	return func(*Input, *Entry, lead) (Op, string) { return Skip, why }
}

func exportNew(in *Input, e *Entry, l lead) (Op, string) {
	switch {
	case in.Policy.Direction == tidbro.DirectionGroupwareToApp:
		return Skip, "direction groupware-to-app: app items are not exported"
	case e.App.Private() && !in.Caps.Private:
		return Skip, "private app item: the remote cannot mark items private"
	}
	return CreateRemote, "new in the app → create in groupware"
}

func importNew(in *Input, e *Entry, l lead) (Op, string) {
	switch {
	case in.Policy.Direction == tidbro.DirectionAppToGroupware:
		return Skip, "direction app-to-groupware: groupware items are not imported"
	case remotePrivate(e) && in.Policy.Private == tidbro.PrivateSkip:
		return Skip, "private groupware item: policy private skip"
	case remotePrivate(e) && in.Policy.Private == tidbro.PrivateBusy:
		return CreateApp, "new private groupware item → import as busy only"
	}
	return CreateApp, "new in groupware → import"
}

func appChanged(in *Input, e *Entry, l lead) (Op, string) {
	if l.side == "groupware" {
		return UpdateApp, "app edit of a groupware-led item is reverted (" + l.why + ")"
	}
	return UpdateRemote, "changed in the app → update groupware (" + l.why + ")"
}

func remoteChanged(in *Input, e *Entry, l lead) (Op, string) {
	if l.side == "app" {
		return UpdateRemote, "groupware edit of an app-led item is reverted (" + l.why + ")"
	}
	if remotePrivate(e) && in.Policy.Private == tidbro.PrivateSkip && e.origin() == tidbro.OriginGroupware {
		return DeleteApp, "groupware item became private: policy private skip removes it from the app"
	}
	return UpdateApp, "changed in groupware → update the app (" + l.why + ")"
}

func bothChanged(in *Input, e *Entry, l lead) (Op, string) {
	switch l.side {
	case "app":
		return UpdateRemote, "changed on both sides: the app leads (" + l.why + ")"
	case "groupware":
		return UpdateApp, "changed on both sides: groupware leads (" + l.why + ")"
	}
	switch in.Policy.Conflicts {
	case tidbro.ConflictsApp:
		return UpdateRemote, "changed on both sides: policy conflicts app"
	case tidbro.ConflictsGroupware:
		return UpdateApp, "changed on both sides: policy conflicts groupware"
	case tidbro.ConflictsMerge:
		if e.Link != nil && len(e.Link.Base) > 0 {
			return Merge, "changed on both sides: policy conflicts merge (fields changed on both sides take the newer side)"
		}
	}
	if e.Remote.Modified.After(e.App.Updated) {
		return UpdateApp, "changed on both sides: the groupware edit is newer"
	}
	return UpdateRemote, "changed on both sides: the app edit is newer"
}

// deletion applies the deletions policy to a deletion seen on side
// (who), offering del (propagate) and res (restore).
func deletion(in *Input, e *Entry, l lead, who string, del, res Op) (Op, string) {
	other := map[string]string{"app": "groupware", "groupware": "app"}[who]
	switch e.Decision {
	case tidbro.DecisionPropagate:
		return del, "deleted in " + who + ": decided propagate"
	case tidbro.DecisionRestore:
		return res, "deleted in " + who + ": decided restore"
	}
	if l.side == other {
		return res, "deleted in " + who + " but " + other + " leads: restored (" + l.why + ")"
	}
	switch in.Policy.Deletions {
	case tidbro.DeletionsHold:
		return Hold, "deleted in " + who + ": policy deletions hold waits for a decision"
	case tidbro.DeletionsRestore:
		if l.side == "" {
			return res, "deleted in " + who + ": policy deletions restore"
		}
	}
	return del, "deleted in " + who + " → delete in " + other + " (" + l.why + ")"
}

func appDeleted(in *Input, e *Entry, l lead) (Op, string) {
	if e.Departed {
		return DeleteRemote, "reassigned to another user: removed from this user's groupware"
	}
	return deletion(in, e, l, "app", DeleteRemote, RestoreApp)
}

func remoteDeleted(in *Input, e *Entry, l lead) (Op, string) {
	return deletion(in, e, l, "groupware", DeleteApp, RestoreRemote)
}

func bothDeleted(in *Input, e *Entry, l lead) (Op, string) {
	return Unlink, "gone on both sides"
}

// An edit against a deletion: the leader decides; between equals the edit
// wins (nothing is lost) unless deletions are held.
func appEditRemoteDelete(in *Input, e *Entry, l lead) (Op, string) {
	if l.side == "groupware" || in.Policy.Deletions == tidbro.DeletionsHold || e.Decision != "" {
		return deletion(in, e, l, "groupware", DeleteApp, RestoreRemote)
	}
	return RestoreRemote, "edited in the app, deleted in groupware: the edit wins (" + l.why + ")"
}

func appDeleteRemoteEdit(in *Input, e *Entry, l lead) (Op, string) {
	if e.Departed {
		return DeleteRemote, "reassigned to another user: removed from this user's groupware"
	}
	if l.side == "app" || in.Policy.Deletions == tidbro.DeletionsHold || e.Decision != "" {
		return deletion(in, e, l, "app", DeleteRemote, RestoreApp)
	}
	return RestoreApp, "deleted in the app, edited in groupware: the edit wins (" + l.why + ")"
}

// kind is the app kind of the entry's item.
func (e *Entry) kind() tidbro.Kind {
	if e.App != nil {
		return e.App.Kind
	}
	if e.Remote != nil {
		return e.Remote.Kind
	}
	return ""
}

func (e *Entry) origin() tidbro.Origin {
	switch {
	case e.Link != nil && e.Link.Origin != "":
		return e.Link.Origin
	case e.App != nil:
		return e.App.Origin
	case e.Remote != nil:
		return tidbro.OriginGroupware
	}
	return tidbro.OriginApp
}

func (e *Entry) String() string {
	switch {
	case e.App != nil:
		return fmt.Sprintf("%s %s", e.App.Kind, e.App.AppID)
	case e.Remote != nil:
		return fmt.Sprintf("remote %s", e.Remote.ID)
	case e.Link != nil:
		return fmt.Sprintf("link %d/%d", e.Link.PairID, e.Link.ItemID)
	}
	return "empty entry"
}

// remotePrivate reports whether the entry's remote item is marked private.
func remotePrivate(e *Entry) bool {
	return e.Remote != nil && e.Remote.Item(e.Remote.Kind).Private()
}
