package tidbro

import (
	"context"
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
// below a document, are ECONFLICT (RFC 4918's 409).
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
