package tidbro

import "time"

// Pair binds one app-side collection of a user to one remote collection of
// an account, under the account's policy. A calendar pair carries events and
// jobs; a task pair tasks; a contact pair contacts.
type Pair struct {
	ID         int64
	TenantID   int64
	AccountID  int64
	UserID     int64
	Kind       Kind   // the collection's kind: event (events and jobs), task or contact
	RemoteID   string // the remote collection (CalDAV collection URL, Graph calendar id)
	RemoteName string // its display name
	AppCursor  int64  // the user's feed position up to which app changes are applied
	SyncToken  string // the remote's token after the last run
	LastRun    time.Time
	LastError  string
	// WindowFrom and WindowTo are the window the last successful run
	// covered: items that entered the window since are picked up even
	// though they did not change.
	WindowFrom, WindowTo time.Time
	Created              time.Time
}

// PairKinds returns the item kinds a pair of collection kind k carries.
func (k Kind) PairKinds() []Kind {
	if k == KindEvent {
		return []Kind{KindEvent, KindJob}
	}
	return []Kind{k}
}

// Link is the remembered correspondence of one app item and one remote item
// in a pair. It is what makes "deleted" decidable from "never seen", and
// "changed" from "written by tidbro itself".
type Link struct {
	PairID     int64
	ItemID     int64  // the app item
	RemoteID   string // the remote item; "" while its create is pending
	RemoteETag string // the remote's etag as last seen or written
	AppVersion int64  // the app item's version when last synchronised
	AppHash    string // its content hash then
	RemoteHash string // the content hash of the remote item as last seen or written
	// Base is the body (JSON) both sides agreed on at the last sync: the
	// common ancestor for field merges.
	Base   []byte
	Origin Origin // the side the item was born on
	Key    string // the idempotency key the remote item was (or is being) created with
	// Pending is set before a remote write and cleared after it is recorded:
	// a run that finds it set knows the write may or may not have happened.
	Pending string // "" | "create" | "update" | "delete"
	// SpanFrom and SpanTo are the item's time extent when last seen, to tell
	// an item leaving the window from one deleted.
	SpanFrom, SpanTo time.Time
	Error            string // the last per-item error; retried next run
	Attempts         int    // consecutive failed attempts
	Synced           time.Time
	WebLink          string // where the remote's own app shows the item (Outlook on the web), when it tells
}

// Pending operations recorded in a Link.
const (
	PendingCreate = "create"
	PendingUpdate = "update"
	PendingDelete = "delete"
	// PendingCreated marks a link made after the pair's saved sync token
	// (tidbro created the remote item, or imported it): remotes need not
	// report the deletion of an item younger than the token, so until a
	// saved token covers it, each run checks that it still exists.
	PendingCreated = "created"
)

// Run is one synchronisation of one pair.
type Run struct {
	ID       int64
	PairID   int64
	UserID   int64
	Full     bool
	DryRun   bool
	Started  time.Time
	Finished time.Time
	Status   string // running | ok | errors | stopped | failed
	Error    string // why it stopped or failed
	Counts   RunCounts
}

// Run statuses.
const (
	RunRunning = "running"
	RunOK      = "ok"
	RunErrors  = "errors"  // finished; some items failed and are retried next run
	RunStopped = "stopped" // the mass-deletion guard stopped it before any write
	RunFailed  = "failed"  // a whole-run failure (remote unreachable, bad credentials)
)

// RunCounts summarise a run per side.
type RunCounts struct {
	App    SideCounts `json:"app"`
	Remote SideCounts `json:"remote"`
}

// SideCounts counts what a run did to one side.
type SideCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Deleted   int `json:"deleted"`
	Restored  int `json:"restored"`
	Skipped   int `json:"skipped"`
	Held      int `json:"held"`
	Conflicts int `json:"conflicts"`
	Errors    int `json:"errors"`
}

// AuditEntry records one action of a run and the rule that decided it.
type AuditEntry struct {
	ID       int64     `json:"id"`
	TenantID int64     `json:"-"`
	UserID   int64     `json:"-"`
	PairID   int64     `json:"pairId"`
	RunID    int64     `json:"runId"`
	At       time.Time `json:"at"`
	Action   string    `json:"action"` // create-remote, update-app, hold, ...
	Kind     Kind      `json:"kind"`
	AppID    string    `json:"appId,omitempty"`
	RemoteID string    `json:"remoteId,omitempty"`
	Rule     string    `json:"rule"`            // the decision-matrix rule that chose the action
	Error    string    `json:"error,omitempty"` // set when the action failed
}

// Hold is a deletion waiting for a decision (policy deletions = hold):
// nothing is deleted or restored until someone decides.
type Hold struct {
	ID       int64     `json:"id"`
	TenantID int64     `json:"-"`
	UserID   int64     `json:"-"`
	PairID   int64     `json:"pairId"`
	ItemID   int64     `json:"-"`
	Kind     Kind      `json:"kind"`
	AppID    string    `json:"appId"`
	RemoteID string    `json:"remoteId,omitempty"`
	Side     string    `json:"deletedOn"` // app | groupware: where the deletion happened
	Created  time.Time `json:"created"`
	Decision string    `json:"decision,omitempty"` // "" while waiting | propagate | restore
}

// Hold decisions.
const (
	DecisionPropagate = "propagate"
	DecisionRestore   = "restore"
)
