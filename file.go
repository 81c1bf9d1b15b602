package tidbro

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"
)

// File is a resource of a user's document area: a collection (folder) or a
// document, with the properties WebDAV clients set on it (RFC 4918 "dead"
// properties). The DAV server serves the area beside the user's calendars,
// for the documents a business app keeps with its contacts and activities.
type File struct {
	TenantID    int64
	OwnerID     int64
	Path        string // see ValidFilePath; "" is the area's root
	Collection  bool
	ContentType string // documents only
	Size        int64
	ETag        string // documents only: changes whenever the content does
	Created     time.Time
	Modified    time.Time
	Props       []DeadProp // in the order first set
}

// DeadProp is a property a client set: its name and its value as an XML
// fragment (text and elements) that declares every namespace it uses, so
// that it can be written back inside any document.
type DeadProp struct {
	Space string // "" is no namespace
	Local string
	Value string
}

// Limits of the document area.
const (
	MaxFileSize     = 10 << 20 // one document
	MaxFilePath     = 1024     // bytes of a path
	MaxFileSegment  = 255      // bytes of one name
	MaxDeadProps    = 100      // per resource
	MaxDeadPropSize = 64 << 10 // bytes of one value
)

// ValidFilePath checks a path of the document area: names joined by "/",
// without a leading or trailing "/", none empty, "." or "..", valid UTF-8
// without control characters. "" (the root) is valid.
func ValidFilePath(path string) error {
	if path == "" {
		return nil
	}
	if len(path) > MaxFilePath {
		return Errorf(ETOOLARGE, "a path is at most %d bytes", MaxFilePath)
	}
	if !utf8.ValidString(path) {
		return Invalid("path", "a path is UTF-8")
	}
	for _, seg := range strings.Split(path, "/") {
		switch {
		case seg == "" || seg == "." || seg == "..":
			return Invalid("path", "%q is not a name in a path", seg)
		case len(seg) > MaxFileSegment:
			return Errorf(ETOOLARGE, "a name is at most %d bytes", MaxFileSegment)
		case strings.ContainsFunc(seg, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			return Invalid("path", "a name has no control characters")
		}
	}
	return nil
}

// FileParent returns the path of the collection holding path ("" for a
// member of the root).
func FileParent(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	return path[:i]
}

// FileStore keeps every user's document area. The root of an area always
// exists; everything else is made by MakeCollection and PutFile. A
// resource's parent must be a collection: writes below a missing one, or
// below a document, are ECONFLICT (RFC 4918's 409). Writes to locked
// resources are ELOCKED (see FileLockStore).
type FileStore interface {
	// File returns a resource without its content; ENOTFOUND if none.
	File(ctx context.Context, tenantID, ownerID int64, path string) (*File, error)
	// FileContent returns a document with its content.
	FileContent(ctx context.Context, tenantID, ownerID int64, path string) (*File, []byte, error)
	// Files returns the members of the collection at path, in path order:
	// its children, or with deep everything below it. It does not check
	// that path is a collection.
	Files(ctx context.Context, tenantID, ownerID int64, path string, deep bool) ([]*File, error)
	// PutFile creates or replaces the document f.Path with data and
	// f.ContentType, keeping its properties; ifMatch, when not "", must be
	// the document's ETag and ifNoneMatch means it must not exist (else
	// EPRECONDITION). A collection at f.Path is ECONFLICT.
	PutFile(ctx context.Context, f *File, data []byte, ifMatch string, ifNoneMatch bool) (stored *File, created bool, err error)
	// MakeCollection creates an empty collection; ECONFLICT when path
	// exists or its parent is missing.
	MakeCollection(ctx context.Context, tenantID, ownerID int64, path string) (*File, error)
	// DeleteFile deletes a resource and everything below it; ifMatch as in
	// PutFile. The root cannot be deleted (EFORBIDDEN).
	DeleteFile(ctx context.Context, tenantID, ownerID int64, path, ifMatch string) error
	// CopyFile copies src (with its properties and, if deep, everything
	// below it) to dst. An existing dst is replaced when overwrite, else
	// EPRECONDITION. created says dst did not exist. Copying the root, or
	// a collection into itself, is EFORBIDDEN.
	CopyFile(ctx context.Context, tenantID, ownerID int64, src, dst string, deep, overwrite bool) (created bool, err error)
	// MoveFile is CopyFile with deep, then deleting src, in one transaction.
	MoveFile(ctx context.Context, tenantID, ownerID int64, src, dst string, overwrite bool) (created bool, err error)
	// SetFileProps replaces a resource's properties (the root's too).
	SetFileProps(ctx context.Context, tenantID, ownerID int64, path string, props []DeadProp) error
}

// FileLock is a WebDAV write lock (RFC 4918 class 2) in a user's document
// area. A client takes one before it edits (Finder and Windows Explorer
// will not write without), and while it lasts every write to what it
// covers must submit its token. Locks expire by themselves: a client that
// vanishes cannot keep a document locked for longer than it asked.
type FileLock struct {
	Token    string // set by the store: an unguessable urn:uuid: URI
	TenantID int64
	OwnerID  int64  // the user whose area holds it; locks are never seen from another area
	Root     string // the locked path (see ValidFilePath)
	Deep     bool   // Depth infinity: also everything below Root, now and later
	Shared   bool   // else exclusive
	// OwnerXML is the client's DAV:owner, kept as the XML fragment it sent
	// (as DeadProp.Value) and shown back in DAV:lockdiscovery.
	OwnerXML string
	Created  time.Time
	Expires  time.Time // set by the store from the timeout it is given
}

// Covers tells whether the lock applies to the resource at path: its root
// or, for a deep lock, anything below it.
func (l *FileLock) Covers(path string) bool {
	return path == l.Root || l.Deep && FileBelow(path, l.Root)
}

// FileBelow tells whether path lies strictly below the collection dir.
func FileBelow(path, dir string) bool {
	if dir == "" {
		return path != ""
	}
	return strings.HasPrefix(path, dir+"/")
}

// Limits of locking.
const (
	MaxFileLocks     = 1000    // live locks per area
	MaxFileLockOwner = 4 << 10 // bytes of OwnerXML
)

// LockedError is an ELOCKED error; Root is the path of the lock in the way.
type LockedError struct {
	Root     string
	Conflict bool // a new lock conflicts with this one; else its token is missing
	Message  string
}

func (e *LockedError) Error() string { return ELOCKED + ": " + e.Message }

// Unwrap gives ErrorCode and ErrorMessage the code and message.
func (e *LockedError) Unwrap() error { return &Error{Code: ELOCKED, Message: e.Message} }

// NewFileLockToken returns a fresh lock token: a random (version 4) UUID
// as a URN, as RFC 4918 6.5 suggests. Anyone who knows a token may write
// what its lock covers, so it comes from crypto/rand.
func NewFileLockToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("tidbro: no randomness: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // the RFC 9562 variant
	h := hex.EncodeToString(b[:])
	return "urn:uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// FileLockStore keeps the locks of the document areas, in the database
// beside the files, so that every instance sees the same ones. Expired
// locks are never returned and never get in a write's way; the store
// deletes them as it goes.
//
// FileStore's writes honour the locks: a write that changes a locked
// resource, adds a member to or removes one from a locked collection, or
// changes anything inside a collection locked with Deep is ELOCKED unless
// it submits the lock's token (of a resource under shared locks, one of
// theirs), which writes through WithLockTokens do.
// Deleting or moving a resource deletes the locks on it and below it;
// copies take no locks along. A resource replaced (by PUT, or as the
// destination of a COPY or MOVE) keeps the locks on it, so that a client
// can save over a document it locked; those below a replaced collection
// go with what they locked.
type FileLockStore interface {
	// FileLocks returns the live locks that cover path or lie below it,
	// oldest first.
	FileLocks(ctx context.Context, tenantID, ownerID int64, path string) ([]*FileLock, error)
	// LockFile takes the lock l for timeout and fills l's Token, Created and
	// Expires. A lock that overlaps l (covers l.Root or, for a deep l, lies
	// below it) conflicts unless both are shared, and makes it ELOCKED with
	// Conflict. An unmapped Root becomes an
	// empty document (RFC 4918 7.3) and created is true; making it is a
	// write, so tokens must hold the parent's locks' tokens, as in
	// WithLockTokens.
	LockFile(ctx context.Context, l *FileLock, timeout time.Duration, tokens []string) (created bool, err error)
	// RefreshFileLock restarts the timeout of the lock whose token is
	// token; the lock must cover path, else EPRECONDITION.
	RefreshFileLock(ctx context.Context, tenantID, ownerID int64, path, token string, timeout time.Duration) (*FileLock, error)
	// UnlockFile deletes the lock whose token is token; it must cover path,
	// else ECONFLICT.
	UnlockFile(ctx context.Context, tenantID, ownerID int64, path, token string) error
	// WithLockTokens returns the document area as a client that submitted
	// tokens sees it: writes may change what locks with those tokens cover.
	WithLockTokens(tokens []string) FileStore
}
