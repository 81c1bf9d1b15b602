// Package davserver is tidbro's own CalDAV and CardDAV server: every user's
// app calendar (appointments and jobs), task list and address book, for any
// client (Outlook with a CalDAV add-in, Apple Calendar, Thunderbird, DAVx5).
//
// It is written on net/http rather than on go-webdav's server: that has no
// sync-collection (RFC 6578) and no getctag, and its backend interface
// would hide the change feed that makes both cheap here. The feed's
// positions are the sync tokens: a client asking for what changed since a
// token costs one indexed query, whatever the collection's size.
//
// Layout, per user (RFC 6764 autodiscovery leads to /dav/):
//
//	/dav/principals/USER/
//	/dav/calendars/USER/calendar/   appointments and jobs (VEVENT)
//	/dav/calendars/USER/tasks/      tasks (VTODO)
//	/dav/addressbooks/USER/contacts/
//	/dav/files/USER/                a WebDAV tree of documents (files.go)
//
// An item's resource is its app id plus .ics or .vcf (see objectName); a
// client creating an item names its resource, and that name becomes the
// app id.
package davserver

import (
	"context"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// Prefix is where the DAV tree lives.
const Prefix = "/dav/"

// MaxObject bounds one calendar object or card a client may PUT.
const MaxObject = 10 << 20

var errTooLarge = errors.New("request body too large")

// Server serves the DAV tree and the well-known redirects.
type Server struct {
	store tidbro.Store
	log   *slog.Logger
}

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
}

// New returns a Server over store.
func New(store tidbro.Store, o Options) *Server {
	s := &Server{store: store, log: o.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// request is one request's state after authentication.
type request struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	user   *tidbro.User
	policy tidbro.DAVPolicy
	names  map[*collection]map[int64]string // resource names clients chose, read once per request

	// The document area: as the request's lock tokens let it write, and
	// its locks, read once per request (see areaLocks).
	files tidbro.FileStore
	locks []*tidbro.FileLock
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.serve(sw, r)
	level := slog.LevelDebug
	if sw.status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(r.Context(), level, "dav", slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", sw.status), slog.Duration("took", time.Since(start)))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/.well-known/caldav" || r.URL.Path == "/.well-known/carddav" {
		// RFC 6764: the context path; clients then ask it for their principal.
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	if !strings.HasPrefix(r.URL.Path+"/", Prefix) {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodOptions {
		// Capabilities are no secret, and some clients ask before they log in.
		options(w, r.URL.Path)
		return
	}
	u, err := s.authenticate(r)
	if err != nil {
		if tidbro.ErrorCode(err) == tidbro.EUNAUTHORIZED {
			w.Header().Set("WWW-Authenticate", `Basic realm="tidbro", charset="UTF-8"`)
			http.Error(w, tidbro.ErrorMessage(err), http.StatusUnauthorized)
			return
		}
		s.fail(w, r, err)
		return
	}
	q := &request{s: s, w: w, r: r, ctx: r.Context(), user: u}
	if q.policy, err = s.policy(q.ctx, u.TenantID); err != nil {
		s.fail(w, r, err)
		return
	}
	res, ok := q.resolve()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if res.kind == resFile {
		err = q.serveFile(res.name)
	} else {
		err = q.serveDAV(res)
	}
	if err != nil {
		s.fail(w, r, err)
	}
}

// serveDAV answers a request for a resource of the CalDAV/CardDAV tree.
func (q *request) serveDAV(res resource) (err error) {
	w, r := q.w, q.r
	switch r.Method {
	case "PROPFIND":
		err = q.propfind(res)
	case "REPORT":
		err = q.report(res)
	case http.MethodGet, http.MethodHead:
		err = q.get(res)
	case http.MethodPut:
		err = q.put(res)
	case http.MethodDelete:
		err = q.delete(res)
	case "PROPPATCH":
		err = q.proppatch(res)
	case "MKCOL", "MKCALENDAR":
		davError(w, http.StatusForbidden, xml.Name{}, "The collections are fixed: every user has a calendar, a task list and an address book. Folders of your own go in "+filesPath(q.user.Username))
	default:
		w.Header().Set("Allow", allow)
		http.Error(w, r.Method+" is not supported here", http.StatusMethodNotAllowed)
	}
	return err
}

const allow = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT"

// options answers OPTIONS. It is answered before authentication, so it
// goes by the path alone: the document area is WebDAV class 1, 2 (locks)
// and 3; the rest of the tree is class 1 and 3 with CalDAV and CardDAV,
// without locks, and its Allow header is the widest of its resources'
// (MKCOL, COPY and MOVE are the document area's, where /dav/ lists it).
func options(w http.ResponseWriter, path string) {
	if path == Prefix+"files" || strings.HasPrefix(path, Prefix+"files/") {
		w.Header().Set("DAV", "1, 2, 3")
		w.Header().Set("Allow", allowFiles)
	} else {
		w.Header().Set("DAV", "1, 3, calendar-access, addressbook")
		w.Header().Set("Allow", "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, REPORT")
	}
	w.WriteHeader(http.StatusOK)
}

// fail maps an error to a status; internal details are logged, not shown.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := map[string]int{
		tidbro.EINVALID: http.StatusBadRequest, tidbro.ENOTFOUND: http.StatusNotFound, tidbro.ECONFLICT: http.StatusConflict,
		tidbro.EPRECONDITION: http.StatusPreconditionFailed, tidbro.EUNAUTHORIZED: http.StatusUnauthorized,
		tidbro.EFORBIDDEN: http.StatusForbidden, tidbro.ETOOLARGE: http.StatusRequestEntityTooLarge,
		tidbro.EUNAVAILABLE: http.StatusServiceUnavailable, tidbro.ELOCKED: http.StatusLocked,
	}[tidbro.ErrorCode(err)]
	switch {
	case errors.Is(err, errTooLarge):
		code = http.StatusRequestEntityTooLarge
	case code == 0:
		code = http.StatusInternalServerError
		if !errors.Is(err, context.Canceled) {
			s.log.Error("dav: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		}
	}
	msg := tidbro.ErrorMessage(err)
	if errors.Is(err, errTooLarge) {
		msg = "the request body is too large"
	}
	davError(w, code, xml.Name{}, msg)
}

// authenticate checks HTTP Basic: the username and one of the user's app
// passwords.
func (s *Server) authenticate(r *http.Request) (*tidbro.User, error) {
	name, password, ok := r.BasicAuth()
	if !ok || name == "" || password == "" {
		return nil, tidbro.Errorf(tidbro.EUNAUTHORIZED, "log in with your username and an app password")
	}
	u, err := s.store.UserByAppPassword(r.Context(), tidbro.HashToken(password))
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND || err == nil && u.Username != name {
		return nil, tidbro.Errorf(tidbro.EUNAUTHORIZED, "wrong username or app password")
	}
	return u, err
}

func (s *Server) policy(ctx context.Context, tenantID int64) (tidbro.DAVPolicy, error) {
	var p tidbro.DAVPolicy
	b, err := s.store.Setting(ctx, tenantID, tidbro.DAVPolicyKey)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
	case err != nil:
		return p, err
	default:
		if err := jsonUnmarshal(b, &p); err != nil {
			return p, err
		}
	}
	return p.WithDefaults(), nil
}

// resource is what a path names.
type resource struct {
	kind resKind
	coll *collection // collections and objects
	name string      // objects: the last segment, unescaped
}

type resKind int

const (
	resRoot resKind = iota
	resPrincipals
	resPrincipal
	resCalendarHome
	resAddressBookHome
	resCollection
	resObject
	resFile // name: the path in the user's document area
)

// collection is one of a user's three collections.
type collection struct {
	name      string
	home      resKind
	kinds     []tidbro.Kind
	comp      string // VEVENT, VTODO; "" for the address book
	ext       string
	mediaType string
	display   string
}

var (
	calendar    = &collection{"calendar", resCalendarHome, []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob}, "VEVENT", ".ics", "text/calendar; charset=utf-8", "Calendar"}
	tasks       = &collection{"tasks", resCalendarHome, []tidbro.Kind{tidbro.KindTask}, "VTODO", ".ics", "text/calendar; charset=utf-8", "Tasks"}
	contacts    = &collection{"contacts", resAddressBookHome, []tidbro.Kind{tidbro.KindContact}, "", ".vcf", "text/vcard; charset=utf-8", "Contacts"}
	collections = []*collection{calendar, tasks, contacts}
)

func (c *collection) contacts() bool { return c == contacts }

// resolve maps the request path to a resource of the authenticated user;
// anything of another user is not found.
func (q *request) resolve() (resource, bool) {
	return resolvePath(q.r.URL.EscapedPath(), q.user.Username)
}

func resolvePath(escaped, username string) (resource, bool) {
	rest := strings.TrimPrefix(escaped, strings.TrimSuffix(Prefix, "/"))
	var segs []string
	for _, s := range strings.Split(strings.Trim(rest, "/"), "/") {
		if s == "" {
			continue
		}
		u, err := url.PathUnescape(s)
		if err != nil {
			return resource{}, false
		}
		segs = append(segs, u)
	}
	if len(segs) == 0 {
		return resource{kind: resRoot}, true
	}
	if len(segs) >= 2 && segs[1] != username {
		return resource{}, false
	}
	switch {
	case segs[0] == "files" && len(segs) >= 2:
		return resource{kind: resFile, name: strings.Join(segs[2:], "/")}, true
	case segs[0] == "principals" && len(segs) == 1:
		return resource{kind: resPrincipals}, true
	case segs[0] == "principals" && len(segs) == 2:
		return resource{kind: resPrincipal}, true
	case segs[0] == "calendars" && len(segs) == 2:
		return resource{kind: resCalendarHome}, true
	case segs[0] == "addressbooks" && len(segs) == 2:
		return resource{kind: resAddressBookHome}, true
	case (segs[0] == "calendars" || segs[0] == "addressbooks") && len(segs) <= 4:
		for _, c := range collections {
			if c.name == segs[2] && (c.home == resCalendarHome) == (segs[0] == "calendars") {
				if len(segs) == 3 {
					return resource{kind: resCollection, coll: c}, true
				}
				return resource{kind: resObject, coll: c, name: segs[3]}, true
			}
		}
	}
	return resource{}, false
}

// Paths.

func escSeg(s string) string { return url.PathEscape(s) }

func principalPath(u string) string { return Prefix + "principals/" + escSeg(u) + "/" }

func homePath(k resKind, u string) string {
	if k == resAddressBookHome {
		return Prefix + "addressbooks/" + escSeg(u) + "/"
	}
	return Prefix + "calendars/" + escSeg(u) + "/"
}

func collectionPath(c *collection, u string) string { return homePath(c.home, u) + c.name + "/" }

// Jobs and events share the calendar and may share app ids: a job's
// resource starts with "~job~", an event's whose app id starts with "~"
// with one more "~". Names are compared unescaped, so clients that
// normalise %7E to "~" (RFC 3986) see the same resources.
const jobPrefix = "~job~"

// objectName is an item's resource name in its collection, escaped.
func objectName(c *collection, kind tidbro.Kind, appID string) string {
	switch {
	case kind == tidbro.KindJob:
		return escSeg(jobPrefix+appID) + c.ext
	case strings.HasPrefix(appID, "~"):
		return escSeg("~"+appID) + c.ext
	}
	return escSeg(appID) + c.ext
}

// parseObject maps an unescaped resource name back to the item's kind and
// app id.
func parseObject(c *collection, name string) (tidbro.Kind, string, bool) {
	stem, ok := strings.CutSuffix(name, c.ext)
	if !ok || stem == "" {
		return "", "", false
	}
	kind := c.kinds[0]
	switch {
	case strings.HasPrefix(stem, jobPrefix) && c == calendar:
		kind, stem = tidbro.KindJob, stem[len(jobPrefix):]
	case strings.HasPrefix(stem, "~~"):
		stem = stem[1:]
	case strings.HasPrefix(stem, "~"):
		return "", "", false
	}
	if tidbro.ValidAppID("appId", stem) != nil {
		return "", "", false
	}
	return kind, stem, true
}

// objectPath is an item's URL path: under the name a client gave it, else
// its app id's.
func (q *request) objectPath(c *collection, it *tidbro.Item) string {
	if q.names == nil {
		q.names = map[*collection]map[int64]string{}
	}
	names, ok := q.names[c]
	if !ok {
		var err error
		if names, err = q.s.store.DAVNames(q.ctx, q.user.TenantID, q.user.ID, c.kinds); err != nil {
			q.s.log.Warn("dav: reading resource names", "err", err)
		}
		q.names[c] = names
	}
	if n, ok := names[it.ID]; ok {
		return collectionPath(c, q.user.Username) + escSeg(n)
	}
	return collectionPath(c, q.user.Username) + objectName(c, it.Kind, it.AppID)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
