package tidbro

import (
	"context"
	"time"
)

// Store persists tenants, users, tokens, accounts and items, and keeps each
// tenant's change feed. Every write of an item takes the next position of
// its tenant's feed (a per-tenant monotonic sequence); positions become
// visible in order, so a reader that has seen position N never later finds
// a new change at or below N. That makes feed positions safe cursors for
// sync runs, DAV sync tokens and the REST change feed.
//
// Implementations: package sqlite (embedded) and package postgres; both pass
// the contract suite in package storetest.
type Store interface {
	CreateTenant(ctx context.Context, name string) (*Tenant, error) // ECONFLICT if it exists
	Tenant(ctx context.Context, name string) (*Tenant, error)
	Tenants(ctx context.Context) ([]*Tenant, error)

	// CreateToken stores a token whose secret hashes to secretHash.
	CreateToken(ctx context.Context, tenantID int64, name string, secretHash []byte) (*Token, error)
	// TokenByHash finds a live token; revoked and unknown ones are ENOTFOUND.
	TokenByHash(ctx context.Context, secretHash []byte) (*Token, error)
	RevokeToken(ctx context.Context, tenantID, id int64) error
	Tokens(ctx context.Context, tenantID int64) ([]*Token, error)

	// PutUser creates or updates the user named u.Username in u.TenantID and
	// fills u's ID and timestamps. A deleted user of that name comes back.
	PutUser(ctx context.Context, u *User) (created bool, err error)
	User(ctx context.Context, tenantID int64, username string) (*User, error)
	Users(ctx context.Context, tenantID int64) ([]*User, error)
	// DeleteUser deletes the user's accounts and turns their items into
	// tombstones (visible in the feed).
	DeleteUser(ctx context.Context, tenantID int64, username string) error

	// PutItem creates or updates the item (TenantID, Kind, AppID). It is an
	// idempotent upsert: when type, owner and content hash equal the stored
	// ones it changes nothing and returns changed=false. A tombstone of the
	// same key is revived as a new version. On create, Origin defaults to
	// ChangedBy. Version, Seq, Hash, timestamps are set by the store.
	PutItem(ctx context.Context, it *Item, cond Precondition) (stored *Item, changed bool, err error)
	// Item returns a live item; tombstones are ENOTFOUND.
	Item(ctx context.Context, tenantID int64, kind Kind, appID string) (*Item, error)
	// DeleteItem turns a live item into a tombstone and returns it.
	DeleteItem(ctx context.Context, tenantID int64, kind Kind, appID string, cond Precondition, by Origin) (*Item, error)
	// Items lists live items of one owner and kind, ordered by span start
	// then ID, in pages.
	Items(ctx context.Context, q ItemQuery) (items []*Item, next string, err error)
	// Changes returns the change log after position q.Since, oldest first.
	Changes(ctx context.Context, q ChangeQuery) ([]Change, error)
	// Head returns the tenant's newest feed position.
	Head(ctx context.Context, tenantID int64) (int64, error)

	// PutAccount creates or updates the account (UserID, Name). The password
	// is encrypted at rest; an empty Password on update keeps the stored one.
	PutAccount(ctx context.Context, a *Account) (created bool, err error)
	Account(ctx context.Context, userID int64, name string) (*Account, error)
	Accounts(ctx context.Context, userID int64) ([]*Account, error)
	DeleteAccount(ctx context.Context, userID int64, name string) error

	// AccountByID returns an account with its password, for the engine.
	AccountByID(ctx context.Context, id int64) (*Account, error)

	// CreateAppPassword stores an app password of a user (for HTTP Basic on
	// the DAV server) whose secret hashes to secretHash.
	CreateAppPassword(ctx context.Context, tenantID, userID int64, name string, secretHash []byte) (*AppPassword, error)
	// AppPasswordByHash finds a live app password; unknown and revoked ones,
	// and those of deleted users, are ENOTFOUND.
	AppPasswordByHash(ctx context.Context, secretHash []byte) (*AppPassword, error)
	// UserByAppPassword finds the live user of a live app password
	// (ENOTFOUND otherwise): the DAV server's login, on every request. A
	// store may answer from memory for a few seconds, forgetting at once
	// what its own writes change (see package sqlstore).
	UserByAppPassword(ctx context.Context, secretHash []byte) (*User, error)
	AppPasswords(ctx context.Context, tenantID, userID int64) ([]*AppPassword, error) // oldest first
	// RevokeAppPassword removes one; ENOTFOUND when the user has no such password.
	RevokeAppPassword(ctx context.Context, tenantID, userID, id int64) error

	DAVStore
	FileStore
	FileLockStore
	SchedStore
	SubscriptionStore

	SyncStore

	Ping(ctx context.Context) error
	Close() error
}

// SyncStore is what the sync engine keeps: pairs and their cursors, links,
// runs, the audit log, held deletions and tenant settings.
type SyncStore interface {
	// ItemsByID returns items by internal id, tombstones included; unknown
	// ids are left out.
	ItemsByID(ctx context.Context, tenantID int64, ids []int64) ([]*Item, error)

	// PutPair creates or updates the pair (AccountID, Kind) and fills p.ID.
	// It leaves AppCursor, SyncToken, LastRun and LastError alone on update.
	PutPair(ctx context.Context, p *Pair) (created bool, err error)
	Pair(ctx context.Context, id int64) (*Pair, error)
	// Pairs lists pairs; zero fields of q match everything in q.TenantID.
	Pairs(ctx context.Context, q PairQuery) ([]*Pair, error)
	// SavePairState stores AppCursor, SyncToken, LastRun, LastError and the
	// window.
	SavePairState(ctx context.Context, p *Pair) error
	DeletePair(ctx context.Context, id int64) error // with its links and holds

	// PutLink creates or replaces the link (PairID, ItemID). A non-empty
	// RemoteID is unique within a pair (ECONFLICT otherwise).
	PutLink(ctx context.Context, l *Link) error
	// PutLinks is PutLink of each link, all in one transaction: all of
	// them are written, or none.
	PutLinks(ctx context.Context, links []*Link) error
	// DeleteLinks deletes the links of the items in the pair, and their
	// holds, all in one transaction: the engine forgets items in batches.
	DeleteLinks(ctx context.Context, pairID int64, itemIDs []int64) error
	LinksByItem(ctx context.Context, pairID int64, itemIDs []int64) ([]*Link, error)
	LinksByRemote(ctx context.Context, pairID int64, remoteIDs []string) ([]*Link, error)
	// LinkedETags returns the etags the pair's links record for the remote
	// items, by remote id; items no link names are absent. It reads only
	// those two columns, for checks over thousands of items.
	LinkedETags(ctx context.Context, pairID int64, remoteIDs []string) (map[string]string, error)
	// Links pages through a pair's links by item id, after afterItemID.
	Links(ctx context.Context, pairID int64, afterItemID int64, limit int) ([]*Link, error)
	// LinksToRetry returns links with a pending write or an error.
	LinksToRetry(ctx context.Context, pairID int64) ([]*Link, error)
	// ConfirmCreated clears PendingCreated on the pair's links: the remote's
	// sync token now covers them.
	ConfirmCreated(ctx context.Context, pairID int64) error
	CountLinks(ctx context.Context, pairID int64) (int, error)

	StartRun(ctx context.Context, r *Run) error // fills r.ID
	FinishRun(ctx context.Context, r *Run) error
	Runs(ctx context.Context, pairID int64, limit int) ([]*Run, error) // newest first
	AddAudit(ctx context.Context, entries []AuditEntry) error
	// AuditLog returns a user's entries, newest first, with ids below
	// beforeID (0: from the newest).
	AuditLog(ctx context.Context, tenantID, userID, beforeID int64, limit int) ([]AuditEntry, error)

	// PutHold records a held deletion (one per pair and item), fills h.ID.
	PutHold(ctx context.Context, h *Hold) error
	Holds(ctx context.Context, tenantID, userID int64) ([]*Hold, error)
	HoldsOfPair(ctx context.Context, pairID int64) ([]*Hold, error)
	// DecideHold records a decision (DecisionPropagate or DecisionRestore);
	// the next run of the pair carries it out.
	DecideHold(ctx context.Context, tenantID, userID, id int64, decision string) error
	DeleteHold(ctx context.Context, pairID, itemID int64) error

	// Tenant settings are small JSON documents by key (the job field mapping).
	PutSetting(ctx context.Context, tenantID int64, key string, value []byte) error
	Setting(ctx context.Context, tenantID int64, key string) ([]byte, error) // ENOTFOUND if unset
	// Sealed settings are encrypted at rest like account passwords (a Graph
	// app's client secret); they are read only through SealedSetting.
	PutSealedSetting(ctx context.Context, tenantID int64, key string, value []byte) error
	SealedSetting(ctx context.Context, tenantID int64, key string) ([]byte, error) // ENOTFOUND if unset
}

// DAVStore is what tidbro's own CalDAV/CardDAV server keeps beside the
// items.
type DAVStore interface {
	// DAVObject returns the representation (iCalendar, vCard) the DAV server
	// last served or took from a client for an item, and the item version it
	// is of; ENOTFOUND when there is none. A client's own bytes are kept so
	// that what tidbro does not model survives; a representation of an
	// older version is the base the next one is written over.
	DAVObject(ctx context.Context, itemID int64) (version int64, data []byte, err error)
	// PutDAVObject stores the representation of version of an item. It
	// never replaces one of a newer version.
	PutDAVObject(ctx context.Context, itemID, version int64, data []byte) error
	// SetDAVName gives an item the resource name a DAV client chose for it
	// when the name could not be its app id (another user's item has that
	// app id).
	SetDAVName(ctx context.Context, itemID int64, name string) error
	// PutDAVItem is what a client's PUT writes, all at once: PutItem, then
	// PutDAVObject of the stored version with data and, unless name is "",
	// SetDAVName. When the item is unchanged the object is still stored.
	PutDAVItem(ctx context.Context, it *Item, cond Precondition, name string, data []byte) (stored *Item, changed bool, err error)
	// DAVNames returns the names SetDAVName gave to a user's items of the
	// given kinds, tombstones included, by item id.
	DAVNames(ctx context.Context, tenantID, ownerID int64, kinds []Kind) (map[int64]string, error)
	// DAVItemByName returns the user's live item of one of kinds named name
	// by SetDAVName; ENOTFOUND when there is none.
	DAVItemByName(ctx context.Context, tenantID, ownerID int64, kinds []Kind, name string) (*Item, error)
	// CollectionHead returns the newest feed position that changed one
	// user's items of the given kinds (departures included), 0 when none:
	// the sync token and CTag of a DAV collection.
	CollectionHead(ctx context.Context, tenantID, userID int64, kinds []Kind) (int64, error)
}

// PairQuery selects pairs.
type PairQuery struct {
	TenantID  int64
	UserID    int64
	AccountID int64
	PairID    int64
}

// Precondition is an optimistic-concurrency condition on a write.
type Precondition struct {
	IfMatch     int64 // if > 0, the live item must have this version (else EPRECONDITION)
	IfNoneMatch bool  // the item must not exist live (else EPRECONDITION)
}

// ItemQuery selects live items for listing.
type ItemQuery struct {
	TenantID int64
	OwnerID  int64
	Kind     Kind
	// From and To, when both set, keep items that occur in [From, To):
	// recurring events by their instances, not only their first start.
	From, To time.Time
	Cursor   string // from a previous page's next; "" for the first page
	Limit    int    // page size; <= 0 means DefaultPageSize
}

// ChangeQuery selects changes after a feed position.
type ChangeQuery struct {
	TenantID int64
	Since    int64
	Limit    int // <= 0 means DefaultPageSize
	// OwnerID narrows the feed to one user's collections, including the
	// departures of items reassigned away from them; Kind to one kind, or
	// Kinds (when Kind is empty) to several.
	OwnerID int64
	Kind    Kind
	Kinds   []Kind
}

// DefaultPageSize and MaxPageSize bound listings and feeds.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Sealer encrypts secrets (account passwords) at rest.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(ciphertext []byte) ([]byte, error)
}
