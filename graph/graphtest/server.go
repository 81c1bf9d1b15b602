// Package graphtest is a stateful fake of the parts of Microsoft Graph v1.0
// that tidbro's Graph connector uses: app-only tokens (client credentials
// with a secret or a certificate), users, the default calendar and its
// events (recurrence, occurrences, exceptions, calendarView delta, extended
// properties), the default contact folder (delta, photos), To Do lists and
// tasks (delta, linked resources, open extensions), change-notification
// subscriptions (validation handshake, delivery, lifecycle events), JSON
// batching and Outlook's throttling.
//
// It follows Microsoft's documented behaviour; where the documentation is
// silent, the comment says the choice is ours. It also watches the client:
// breaches of the contract tidbro holds itself to (ImmutableId and UTC on
// every request, at most 4 concurrent requests per mailbox, honouring
// Retry-After, never inviting attendees) are recorded as Violations and fail
// the test.
package graphtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MaxConcurrent is Outlook's limit of concurrent requests per app and
// mailbox (learn.microsoft.com/graph/throttling-limits).
const MaxConcurrent = 4

// concurrencyRetryAfter is the Retry-After of a MailboxConcurrency 429; the
// value is not documented, so it is our choice.
const concurrencyRetryAfter = time.Second

// Server is a running fake Graph with its login endpoint. Its methods are
// safe for concurrent use.
type Server struct {
	URL      string // Graph base, http://127.0.0.1:PORT/v1.0 (for https://graph.microsoft.com/v1.0)
	Root     string // Graph root, http://127.0.0.1:PORT; the token scope is Root + "/.default"
	Scope    string // Root + "/.default", the only scope the token endpoint grants
	LoginURL string // authority host, http://127.0.0.1:PORT (for https://login.microsoftonline.com)
	// TokenURL is the token endpoint of the home tenant (the tenant of the
	// first AddApp or AddCertApp); empty until then. TokenURLFor gives
	// other tenants'.
	TokenURL string

	t  testing.TB
	ts *httptest.Server

	mu            sync.Mutex
	home          string // tenant of the first app, where AddUser puts users
	apps          map[string]*app
	tokens        map[string]*accessToken
	tokenLife     time.Duration
	tokenRequests int
	users         []*user
	latency       time.Duration
	violations    []string
	expectViol    bool
	counter       uint64 // makes ids and change keys unique
	subs          map[string]*subscription
}

type user struct {
	id, upn, mail, name string
	tenant              string // "" until resolved: the home tenant
	mb                  *mailbox
}

// mailbox is one user's Outlook state: the default calendar's events and
// what the fake needs to answer delta queries and to throttle.
type mailbox struct {
	owner *user
	srv   *Server // for change notifications
	// announced tells created from updated for notifications: ids
	// notified as existing.
	announced map[string]bool
	calID     string
	events    map[string]*Event // series masters and single instances
	order     []string          // ids of events, in creation order
	txns      map[string]string // transactionId → event id, for the mailbox's lifetime
	tombs     map[string]Event  // deleted events, for transactionId replays
	contacts  *contactStore     // the default contact folder
	todo      *todoStore        // To Do lists and tasks

	logSeq  int        // position of the last change
	log     []logEntry // every item id touched, for out-of-window @removed
	deltas  map[string]*deltaState
	expired map[string]*deltaState
	pages   map[string]*deltaPage

	requests  int
	inflight  int
	faults    []fault
	notBefore map[string]retryMark // request fingerprint → when it may be retried
}

type logEntry struct {
	seq int
	id  string
}

type fault struct {
	status     int
	retryAfter time.Duration
}

type retryMark struct {
	sent  time.Time // when the answer asking for the wait was made
	at    time.Time // when the request may come again
	after time.Duration
}

// New starts a fake Graph, stopped when the test ends; at that point the
// test fails if the client broke the contract (see Violations), unless
// ExpectViolations was called.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:         t,
		apps:      map[string]*app{},
		tokens:    map[string]*accessToken{},
		tokenLife: 3599 * time.Second, // the documented sample's expires_in
	}
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1.0/") {
			s.serveGraph(w, r)
		} else if tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token"); ok && tenant != "" && !strings.Contains(tenant, "/") {
			s.serveToken(w, r, tenant)
		} else {
			http.NotFound(w, r)
		}
	}))
	s.Root = s.ts.URL
	s.URL = s.ts.URL + "/v1.0"
	s.Scope = s.Root + "/.default"
	s.LoginURL = s.ts.URL
	t.Cleanup(func() {
		s.ts.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if len(s.violations) > 0 && !s.expectViol {
			t.Errorf("graphtest: the client broke the Graph contract:\n  %s", strings.Join(s.violations, "\n  "))
		}
	})
	return s
}

// TokenURLFor is the token endpoint of a tenant.
func (s *Server) TokenURLFor(tenantID string) string {
	return s.LoginURL + "/" + tenantID + "/oauth2/v2.0/token"
}

// AddUser adds a user to the home tenant (the first app's; users added
// before any app join it when it comes) and returns its directory id.
// Without a mailbox, mailbox endpoints answer 404 MailboxNotEnabledForRESTAPI.
func (s *Server) AddUser(upn, mail string, mailbox bool) (id string) {
	return s.AddUserIn("", upn, mail, mailbox)
}

// AddUserIn adds a user to a given tenant ("" is the home tenant).
func (s *Server) AddUserIn(tenantID, upn, mail string, hasMailbox bool) (id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := &user{id: s.newGUID(), upn: upn, mail: mail, tenant: tenantID}
	u.name, _, _ = strings.Cut(upn, "@")
	if hasMailbox {
		u.mb = &mailbox{
			owner:     u,
			srv:       s,
			calID:     calendarID(u.id),
			events:    map[string]*Event{},
			txns:      map[string]string{},
			tombs:     map[string]Event{},
			deltas:    map[string]*deltaState{},
			expired:   map[string]*deltaState{},
			pages:     map[string]*deltaPage{},
			notBefore: map[string]retryMark{},
			contacts:  newContactStore(u.id),
			todo:      newTodoStore(s),
		}
		u.mb.contacts.mb = u.mb
		for _, l := range u.mb.todo.lists {
			l.mb = u.mb
		}
	}
	s.users = append(s.users, u)
	return u.id
}

// SetTokenLifetime sets the lifetime of tokens issued from now on (default
// 3599 s).
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenLife = d
}

// SetLatency makes every mailbox request take at least d while it holds its
// place among the mailbox's concurrent requests, so that a client's
// concurrency shows (and more than MaxConcurrent are caught).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// TokenRequests is the number of requests to the token endpoints so far.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenRequests
}

// Requests is the number of Graph requests that reached the user's mailbox,
// throttled and failed ones included, each $batch part counted singly.
func (s *Server) Requests(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustMailbox(userID).requests
}

// Throttle answers the next n requests for the mailbox with 429
// TooManyRequests and Retry-After. Faults planned by Throttle and FailNext
// are served in the order they were planned.
func (s *Server) Throttle(userID string, n int, retryAfter time.Duration) {
	s.plan(userID, n, fault{http.StatusTooManyRequests, retryAfter})
}

// FailNext answers the next n requests for the mailbox with status and a
// Graph error body, without executing them.
func (s *Server) FailNext(userID string, n int, status int) {
	s.plan(userID, n, fault{status: status})
}

// FailNextRetryAfter is FailNext with a Retry-After header (a 503 may carry
// one).
func (s *Server) FailNextRetryAfter(userID string, n int, status int, retryAfter time.Duration) {
	s.plan(userID, n, fault{status, retryAfter})
}

func (s *Server) plan(userID string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mustMailbox(userID)
	for range n {
		mb.faults = append(mb.faults, f)
	}
}

// Violations are the contract breaches by the client so far.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

// ExpectViolations keeps recorded violations from failing the test, for
// tests that provoke them on purpose.
func (s *Server) ExpectViolations() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expectViol = true
}

func (s *Server) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// mustMailbox finds a user's mailbox by id or UPN for the test-facing
// methods, failing the test when there is none.
func (s *Server) mustMailbox(userID string) *mailbox {
	u := s.findUser(userID)
	if u == nil || u.mb == nil {
		s.t.Helper()
		s.t.Fatalf("graphtest: no mailbox for user %q", userID)
	}
	return u.mb
}

func (s *Server) findUser(idOrUPN string) *user {
	for _, u := range s.users {
		if strings.EqualFold(u.id, idOrUPN) || strings.EqualFold(u.upn, idOrUPN) {
			return u
		}
	}
	return nil
}

func (s *Server) tenantOf(u *user) string {
	if u.tenant != "" {
		return u.tenant
	}
	return s.home
}

// ---- requests ----

// req is one Graph request being answered (a $batch part is one too).
type req struct {
	s      *Server
	w      http.ResponseWriter
	r      *http.Request
	id     string // request-id
	path   string // after /v1.0, for messages and fingerprints
	body   []byte
	prefer map[string]string
	part   bool // a $batch part
	came   time.Time
}

type partKey struct{}

// graphMediaType is Graph's Content-Type for JSON answers.
const graphMediaType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

func (q *req) json(status int, v any) {
	h := q.w.Header()
	h.Set("Content-Type", graphMediaType)
	h.Set("request-id", q.id)
	h.Set("client-request-id", cmpOr(q.r.Header.Get("client-request-id"), q.id))
	q.w.WriteHeader(status)
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		q.w.Write(b)
	}
}

func (q *req) noContent() {
	q.w.Header().Set("request-id", q.id)
	q.w.WriteHeader(http.StatusNoContent)
}

// fail answers with Graph's error shape.
func (q *req) fail(status int, code, msg string) {
	q.json(status, errorBody(q.id, code, msg))
}

func (q *req) failf(status int, code, format string, args ...any) {
	q.fail(status, code, fmt.Sprintf(format, args...))
}

func errorBody(requestID, code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code":    code,
		"message": msg,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        requestID,
			"client-request-id": requestID,
		},
	}}
}

// throttled answers 429 (or a planned status) with Retry-After, and
// remembers when the same request may come again.
func (q *req) throttled(mb *mailbox, status int, code, msg string, after time.Duration) {
	if after > 0 {
		q.w.Header().Set("Retry-After", formatSeconds(after))
		now := time.Now()
		mb.notBefore[q.fingerprint()] = retryMark{now, now.Add(after), after}
	}
	body := errorBody(q.id, code, msg)
	if status == http.StatusTooManyRequests {
		// The documented sample's innerError.
		inner := body["error"].(map[string]any)["innerError"].(map[string]any)
		inner["code"], inner["status"], inner["message"] = "429", "429", "Please retry after"
	}
	q.json(status, body)
}

// formatSeconds writes a Retry-After in seconds; fractions appear as in the
// older documented sample ("2.128").
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

// fingerprint identifies a request across retries, in a batch or not.
func (q *req) fingerprint() string {
	sum := sha256.Sum256(q.body)
	return q.r.Method + " " + q.path + "?" + q.r.URL.RawQuery + " " + hex.EncodeToString(sum[:8])
}

func (q *req) describe() string {
	d := q.r.Method + " " + q.path
	if q.r.URL.RawQuery != "" {
		d += "?" + q.r.URL.RawQuery
	}
	if q.part {
		d += " ($batch part)"
	}
	return d
}

func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request) {
	came := time.Now()
	body, _ := io.ReadAll(r.Body)
	q := &req{s: s, w: w, r: r, id: s.newGUID(), body: body, prefer: parsePrefer(r.Header),
		path: strings.TrimPrefix(r.URL.Path, "/v1.0"), came: came}
	q.part, _ = r.Context().Value(partKey{}).(bool)
	segs, err := segments(strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0"))
	if err != nil {
		q.fail(http.StatusBadRequest, "BadRequest", "Invalid request URL.")
		return
	}
	if len(segs) == 1 && segs[0] == "$batch" {
		// The envelope carries no Prefer of its own: the parts' headers are
		// the parts' (the documentation does not say the outer ones apply,
		// so each part must bring them; our choice).
		if q.part {
			q.fail(http.StatusBadRequest, "BadRequest", "A $batch request cannot be nested in a batch.")
			return
		}
		if _, ok := s.authenticate(q); ok {
			s.serveBatch(q)
		}
		return
	}
	if !strings.EqualFold(q.prefer["idtype"], "ImmutableId") {
		s.mu.Lock()
		s.violate("%s: no Prefer: IdType=\"ImmutableId\"", q.describe())
		s.mu.Unlock()
	}
	tenant, ok := s.authenticate(q)
	if !ok {
		return
	}
	switch {
	case len(segs) == 0:
		q.fail(http.StatusBadRequest, "BadRequest", "Invalid request URL.")
	case segs[0] == "me":
		q.fail(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow.")
	case segs[0] == "subscriptions":
		s.serveSubscriptions(q, tenant, segs[1:])
	case segs[0] != "users":
		q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", segs[0])
	case len(segs) == 1:
		s.listUsers(q, tenant)
	default:
		s.serveUser(q, tenant, segs[1], segs[2:])
	}
}

// segments splits an escaped path into unescaped segments, so that an
// escaped "/" (or "#" as %23 in a B2B UPN) stays inside its segment.
func segments(escaped string) ([]string, error) {
	escaped = strings.Trim(escaped, "/")
	if escaped == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(escaped, "/") {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// authenticate checks the bearer token and returns its tenant.
func (s *Server) authenticate(q *req) (tenant string, ok bool) {
	q.w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.LoginURL+`/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	scheme, tok, _ := strings.Cut(q.r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		q.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return "", false
	}
	s.mu.Lock()
	at := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case at == nil:
		q.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
		return "", false
	case !time.Now().Before(at.expires):
		q.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return "", false
	}
	q.w.Header().Del("WWW-Authenticate")
	return at.tenant, true
}

// serveUser answers /users/{id|upn}[/...].
func (s *Server) serveUser(q *req, tenant, who string, rest []string) {
	s.mu.Lock()
	u := s.findUser(who)
	if u != nil && !strings.EqualFold(s.tenantOf(u), tenant) {
		s.mu.Unlock()
		// The user exists in another tenant: the token is not good for it.
		q.fail(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
		return
	}
	if len(rest) == 0 {
		defer s.mu.Unlock()
		if q.r.Method != http.MethodGet {
			q.fail(http.StatusMethodNotAllowed, "Request_BadRequest", "The method is not allowed for this resource.")
			return
		}
		if u == nil {
			q.failf(http.StatusNotFound, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", who)
			return
		}
		obj := selectUser(userJSON(u), q.r.URL.Query().Get("$select"))
		obj["@odata.context"] = s.URL + "/$metadata#users/$entity"
		q.json(http.StatusOK, obj)
		return
	}
	switch {
	case u == nil:
		s.mu.Unlock()
		q.failf(http.StatusNotFound, "ErrorInvalidUser", "The requested user '%s' is invalid.", who)
		return
	case u.mb == nil:
		s.mu.Unlock()
		q.fail(http.StatusNotFound, "MailboxNotEnabledForRESTAPI", "REST API is not yet supported for this mailbox.")
		return
	}
	mb := u.mb
	if !s.admit(q, mb) {
		s.mu.Unlock()
		return
	}
	lat := s.latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		mb.inflight--
		s.mu.Unlock()
	}()
	if lat > 0 {
		time.Sleep(lat)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serveMailbox(q, mb, who, rest)
}

// admit lets a request into a mailbox, or answers it: a retry before its
// Retry-After, a planned fault, or one request too many at once. s.mu is
// held.
func (s *Server) admit(q *req, mb *mailbox) bool {
	mb.requests++
	fp := q.fingerprint()
	// A retry is the same request (method, URL, body) again; one that came
	// before the answer asking for the wait was made is a concurrent twin,
	// not a retry.
	if m, ok := mb.notBefore[fp]; ok && q.came.After(m.sent) {
		if wait := time.Until(m.at); wait > 0 {
			s.violate("%s: retried %v before its Retry-After (%v) elapsed", q.describe(), wait.Round(time.Millisecond), m.after)
			q.throttled(mb, http.StatusTooManyRequests, "TooManyRequests", "Please retry again later.", wait)
			return false
		}
		delete(mb.notBefore, fp)
	}
	if mb.inflight >= MaxConcurrent {
		s.violate("%s: more than %d concurrent requests for mailbox %s", q.describe(), MaxConcurrent, mb.owner.upn)
		q.throttled(mb, http.StatusTooManyRequests, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.", concurrencyRetryAfter)
		return false
	}
	if len(mb.faults) > 0 {
		f := mb.faults[0]
		mb.faults = mb.faults[1:]
		if f.status == http.StatusTooManyRequests {
			q.throttled(mb, f.status, "TooManyRequests", "Please retry again later.", f.retryAfter)
		} else {
			q.throttled(mb, f.status, faultCode(f.status), "graphtest: planned failure ("+http.StatusText(f.status)+").", f.retryAfter)
		}
		return false
	}
	mb.inflight++
	return true
}

// faultCode is a Graph error code for a planned status (the codes of the
// errors page, learn.microsoft.com/graph/errors).
func faultCode(status int) string {
	switch status {
	case http.StatusInternalServerError:
		return "generalException"
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable"
	case http.StatusGatewayTimeout:
		return "timeout"
	case http.StatusBadGateway:
		return "BadGateway"
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken"
	case http.StatusForbidden:
		return "ErrorAccessDenied"
	case http.StatusNotFound:
		return "ErrorItemNotFound"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// listUsers answers GET /users, optionally $filter=mail eq '...' (or
// userPrincipalName eq '...'), within the token's tenant.
func (s *Server) listUsers(q *req, tenant string) {
	if q.r.Method != http.MethodGet {
		q.fail(http.StatusMethodNotAllowed, "Request_BadRequest", "The method is not allowed for this resource.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	qs := q.r.URL.Query()
	var prop, want string
	if f := qs.Get("$filter"); f != "" {
		m := userFilter.FindStringSubmatch(strings.TrimSpace(f))
		if m == nil {
			q.failf(http.StatusBadRequest, "Request_UnsupportedQuery", "graphtest: unsupported filter %q (mail or userPrincipalName eq '...')", f)
			return
		}
		prop, want = strings.ToLower(m[1]), unquoteOData(m[2])
	}
	value := []any{}
	for _, u := range s.users {
		if !strings.EqualFold(s.tenantOf(u), tenant) {
			continue
		}
		if (prop == "mail" && !strings.EqualFold(u.mail, want)) || (prop == "userprincipalname" && !strings.EqualFold(u.upn, want)) {
			continue
		}
		value = append(value, selectUser(userJSON(u), qs.Get("$select")))
	}
	q.json(http.StatusOK, map[string]any{"@odata.context": s.URL + "/$metadata#users", "value": value})
}

// userJSON has the documented default properties of a user.
func userJSON(u *user) map[string]any {
	var mail any
	if u.mail != "" {
		mail = u.mail
	}
	return map[string]any{
		"businessPhones": []any{}, "displayName": u.name, "givenName": nil, "id": u.id,
		"jobTitle": nil, "mail": mail, "mobilePhone": nil, "officeLocation": nil,
		"preferredLanguage": nil, "surname": nil, "userPrincipalName": u.upn,
	}
}

// ---- small helpers ----

// parsePrefer reads every Prefer header into lower-case name → unquoted
// value.
func parsePrefer(h http.Header) map[string]string {
	out := map[string]string{}
	for _, v := range h.Values("Prefer") {
		for _, p := range splitOutside(v, ',') {
			p, _, _ = strings.Cut(p, ";") // drop preference parameters
			name, val, _ := strings.Cut(strings.TrimSpace(p), "=")
			out[strings.ToLower(strings.TrimSpace(name))] = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return out
}

// splitOutside splits s at sep outside double quotes, single quotes and
// parentheses.
func splitOutside(s string, sep byte) []string {
	var out []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (s *Server) newGUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// unique returns bytes no other call returns: a counter and randomness.
func (s *Server) unique() []byte {
	s.counter++
	var b [18]byte
	rand.Read(b[8:])
	for i := range 8 {
		b[i] = byte(s.counter >> (56 - 8*i))
	}
	return b[:]
}

func randomToken() string {
	var b [18]byte
	rand.Read(b[:])
	return b64(b[:])
}

// newPartRequest builds the request of a $batch part, run through the same
// handler as any other.
func newPartRequest(outer *http.Request, method, target string, h http.Header, body []byte) (*http.Request, error) {
	ctx := context.WithValue(outer.Context(), partKey{}, true)
	r, err := http.NewRequestWithContext(ctx, method, "http://graph.invalid/v1.0"+target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header = h
	return r, nil
}
