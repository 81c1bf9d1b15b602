package tidbro

import (
	"context"
	"errors"
	"time"
)

// Remote is one remote collection — a CalDAV calendar or task list, a
// CardDAV address book, a Graph calendar, To Do list or contact folder — as
// the sync engine sees it. Every connector implements it and passes the
// contract suite in package remotetest.
//
// Errors: EPRECONDITION when an If-Match etag no longer matches (the remote
// changed: refetch and replan), EUNAVAILABLE for transient failures (network,
// 5xx, 429, timeouts: retry later), EUNAUTHORIZED for bad credentials (park
// the account), EINVALID for an item the remote refuses, and EINVALID from
// Changes for a token the remote no longer accepts (RFC 6578's
// valid-sync-token, Graph's 410 syncStateNotFound): the engine then lists
// everything.
//
// Etags: the etag Create and Update return must be the one Changes and
// Fetch later report for that version, so the engine recognises its own
// writes (a CalDAV server that sends no ETag on PUT must be asked for it).
type Remote interface {
	Capabilities() Capabilities
	// Changes lists what changed since token; token "" asks for a full
	// listing. window, when not nil, limits events to that time range where
	// the remote can; items leaving it may be reported as removed (not
	// deleted). A remote whose tokens are bound to a window (Graph) refuses
	// a token with another window (EINVALID); the engine moves its window a
	// day at a time.
	Changes(ctx context.Context, token string, window *TimeRange) (*RemoteChanges, error)
	// Fetch returns the items with the given ids, in batches of at most
	// Capabilities.MaxBatch. Ids the remote does not have are left out; an
	// item the remote holds but tidbro cannot read is reported in errs and
	// does not fail the call.
	Fetch(ctx context.Context, ids []string) (items []*RemoteItem, errs []ItemError, err error)
	// Create writes a new item. key is derived from the app item and is the
	// same on every retry: a create retried with the same key, even after a
	// lost response, never makes a second item (CalDAV: the href, with
	// If-None-Match: *; Graph: the transactionId). When an item with that key
	// exists already, Create returns its reference and writes nothing.
	Create(ctx context.Context, key string, it *RemoteItem) (RemoteRef, error)
	// Update replaces item it.ID if its etag is still ifMatch (never
	// unconditionally: an empty ifMatch is EPRECONDITION).
	Update(ctx context.Context, it *RemoteItem, ifMatch string) (RemoteRef, error)
	// Delete removes item id if its etag is still ifMatch ("" for any);
	// deleting an item that is gone already succeeds.
	Delete(ctx context.Context, id, ifMatch string) error
}

// Finder is implemented by remotes whose Create cannot by itself be relied
// on to find the item an earlier, interrupted attempt made (Graph's
// transactionId is documented to dedupe retries, not for how long). The
// engine asks Find before it creates again an item whose create was
// interrupted.
type Finder interface {
	Find(ctx context.Context, key string) (ref RemoteRef, found bool, err error)
}

// Capabilities describe what a remote can do; the engine plans around them.
type Capabilities struct {
	SyncTokens bool   // Changes with a token is incremental (else every call lists everything)
	ServerIDs  bool   // the remote chooses ids on create (Graph); otherwise the key is the id (CalDAV href)
	Private    bool   // the remote can mark items private
	Kinds      []Kind // what the collection holds: event (and job), task or contact
	MaxBatch   int    // most ids per Fetch request
	// FieldLimits maps a field's JSON name ("summary", "location") to the
	// most characters the remote keeps; longer values come back truncated.
	FieldLimits map[string]int
}

// TimeRange is a half-open range [From, To).
type TimeRange struct{ From, To time.Time }

// RemoteRef names a version of a remote item.
type RemoteRef struct {
	ID   string
	ETag string
	// WebLink opens the item in the remote's own app (Outlook on the
	// web), when the remote tells one.
	WebLink string
}

// RemoteItem is an item as a remote holds it, mapped to tidbro's model.
type RemoteItem struct {
	ID       string
	ETag     string
	Kind     Kind // event, task or contact (jobs are events on the remote)
	Modified time.Time
	Event    *Event
	Task     *Task
	Contact  *Contact
	WebLink  string // as in RemoteRef
	// Raw is the remote's own representation (iCalendar, vCard, JSON). A
	// connector writing an update starts from it, so properties tidbro does
	// not model survive.
	Raw []byte
}

// Body returns the kind's body.
func (r *RemoteItem) Body() any { return r.Item(r.Kind).Body() }

// Item returns the remote item's content as an app item body of kind k
// (without envelope), for hashing and comparing with the app side.
func (r *RemoteItem) Item(k Kind) *Item {
	return &Item{Kind: k, Event: r.Event, Task: r.Task, Contact: r.Contact}
}

// RemoteChanges is what Changes found.
type RemoteChanges struct {
	Changed []RemoteRef // new or changed since the token; on a full listing, everything
	Removed []Removed   // gone since the token (never set on a full listing)
	Full    bool        // a full listing: what is not listed is not there (or outside the window)
	Token   string      // for the next call
}

// Removed is an item a remote reported gone. Deleted is false when the
// remote cannot tell a deletion from an item leaving the window (Graph's
// calendarView delta): the engine then checks before deleting anything.
type Removed struct {
	ID      string
	Deleted bool
}

// ItemError is a per-item failure: it is logged and retried, and never
// stops the rest of a run.
type ItemError struct {
	ID  string
	Err error
}

func (e ItemError) Error() string { return e.ID + ": " + e.Err.Error() }

// Transient reports whether err is worth retrying later unchanged.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return ErrorCode(err) == EUNAVAILABLE
}
