package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro/graph/graphtest"
)

// gx is an end-to-end set-up against a fake Microsoft Graph: tidbro's REST
// API and CLI on a fresh data directory, alice with a mailbox, bob without.
type gx struct {
	t     *testing.T
	data  string
	base  string
	token string
	fake  *graphtest.Server
	alice string // alice's mailbox (user id in the directory)
}

func newGraphE2E(t *testing.T, policy string) *gx {
	a := newAppEnv(t)
	g := &gx{t: t, data: a.data, base: a.base, token: a.token, fake: graphtest.New(t)}
	g.fake.AddApp("contoso.example", "tidbro-app", "app-secret")
	g.alice = g.fake.AddUser("alice@contoso.example", "alice@contoso.example", true)
	g.fake.AddUser("bob@contoso.example", "bob@contoso.example", false)
	g.call("PUT", "/v1/settings/graph", fmt.Sprintf(`{"tenantId":"contoso.example","clientId":"tidbro-app","clientSecret":"app-secret","graphUrl":%q,"tokenUrl":%q}`,
		g.fake.URL, g.fake.TokenURL), 200)
	for _, u := range []string{"alice", "bob"} {
		g.call("PUT", "/v1/users/"+u, fmt.Sprintf(`{"email":"%s@contoso.example","timeZone":"Europe/Stockholm"}`, u), 201)
		g.call("PUT", "/v1/users/"+u+"/accounts/outlook", fmt.Sprintf(`{"kind":"graph","policy":%s}`, policy), 201)
	}
	return g
}

func (g *gx) call(method, path, body string, want int) map[string]any {
	g.t.Helper()
	return apiCall(g.t, g.base, g.token, method, path, body, want)
}

// sync runs tidbro sync; bob, without a mailbox, is "not set up", which is
// no failure.
func (g *gx) sync() string {
	g.t.Helper()
	out := syncOnce(g.t, g.data)
	if !regexp.MustCompile(`bob/outlook/\w+: not set up`).MatchString(out) {
		g.t.Fatalf("bob without a mailbox is not reported as not set up:\n%s", out)
	}
	return out
}

// outlook returns alice's events in the fake by subject.
func (g *gx) outlook() map[string]graphtest.Event {
	out := map[string]graphtest.Event{}
	for _, e := range g.fake.Events(g.alice) {
		out[e.Subject] = e
	}
	return out
}

func (g *gx) seed() time.Time {
	loc, _ := time.LoadLocation("Europe/Stockholm")
	d := time.Now().In(loc).AddDate(0, 0, 3)
	day := time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, loc)
	at := func(t time.Time) string { return t.Format(time.RFC3339) }
	put := func(id, summary, extra string, start time.Time) {
		g.call("PUT", "/v1/users/alice/events/"+id, fmt.Sprintf(`{"type":"appointment","summary":%q,"start":%q,"end":%q,"timeZone":"Europe/Stockholm"%s}`,
			summary, at(start), at(start.Add(time.Hour)), extra), 201)
	}
	put("E1", "Customer visit", `,"location":"Main St 1","alarms":[{"trigger":"-PT15M"}]`, day)
	moved := day.AddDate(0, 0, 7).Add(3 * time.Hour)
	put("E2", "Weekly planning", fmt.Sprintf(`,"rrule":"FREQ=WEEKLY;COUNT=6;BYDAY=%s","exdates":[%q],"overrides":[{"recurrenceId":%q,"start":%q,"end":%q,"summary":"Weekly planning (moved)"}]`,
		strings.ToUpper(day.Weekday().String()[:2]), at(day.AddDate(0, 0, 14).Add(3*time.Hour)), at(moved), at(moved.Add(2*time.Hour)), at(moved.Add(3*time.Hour))), day.Add(3*time.Hour))
	put("E3", "Doctor", `,"private":true,"attendees":[{"email":"dr@clinic.example"}]`, day.Add(6*time.Hour))
	return day
}

func (g *gx) checkSeeded() {
	g.t.Helper()
	evs := g.outlook()
	if len(evs) != 3 {
		g.t.Fatalf("Outlook holds %d events, want 3: %v", len(evs), keys(evs))
	}
	series := evs["Weekly planning"]
	if series.Type != "seriesMaster" || series.Recurrence == nil || len(series.Exceptions) != 1 || len(series.Cancelled) != 1 ||
		series.Exceptions[0].Subject != "Weekly planning (moved)" {
		g.t.Fatalf("the series in Outlook: %+v", series)
	}
	if evs["Doctor"].Sensitivity != "private" || len(evs["Doctor"].Attendees) != 0 {
		g.t.Fatalf("the private event: %+v (attendees are never invited)", evs["Doctor"])
	}
	if v := evs["Customer visit"]; !v.IsReminderOn || v.ReminderMinutesBeforeStart != 15 || v.Location.DisplayName != "Main St 1" {
		g.t.Fatalf("the visit: %+v", v)
	}
}

// outlookEdits: the user in Outlook edits one event, deletes the series,
// and adds one of their own.
func (g *gx) outlookEdits(day time.Time) {
	evs := g.outlook()
	v := evs["Customer visit"]
	v.Subject = "Customer visit (Outlook)"
	g.fake.PutEvent(g.alice, v)
	g.fake.DeleteEvent(g.alice, evs["Weekly planning"].ID)
	start := day.Add(4 * time.Hour).UTC()
	g.fake.PutEvent(g.alice, graphtest.Event{Subject: "Lunch", Type: "singleInstance", ShowAs: "busy", Sensitivity: "normal",
		Start: graphtest.DateTimeTimeZone{DateTime: start.Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"},
		End:   graphtest.DateTimeTimeZone{DateTime: start.Add(time.Hour).Format("2006-01-02T15:04:05.0000000"), TimeZone: "UTC"}})
}

func (g *gx) scenario() *gx {
	day := g.seed()
	g.sync()
	g.checkSeeded()
	g.outlookEdits(day)
	g.sync()
	return g
}

func (g *gx) appSummary(id string) string {
	g.t.Helper()
	req, _ := http.NewRequest("GET", g.base+"/v1/users/alice/events/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+g.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if res.StatusCode != 200 || json.NewDecoder(res.Body).Decode(&m) != nil {
		return ""
	}
	s, _ := m["summary"].(string)
	return s
}

func TestGraphEndToEndTwoWay(t *testing.T) {
	g := newGraphE2E(t, `{"direction":"two-way","conflicts":"groupware","kinds":["event"]}`).scenario()
	items := g.call("GET", "/v1/users/alice/events?limit=100", "", 200)["items"].([]any)
	got := map[string]string{}
	for _, it := range items {
		m := it.(map[string]any)
		got[m["summary"].(string)] = m["type"].(string)
	}
	if got["Customer visit (Outlook)"] != "appointment" || got["Lunch"] != "groupware" || got["Doctor"] != "appointment" || len(got) != 3 {
		t.Fatalf("the app after Outlook's edits: %v", got)
	}
	// The app finds each item in Outlook, with the link that opens it there.
	visit := g.outlook()["Customer visit (Outlook)"]
	ls := g.call("GET", "/v1/users/alice/events/E1/links", "", 200)["links"].([]any)
	if len(ls) != 1 {
		t.Fatalf("links of E1: %v", ls)
	}
	if l := ls[0].(map[string]any); l["account"] != "outlook" || l["collection"] != "events" || l["remoteId"] != visit.ID || l["webLink"] != visit.WebLink || visit.WebLink == "" {
		t.Fatalf("link of E1: %v; Outlook has %s at %s", l, visit.ID, visit.WebLink)
	}
	// And bob shows as not set up, parked without retries.
	st := g.call("GET", "/v1/users/bob/status", "", 200)
	p := st["accounts"].([]any)[0].(map[string]any)["pairs"].([]any)[0].(map[string]any)
	if !strings.Contains(fmt.Sprint(p["lastError"]), "mailbox") {
		t.Fatalf("bob's status: %v", p)
	}
}

func TestGraphEndToEndAppLeads(t *testing.T) {
	g := newGraphE2E(t, `{"direction":"app-to-groupware","kinds":["event"]}`).scenario()
	evs := g.outlook()
	if _, ok := evs["Customer visit"]; !ok {
		t.Errorf("Outlook's edit of an app event was not reverted: %v", keys(evs))
	}
	if s := evs["Weekly planning"]; s.Type != "seriesMaster" || len(s.Exceptions) != 1 {
		t.Errorf("the series deleted in Outlook was not restored whole: %+v", s)
	}
	if _, ok := evs["Lunch"]; !ok {
		t.Errorf("Outlook's own event was removed: %v", keys(evs))
	}
	if g.appSummary("E1") != "Customer visit" || g.appSummary("E2") != "Weekly planning" {
		t.Errorf("the app's items changed: %q %q", g.appSummary("E1"), g.appSummary("E2"))
	}
	if items := g.call("GET", "/v1/users/alice/events?limit=100", "", 200)["items"].([]any); len(items) != 3 {
		t.Errorf("the app imported Outlook's event: %d items", len(items))
	}
}

func TestGraphEndToEndOrigin(t *testing.T) {
	g := newGraphE2E(t, `{"direction":"two-way","ownership":"origin","kinds":["event"]}`).scenario()
	if _, ok := g.outlook()["Customer visit"]; !ok || g.appSummary("E1") != "Customer visit" {
		t.Errorf("the app's own event: Outlook %v, app %q", keys(g.outlook()), g.appSummary("E1"))
	}
	var lunch string
	for _, it := range g.call("GET", "/v1/users/alice/events?limit=100", "", 200)["items"].([]any) {
		if m := it.(map[string]any); m["summary"] == "Lunch" {
			lunch = m["appId"].(string)
		}
	}
	if lunch == "" {
		t.Fatal("Outlook's own event was not imported")
	}
	g.call("PUT", "/v1/users/alice/events/"+lunch, `{"summary":"Lunch (app)","start":"2030-01-01T12:00:00Z","end":"2030-01-01T13:00:00Z"}`, 409)
	l := g.outlook()["Lunch"]
	l.Subject = "Lunch with Cay"
	g.fake.PutEvent(g.alice, l)
	g.sync()
	if got := g.appSummary(lunch); got != "Lunch with Cay" {
		t.Errorf("Outlook's event in the app after its edit: %q", got)
	}
}
