package davserver

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// Locking (RFC 4918 class 2), in the document area only: the calendar and
// address-book collections are the app's, and clients do not lock them.
// Locks are kept by the store (tidbro.FileLockStore), which also enforces
// them inside each write's transaction; this file speaks the protocol:
// LOCK and UNLOCK, the If header that submits tokens and states
// preconditions, and the lock properties.

// Lock timeouts. Clients ask for a timeout and refresh before it ends;
// the maximum bounds how long a client that went away holds a document.
const (
	defaultLockTimeout = 10 * time.Minute
	maxLockTimeout     = time.Hour
)

// lockTimeout reads a Timeout header: the first value this server
// understands, within 1 second and maxLockTimeout.
func lockTimeout(h string) time.Duration {
	for _, v := range strings.Split(h, ",") {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "Infinite") {
			return maxLockTimeout
		}
		if len(v) > 7 && strings.EqualFold(v[:7], "Second-") {
			n, err := strconv.ParseUint(v[7:], 10, 64)
			if err != nil {
				continue
			}
			secs := min(n, uint64(maxLockTimeout/time.Second))
			return max(time.Duration(secs)*time.Second, time.Second)
		}
	}
	return defaultLockTimeout
}

const supportedLock = `<d:lockentry><d:lockscope><d:exclusive/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>` +
	`<d:lockentry><d:lockscope><d:shared/></d:lockscope><d:locktype><d:write/></d:locktype></d:lockentry>`

// areaLocks returns the live locks of the user's area, read once per
// request; for the lock properties of what a PROPFIND lists.
func (q *request) areaLocks() ([]*tidbro.FileLock, error) {
	if q.locks == nil {
		locks, err := q.s.store.FileLocks(q.ctx, q.user.TenantID, q.user.ID, "")
		if err != nil {
			return nil, err
		}
		q.locks = append([]*tidbro.FileLock{}, locks...)
	}
	return q.locks, nil
}

// lockDiscovery is the DAV:lockdiscovery value of f: the locks of locks
// that cover it.
func (q *request) lockDiscovery(f *tidbro.File, locks []*tidbro.FileLock) string {
	var b strings.Builder
	for _, l := range locks {
		if l.Covers(f.Path) {
			b.WriteString(q.activeLock(l, f))
		}
	}
	return b.String()
}

// activeLock describes a lock covering f.
func (q *request) activeLock(l *tidbro.FileLock, f *tidbro.File) string {
	scope, depth := "exclusive", "0"
	if l.Shared {
		scope = "shared"
	}
	if l.Deep {
		depth = "infinity"
	}
	// A lock on something other than f is on a collection above it.
	root := f
	if l.Root != f.Path {
		root = &tidbro.File{Path: l.Root, Collection: true}
	}
	left := max(int64(math.Ceil(time.Until(l.Expires).Seconds())), 0)
	var b strings.Builder
	b.WriteString("<d:activelock><d:locktype><d:write/></d:locktype><d:lockscope><d:" + scope + "/></d:lockscope>")
	b.WriteString("<d:depth>" + depth + "</d:depth>")
	if l.OwnerXML != "" {
		b.WriteString("<d:owner>" + l.OwnerXML + "</d:owner>")
	}
	fmt.Fprintf(&b, "<d:timeout>Second-%d</d:timeout>", left)
	b.WriteString("<d:locktoken>" + hrefXML(l.Token) + "</d:locktoken>")
	b.WriteString("<d:lockroot>" + hrefXML(q.fileHref(root)) + "</d:lockroot></d:activelock>")
	return b.String()
}

// fileLock answers LOCK: a new lock, or with no body a refresh.
func (q *request) fileLock(fpath string, tokens []string) error {
	body, err := readXML(q.r)
	if err != nil {
		return err
	}
	timeout := lockTimeout(q.r.Header.Get("Timeout"))
	if len(bytes.TrimSpace(body)) == 0 {
		return q.fileRefresh(fpath, tokens, timeout)
	}
	shared, owner, err := parseLockInfo(body)
	if err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the LOCK body is not a DAV:lockinfo for a write lock: "+err.Error())
		return nil
	}
	deep := true
	switch q.r.Header.Get("Depth") {
	case "", "infinity":
	case "0":
		deep = false
	default:
		http.Error(q.w, "LOCK takes Depth 0 or infinity", http.StatusBadRequest)
		return nil
	}
	l := &tidbro.FileLock{TenantID: q.user.TenantID, OwnerID: q.user.ID, Root: fpath, Deep: deep, Shared: shared, OwnerXML: owner}
	created, err := q.s.store.LockFile(q.ctx, l, timeout, tokens)
	if err != nil {
		return err
	}
	q.w.Header().Set("Lock-Token", "<"+l.Token+">")
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return q.writeLockDiscovery(fpath, status)
}

// fileRefresh restarts the timeout of the locks the If header names that
// cover fpath (RFC 4918 9.10.2).
func (q *request) fileRefresh(fpath string, tokens []string, timeout time.Duration) error {
	if len(tokens) == 0 {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "a LOCK without a body refreshes a lock: name its token in an If header")
		return nil
	}
	refreshed := 0
	for _, tok := range tokens {
		_, err := q.s.store.RefreshFileLock(q.ctx, q.user.TenantID, q.user.ID, fpath, tok, timeout)
		switch {
		case tidbro.ErrorCode(err) == tidbro.EPRECONDITION:
		case err != nil:
			return err
		default:
			refreshed++
		}
	}
	if refreshed == 0 {
		davError(q.w, http.StatusPreconditionFailed, xml.Name{}, "no lock the If header names covers this resource")
		return nil
	}
	return q.writeLockDiscovery(fpath, http.StatusOK)
}

// writeLockDiscovery answers a LOCK with the resource's DAV:lockdiscovery.
func (q *request) writeLockDiscovery(fpath string, status int) error {
	f, err := q.files.File(q.ctx, q.user.TenantID, q.user.ID, fpath)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
		// An unmapped member of a collection whose deep lock was refreshed.
		f = &tidbro.File{Path: fpath}
	case err != nil:
		return err
	}
	locks, err := q.s.store.FileLocks(q.ctx, q.user.TenantID, q.user.ID, fpath)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	q.w.WriteHeader(status)
	_, err = fmt.Fprintf(q.w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+`<d:prop xmlns:d="DAV:"><d:lockdiscovery>%s</d:lockdiscovery></d:prop>`,
		q.lockDiscovery(f, locks))
	return err
}

// parseLockInfo reads a DAV:lockinfo: the scope of a write lock and the
// owner as an XML fragment ("" when there is none).
func parseLockInfo(body []byte) (shared bool, owner string, err error) {
	if err := checkNamespaces(body); err != nil {
		return false, "", err
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	root, err := nextStart(d)
	if err != nil {
		return false, "", err
	}
	if root.Name != name(nsDAV, "lockinfo") {
		return false, "", fmt.Errorf("the root element is {%s}%s", root.Name.Space, root.Name.Local)
	}
	var scope, kind string
	// only names the one child of lockscope and locktype.
	only := func(dst *string) func(xml.StartElement) error {
		return func(e xml.StartElement) error {
			if e.Name.Space == nsDAV {
				*dst = e.Name.Local
			}
			return d.Skip()
		}
	}
	err = children(d, func(e xml.StartElement) error {
		switch e.Name {
		case name(nsDAV, "lockscope"):
			return children(d, only(&scope))
		case name(nsDAV, "locktype"):
			return children(d, only(&kind))
		case name(nsDAV, "owner"):
			var err error
			owner, err = fragment(d)
			return err
		}
		return d.Skip()
	})
	switch {
	case err != nil:
		return false, "", err
	case kind != "write":
		return false, "", errors.New("the only lock type is DAV:write")
	case scope != "exclusive" && scope != "shared":
		return false, "", errors.New("the lock scope is DAV:exclusive or DAV:shared")
	}
	return scope == "shared", owner, nil
}

// fileUnlock answers UNLOCK: the lock named by the Lock-Token header goes,
// if it covers the request URI (RFC 4918 9.11).
func (q *request) fileUnlock(fpath string) error {
	// The token is a Coded-URL, in <>; a bare one is taken too.
	h := strings.TrimSpace(q.r.Header.Get("Lock-Token"))
	tok := strings.TrimSuffix(strings.TrimPrefix(h, "<"), ">")
	if tok == "" {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "UNLOCK needs a Lock-Token header with the lock's token in <>")
		return nil
	}
	err := q.s.store.UnlockFile(q.ctx, q.user.TenantID, q.user.ID, fpath, tok)
	if tidbro.ErrorCode(err) == tidbro.ECONFLICT {
		davError(q.w, http.StatusConflict, name(nsDAV, "lock-token-matches-request-uri"), "no lock with this token covers this resource")
		return nil
	}
	if err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// locked answers 423 for a write a lock refused, naming the lock's root:
// for a LOCK the lock it conflicts with, else the one whose token was
// missing.
func (q *request) locked(e *tidbro.LockedError) {
	cond := "lock-token-submitted"
	if e.Conflict {
		cond = "no-conflicting-lock"
	}
	root := &tidbro.File{Path: e.Root, Collection: true}
	if f, err := q.s.store.File(q.ctx, q.user.TenantID, q.user.ID, e.Root); err == nil {
		root = f
	}
	davErrorWith(q.w, http.StatusLocked, name(nsDAV, cond), hrefXML(q.fileHref(root)), tidbro.ErrorMessage(e))
}

// The If header (RFC 4918 10.4): lists of conditions on the request URI
// or on tagged resources, which hold when any one list holds; a list holds
// when all its conditions do. It is also how a client shows that it holds
// a lock: a lock's token counts as submitted when a condition names it,
// without Not, for a resource the lock covers. A token named anywhere else
// (negated, for another resource, made up) submits nothing.

type ifCondition struct {
	not   bool
	token string // a state token (a lock token), or
	etag  string // an entity tag, quoted as sent (W/ included)
}

type ifList struct {
	tag   string // the Resource-Tag, as sent; "" for the request URI
	conds []ifCondition
}

// parseIf parses an If header: untagged lists, or tagged ones, not both.
func parseIf(h string) ([]ifList, error) {
	var lists []ifList
	s, tag, tagged, pending := h, "", false, false
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		switch s[0] {
		case '<':
			if len(lists) > 0 && !tagged || pending {
				return nil, errors.New("a resource tag stands before its lists, in a header of tagged lists only")
			}
			end := strings.IndexByte(s, '>')
			if end < 0 {
				return nil, errors.New("a resource tag is not closed")
			}
			tag, tagged, pending, s = s[1:end], true, true, s[end+1:]
			if tag == "" {
				return nil, errors.New("a resource tag is empty")
			}
		case '(':
			conds, rest, err := parseIfList(s[1:])
			if err != nil {
				return nil, err
			}
			lists, pending, s = append(lists, ifList{tag: tag, conds: conds}), false, rest
		default:
			return nil, fmt.Errorf("%q is neither a resource tag nor a list", s)
		}
	}
	if len(lists) == 0 || pending {
		return nil, errors.New("a resource tag has no list")
	}
	return lists, nil
}

// parseIfList reads the conditions of a list up to its ")".
func parseIfList(s string) ([]ifCondition, string, error) {
	var conds []ifCondition
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return nil, "", errors.New("a list is not closed")
		}
		if s[0] == ')' {
			if len(conds) == 0 {
				return nil, "", errors.New("a list is empty")
			}
			return conds, s[1:], nil
		}
		var c ifCondition
		if len(s) > 3 && strings.EqualFold(s[:3], "Not") {
			c.not, s = true, strings.TrimLeft(s[3:], " \t")
		}
		switch {
		case strings.HasPrefix(s, "<"):
			end := strings.IndexByte(s, '>')
			if end <= 1 {
				return nil, "", errors.New("a state token is not closed or empty")
			}
			c.token, s = s[1:end], s[end+1:]
		case strings.HasPrefix(s, "["):
			tag, rest, err := parseETag(strings.TrimLeft(s[1:], " \t"))
			if err != nil {
				return nil, "", err
			}
			rest = strings.TrimLeft(rest, " \t")
			if !strings.HasPrefix(rest, "]") {
				return nil, "", errors.New("an entity tag is not closed")
			}
			c.etag, s = tag, rest[1:]
		default:
			return nil, "", fmt.Errorf("%q is not a condition", s)
		}
		conds = append(conds, c)
	}
}

// parseETag reads an entity tag at the start of s: [W/] and a quoted
// string.
func parseETag(s string) (tag, rest string, err error) {
	n := 0
	if strings.HasPrefix(s, "W/") {
		n = 2
	}
	if len(s) <= n || s[n] != '"' {
		return "", "", errors.New("an entity tag is a quoted string")
	}
	for i := n + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[:i+1], s[i+1:], nil
		}
	}
	return "", "", errors.New("an entity tag is not closed")
}

// ifState is what the conditions on one resource are matched against.
type ifState struct {
	etag   string          // quoted; "" for a collection, or a resource that is not there
	tokens map[string]bool // of the locks that cover the resource
}

// weakETagMatch compares entity tags weakly (RFC 9110 8.8.3.2), which
// RFC 4918 10.4.4 allows; tidbro's own tags are all strong anyway.
func weakETagMatch(a, b string) bool {
	return strings.TrimPrefix(a, "W/") == strings.TrimPrefix(b, "W/")
}

func (l ifList) holds(st ifState) bool {
	for _, c := range l.conds {
		var match bool
		if c.token != "" {
			match = st.tokens[c.token]
		} else {
			match = st.etag != "" && weakETagMatch(c.etag, st.etag)
		}
		if match == c.not {
			return false
		}
	}
	return true
}

// checkIf evaluates the If header for a request on fpath in the document
// area and returns the lock tokens it submits (see above). When the header cannot be
// parsed (400) or does not hold (412) it answers, and ok is false.
func (q *request) checkIf(fpath string) (tokens []string, ok bool, err error) {
	h := strings.Join(q.r.Header.Values("If"), " ")
	if strings.TrimSpace(h) == "" {
		return nil, true, nil
	}
	lists, err := parseIf(h)
	if err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the If header cannot be read: "+err.Error())
		return nil, false, nil
	}
	states := map[string]ifState{}
	holds := false
	for _, l := range lists {
		st, err := q.ifState(l.tag, fpath, states)
		if err != nil {
			return nil, false, err
		}
		holds = holds || l.holds(st)
		for _, c := range l.conds {
			if !c.not && st.tokens[c.token] && !slices.Contains(tokens, c.token) {
				tokens = append(tokens, c.token)
			}
		}
	}
	if !holds {
		davError(q.w, http.StatusPreconditionFailed, xml.Name{}, "the conditions of the If header do not hold")
		return nil, false, nil
	}
	return tokens, true, nil
}

// ifState returns the state of the resource a list is about: the tagged
// one, or fpath. A tag outside the user's area names a resource without
// state here (RFC 4918 10.4.4's unmapped URL); so does one that is not
// there, except that the locks of its collection cover it, as they would
// what is put there.
func (q *request) ifState(tag, fpath string, cache map[string]ifState) (ifState, error) {
	if tag != "" {
		u, err := url.Parse(tag)
		if err != nil || u.Host != "" && !strings.EqualFold(u.Host, q.r.Host) {
			return ifState{}, nil
		}
		res, ok := resolvePath(u.EscapedPath(), q.user.Username)
		if !ok || res.kind != resFile || tidbro.ValidFilePath(res.name) != nil {
			return ifState{}, nil
		}
		fpath = res.name
	}
	if st, ok := cache[fpath]; ok {
		return st, nil
	}
	st := ifState{tokens: map[string]bool{}}
	f, err := q.s.store.File(q.ctx, q.user.TenantID, q.user.ID, fpath)
	switch {
	case err == nil && !f.Collection:
		st.etag = quoteETag(f)
	case err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND:
		return st, err
	}
	locks, err := q.s.store.FileLocks(q.ctx, q.user.TenantID, q.user.ID, fpath)
	if err != nil {
		return st, err
	}
	for _, l := range locks {
		if l.Covers(fpath) {
			st.tokens[l.Token] = true
		}
	}
	cache[fpath] = st
	return st, nil
}
