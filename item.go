package tidbro

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Kind is what an item is. A job is an app record exported as an event through
// the tenant's field mapping; it carries an Event body.
type Kind string

const (
	KindEvent   Kind = "event"
	KindJob     Kind = "job"
	KindTask    Kind = "task"
	KindContact Kind = "contact"
)

// Kinds lists every kind, in the order they are documented.
var Kinds = []Kind{KindEvent, KindJob, KindTask, KindContact}

// ParseKind accepts a kind or its plural collection name ("events").
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds {
		if s == string(k) || s == k.Plural() {
			return k, true
		}
	}
	return "", false
}

// Plural is the collection name used in REST paths.
func (k Kind) Plural() string { return string(k) + "s" }

// Origin says which side an item was born on, or which side wrote a version.
type Origin string

const (
	OriginApp       Origin = "app"        // the business application, through the REST API
	OriginGroupware Origin = "groupware"  // a synchronised remote (Exchange, CalDAV server)
	OriginDAVClient Origin = "dav-client" // a client of tidbro's own DAV server
)

// TypeGroupware is the item type given to items born in groupware (the
// seeds' "MSExchange" time type).
const TypeGroupware = "groupware"

// Item is one event, job, task or contact of a user. Exactly one of Event,
// Task and Contact is set, matching Kind (jobs carry an Event).
type Item struct {
	ID        int64
	TenantID  int64
	Kind      Kind
	AppID     string // the app's own key; unique per tenant and kind
	Type      string // free-form, set by the app (appointment, job, activity, ...)
	Origin    Origin // where the item was born
	ChangedBy Origin // who wrote this version
	OwnerID   int64
	Owner     string // the owner's username, filled by the store on reads
	Version   int64  // 1 on create, +1 on every change
	Seq       int64  // position of the last change in the tenant's change feed
	Deleted   bool   // a tombstone: kept so that feeds and sync can see the deletion
	Created   time.Time
	Updated   time.Time
	Hash      string // content hash of Type and the body; equal hash = no change

	Event   *Event
	Task    *Task
	Contact *Contact
}

// Body returns the kind-specific content of the item.
func (it *Item) Body() any {
	switch it.Kind {
	case KindEvent, KindJob:
		return it.Event
	case KindTask:
		return it.Task
	case KindContact:
		return it.Contact
	}
	return nil
}

// BodyJSON is json.Marshal(it.Body()), without the pass json.Marshal makes
// over what an event's or a task's MarshalJSON returns (compacting and
// escaping what is compact and escaped already).
func (it *Item) BodyJSON() ([]byte, error) {
	switch {
	case (it.Kind == KindEvent || it.Kind == KindJob) && it.Event != nil:
		return it.Event.MarshalJSON()
	case it.Kind == KindTask && it.Task != nil:
		return it.Task.MarshalJSON()
	}
	return json.Marshal(it.Body())
}

// ContentHash hashes what a change is judged by: the type and the body. Two
// writes with equal hashes are the same content, whatever their timestamps.
func (it *Item) ContentHash() string {
	body, err := it.BodyJSON()
	if err != nil {
		// Bodies are plain data; marshalling cannot fail for a validated item.
		panic("tidbro: hashing item: " + err.Error())
	}
	return ContentHashOf(it.Kind, it.Type, body)
}

// ContentHashOf is the ContentHash of an item of kind and type whose body
// marshals (json.Marshal of Item.Body) to body: for callers that hold that
// JSON already, and need not marshal the body a second time. Hashes are
// stored, so their input never changes: the JSON of {"k": kind, "t": type,
// "b": body}.
func ContentHashOf(kind Kind, typ string, body []byte) string {
	k, _ := json.Marshal(kind) // strings: cannot fail
	t, _ := json.Marshal(typ)
	b := make([]byte, 0, len(body)+len(k)+len(t)+len(`{"k":,"t":,"b":}`))
	b = append(append(append(b, `{"k":`...), k...), `,"t":`...)
	b = append(append(append(b, t...), `,"b":`...), body...)
	sum := sha256.Sum256(append(b, '}'))
	return hex.EncodeToString(sum[:16])
}

// Private reports whether the item is marked private.
func (it *Item) Private() bool {
	switch {
	case it.Event != nil:
		return it.Event.Private
	case it.Task != nil:
		return it.Task.Private
	case it.Contact != nil:
		return it.Contact.Private
	}
	return false
}

// Span is the time an item occupies, for window queries: from the first
// start to the last end of a recurring series (Forever when unbounded).
// ok is false for items without a time (contacts, undated tasks).
func (it *Item) Span() (from, to time.Time, ok bool) {
	switch {
	case it.Event != nil:
		return it.Event.Span()
	case it.Task != nil:
		return it.Task.Span()
	}
	return time.Time{}, time.Time{}, false
}

// Forever is the end of an unbounded recurring series.
var Forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// ChangeOp is what a change-feed entry did.
type ChangeOp string

const (
	OpUpsert ChangeOp = "upsert"
	OpDelete ChangeOp = "delete"
	// OpDepart: the item was reassigned away from the entry's user; for that
	// user's collection it is gone. Only per-user feeds contain departures.
	OpDepart ChangeOp = "depart"
)

// Change is one entry of a tenant's change feed, an append-only log: every
// write of an item adds one entry (a reassignment two: a departure for the
// previous owner, an upsert for the new one). Consumers that only need the
// end state keep the last entry per item.
type Change struct {
	Seq       int64
	Op        ChangeOp
	Version   int64  // the item version this change produced
	ChangedBy Origin // who made the change
	UserID    int64  // whose collection changed
	User      string
	Item      *Item // the item as it is now: newer than Version when superseded
}

// Latest reports whether no later change of the item has superseded this one.
func (c Change) Latest() bool { return c.Item.Version == c.Version && c.Item.Seq == c.Seq }

// MaxTypeLen caps the free-form item type.
const MaxTypeLen = 64

// Validate checks the item's envelope and its body.
func (it *Item) Validate() error {
	if _, ok := ParseKind(string(it.Kind)); !ok {
		return Invalid("kind", "%q is not a kind (event, job, task, contact)", it.Kind)
	}
	if err := ValidAppID("appId", it.AppID); err != nil {
		return err
	}
	if err := validText("type", it.Type, MaxTypeLen); err != nil {
		return err
	}
	switch it.Kind {
	case KindEvent, KindJob:
		if it.Event == nil || it.Task != nil || it.Contact != nil {
			return Invalid("kind", "a %s carries an event body", it.Kind)
		}
		return it.Event.Validate()
	case KindTask:
		if it.Task == nil || it.Event != nil || it.Contact != nil {
			return Invalid("kind", "a task carries a task body")
		}
		return it.Task.Validate()
	default:
		if it.Contact == nil || it.Event != nil || it.Task != nil {
			return Invalid("kind", "a contact carries a contact body")
		}
		return it.Contact.Validate()
	}
}
