package davserver_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davserver"
	"github.com/tidbro/tidbro/sqlite"
	"github.com/tidbro/tidbro/storetest"
)

// env is a DAV server over a fresh SQLite store with two users, each with
// an app password.
type env struct {
	t        testing.TB
	url      string // the server root, without a trailing slash
	store    tidbro.Store
	tenant   *tidbro.Tenant
	users    map[string]*tidbro.User
	password map[string]string
	handler  http.Handler
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tidbro.db"), storetest.Sealer{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, store: st, users: map[string]*tidbro.User{}, password: map[string]string{}}
	ctx := context.Background()
	if e.tenant, err = st.CreateTenant(ctx, tidbro.DefaultTenant); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		u := &tidbro.User{TenantID: e.tenant.ID, Username: name, Email: name + "@example.com", TimeZone: "Europe/Stockholm"}
		if _, err := st.PutUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		pw, hash := tidbro.NewAppPassword()
		if _, err := st.CreateAppPassword(ctx, e.tenant.ID, u.ID, "test", hash); err != nil {
			t.Fatal(err)
		}
		e.users[name], e.password[name] = u, pw
	}
	mux := http.NewServeMux()
	dav := davserver.New(st, davserver.Options{})
	mux.Handle(davserver.Prefix, dav)
	mux.Handle("/.well-known/caldav", dav)
	e.handler = mux
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// wrapHandler puts a middleware before the server (before any request).
func (e *env) wrapHandler(f func(http.Handler) http.Handler) { e.handler = f(e.handler) }

// do sends a request as user (no credentials when user is "").
func (e *env) do(user, method, path, body string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, e.password[user])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *env) must(want int, user, method, path, body string, headers ...string) (*http.Response, string) {
	e.t.Helper()
	res, b := e.do(user, method, path, body, headers...)
	if res.StatusCode != want {
		e.t.Fatalf("%s %s as %q: %d, want %d\n%s", method, path, user, res.StatusCode, want, b)
	}
	return res, b
}

func (e *env) putItem(user string, kind tidbro.Kind, appID string, it *tidbro.Item) *tidbro.Item {
	e.t.Helper()
	it.TenantID, it.Kind, it.AppID, it.OwnerID, it.ChangedBy = e.tenant.ID, kind, appID, e.users[user].ID, tidbro.OriginApp
	stored, _, err := e.store.PutItem(context.Background(), it, tidbro.Precondition{})
	if err != nil {
		e.t.Fatal(err)
	}
	return stored
}

func appointment(summary string, start time.Time) *tidbro.Item {
	return &tidbro.Item{Type: "appointment", Event: &tidbro.Event{Summary: summary, Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Stockholm"}}
}

func prop(names ...string) string {
	return `<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/"><d:prop>` +
		"<" + strings.Join(names, "/><") + "/></d:prop></d:propfind>"
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res, _ := e.must(http.StatusUnauthorized, "", "PROPFIND", "/dav/", "")
	if !strings.Contains(res.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("no Basic challenge: %v", res.Header)
	}
	e.password["mallory"] = e.password["alice"] // alice's password under another name
	e.must(http.StatusUnauthorized, "mallory", "PROPFIND", "/dav/", "")
	e.password["eve"] = "nope"
	e.must(http.StatusUnauthorized, "eve", "PROPFIND", "/dav/", "")
	bob := e.password["bob"]
	e.password["bob"] = e.password["alice"]
	e.must(http.StatusUnauthorized, "bob", "PROPFIND", "/dav/", "") // alice's password is not bob's
	e.password["bob"] = bob
	e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/", "", "Depth", "0")
	e.must(http.StatusMultiStatus, "bob", "PROPFIND", "/dav/", "", "Depth", "0")
	// A revoked password stops working at once, though it just worked.
	aps, _ := e.store.AppPasswords(ctx, e.tenant.ID, e.users["bob"].ID)
	if err := e.store.RevokeAppPassword(ctx, e.tenant.ID, e.users["bob"].ID, aps[0].ID); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusUnauthorized, "bob", "PROPFIND", "/dav/", "")
	// A change to the user shows at once.
	principal := "/dav/principals/alice/"
	if _, b := e.must(http.StatusMultiStatus, "alice", "PROPFIND", principal, prop("c:calendar-user-address-set"), "Depth", "0"); !strings.Contains(b, "mailto:alice@example.com") {
		t.Errorf("the principal:\n%s", b)
	}
	alice := *e.users["alice"]
	alice.Email = "alice@elsewhere.example"
	if _, err := e.store.PutUser(ctx, &alice); err != nil {
		t.Fatal(err)
	}
	if _, b := e.must(http.StatusMultiStatus, "alice", "PROPFIND", principal, prop("c:calendar-user-address-set"), "Depth", "0"); !strings.Contains(b, "mailto:alice@elsewhere.example") {
		t.Errorf("the principal after a change of e-mail address:\n%s", b)
	}
	// So does a deletion, and the user coming back does not bring the
	// password back.
	if err := e.store.DeleteUser(ctx, e.tenant.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusUnauthorized, "alice", "PROPFIND", principal, "")
	if _, err := e.store.PutUser(ctx, &alice); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusUnauthorized, "alice", "PROPFIND", principal, "")
	// Capabilities need no login.
	res, _ = e.must(http.StatusOK, "", "OPTIONS", "/dav/calendars/alice/calendar/", "")
	if dav := res.Header.Get("DAV"); !strings.Contains(dav, "calendar-access") || !strings.Contains(dav, "addressbook") {
		t.Errorf("DAV header %q", dav)
	}
}

// From the host name alone a client finds the principal, the homes and
// the collections (RFC 6764, 5397, 4791, 6352).
func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	res, _ := e.must(http.StatusMovedPermanently, "", "GET", "/.well-known/caldav", "")
	if res.Header.Get("Location") != "/dav/" {
		t.Fatalf("well-known redirects to %q", res.Header.Get("Location"))
	}
	_, b := e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/", prop("d:current-user-principal"), "Depth", "0")
	if !strings.Contains(b, "<d:href>/dav/principals/alice/</d:href>") {
		t.Fatalf("current-user-principal:\n%s", b)
	}
	_, b = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/principals/alice/", prop("c:calendar-home-set", "card:addressbook-home-set", "c:calendar-user-address-set", "d:displayname"), "Depth", "0")
	for _, want := range []string{"/dav/calendars/alice/", "/dav/addressbooks/alice/", "mailto:alice@example.com"} {
		if !strings.Contains(b, want) {
			t.Errorf("principal lacks %s:\n%s", want, b)
		}
	}
	_, b = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/calendars/alice/", prop("d:resourcetype", "c:supported-calendar-component-set", "cs:getctag", "d:sync-token"), "Depth", "1")
	for _, want := range []string{"/dav/calendars/alice/calendar/", "/dav/calendars/alice/tasks/", `<c:comp name="VEVENT"/>`, `<c:comp name="VTODO"/>`, "<c:calendar/>", "urn:tidbro:sync:0"} {
		if !strings.Contains(b, want) {
			t.Errorf("calendar home lacks %s:\n%s", want, b)
		}
	}
	_, b = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/addressbooks/alice/", prop("d:resourcetype"), "Depth", "1")
	if !strings.Contains(b, "/dav/addressbooks/alice/contacts/") || !strings.Contains(b, "<card:addressbook/>") {
		t.Errorf("address book home:\n%s", b)
	}
	// Unknown properties are 404 in their own propstat, the rest still answered.
	_, b = e.must(http.StatusMultiStatus, "alice", "PROPFIND", "/dav/calendars/alice/calendar/", `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/><x:color xmlns:x="urn:example"/></d:prop></d:propfind>`, "Depth", "0")
	if !strings.Contains(b, "<d:displayname>Calendar</d:displayname>") || !strings.Contains(b, `xmlns:x="urn:example"`) || !strings.Contains(b, "404 Not Found") {
		t.Errorf("mixed known and unknown properties:\n%s", b)
	}
	e.must(http.StatusBadRequest, "alice", "PROPFIND", "/dav/", "<d:propfind xmlns:d=", "Depth", "0")
}

// Another user's URLs answer nothing, whatever the method.
func TestOtherUsersURLs(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	e.putItem("bob", tidbro.KindEvent, "B-1", appointment("Bob's secret", start))
	e.putItem("bob", tidbro.KindContact, "BC-1", &tidbro.Item{Contact: &tidbro.Contact{GivenName: "Bob's", FamilyName: "Friend"}})
	for _, c := range []struct{ method, path, body string }{
		{"PROPFIND", "/dav/principals/bob/", ""},
		{"PROPFIND", "/dav/calendars/bob/", ""},
		{"PROPFIND", "/dav/calendars/bob/calendar/", ""},
		{"GET", "/dav/calendars/bob/calendar/B-1.ics", ""},
		{"DELETE", "/dav/calendars/bob/calendar/B-1.ics", ""},
		{"PUT", "/dav/calendars/bob/calendar/B-2.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"},
		{"REPORT", "/dav/calendars/bob/calendar/", `<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`},
		{"PROPFIND", "/dav/addressbooks/bob/contacts/", ""},
	} {
		res, b := e.do("alice", c.method, c.path, c.body, "Depth", "1")
		if res.StatusCode != http.StatusNotFound || strings.Contains(b, "secret") || strings.Contains(b, "Friend") {
			t.Errorf("%s %s as alice: %d\n%s", c.method, c.path, res.StatusCode, b)
		}
	}
	// Alice's own resource names cannot reach Bob's items either.
	e.must(http.StatusNotFound, "alice", "GET", "/dav/calendars/alice/calendar/B-1.ics", "")
	_, b := e.must(http.StatusMultiStatus, "alice", "REPORT", "/dav/calendars/alice/calendar/",
		`<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data/></d:prop><d:href>/dav/calendars/alice/calendar/B-1.ics</d:href><d:href>/dav/calendars/bob/calendar/B-1.ics</d:href></c:calendar-multiget>`)
	if strings.Contains(b, "secret") || strings.Count(b, "404 Not Found") != 2 {
		t.Errorf("multiget of Bob's items:\n%s", b)
	}
	// A client naming its item as another user's item is named (the same
	// meeting, by its UID, in both calendars) gets an item of its own;
	// Bob's stays as it was.
	e.must(http.StatusCreated, "alice", "PUT", "/dav/calendars/alice/calendar/B-1.ics", vevent("The meeting", "B-1", start), "If-None-Match", "*")
	if it, _ := e.store.Item(context.Background(), e.tenant.ID, tidbro.KindEvent, "B-1"); it.OwnerID != e.users["bob"].ID || it.Event.Summary != "Bob's secret" {
		t.Errorf("Bob's item after Alice's PUT: %+v", it)
	}
	if _, b := e.must(http.StatusOK, "alice", "GET", "/dav/calendars/alice/calendar/B-1.ics", ""); !strings.Contains(b, "SUMMARY:The meeting") {
		t.Errorf("Alice's item under the shared name:\n%s", b)
	}
	_, b = e.must(http.StatusMultiStatus, "alice", "REPORT", "/dav/calendars/alice/calendar/",
		`<d:sync-collection xmlns:d="DAV:"><d:sync-token/><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`)
	if !strings.Contains(b, "<d:href>/dav/calendars/alice/calendar/B-1.ics</d:href>") {
		t.Errorf("Alice's listing lacks her item under its name:\n%s", b)
	}
	e.must(http.StatusNoContent, "alice", "PUT", "/dav/calendars/alice/calendar/B-1.ics", vevent("The meeting (moved)", "B-1", start))
	e.must(http.StatusNoContent, "alice", "DELETE", "/dav/calendars/alice/calendar/B-1.ics", "")
	if it, _ := e.store.Item(context.Background(), e.tenant.ID, tidbro.KindEvent, "B-1"); it == nil || it.Event.Summary != "Bob's secret" {
		t.Errorf("Bob's item after Alice's edit and deletion: %+v", it)
	}
}

func vevent(summary, uid string, start time.Time) string {
	return fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20260101T000000Z\r\n"+
		"DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:%s\r\nX-CLIENT-PROP:keep me\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		uid, start.UTC().Format("20060102T150405Z"), start.Add(time.Hour).UTC().Format("20060102T150405Z"), summary)
}

// What clients write becomes app changes; the app's changes reach
// clients through sync tokens; deletions come from the feed.
func TestWritesAndSync(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	e.putItem("alice", tidbro.KindEvent, "A-1", appointment("Customer visit", start))
	e.putItem("alice", tidbro.KindJob, "A-1", &tidbro.Item{Type: "job", Event: &tidbro.Event{Summary: "Repair", Start: start, End: start.Add(time.Hour)}})
	coll := "/dav/calendars/alice/calendar/"
	syncReq := func(token string) string {
		return `<d:sync-collection xmlns:d="DAV:"><d:sync-token>` + token + `</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
	}
	_, b := e.must(http.StatusMultiStatus, "alice", "REPORT", coll, syncReq(""))
	if !strings.Contains(b, coll+"A-1.ics") || !strings.Contains(b, coll+"~job~A-1.ics") {
		t.Fatalf("initial sync lacks the event or the job of the same app id:\n%s", b)
	}
	token := regexp.MustCompile(`<d:sync-token>([^<]+)</d:sync-token>`).FindStringSubmatch(b)[1]

	// A client creates an event; the app sees it, by dav-client.
	res, _ := e.must(http.StatusCreated, "alice", "PUT", coll+"0b4e1c9a-client.ics", vevent("Lunch", "0b4e1c9a-client", start.Add(3*time.Hour)),
		"Content-Type", "text/calendar", "If-None-Match", "*")
	tag := res.Header.Get("ETag")
	it, err := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, "0b4e1c9a-client")
	if err != nil || it.Origin != tidbro.OriginDAVClient || it.ChangedBy != tidbro.OriginDAVClient || it.Type != tidbro.TypeGroupware || it.Event.Summary != "Lunch" {
		t.Fatalf("the client's event in the app: %+v %v", it, err)
	}
	// It reads back byte for byte, unknown properties and all.
	res, body := e.must(http.StatusOK, "alice", "GET", coll+"0b4e1c9a-client.ics", "")
	if res.Header.Get("ETag") != tag || !strings.Contains(body, "X-CLIENT-PROP:keep me") {
		t.Fatalf("GET after PUT: etag %s (put %s)\n%s", res.Header.Get("ETag"), tag, body)
	}
	e.must(http.StatusPreconditionFailed, "alice", "PUT", coll+"0b4e1c9a-client.ics", vevent("Again", "0b4e1c9a-client", start), "If-None-Match", "*")
	e.must(http.StatusPreconditionFailed, "alice", "PUT", coll+"0b4e1c9a-client.ics", vevent("Stale", "0b4e1c9a-client", start), "If-Match", `"99"`)
	// The app edits it: the client's property survives the app's change.
	it.Event.Summary = "Lunch with Cay"
	it.ChangedBy = tidbro.OriginApp
	if _, _, err := e.store.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
		t.Fatal(err)
	}
	_, body = e.must(http.StatusOK, "alice", "GET", coll+"0b4e1c9a-client.ics", "")
	if !strings.Contains(body, "SUMMARY:Lunch with Cay") || !strings.Contains(body, "X-CLIENT-PROP:keep me") {
		t.Fatalf("after the app's edit:\n%s", body)
	}
	// The app deletes A-1: the next sync reports it gone, and the changes only.
	if _, err := e.store.DeleteItem(ctx, e.tenant.ID, tidbro.KindEvent, "A-1", tidbro.Precondition{}, tidbro.OriginApp); err != nil {
		t.Fatal(err)
	}
	_, b = e.must(http.StatusMultiStatus, "alice", "REPORT", coll, syncReq(token))
	if !strings.Contains(b, "<d:href>"+coll+"A-1.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status>") ||
		!strings.Contains(b, coll+"0b4e1c9a-client.ics") || strings.Contains(b, "~job~A-1.ics") {
		t.Fatalf("incremental sync:\n%s", b)
	}
	next := regexp.MustCompile(`<d:sync-token>([^<]+)</d:sync-token>`).FindStringSubmatch(b)[1]
	_, b = e.must(http.StatusMultiStatus, "alice", "REPORT", coll, syncReq(next))
	if strings.Contains(b, "<d:response>") {
		t.Fatalf("sync with nothing changed:\n%s", b)
	}
	e.must(http.StatusForbidden, "alice", "REPORT", coll, syncReq("urn:tidbro:sync:999999"))
	e.must(http.StatusForbidden, "alice", "REPORT", coll, syncReq("http://elsewhere/1"))

	// Jobs are the app's; the client may not change them.
	_, b = e.must(http.StatusForbidden, "alice", "PUT", coll+"~job~A-1.ics", vevent("Mine now", "x", start))
	if !strings.Contains(b, "Jobs are managed in the business application") {
		t.Errorf("refusal of a job edit:\n%s", b)
	}
	// A task in the calendar is refused with the precondition.
	todo := "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VTODO\r\nUID:t1\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
	_, b = e.must(http.StatusForbidden, "alice", "PUT", coll+"t1.ics", todo)
	if !strings.Contains(b, "supported-calendar-component") {
		t.Errorf("a VTODO in the calendar:\n%s", b)
	}
	e.must(http.StatusForbidden, "alice", "PUT", coll+"bad.ics", "not a calendar")
	e.must(http.StatusUnsupportedMediaType, "alice", "PUT", coll+"c.ics", vevent("x", "c", start), "Content-Type", "text/vcard")
	// The client deletes its event: a deletion by dav-client in the feed.
	e.must(http.StatusNoContent, "alice", "DELETE", coll+"0b4e1c9a-client.ics", "")
	cs, _ := e.store.Changes(ctx, tidbro.ChangeQuery{TenantID: e.tenant.ID, Since: 0, Limit: 1000})
	if last := cs[len(cs)-1]; last.Op != tidbro.OpDelete || last.ChangedBy != tidbro.OriginDAVClient {
		t.Errorf("the last change: %+v", last)
	}
	e.must(http.StatusNotFound, "alice", "DELETE", coll+"0b4e1c9a-client.ics", "")
	// Names that cannot be app ids are kept as they are.
	for _, n := range []string{"no-extension", "~tilde.ics", "%7Ejob%7Ex.ics.bak"} {
		e.must(http.StatusCreated, "alice", "PUT", coll+n, vevent("Odd "+n, "odd-"+n, start))
		if _, b := e.must(http.StatusOK, "alice", "GET", coll+n, ""); !strings.Contains(b, "SUMMARY:Odd "+n) {
			t.Errorf("GET %s:\n%s", n, b)
		}
	}
}

// When the app leads, the collections say they are read-only and writes
// are refused in words.
func TestAppLeads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.store.PutSetting(ctx, e.tenant.ID, tidbro.DAVPolicyKey, []byte(`{"direction":"app-to-groupware"}`)); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	e.putItem("alice", tidbro.KindEvent, "A-1", appointment("Customer visit", start))
	coll := "/dav/calendars/alice/calendar/"
	_, b := e.must(http.StatusMultiStatus, "alice", "PROPFIND", coll, prop("d:current-user-privilege-set"), "Depth", "0")
	if strings.Contains(b, "write") || !strings.Contains(b, "<d:read/>") {
		t.Errorf("privileges of a read-only calendar:\n%s", b)
	}
	for _, c := range []struct{ method, path string }{{"PUT", coll + "A-1.ics"}, {"PUT", coll + "new.ics"}, {"DELETE", coll + "A-1.ics"}} {
		_, b := e.must(http.StatusForbidden, "alice", c.method, c.path, vevent("Moved", "u", start))
		if !strings.Contains(b, "leading system") || !strings.Contains(b, "need-privileges") {
			t.Errorf("%s %s refused without the reason:\n%s", c.method, c.path, b)
		}
	}
	if it, _ := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, "A-1"); it == nil || it.Event.Summary != "Customer visit" {
		t.Errorf("the app's item after refused writes: %+v", it)
	}
	// Contacts can be refused on their own.
	if err := e.store.PutSetting(ctx, e.tenant.ID, tidbro.DAVPolicyKey, []byte(`{"contactCreates":"refuse"}`)); err != nil {
		t.Fatal(err)
	}
	_, b = e.must(http.StatusForbidden, "alice", "PUT", "/dav/addressbooks/alice/contacts/c1.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c1\r\nFN:Cay\r\nN:;Cay;;;\r\nEND:VCARD\r\n")
	if !strings.Contains(b, "New contacts are created in the business application") {
		t.Errorf("a refused contact create:\n%s", b)
	}
	e.must(http.StatusNoContent, "alice", "PUT", coll+"A-1.ics", vevent("Moved", "u", start))
}

// calendar-query finds a weekly series by a later instance, and
// free-busy-query expands it.
func TestQueries(t *testing.T) {
	e := newEnv(t)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	weekly := appointment("Weekly", start)
	weekly.Event.RRule = "FREQ=WEEKLY;COUNT=10"
	e.putItem("alice", tidbro.KindEvent, "W", weekly)
	e.putItem("alice", tidbro.KindEvent, "Once", appointment("Once", start.AddDate(0, 0, 1)))
	free := appointment("Free", start.AddDate(0, 0, 16).Add(2*time.Hour)) // a Wednesday
	free.Event.ShowAs = "free"
	e.putItem("alice", tidbro.KindEvent, "Free", free)
	coll := "/dav/calendars/alice/calendar/"
	query := func(from, to string) string {
		return `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop><c:filter><c:comp-filter name="VCALENDAR">` +
			`<c:comp-filter name="VEVENT"><c:time-range start="` + from + `" end="` + to + `"/></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`
	}
	_, b := e.must(http.StatusMultiStatus, "alice", "REPORT", coll, query("20260316T000000Z", "20260317T000000Z"), "Depth", "1")
	if !strings.Contains(b, coll+"W.ics") || strings.Contains(b, "Once.ics") || strings.Contains(b, "Free.ics") {
		t.Errorf("the third Monday:\n%s", b)
	}
	_, b = e.must(http.StatusMultiStatus, "alice", "REPORT", coll, query("20260317T000000Z", "20260318T000000Z"), "Depth", "1")
	if strings.Contains(b, "<d:response>") {
		t.Errorf("the third Tuesday:\n%s", b)
	}
	// A text match on the summary.
	_, b = e.must(http.StatusMultiStatus, "alice", "REPORT", coll, `<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/></d:prop>`+
		`<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:prop-filter name="SUMMARY"><c:text-match>once</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`, "Depth", "1")
	if !strings.Contains(b, "Once.ics") || strings.Contains(b, "W.ics") {
		t.Errorf("text-match:\n%s", b)
	}
	res, b := e.must(http.StatusOK, "alice", "REPORT", coll, `<c:free-busy-query xmlns:c="urn:ietf:params:xml:ns:caldav"><c:time-range start="20260301T000000Z" end="20260320T000000Z"/></c:free-busy-query>`, "Depth", "1")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") || strings.Count(b, "FREEBUSY;FBTYPE=BUSY:") != 4 ||
		!strings.Contains(b, "20260316T090000Z/20260316T100000Z") {
		t.Errorf("free-busy (three Mondays and a Tuesday, not the free slot):\n%s", b)
	}
}
