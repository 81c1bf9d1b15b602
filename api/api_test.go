package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/secret"
	"github.com/tidbro/tidbro/sqlite"
)

type testAPI struct {
	t      *testing.T
	srv    *Server
	url    string
	token  string // tenant default
	other  string // a second tenant's token
	store  tidbro.Store
	tenant *tidbro.Tenant
}

func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	ctx := context.Background()
	box, err := secret.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tidbro.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	a := &testAPI{t: t, store: store, srv: New(store, Options{})}
	mk := func(name string) (*tidbro.Tenant, string) {
		tn, err := store.CreateTenant(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		tok, hash := tidbro.NewToken()
		if _, err := store.CreateToken(ctx, tn.ID, "test", hash); err != nil {
			t.Fatal(err)
		}
		return tn, tok
	}
	a.tenant, a.token = mk("default")
	_, a.other = mk("other")
	hs := httptest.NewServer(a.srv)
	t.Cleanup(hs.Close)
	a.url = hs.URL
	return a
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// errorCode returns error.code and error.field of an error response.
func (r resp) errorCode(t *testing.T) (code, field string) {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without a message: %s", r.body)
	}
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

func (a *testAPI) do(method, path, token string, body any, headers ...string) resp {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// must performs a request and fails unless it answers with want.
func (a *testAPI) must(want int, method, path string, body any, headers ...string) resp {
	a.t.Helper()
	r := a.do(method, path, a.token, body, headers...)
	if r.status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.body)
	}
	return r
}

func (a *testAPI) changes(since string) (changes []map[string]any, next string) {
	a.t.Helper()
	m := a.must(200, "GET", "/v1/changes?since="+since, nil).json(a.t)
	for _, c := range m["changes"].([]any) {
		changes = append(changes, c.(map[string]any))
	}
	return changes, m["next"].(string)
}

const meeting = `{"summary":"Kick-off","location":"Room 1","start":"2026-05-04T09:00:00+02:00","end":"2026-05-04T10:00:00+02:00","timeZone":"Europe/Stockholm","categories":["Sales"],"type":"appointment"}`

func TestEventLifecycle(t *testing.T) {
	a := newTestAPI(t)
	if r := a.must(201, "PUT", "/v1/users/alice", `{"email":"alice@example.com","displayName":"Alice","timeZone":"Europe/Stockholm"}`); r.json(t)["username"] != "alice" {
		t.Fatalf("user body %s", r.body)
	}
	a.must(200, "PUT", "/v1/users/alice", `{"email":"alice@example.com","displayName":"Alice A.","timeZone":"Europe/Stockholm"}`)

	r := a.must(201, "PUT", "/v1/users/alice/events/E1", meeting)
	if r.header.Get("ETag") != `"1"` {
		t.Fatalf("ETag %q, want \"1\"", r.header.Get("ETag"))
	}
	ev := r.json(t)
	for k, want := range map[string]any{"appId": "E1", "kind": "event", "type": "appointment", "owner": "alice", "origin": "app",
		"summary": "Kick-off", "start": "2026-05-04T09:00:00+02:00", "timeZone": "Europe/Stockholm", "version": 1.0} {
		if ev[k] != want {
			t.Errorf("%s = %v, want %v", k, ev[k], want)
		}
	}

	// The same body again is the same item: no new version, no feed entry.
	_, head := a.changes("")
	if v := a.must(200, "PUT", "/v1/users/alice/events/E1", meeting).json(t)["version"]; v != 1.0 {
		t.Fatalf("idempotent put gave version %v", v)
	}
	// The same instant written in another offset is the same content too.
	same := strings.ReplaceAll(meeting, "09:00:00+02:00", "07:00:00Z")
	if v := a.must(200, "PUT", "/v1/users/alice/events/E1", same).json(t)["version"]; v != 1.0 {
		t.Fatalf("equal instant in another offset gave version %v", v)
	}
	if c, _ := a.changes(head); len(c) != 0 {
		t.Fatalf("idempotent puts added feed entries: %v", c)
	}

	if got := a.must(200, "GET", "/v1/users/alice/events/E1", nil).json(t); got["location"] != "Room 1" {
		t.Fatalf("get: %v", got)
	}
	list := a.must(200, "GET", "/v1/users/alice/events?from=2026-05-01&to=2026-05-31", nil).json(t)
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["appId"] != "E1" {
		t.Fatalf("list in window: %s", list)
	}
	list = a.must(200, "GET", "/v1/users/alice/events?from=2026-06-01&to=2026-06-30", nil).json(t)
	if items := list["items"].([]any); len(items) != 0 {
		t.Fatalf("list outside window: %v", items)
	}

	a.must(204, "DELETE", "/v1/users/alice/events/E1", nil)
	if code, _ := a.must(404, "GET", "/v1/users/alice/events/E1", nil).errorCode(t); code != "not_found" {
		t.Fatalf("code %s", code)
	}
	a.must(404, "DELETE", "/v1/users/alice/events/E1", nil)

	changes, next := a.changes("")
	var ops []string
	for _, c := range changes {
		if c["appId"] == "E1" {
			ops = append(ops, c["op"].(string))
		}
	}
	if strings.Join(ops, ",") != "upsert,delete" {
		t.Fatalf("feed ops for E1 = %v, want upsert,delete", ops)
	}
	if c, n := a.changes(next); len(c) != 0 || n != next {
		t.Fatalf("feed after its end: %v %s", c, n)
	}
	if c, n := a.changes("now"); len(c) != 0 || n != next {
		t.Fatalf("since=now: %v, next %s want %s", c, n, next)
	}
}

func TestAllKindsRoundTrip(t *testing.T) {
	a := newTestAPI(t)
	a.must(201, "PUT", "/v1/users/bob", `{}`)
	bodies := map[string]string{
		"events": `{"summary":"Weekly","start":"2026-01-05T08:00:00Z","end":"2026-01-05T08:30:00Z","timeZone":"Europe/Berlin",
			"rrule":"FREQ=WEEKLY;BYDAY=MO","exdates":["2026-01-12T08:00:00Z"],
			"overrides":[{"recurrenceId":"2026-01-19T08:00:00Z","start":"2026-01-19T09:00:00Z","end":"2026-01-19T09:30:00Z","summary":"Weekly (moved)"}],
			"alarms":[{"trigger":"-PT15M"}],"attendees":[{"email":"c@example.com","status":"accepted"}],"private":true,"showAs":"busy",
			"url":"https://app.example.com/a/1","extra":{"customer":"ACME"}}`,
		"jobs":     `{"summary":"Repair","start":"2026-02-01","end":"2026-02-02","extra":{"workOrder":"WO-7"}}`,
		"tasks":    `{"summary":"Call back","due":"2026-03-01T12:00:00Z","priority":1,"percent":50,"status":"in-process"}`,
		"contacts": `{"givenName":"Eva","familyName":"Berg","emails":[{"type":"work","address":"eva@example.com"}],"phones":[{"type":"mobile","number":"+46 70 123"}],"photo":{"mediaType":"image/png","data":"iVBORw0KGgo="},"birthday":"1980-04-02"}`,
	}
	for coll, body := range bodies {
		first := a.must(201, "PUT", "/v1/users/bob/"+coll+"/X1", body).json(t)
		got := a.must(200, "GET", "/v1/users/bob/"+coll+"/X1", nil).json(t)
		for _, k := range []string{"summary", "givenName", "rrule", "due", "start", "photo", "overrides", "extra"} {
			if !jsonEqual(first[k], got[k]) {
				t.Errorf("%s %s: put answered %v, get %v", coll, k, first[k], got[k])
			}
		}
		// What GET returns can be PUT back unchanged.
		back, _ := json.Marshal(got)
		if v := a.must(200, "PUT", "/v1/users/bob/"+coll+"/X1", back).json(t)["version"]; v != 1.0 {
			t.Errorf("%s: putting back the GET result made version %v", coll, v)
		}
	}
	job := a.must(200, "GET", "/v1/users/bob/jobs/X1", nil).json(t)
	if job["allDay"] != true || job["start"] != "2026-02-01" || job["kind"] != "job" {
		t.Fatalf("all-day job: %v", job)
	}
	// A recurring event that began before the window still occurs in it.
	list := a.must(200, "GET", "/v1/users/bob/events?from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z", nil).json(t)
	if len(list["items"].([]any)) != 1 {
		t.Fatalf("recurring event not listed in a later window: %s", list)
	}
	// ...but not on a day it does not occur.
	list = a.must(200, "GET", "/v1/users/bob/events?from=2026-03-03T00:00:00Z&to=2026-03-04T00:00:00Z", nil).json(t)
	if len(list["items"].([]any)) != 0 {
		t.Fatalf("recurring event listed on a Tuesday: %s", list)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestConcurrencyAndReassignment(t *testing.T) {
	a := newTestAPI(t)
	a.must(201, "PUT", "/v1/users/alice", `{}`)
	a.must(201, "PUT", "/v1/users/bob", `{}`)
	a.must(201, "PUT", "/v1/users/alice/jobs/J1", `{"summary":"v1","start":"2026-05-04T09:00:00Z"}`)
	a.must(200, "PUT", "/v1/users/alice/jobs/J1", `{"summary":"v2","start":"2026-05-04T09:00:00Z"}`, "If-Match", `"1"`)
	if code, field := a.must(412, "PUT", "/v1/users/alice/jobs/J1", `{"summary":"v3","start":"2026-05-04T09:00:00Z"}`, "If-Match", `"1"`).errorCode(t); code != "precondition_failed" || field != "" {
		t.Fatalf("stale If-Match: %s %s", code, field)
	}
	a.must(412, "PUT", "/v1/users/alice/jobs/J1", `{"summary":"v3","start":"2026-05-04T09:00:00Z"}`, "If-None-Match", "*")
	a.must(412, "DELETE", "/v1/users/alice/jobs/J1", nil, "If-Match", `"7"`)
	if got := a.must(200, "GET", "/v1/users/alice/jobs/J1", nil).json(t); got["summary"] != "v2" || got["version"] != 2.0 {
		t.Fatalf("after refused writes: %v", got)
	}

	// Putting the app id under another user reassigns the job.
	a.must(200, "PUT", "/v1/users/bob/jobs/J1", `{"summary":"v2","start":"2026-05-04T09:00:00Z"}`)
	a.must(404, "GET", "/v1/users/alice/jobs/J1", nil)
	a.must(404, "DELETE", "/v1/users/alice/jobs/J1", nil)
	if got := a.must(200, "GET", "/v1/users/bob/jobs/J1", nil).json(t); got["owner"] != "bob" {
		t.Fatalf("owner %v", got["owner"])
	}
}

func TestUserDeletionTombstonesItems(t *testing.T) {
	a := newTestAPI(t)
	a.must(201, "PUT", "/v1/users/carl", `{}`)
	a.must(201, "PUT", "/v1/users/carl/tasks/T1", `{"summary":"x"}`)
	_, head := a.changes("")
	a.must(204, "DELETE", "/v1/users/carl", nil)
	a.must(404, "GET", "/v1/users/carl", nil)
	c, _ := a.changes(head)
	if len(c) != 1 || c[0]["op"] != "delete" || c[0]["appId"] != "T1" {
		t.Fatalf("feed after deleting the user: %v", c)
	}
}

func TestAccountsKeepPasswordsSecret(t *testing.T) {
	a := newTestAPI(t)
	a.must(201, "PUT", "/v1/users/dora", `{}`)
	body := `{"kind":"caldav","url":"https://dav.example.com/","username":"dora","password":"s3cret-pw","policy":{"direction":"app-to-groupware","window":null}}`
	for _, r := range []resp{
		a.must(201, "PUT", "/v1/users/dora/accounts/work", body),
		a.must(200, "GET", "/v1/users/dora/accounts/work", nil),
		a.must(200, "GET", "/v1/users/dora/accounts", nil),
	} {
		if bytes.Contains(r.body, []byte("s3cret-pw")) {
			t.Fatalf("password returned: %s", r.body)
		}
	}
	got := a.must(200, "GET", "/v1/users/dora/accounts/work", nil).json(t)
	p := got["policy"].(map[string]any)
	if got["hasPassword"] != true || p["direction"] != "app-to-groupware" || p["window"] != nil || p["conflicts"] != "newest" {
		t.Fatalf("account: %v", got)
	}
	// Without a window the default applies; without a password the stored one stays.
	a.must(200, "PUT", "/v1/users/dora/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/","policy":{"deletions":"hold"}}`)
	got = a.must(200, "GET", "/v1/users/dora/accounts/work", nil).json(t)
	if w, _ := got["policy"].(map[string]any)["window"].(map[string]any); got["hasPassword"] != true || w["futureDays"] != 365.0 {
		t.Fatalf("account after update: %v", got)
	}
	acc, err := a.store.Account(context.Background(), mustUser(t, a, "dora").ID, "work")
	if err != nil || acc.Password != "s3cret-pw" {
		t.Fatalf("stored password not kept: %v", err)
	}
	a.must(204, "DELETE", "/v1/users/dora/accounts/work", nil)
	a.must(404, "GET", "/v1/users/dora/accounts/work", nil)
}

// Saving an account again keeps its pairs' binding and state; another
// server starts them afresh.
func TestAccountUpdateKeepsBinding(t *testing.T) {
	a := newTestAPI(t)
	ctx := context.Background()
	a.must(201, "PUT", "/v1/users/dora", `{}`)
	a.must(201, "PUT", "/v1/users/dora/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/"}`)
	acc, _ := a.store.Account(ctx, mustUser(t, a, "dora").ID, "work")
	pairs := func() map[tidbro.Kind]*tidbro.Pair {
		ps, err := a.store.Pairs(ctx, tidbro.PairQuery{TenantID: a.tenant.ID, AccountID: acc.ID})
		if err != nil {
			t.Fatal(err)
		}
		out := map[tidbro.Kind]*tidbro.Pair{}
		for _, p := range ps {
			out[p.Kind] = p
		}
		return out
	}
	bound := pairs()[tidbro.KindEvent]
	bound.RemoteID, bound.RemoteName = "https://dav.example.com/dora/calendar/", "Calendar"
	if _, err := a.store.PutPair(ctx, bound); err != nil {
		t.Fatal(err)
	}
	a.must(200, "PUT", "/v1/users/dora/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/","policy":{"deletions":"hold"}}`)
	if p := pairs()[tidbro.KindEvent]; p == nil || p.ID != bound.ID || p.RemoteID != bound.RemoteID {
		t.Fatalf("the calendar pair after a policy change: %+v, want %+v", p, bound)
	}
	a.must(200, "PUT", "/v1/users/dora/accounts/work", `{"kind":"caldav","url":"https://other.example.com/"}`)
	if p := pairs()[tidbro.KindEvent]; p == nil || p.ID == bound.ID || p.RemoteID != "" {
		t.Fatalf("the calendar pair after moving servers: %+v, want a new unbound pair", p)
	}
	if len(pairs()) != 2 {
		t.Fatalf("pairs: %v, want a calendar and a task list", pairs())
	}
}

func mustUser(t *testing.T, a *testAPI, name string) *tidbro.User {
	u, err := a.store.User(context.Background(), a.tenant.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestBadInput(t *testing.T) {
	a := newTestAPI(t)
	a.must(201, "PUT", "/v1/users/eve", `{}`)
	_, head := a.changes("")
	event := func(mod string) string { return strings.Replace(meeting, `"summary":"Kick-off"`, mod, 1) }
	huge := `{"summary":"` + strings.Repeat("x", DefaultMaxBody) + `","start":"2026-05-04T09:00:00Z"}`
	cases := []struct {
		name, method, path, token, body string
		status                          int
		code, field                     string
	}{
		{"malformed JSON", "PUT", "/v1/users/eve/events/B1", a.token, `{"summary": "x",`, 400, "invalid", ""},
		{"not an object", "PUT", "/v1/users/eve/events/B1", a.token, `[1,2]`, 400, "invalid", ""},
		{"empty body", "PUT", "/v1/users/eve/events/B1", a.token, ``, 400, "invalid", ""},
		{"unknown field", "PUT", "/v1/users/eve/events/B1", a.token, event(`"sumary":"x"`), 400, "invalid", "sumary"},
		{"wrong type", "PUT", "/v1/users/eve/events/B1", a.token, event(`"summary":42`), 400, "invalid", "summary"},
		{"unknown kind", "PUT", "/v1/users/eve/widgets/B1", a.token, meeting, 400, "invalid", "kind"},
		{"invalid time zone", "PUT", "/v1/users/eve/events/B1", a.token, strings.Replace(meeting, "Europe/Stockholm", "Mars/Olympus", 1), 400, "invalid", "timeZone"},
		{"end before start", "PUT", "/v1/users/eve/events/B1", a.token, strings.Replace(meeting, "10:00:00+02:00", "08:00:00+02:00", 1), 400, "invalid", "end"},
		{"bad date-time", "PUT", "/v1/users/eve/events/B1", a.token, strings.Replace(meeting, "2026-05-04T09:00:00+02:00", "4 May 2026", 1), 400, "invalid", "start"},
		{"invalid RRULE", "PUT", "/v1/users/eve/events/B1", a.token, event(`"rrule":"FREQ=SOMETIMES"`), 400, "invalid", "rrule"},
		{"RRULE with COUNT and UNTIL", "PUT", "/v1/users/eve/events/B1", a.token, event(`"rrule":"FREQ=DAILY;COUNT=2;UNTIL=20270101T000000Z"`), 400, "invalid", "rrule"},
		{"invalid UTF-8", "PUT", "/v1/users/eve/events/B1", a.token, event("\"summary\":\"bad \xff\xfe\""), 400, "invalid", "summary"},
		{"body over the limit", "PUT", "/v1/users/eve/events/B1", a.token, huge, 413, "too_large", ""},
		{"bad alarm", "PUT", "/v1/users/eve/events/B1", a.token, event(`"alarms":[{"trigger":"15 minutes"}]`), 400, "invalid", "alarms[0].trigger"},
		{"task percent", "PUT", "/v1/users/eve/tasks/B1", a.token, `{"summary":"x","percent":150}`, 400, "invalid", "percent"},
		{"contact e-mail", "PUT", "/v1/users/eve/contacts/B1", a.token, `{"displayName":"x","emails":[{"address":"not-an-address"}]}`, 400, "invalid", "emails[0].address"},
		{"appId mismatch", "PUT", "/v1/users/eve/events/B1", a.token, event(`"appId":"B2"`), 400, "invalid", "appId"},
		{"bad If-Match", "PUT", "/v1/users/eve/events/B1", a.token, meeting, 400, "invalid", "If-Match"},
		{"user bad zone", "PUT", "/v1/users/eve", a.token, `{"timeZone":"Nowhere/City"}`, 400, "invalid", "timeZone"},
		{"account bad kind", "PUT", "/v1/users/eve/accounts/a", a.token, `{"kind":"fax","url":"https://x.example"}`, 400, "invalid", "kind"},
		{"account bad policy", "PUT", "/v1/users/eve/accounts/a", a.token, `{"kind":"caldav","url":"https://x.example","policy":{"direction":"sideways"}}`, 400, "invalid", "policy.direction"},
		{"account unknown policy field", "PUT", "/v1/users/eve/accounts/a", a.token, `{"kind":"caldav","url":"https://x.example","policy":{"window":{"days":3}}}`, 400, "invalid", "policy.days"},
		{"bad limit", "GET", "/v1/changes?limit=0", a.token, ``, 400, "invalid", "limit"},
		{"bad cursor", "GET", "/v1/changes?since=yesterday", a.token, ``, 400, "invalid", "since"},
		{"bad window", "GET", "/v1/users/eve/events?from=2026-05-01&to=2026-04-01", a.token, ``, 400, "invalid", "to"},
		{"missing token", "GET", "/v1/users/eve", "", ``, 401, "unauthorized", ""},
		{"wrong token", "GET", "/v1/users/eve", "tb_NOTATOKEN", ``, 401, "unauthorized", ""},
		{"other tenant's token reads", "GET", "/v1/users/eve", a.other, ``, 404, "not_found", ""},
		{"other tenant's token writes", "PUT", "/v1/users/eve/events/B1", a.other, meeting, 404, "not_found", ""},
		{"unknown user", "PUT", "/v1/users/nobody/events/B1", a.token, meeting, 404, "not_found", ""},
		{"unknown route", "GET", "/v1/nothing", a.token, ``, 404, "not_found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var headers []string
			if c.name == "bad If-Match" {
				headers = []string{"If-Match", "yesterday"}
			}
			r := a.do(c.method, c.path, c.token, c.body, headers...)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %.300s", r.status, c.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			if code, field := r.errorCode(t); code != c.code || field != c.field {
				t.Fatalf("error %s/%q, want %s/%q: %s", code, field, c.code, c.field, r.body)
			}
		})
	}
	// Nothing was stored, and the server still serves.
	if c, _ := a.changes(head); len(c) != 0 {
		t.Fatalf("bad requests stored something: %v", c)
	}
	a.must(404, "GET", "/v1/users/eve/events/B1", nil)
	if u := a.must(200, "GET", "/v1/users/eve", nil).json(t); u["timeZone"] != nil {
		t.Fatalf("refused user update was stored: %v", u)
	}
	a.must(404, "GET", "/v1/users/eve/accounts/a", nil)
	if r := a.do("GET", "/healthz", "", nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
}

func TestHealth(t *testing.T) {
	a := newTestAPI(t)
	if r := a.do("GET", "/readyz", "", nil); r.status != 200 {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	a.store.Close()
	if r := a.do("GET", "/readyz", "", nil); r.status != 503 {
		t.Fatalf("readyz with a closed database: %d %s", r.status, r.body)
	}
}

// Run now, for all, a user, or one pair; the status tells what waits.
func TestSyncRequestsAndStatus(t *testing.T) {
	a := newTestAPI(t)
	a.must(201, "PUT", "/v1/users/dora", `{}`)
	a.must(201, "PUT", "/v1/users/dora/accounts/work", `{"kind":"caldav","url":"https://dav.example.com/"}`)
	if got := a.must(202, "POST", "/v1/sync", `{}`).json(t); got["requested"] != 2.0 {
		t.Fatalf("run everything: %v", got)
	}
	if got := a.must(202, "POST", "/v1/sync", `{"user":"dora","account":"work","kind":"tasks","full":true}`).json(t); got["requested"] != 1.0 {
		t.Fatalf("run one pair: %v", got)
	}
	a.must(404, "POST", "/v1/sync", `{"user":"nobody"}`)
	a.must(400, "POST", "/v1/sync", `{"account":"work"}`)
	a.must(400, "POST", "/v1/sync", `{"user":"dora","since":"yesterday"}`)
	a.must(400, "POST", "/v1/sync", `{"user":"dora","account":"work","kind":"jobs"}`)
	st := a.must(200, "GET", "/v1/users/dora/status", nil).json(t)
	accs := st["accounts"].([]any)
	if st["setUp"] != true || len(accs) != 1 {
		t.Fatalf("status: %v", st)
	}
	pairs := accs[0].(map[string]any)["pairs"].([]any)
	byColl := map[string]map[string]any{}
	for _, p := range pairs {
		byColl[p.(map[string]any)["collection"].(string)] = p.(map[string]any)
	}
	if byColl["tasks"]["requested"] != "full" || byColl["events"]["requested"] != "run" || byColl["events"]["running"] != false || byColl["events"]["nextRun"] == nil {
		t.Fatalf("pairs' status: %v", pairs)
	}
	a.must(201, "PUT", "/v1/users/eve", `{}`)
	if st := a.must(200, "GET", "/v1/users/eve/status", nil).json(t); st["setUp"] != false {
		t.Fatalf("a user without accounts: %v", st)
	}
	if got := a.must(200, "GET", "/v1/settings/schedule", nil).json(t); got["interval"] != "5m0s" {
		t.Fatalf("default schedule: %v", got)
	}
	a.must(200, "PUT", "/v1/settings/schedule", `{"interval":"10m"}`)
	a.must(400, "PUT", "/v1/settings/schedule", `{"interval":"1s"}`)
	if got := a.must(200, "GET", "/v1/settings/schedule", nil).json(t); got["interval"] != "10m" {
		t.Fatalf("schedule: %v", got)
	}
}
