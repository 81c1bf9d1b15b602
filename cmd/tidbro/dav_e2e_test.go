package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/api"
	"github.com/tidbro/tidbro/davtest"
	"github.com/tidbro/tidbro/secret"
	"github.com/tidbro/tidbro/sqlite"
)

// e2e is one end-to-end setup: tidbro's REST API and CLI on a fresh data
// directory, a real Radicale, and two real clients of it: python3-caldav
// for calendars and task lists, vdirsyncer for the address book.
type e2e struct {
	t     *testing.T
	data  string
	base  string // the REST API
	token string
	store tidbro.Store
	dav   *davtest.Server
	pyc   *davtest.PyCalDAV
	vdir  *davtest.Vdirsyncer // the address book's local copy, made on first use
}

// appEnv is tidbro on a fresh data directory: its store, and its REST API
// served in the test with an API token.
type appEnv struct {
	data, base, token string
	store             tidbro.Store
}

func newAppEnv(t *testing.T) appEnv {
	t.Helper()
	t.Setenv("TIDBRO_SECRET_KEY", "")
	t.Setenv("TIDBRO_DB", "")
	a := appEnv{data: t.TempDir()}
	ctx := context.Background()
	box, err := secret.Load(a.data)
	if err != nil {
		t.Fatal(err)
	}
	if a.store, err = sqlite.Open(ctx, filepath.Join(a.data, "tidbro.db"), box); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	tn, err := a.store.CreateTenant(ctx, tidbro.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	token, hash := tidbro.NewToken()
	if _, err := a.store.CreateToken(ctx, tn.ID, "test", hash); err != nil {
		t.Fatal(err)
	}
	a.token = token
	srv := httptest.NewServer(api.New(a.store, api.Options{}))
	t.Cleanup(srv.Close)
	a.base = srv.URL
	return a
}

// syncOnce runs tidbro sync on data and fails t unless every run succeeded.
func syncOnce(t *testing.T, data string) string {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"sync", "--data", data}, &out, io.Discard); err != nil {
		t.Fatalf("tidbro sync: %v\n%s", err, out.String())
	}
	return out.String()
}

func newE2E(t *testing.T, policy string) *e2e {
	a := newAppEnv(t)
	e := &e2e{t: t, data: a.data, base: a.base, token: a.token, store: a.store, dav: davtest.Radicale(t)}
	e.pyc = davtest.NewPyCalDAV(t, e.dav.URL, e.dav.User, e.dav.Password)

	e.call("PUT", "/v1/users/alice", `{"email":"alice@example.com","timeZone":"Europe/Stockholm"}`, 201)
	for _, acc := range []struct{ name, kind string }{{"dav", "caldav"}, {"cards", "carddav"}} {
		e.call("PUT", "/v1/users/alice/accounts/"+acc.name, fmt.Sprintf(`{"kind":%q,"url":%q,"username":%q,"password":%q,"policy":%s}`,
			acc.kind, e.dav.URL, e.dav.User, e.dav.Password, policy), 201)
	}
	return e
}

func (e *e2e) call(method, path, body string, want int) map[string]any {
	e.t.Helper()
	return apiCall(e.t, e.base, e.token, method, path, body, want)
}

// sync runs `tidbro sync` and fails the test unless every run succeeded.
func (e *e2e) sync() string {
	e.t.Helper()
	return syncOnce(e.t, e.data)
}

// collection is the URL a pair of kind k bound to.
func (e *e2e) collection(k tidbro.Kind) string {
	e.t.Helper()
	ps, err := e.store.Pairs(context.Background(), tidbro.PairQuery{TenantID: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range ps {
		if p.Kind == k && p.RemoteID != "" {
			return p.RemoteID
		}
	}
	e.t.Fatalf("no %s pair is bound", k)
	return ""
}

// py runs a python3-caldav command (davtest/clients/davclient.py) and
// decodes its JSON answer into out.
func (e *e2e) py(out any, args ...string) {
	e.t.Helper()
	e.pyc.Run(e.t, out, args...)
}

type davObject struct {
	URL, UID, Data string
}

// objects lists what Radicale holds in the collection of kind k, by the
// summary of its main component.
func (e *e2e) objects(k tidbro.Kind) map[string]davObject {
	e.t.Helper()
	var list []davObject
	e.py(&list, "list", e.collection(k))
	out := map[string]davObject{}
	for _, o := range list {
		out[summaryOf(o.Data)] = o
	}
	return out
}

// summaryOf returns the SUMMARY of the series (the VEVENT or VTODO
// without RECURRENCE-ID).
func summaryOf(data string) string {
	var block []string
	for _, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		switch {
		case line == "BEGIN:VEVENT" || line == "BEGIN:VTODO":
			block = []string{}
		case line == "END:VEVENT" || line == "END:VTODO":
			summary, override := "", false
			for _, l := range block {
				override = override || strings.HasPrefix(l, "RECURRENCE-ID")
				if strings.HasPrefix(l, "SUMMARY:") {
					summary = strings.TrimPrefix(l, "SUMMARY:")
				}
			}
			if !override {
				return summary
			}
			block = nil
		case block != nil:
			block = append(block, line)
		}
	}
	return ""
}

// vdirsyncer syncs the address book with a local folder of .vcf files.
func (e *e2e) vdirsyncer() {
	e.t.Helper()
	if e.vdir == nil {
		e.vdir = davtest.NewVdirsyncer(e.t, "carddav", e.collection(tidbro.KindContact), e.dav.User, e.dav.Password, false)
	}
	e.vdir.Sync(e.t)
}

// cardFiles returns vdirsyncer's local cards by their FN.
func (e *e2e) cardFiles() map[string]string {
	e.t.Helper()
	e.vdirsyncer()
	files, _ := filepath.Glob(filepath.Join(e.vdir.Dir, "*.vcf"))
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
			if strings.HasPrefix(line, "FN:") {
				out[strings.TrimPrefix(line, "FN:")] = f
			}
		}
	}
	return out
}

// cardsOnServer returns the address book's cards as Radicale serves
// them, by FN.
func (e *e2e) cardsOnServer() map[string]string {
	e.t.Helper()
	col := e.collection(tidbro.KindContact)
	path := strings.TrimPrefix(col, strings.TrimSuffix(e.dav.URL, "/"))
	res, b, err := e.dav.Do("REPORT", path, `<?xml version="1.0" encoding="utf-8"?><card:addressbook-query xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">`+
		`<d:prop><card:address-data/></d:prop></card:addressbook-query>`, "Depth", "1", "Content-Type", "application/xml")
	if err != nil || res.StatusCode != http.StatusMultiStatus {
		e.t.Fatalf("addressbook-query %s: %v %v\n%s", path, err, res, b)
	}
	var ms struct {
		Data []string `xml:"response>propstat>prop>address-data"`
	}
	if err := xml.Unmarshal([]byte(b), &ms); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, card := range ms.Data {
		for _, line := range strings.Split(strings.ReplaceAll(card, "\r\n", "\n"), "\n") {
			if strings.HasPrefix(line, "FN:") {
				out[strings.TrimPrefix(line, "FN:")] = card
			}
		}
	}
	return out
}

// appValue returns field of the app item of kind k with id, or "" when it
// does not exist.
func (e *e2e) appValue(k tidbro.Kind, id, field string) string {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+"/v1/users/alice/"+k.Plural()+"/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return ""
	}
	var m map[string]any
	if err := json.NewDecoder(res.Body).Decode(&m); err != nil {
		e.t.Fatal(err)
	}
	v, _ := m[field].(string)
	return v
}

// appSummaries lists the app's items of kind k by summary (contacts: display name) → type.
func (e *e2e) appSummaries(k tidbro.Kind) map[string]string {
	e.t.Helper()
	items := e.call("GET", "/v1/users/alice/"+k.Plural()+"?limit=1000", "", 200)["items"].([]any)
	out := map[string]string{}
	for _, it := range items {
		m := it.(map[string]any)
		name, _ := m["summary"].(string)
		if k == tidbro.KindContact {
			name, _ = m["displayName"].(string)
		}
		typ, _ := m["type"].(string)
		out[name] = typ
	}
	return out
}

// A one-pixel PNG.
var pixel, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

// seed puts the app's items through the REST API: a single event, a weekly
// series with a moved instance, a private event, a task, and two contacts,
// one with a photo.
func (e *e2e) seed() time.Time {
	loc, _ := time.LoadLocation("Europe/Stockholm")
	d := time.Now().In(loc).AddDate(0, 0, 2)
	day := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, loc)
	at := func(t time.Time) string { return t.Format(time.RFC3339) }
	event := func(id, summary, extra string, start time.Time) {
		e.call("PUT", "/v1/users/alice/events/"+id, fmt.Sprintf(`{"type":"appointment","summary":%q,"start":%q,"end":%q,"timeZone":"Europe/Stockholm"%s}`,
			summary, at(start), at(start.Add(time.Hour)), extra), 201)
	}
	event("E1", "Customer visit", `,"location":"Main St 1","categories":["visit"]`, day)
	moved := day.AddDate(0, 0, 7)
	event("E2", "Weekly planning", fmt.Sprintf(`,"rrule":"FREQ=WEEKLY;COUNT=10","overrides":[{"recurrenceId":%q,"start":%q,"end":%q,"summary":"Weekly planning (moved)"}]`,
		at(moved), at(moved.Add(2*time.Hour)), at(moved.Add(3*time.Hour))), day.Add(3*time.Hour))
	event("E3", "Doctor", `,"private":true`, day.Add(6*time.Hour))
	e.call("PUT", "/v1/users/alice/tasks/T1", fmt.Sprintf(`{"summary":"Call back","due":%q,"priority":1}`, at(day.AddDate(0, 0, 1))), 201)
	e.call("PUT", "/v1/users/alice/contacts/C1", fmt.Sprintf(`{"givenName":"Anna","familyName":"Berg","organization":"Berg AB",
		"emails":[{"type":"work","address":"anna@berg.example"},{"type":"home","address":"anna@home.example"}],
		"phones":[{"type":"mobile","number":"+46 70 123 45 67"}],"note":"Key customer","photo":{"mediaType":"image/png","data":%q}}`,
		base64.StdEncoding.EncodeToString(pixel)), 201)
	e.call("PUT", "/v1/users/alice/contacts/C2", `{"givenName":"Bo","familyName":"Ek","emails":[{"address":"bo@ek.example"}]}`, 201)
	return day
}

// checkSeeded asserts Radicale holds what seed put, as its clients see it.
func (e *e2e) checkSeeded() {
	e.t.Helper()
	var cals []struct{ URL, Name string }
	e.py(&cals, "calendars")
	var names []string
	for _, c := range cals {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"Calendar", "Tasks"}) {
		e.t.Fatalf("python3-caldav discovers calendars %v, want Calendar and Tasks", names)
	}
	evs := e.objects(tidbro.KindEvent)
	if len(evs) != 3 {
		e.t.Fatalf("Radicale holds events %v, want 3", keys(evs))
	}
	series := evs["Weekly planning"].Data
	if !strings.Contains(series, "RRULE:FREQ=WEEKLY;COUNT=10") || !strings.Contains(series, "RECURRENCE-ID") || !strings.Contains(series, "Weekly planning (moved)") {
		e.t.Fatalf("the series lost its rule or its moved instance:\n%s", series)
	}
	if !strings.Contains(evs["Doctor"].Data, "CLASS:PRIVATE") {
		e.t.Fatalf("the private event is not marked private:\n%s", evs["Doctor"].Data)
	}
	if !strings.Contains(evs["Customer visit"].Data, "TZID=Europe/Stockholm") {
		e.t.Fatalf("the event lost its zone:\n%s", evs["Customer visit"].Data)
	}
	if tasks := e.objects(tidbro.KindTask); len(tasks) != 1 || !strings.Contains(tasks["Call back"].Data, "PRIORITY:1") {
		e.t.Fatalf("Radicale holds tasks %v", tasks)
	}
	cards := e.cardFiles()
	if len(cards) != 2 || cards["Anna Berg"] == "" || cards["Bo Ek"] == "" {
		e.t.Fatalf("vdirsyncer fetched cards %v", cards)
	}
	b, _ := os.ReadFile(cards["Anna Berg"])
	if card := string(b); !strings.Contains(card, "PHOTO") || strings.Count(card, "EMAIL") != 2 || !strings.Contains(card, "Key customer") {
		e.t.Fatalf("Anna's card lost fields:\n%s", card)
	}
}

// groupwareEdits are what the user does on their phone: edit and delete
// events, a task and contacts, and add an event and a contact of their own.
func (e *e2e) groupwareEdits(day time.Time) {
	e.t.Helper()
	evs := e.objects(tidbro.KindEvent)
	e.py(nil, "set", e.collection(tidbro.KindEvent), evs["Customer visit"].UID, "SUMMARY", "Customer visit (phone)")
	e.py(nil, "delete", e.collection(tidbro.KindEvent), evs["Weekly planning"].UID)
	tasks := e.objects(tidbro.KindTask)
	e.py(nil, "set", e.collection(tidbro.KindTask), tasks["Call back"].UID, "SUMMARY", "Call back (phone)")
	own := filepath.Join(e.t.TempDir(), "own.ics")
	ics := fmt.Sprintf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//phone//EN\r\nBEGIN:VEVENT\r\nUID:phone-1@example\r\nDTSTAMP:20260101T000000Z\r\n"+
		"DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Lunch\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		day.Add(3*time.Hour).UTC().Format("20060102T150405Z"), day.Add(4*time.Hour).UTC().Format("20060102T150405Z"))
	if err := os.WriteFile(own, []byte(ics), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.py(nil, "add", e.collection(tidbro.KindEvent), own)

	cards := e.cardFiles()
	b, _ := os.ReadFile(cards["Anna Berg"])
	if err := os.WriteFile(cards["Anna Berg"], bytes.Replace(b, []byte("Key customer"), []byte("Key customer since 2020"), 1), 0o600); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Remove(cards["Bo Ek"]); err != nil {
		e.t.Fatal(err)
	}
	card := "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:phone-card-1\r\nFN:Cay Dahl\r\nN:Dahl;Cay;;;\r\nEMAIL:cay@dahl.example\r\nEND:VCARD\r\n"
	if err := os.WriteFile(filepath.Join(e.vdir.Dir, "phone-card-1.vcf"), []byte(card), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.vdirsyncer()
	// Radicale answers a PUT without an ETag, and vdirsyncer then takes the
	// next listing's ETag as that of its upload: a second sync before
	// tidbro's run, as a phone syncing often would, keeps it from mistaking
	// tidbro's revert for its own upload.
	e.vdirsyncer()
}

// scenario seeds the app, syncs, checks Radicale, lets the phone edit,
// and syncs again, under policy.
func scenario(t *testing.T, policy string) *e2e {
	e := newE2E(t, policy)
	day := e.seed()
	e.sync()
	e.checkSeeded()
	e.groupwareEdits(day)
	e.sync()
	return e
}

// appField is a field of an app item as the policy wants it after the
// phone's edits ("": the item is gone).
type appField struct {
	kind         tidbro.Kind
	id, field, v string
}

func (e *e2e) wantApp(want ...appField) {
	e.t.Helper()
	for _, w := range want {
		if got := e.appValue(w.kind, w.id, w.field); got != w.v {
			e.t.Errorf("%s %s: %s is %q in the app, want %q", w.kind, w.id, w.field, got, w.v)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Two-way, shared: what the user did on their phone reaches the app.
func TestCalDAVEndToEndTwoWay(t *testing.T) {
	e := scenario(t, `{"direction":"two-way","ownership":"shared","deletions":"propagate","conflicts":"groupware"}`)

	e.wantApp(
		appField{tidbro.KindEvent, "E1", "summary", "Customer visit (phone)"},
		appField{tidbro.KindEvent, "E1", "location", "Main St 1"},
		appField{tidbro.KindEvent, "E2", "summary", ""}, // deleted on the phone
		appField{tidbro.KindTask, "T1", "summary", "Call back (phone)"},
		appField{tidbro.KindContact, "C1", "note", "Key customer since 2020"},
		appField{tidbro.KindContact, "C2", "givenName", ""},
	)
	if evs := e.appSummaries(tidbro.KindEvent); evs["Lunch"] != "groupware" {
		t.Errorf("the phone's own event is not in the app as a groupware item: %v", evs)
	}
	if cs := e.appSummaries(tidbro.KindContact); cs["Cay Dahl"] != "groupware" {
		t.Errorf("the phone's own contact is not in the app: %v", cs)
	}
	// The photo survived the phone's edit of the card.
	c1 := e.call("GET", "/v1/users/alice/contacts/C1", "", 200)
	if p, _ := c1["photo"].(map[string]any); p == nil || p["data"] != base64.StdEncoding.EncodeToString(pixel) {
		t.Errorf("C1's photo after the phone's edit: %v", c1["photo"])
	}
	// The run after learns what tidbro wrote itself; then a run with
	// nothing new changes nothing and costs one request per collection.
	e.sync()
	var requests atomic.Int64
	remoteHTTP.Transport = countingTransport{&requests}
	t.Cleanup(func() { remoteHTTP.Transport = remoteTransport })
	if out := e.sync(); strings.Contains(out, " 1 created") || strings.Contains(out, " 1 updated") {
		t.Errorf("a run with no changes did something:\n%s", out)
	}
	t.Logf("no-change run: %d requests", requests.Load())
	if n := requests.Load(); n > 3 {
		t.Errorf("a run with no changes over 3 collections sent %d requests, want at most one each", n)
	}
}

type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return remoteTransport.RoundTrip(r)
}

// The app leads: the phone's edits and deletions are reverted on Radicale,
// and its own items are not imported.
func TestCalDAVEndToEndAppLeads(t *testing.T) {
	e := scenario(t, `{"direction":"app-to-groupware"}`)

	e.wantApp(
		appField{tidbro.KindEvent, "E1", "summary", "Customer visit"},
		appField{tidbro.KindEvent, "E2", "summary", "Weekly planning"},
		appField{tidbro.KindTask, "T1", "summary", "Call back"},
		appField{tidbro.KindContact, "C1", "note", "Key customer"},
		appField{tidbro.KindContact, "C2", "givenName", "Bo"},
	)
	if evs := e.appSummaries(tidbro.KindEvent); len(evs) != 3 {
		t.Errorf("the app's events: %v, want its own three", evs)
	}
	evs := e.objects(tidbro.KindEvent)
	for _, s := range []string{"Customer visit", "Weekly planning", "Doctor", "Lunch"} {
		if _, ok := evs[s]; !ok {
			t.Errorf("Radicale lacks %q after the run: %v", s, keys(evs))
		}
	}
	if _, ok := evs["Customer visit (phone)"]; ok {
		t.Error("the phone's edit of an app event survived")
	}
	if !strings.Contains(evs["Weekly planning"].Data, "RECURRENCE-ID") {
		t.Errorf("the restored series lost its moved instance:\n%s", evs["Weekly planning"].Data)
	}
	if tasks := e.objects(tidbro.KindTask); tasks["Call back"].UID == "" {
		t.Errorf("the task was not reverted: %v", keys(tasks))
	}
	// The server is the judge of what tidbro wrote (vdirsyncer's local copy
	// lags: it does not always pull a revert of its own upload).
	cards := e.cardsOnServer()
	if cards["Bo Ek"] == "" || cards["Cay Dahl"] == "" {
		t.Errorf("cards on Radicale: %v, want Bo restored and the phone's own card kept", keys(cards))
	}
	if strings.Contains(cards["Anna Berg"], "since 2020") || !strings.Contains(cards["Anna Berg"], "PHOTO") {
		t.Errorf("the phone's edit of an app contact survived:\n%s", cards["Anna Berg"])
	}
}

// Ownership by origin: the app's items belong to the app (the phone's
// edits are reverted), the phone's to the phone (imported, followed, and
// read-only in the app).
func TestCalDAVEndToEndOrigin(t *testing.T) {
	e := scenario(t, `{"direction":"two-way","ownership":"origin"}`)

	e.wantApp(
		appField{tidbro.KindEvent, "E1", "summary", "Customer visit"},
		appField{tidbro.KindEvent, "E2", "summary", "Weekly planning"},
		appField{tidbro.KindContact, "C2", "givenName", "Bo"},
	)
	evs := e.objects(tidbro.KindEvent)
	if _, ok := evs["Customer visit"]; !ok {
		t.Errorf("E1 not reverted on Radicale: %v", keys(evs))
	}
	if _, ok := evs["Weekly planning"]; !ok {
		t.Errorf("E2 not restored on Radicale: %v", keys(evs))
	}
	// The phone's own event is imported and follows the phone.
	var lunchID string
	for _, it := range e.call("GET", "/v1/users/alice/events?limit=1000", "", 200)["items"].([]any) {
		if m := it.(map[string]any); m["summary"] == "Lunch" {
			lunchID, _ = m["appId"].(string)
		}
	}
	if lunchID == "" {
		t.Fatalf("the phone's event was not imported: %v", e.appSummaries(tidbro.KindEvent))
	}
	e.call("PUT", "/v1/users/alice/events/"+lunchID, `{"summary":"Lunch (app)","start":"2030-01-01T12:00:00Z","end":"2030-01-01T13:00:00Z"}`, http.StatusConflict)
	e.py(nil, "set", e.collection(tidbro.KindEvent), evs["Lunch"].UID, "SUMMARY", "Lunch with Cay")
	e.sync()
	if got := e.appValue(tidbro.KindEvent, lunchID, "summary"); got != "Lunch with Cay" {
		t.Errorf("the phone's event in the app after the phone's edit: %q", got)
	}
}
