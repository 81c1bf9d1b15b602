package tidbro

import "time"

// Pair binds one app-side collection of a user (events, jobs, tasks or
// contacts) to one remote collection of an account, under the account's
// policy. Cursors record how far each side has been synchronised.
type Pair struct {
	ID         int64
	TenantID   int64
	AccountID  int64
	UserID     int64
	Kind       Kind
	RemoteID   string // the remote collection (CalDAV collection URL, Graph calendar id)
	AppCursor  int64  // last app change-feed position fully applied to the remote
	SyncToken  string // the remote's sync token / delta link after the last run
	LastRun    time.Time
	LastError  string
	Policy     Policy
	Suspended  bool   // parked after a permanent error until the account changes
	RemoteName string // display name of the remote collection
}

// Link is the remembered correspondence of one app item and one remote item
// in a pair. It is what makes "deleted" decidable from "never seen", and
// "changed" decidable from "written by tidbro itself".
type Link struct {
	PairID      int64
	ItemID      int64  // the app item
	RemoteID    string // the remote item's id or href
	RemoteETag  string // the remote's etag / changeKey as last seen
	AppHash     string // the app item's content hash when last synchronised
	RemoteHash  string // the remote item's content hash when last synchronised
	AppVersion  int64  // the app item's version when last synchronised
	Origin      Origin // which side the item was born on
	Synced      time.Time
	PendingOp   string // intent recorded before a remote write, cleared after
	PendingHref string // the href a pending create will use, so a retry is idempotent
}
