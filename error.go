// Package tidbro holds the domain of the tidbro synchronisation server: its
// vocabulary (tenant, user, account, item, pair, link, policy), the interfaces
// the outside packages implement (the store, later the remotes), and the typed
// error codes that every edge maps to its own protocol.
package tidbro

import (
	"errors"
	"fmt"
)

// Error codes. Each edge (REST API, DAV server, CLI) maps them to its own
// status codes; nothing below the edge knows about HTTP.
const (
	EINVALID      = "invalid"             // the input is wrong; Field names what
	ENOTFOUND     = "not_found"           // no such thing (or not visible to the caller)
	ECONFLICT     = "conflict"            // the request contradicts the current state
	EPRECONDITION = "precondition_failed" // If-Match did not match the current version
	EUNAUTHORIZED = "unauthorized"        // no or wrong credentials
	EFORBIDDEN    = "forbidden"           // known caller, not allowed
	ETOOLARGE     = "too_large"           // the input is over a size limit
	ELOCKED       = "locked"              // a WebDAV lock is in the way (see LockedError)
	EUNAVAILABLE  = "unavailable"         // transient: a remote or the database is unreachable; retry later
	EINTERNAL     = "internal"            // a bug or an outside failure; details are logged, not shown
)

// Error is a domain error with a machine-readable code, a message meant for
// the caller and, for invalid input, the name of the offending field.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-facing message of err. Errors without a
// code are internal and their text is not shown to callers.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field named by err, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}
