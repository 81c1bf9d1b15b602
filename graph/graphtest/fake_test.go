package graphtest_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro/graph/graphtest"
)

const (
	tenant   = "11111111-2222-3333-4444-555555555555"
	clientID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	secret   = "s3cr3t~value"
	extProp  = "String {66f5a359-4659-4830-9070-00040ec6ac6e} Name tidbroID"
)

// obj is a decoded JSON object.
type obj = map[string]any

// client is a well-behaved Graph client over plain net/http.
type client struct {
	t     *testing.T
	s     *graphtest.Server
	token string
}

func newClient(t *testing.T) (*graphtest.Server, *client) {
	s := graphtest.New(t)
	s.AddApp(tenant, clientID, secret)
	status, body := postForm(t, s.TokenURL, url.Values{
		"client_id": {clientID}, "client_secret": {secret}, "scope": {s.Scope}, "grant_type": {"client_credentials"},
	})
	if status != 200 {
		t.Fatalf("token: %d %v", status, body)
	}
	return s, &client{t: t, s: s, token: body["access_token"].(string)}
}

func postForm(t *testing.T, u string, f url.Values) (int, obj) {
	t.Helper()
	resp, err := http.PostForm(u, f)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out obj
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// do sends a Graph request with the headers tidbro always sends; extra are
// name, value pairs added on top. target is a path under /v1.0 or a link.
func (c *client) do(method, target string, body any, extra ...string) (int, http.Header, obj) {
	c.t.Helper()
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.token)
	h.Set("Prefer", `IdType="ImmutableId", outlook.timezone="UTC"`)
	for i := 0; i+1 < len(extra); i += 2 {
		h.Add(extra[i], extra[i+1])
	}
	return c.raw(method, target, body, h)
}

func (c *client) raw(method, target string, body any, h http.Header) (int, http.Header, obj) {
	c.t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = c.s.URL + target
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
		h.Set("Content-Type", "application/json")
	}
	r, _ := http.NewRequest(method, target, rd)
	r.Header = h
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out obj
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// must is do expecting a status.
func (c *client) must(want int, method, target string, body any, extra ...string) obj {
	c.t.Helper()
	status, _, out := c.do(method, target, body, extra...)
	if status != want {
		c.t.Fatalf("%s %s: %d, want %d: %v", method, target, status, want, out)
	}
	return out
}

func errCode(o obj) string {
	e, _ := o["error"].(obj)
	s, _ := e["code"].(string)
	return s
}

func values(o obj) []obj {
	var out []obj
	for _, v := range o["value"].([]any) {
		out = append(out, v.(obj))
	}
	return out
}

func at(dt, tz string) obj { return obj{"dateTime": dt, "timeZone": tz} }

func single(subject, start, end string) obj {
	return obj{"subject": subject, "start": at(start, "UTC"), "end": at(end, "UTC")}
}

func window(path, from, to string) string {
	return path + "?startDateTime=" + url.QueryEscape(from) + "&endDateTime=" + url.QueryEscape(to)
}

func TestTokenWithSecret(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	c.must(200, "GET", "/users/"+uid, nil)

	// HTTP Basic credentials are accepted too.
	f := url.Values{"scope": {s.Scope}, "grant_type": {"client_credentials"}}
	r, _ := http.NewRequest("POST", s.TokenURL, strings.NewReader(f.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(clientID, secret)
	if resp, err := http.DefaultClient.Do(r); err != nil || resp.StatusCode != 200 {
		t.Fatalf("basic: %v %v", resp.Status, err)
	}

	cases := []struct {
		name   string
		form   url.Values
		status int
		code   float64
	}{
		{"bad secret", url.Values{"client_secret": {"nope"}}, 401, 7000215},
		{"delegated scope", url.Values{"scope": {"Calendars.ReadWrite"}}, 400, 70011},
		{"other resource", url.Values{"scope": {"https://graph.microsoft.com/.default"}}, 400, 70011},
		{"unknown app", url.Values{"client_id": {"someone-else"}}, 400, 700016},
		{"wrong grant", url.Values{"grant_type": {"password"}}, 400, 70003},
	}
	for _, tc := range cases {
		f := url.Values{"client_id": {clientID}, "client_secret": {secret}, "scope": {s.Scope}, "grant_type": {"client_credentials"}}
		for k, v := range tc.form {
			f[k] = v
		}
		status, body := postForm(t, s.TokenURL, f)
		if status != tc.status || body["error_codes"].([]any)[0] != tc.code || !strings.HasPrefix(body["error_description"].(string), "AADSTS") {
			t.Errorf("%s: %d %v", tc.name, status, body)
		}
	}
	if status, _ := postForm(t, s.TokenURLFor("no-such-tenant"), f); status != 400 {
		t.Errorf("unknown tenant: %d", status)
	}
	if n := s.TokenRequests(); n != 2+len(cases)+1 {
		t.Errorf("TokenRequests = %d", n)
	}

	// An expired token is refused.
	s.SetTokenLifetime(time.Millisecond)
	status, body := postForm(t, s.TokenURL, url.Values{"client_id": {clientID}, "client_secret": {secret}, "scope": {s.Scope}, "grant_type": {"client_credentials"}})
	if status != 200 || body["expires_in"] != 0.0 {
		t.Fatalf("short token: %d %v", status, body)
	}
	time.Sleep(5 * time.Millisecond)
	old := c.token
	c.token = body["access_token"].(string)
	if st, _, out := c.do("GET", "/users/"+uid, nil); st != 401 || errCode(out) != "InvalidAuthenticationToken" {
		t.Errorf("expired token: %d %v", st, out)
	}
	c.token = "garbage"
	if st, _, _ := c.do("GET", "/users/"+uid, nil); st != 401 {
		t.Errorf("garbage token: %d", st)
	}
	c.token = old
}

// assertion signs a client assertion the way MSAL does.
func assertion(key *rsa.PrivateKey, cert *x509.Certificate, alg, aud string, nbf, exp time.Time) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	hdr := obj{"alg": alg, "typ": "JWT"}
	if alg == "RS256" {
		sum := sha1.Sum(cert.Raw)
		hdr["x5t"] = base64.RawURLEncoding.EncodeToString(sum[:])
	} else {
		sum := sha256.Sum256(cert.Raw)
		hdr["x5t#S256"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	claims := obj{"aud": aud, "iss": clientID, "sub": clientID, "jti": fmt.Sprint(time.Now().UnixNano()),
		"nbf": nbf.Unix(), "iat": nbf.Unix(), "exp": exp.Unix()}
	input := enc(hdr) + "." + enc(claims)
	h := sha256.Sum256([]byte(input))
	var sig []byte
	if alg == "RS256" {
		sig, _ = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	} else {
		sig, _ = rsa.SignPSS(rand.Reader, key, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestTokenWithCertificate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tidbro"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	s := graphtest.New(t)
	s.AddCertApp(tenant, clientID, cert)
	now := time.Now()
	try := func(jwt string) (int, obj) {
		return postForm(t, s.TokenURL, url.Values{
			"client_id": {clientID}, "scope": {s.Scope}, "grant_type": {"client_credentials"},
			"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {jwt},
		})
	}
	for _, alg := range []string{"RS256", "PS256"} {
		if status, body := try(assertion(key, cert, alg, s.TokenURL, now, now.Add(5*time.Minute))); status != 200 || body["token_type"] != "Bearer" {
			t.Errorf("%s: %d %v", alg, status, body)
		}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	bad := map[string]string{
		"wrong audience": assertion(key, cert, "PS256", "https://login.microsoftonline.com/"+tenant+"/oauth2/v2.0/token", now, now.Add(time.Minute)),
		"expired":        assertion(key, cert, "RS256", s.TokenURL, now.Add(-time.Hour), now.Add(-time.Minute)),
		"not yet valid":  assertion(key, cert, "RS256", s.TokenURL, now.Add(time.Hour), now.Add(2*time.Hour)),
		"other key":      assertion(other, cert, "PS256", s.TokenURL, now, now.Add(time.Minute)),
	}
	for name, jwt := range bad {
		if status, body := try(jwt); status != 401 || body["error"] != "invalid_client" {
			t.Errorf("%s: %d %v", name, status, body)
		}
	}
}

func TestUsers(t *testing.T) {
	s, c := newClient(t)
	alice := s.AddUser("alice@contoso.com", "Alice.Smith@contoso.com", true)
	bob := s.AddUser("bob@contoso.com", "bob@contoso.com", false)
	s.AddUserIn("other-tenant", "eve@fabrikam.com", "eve@fabrikam.com", true)

	if u := c.must(200, "GET", "/users/alice@contoso.com", nil); u["id"] != alice || u["mail"] != "Alice.Smith@contoso.com" {
		t.Errorf("by UPN: %v", u)
	}
	found := values(c.must(200, "GET", "/users?$filter="+url.QueryEscape("mail eq 'alice.smith@contoso.com'"), nil))
	if len(found) != 1 || found[0]["id"] != alice {
		t.Errorf("by mail: %v", found)
	}
	if n := values(c.must(200, "GET", "/users?$filter="+url.QueryEscape("mail eq 'nobody@contoso.com'"), nil)); len(n) != 0 {
		t.Errorf("no match: %v", n)
	}
	if out := c.must(404, "GET", "/users/nobody@contoso.com", nil); errCode(out) != "Request_ResourceNotFound" {
		t.Errorf("unknown: %v", out)
	}
	c.must(200, "GET", "/users/"+bob, nil)
	if out := c.must(404, "GET", "/users/"+bob+"/calendar", nil); errCode(out) != "MailboxNotEnabledForRESTAPI" {
		t.Errorf("no mailbox: %v", out)
	}
	if out := c.must(401, "GET", "/users/eve@fabrikam.com/events", nil); errCode(out) != "InvalidAuthenticationToken" {
		t.Errorf("other tenant: %v", out)
	}
	cal := c.must(200, "GET", "/users/"+alice+"/calendar", nil)
	cals := values(c.must(200, "GET", "/users/"+alice+"/calendars", nil))
	if len(cals) != 1 || cals[0]["id"] != cal["id"] || cal["isDefaultCalendar"] != true {
		t.Errorf("calendars: %v %v", cals, cal)
	}
	c.must(200, "GET", "/users/"+alice+"/calendars/"+cal["id"].(string)+"/events", nil)
	c.must(404, "GET", "/users/"+alice+"/calendars/AAMkCAnother/events", nil)
}

func TestCreateWithTransactionIDAndExtendedProperty(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	body := single("Dentist", "2025-06-02T10:00:00", "2025-06-02T11:00:00")
	body["transactionId"] = "7E163156-7762-4BEB-A1C6-729EA81755A7"
	body["singleValueExtendedProperties"] = []obj{{"id": extProp, "value": "Item-42"}}
	first := c.must(201, "POST", "/users/"+uid+"/events", body)
	// A retry with the same transactionId creates nothing.
	again := c.must(201, "POST", "/users/"+uid+"/calendar/events", body)
	if again["id"] != first["id"] || len(s.Events(uid)) != 1 {
		t.Fatalf("retry created another event: %v vs %v", again["id"], first["id"])
	}
	if _, ok := first["singleValueExtendedProperties"]; ok {
		t.Error("the create answer carries the extended property")
	}
	if first["type"] != "singleInstance" || first["transactionId"] != body["transactionId"] || !strings.HasPrefix(first["@odata.etag"].(string), `W/"`) {
		t.Errorf("created: %v", first)
	}
	id := first["id"].(string)
	expand := "?$expand=" + url.QueryEscape("singleValueExtendedProperties($filter=id eq '"+extProp+"')")
	got := c.must(200, "GET", "/users/"+uid+"/events/"+id+expand, nil)
	props, _ := got["singleValueExtendedProperties"].([]any)
	if len(props) != 1 || props[0].(obj)["value"] != "Item-42" {
		t.Errorf("expanded: %v", got["singleValueExtendedProperties"])
	}
	// The documented filter, the value matched case-insensitively.
	filter := func(v string) []obj {
		f := "singleValueExtendedProperties/Any(ep: ep/id eq '" + extProp + "' and ep/value eq '" + v + "')"
		return values(c.must(200, "GET", "/users/"+uid+"/events?$filter="+url.QueryEscape(f), nil))
	}
	if hits := filter("item-42"); len(hits) != 1 || hits[0]["id"] != id {
		t.Errorf("filter: %v", hits)
	}
	if hits := filter("Item-43"); len(hits) != 0 {
		t.Errorf("filter on another value: %v", hits)
	}
}

func TestIfMatch(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	ev := c.must(201, "POST", "/users/"+uid+"/events", single("Call", "2025-06-02T10:00:00", "2025-06-02T10:30:00"))
	path := "/users/" + uid + "/events/" + ev["id"].(string)
	stale := ev["@odata.etag"].(string)
	upd := c.must(200, "PATCH", path, obj{"subject": "Call Bob"}, "If-Match", stale)
	if upd["@odata.etag"] == stale || upd["changeKey"] == ev["changeKey"] || upd["subject"] != "Call Bob" {
		t.Fatalf("update kept the change key: %v", upd)
	}
	if out := c.must(412, "PATCH", path, obj{"subject": "lost"}, "If-Match", stale); errCode(out) != "ErrorIrresolvableConflict" {
		t.Errorf("stale PATCH: %v", out)
	}
	c.must(412, "DELETE", path, nil, "If-Match", stale)
	c.must(204, "DELETE", path, nil, "If-Match", upd["@odata.etag"].(string))
	c.must(404, "GET", path, nil)
}

// deltaAll follows a delta round to its deltaLink.
func deltaAll(c *client, link string, extra ...string) (entries []obj, deltaLink string, pages int) {
	c.t.Helper()
	for link != "" {
		page := c.must(200, "GET", link, nil, extra...)
		pages++
		entries = append(entries, values(page)...)
		next, _ := page["@odata.nextLink"].(string)
		dl, _ := page["@odata.deltaLink"].(string)
		if (next == "") == (dl == "") {
			c.t.Fatalf("a page needs exactly one of nextLink and deltaLink: %v", page)
		}
		link, deltaLink = next, dl
	}
	return entries, deltaLink, pages
}

func TestSeriesWithExceptionAndCancellationInDelta(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	// Mondays and Wednesdays 09:00 in Berlin; DST begins on 30 March 2025.
	master := c.must(201, "POST", "/users/"+uid+"/events", obj{
		"subject": "Standup",
		"start":   at("2025-03-17T09:00:00", "Europe/Berlin"),
		"end":     at("2025-03-17T09:30:00", "W. Europe Standard Time"),
		"recurrence": obj{
			"pattern": obj{"type": "weekly", "interval": 1, "daysOfWeek": []string{"Monday", "wednesday"}, "firstDayOfWeek": "monday"},
			"range":   obj{"type": "noEnd", "startDate": "2025-03-17"},
		},
	})
	mid := master["id"].(string)
	if master["type"] != "seriesMaster" || master["originalStartTimeZone"] != "W. Europe Standard Time" ||
		master["start"].(obj)["dateTime"] != "2025-03-17T08:00:00.0000000" || master["start"].(obj)["timeZone"] != "UTC" {
		t.Fatalf("master: %v", master)
	}
	from, to := "2025-03-17T00:00:00Z", "2025-04-07T00:00:00Z"
	inst := values(c.must(200, "GET", window("/users/"+uid+"/events/"+mid+"/instances", from, to), nil, "Prefer", "odata.maxpagesize=20"))
	byOrig := map[string]string{}
	for _, o := range inst {
		byOrig[o["originalStart"].(string)] = o["id"].(string)
	}
	if len(inst) != 6 || byOrig["2025-03-31T07:00:00Z"] == "" {
		t.Fatalf("instances: %d %v", len(inst), byOrig)
	}
	// Wednesday 19th moves an hour later: an exception.
	exc := c.must(200, "PATCH", "/users/"+uid+"/events/"+byOrig["2025-03-19T08:00:00Z"], obj{
		"subject": "Standup (late)", "start": at("2025-03-19T10:00:00", "Europe/Berlin"), "end": at("2025-03-19T10:30:00", "Europe/Berlin"),
	})
	if exc["type"] != "exception" || exc["seriesMasterId"] != mid || exc["start"].(obj)["dateTime"] != "2025-03-19T09:00:00.0000000" {
		t.Fatalf("exception: %v", exc)
	}
	// Monday 24th is cancelled.
	c.must(204, "DELETE", "/users/"+uid+"/events/"+byOrig["2025-03-24T08:00:00Z"], nil)
	// An occurrence may not move onto its neighbour's day.
	if out := c.must(400, "PATCH", "/users/"+uid+"/events/"+byOrig["2025-03-26T08:00:00Z"], obj{
		"start": at("2025-03-31T09:00:00", "Europe/Berlin"), "end": at("2025-03-31T09:30:00", "Europe/Berlin"),
	}); errCode(out) != "ErrorOccurrenceCrossingBoundary" {
		t.Errorf("crossing: %v", out)
	}

	entries, deltaLink, pages := deltaAll(c, window("/users/"+uid+"/calendarView/delta", from, to), "Prefer", "odata.maxpagesize=2")
	var got []string
	for _, e := range entries {
		if e["type"] == "seriesMaster" || e["seriesMasterId"] != mid || e["recurrence"] != nil || e["body"] == nil {
			t.Errorf("delta entry: %v", e)
		}
		got = append(got, fmt.Sprintf("%s %s %s", e["type"], e["originalStart"], e["start"].(obj)["dateTime"]))
	}
	want := []string{
		"occurrence 2025-03-17T08:00:00Z 2025-03-17T08:00:00.0000000",
		"exception 2025-03-19T08:00:00Z 2025-03-19T09:00:00.0000000",
		"occurrence 2025-03-26T08:00:00Z 2025-03-26T08:00:00.0000000",
		"occurrence 2025-03-31T07:00:00Z 2025-03-31T07:00:00.0000000", // summer time
		"occurrence 2025-04-02T07:00:00Z 2025-04-02T07:00:00.0000000",
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("delta (%d pages):\n%s", pages, strings.Join(got, "\n"))
	}

	// The series master knows its cancelled and modified occurrences.
	q := "?$select=id,subject,cancelledOccurrences,exceptionOccurrences&$expand=exceptionOccurrences"
	m := c.must(200, "GET", "/users/"+uid+"/events/"+mid+q, nil)
	if co := m["cancelledOccurrences"].([]any); len(co) != 1 || co[0] != "OID."+mid+".2025-03-24" {
		t.Errorf("cancelledOccurrences: %v", co)
	}
	if eo := m["exceptionOccurrences"].([]any); len(eo) != 1 || eo[0].(obj)["subject"] != "Standup (late)" {
		t.Errorf("exceptionOccurrences: %v", eo)
	}
	if _, ok := m["start"]; ok {
		t.Error("$select returned an unselected property")
	}
	if m := c.must(200, "GET", "/users/"+uid+"/events/"+mid+"?$select=exceptionOccurrences", nil); m["exceptionOccurrences"] != nil {
		t.Error("exceptionOccurrences without $expand")
	}

	// A change to the series changes its occurrences, not the exception.
	c.must(200, "PATCH", "/users/"+uid+"/events/"+mid, obj{"subject": "Daily"})
	entries, _, _ = deltaAll(c, deltaLink)
	changed := 0
	for _, e := range entries {
		if e["@removed"] == nil {
			changed++
			if e["type"] != "occurrence" || e["subject"] != "Daily" {
				t.Errorf("after series change: %v", e)
			}
		}
	}
	if changed != 4 {
		t.Errorf("%d changed instances, want 4", changed)
	}
	if ev := s.Events(uid); len(ev) != 1 || len(ev[0].Exceptions) != 1 || len(ev[0].Cancelled) != 1 {
		t.Errorf("stored series: %+v", ev)
	}
}

func TestIncrementalDelta(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	create := func(subject, day string) string {
		return c.must(201, "POST", "/users/"+uid+"/events", single(subject, day+"T10:00:00", day+"T11:00:00"))["id"].(string)
	}
	a, b, cc := create("A", "2025-06-05"), create("B", "2025-06-10"), create("C", "2025-06-15")
	d := create("D outside", "2025-08-01")
	from, to := "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"
	entries, link, _ := deltaAll(c, window("/users/"+uid+"/calendarView/delta", from, to))
	if len(entries) != 3 {
		t.Fatalf("initial: %v", entries)
	}

	ev := func(id string) string { return "/users/" + uid + "/events/" + id }
	c.must(200, "PATCH", ev(a), obj{"subject": "A2"})
	c.must(204, "DELETE", ev(b), nil)
	c.must(200, "PATCH", ev(cc), obj{"start": at("2025-07-15T10:00:00", "UTC"), "end": at("2025-07-15T11:00:00", "UTC")})
	c.must(200, "PATCH", ev(d), obj{"subject": "D2"})
	e := create("E", "2025-06-20")
	// Another Outlook client adds one, in its own zone.
	f := s.PutEvent(uid, graphtest.Event{Subject: "F", Start: graphtest.DateTimeTimeZone{DateTime: "2025-06-25T09:00:00", TimeZone: "Pacific Standard Time"},
		End: graphtest.DateTimeTimeZone{DateTime: "2025-06-25T10:00:00", TimeZone: "America/Los_Angeles"}})
	if f.Start.DateTime != "2025-06-25T16:00:00.0000000" || f.OriginalEndTimeZone != "Pacific Standard Time" {
		t.Errorf("PutEvent: %+v", f)
	}

	entries, link2, _ := deltaAll(c, link)
	var changed, removed []string
	for _, x := range entries {
		if x["@removed"] != nil {
			removed = append(removed, x["id"].(string))
		} else {
			changed = append(changed, x["id"].(string))
		}
	}
	sort.Strings(changed)
	sort.Strings(removed)
	wantChanged, wantRemoved := []string{a, e, f.ID}, []string{b, cc, d}
	sort.Strings(wantChanged)
	sort.Strings(wantRemoved)
	if !slices.Equal(changed, wantChanged) || !slices.Equal(removed, wantRemoved) {
		t.Errorf("changed %v (want %v), removed %v (want %v)", changed, wantChanged, removed, wantRemoved)
	}

	// Nothing since: an empty round.
	entries, link3, _ := deltaAll(c, link2)
	if len(entries) != 0 || link3 == link2 {
		t.Errorf("quiet round: %v", entries)
	}
	// C comes back into the window.
	c.must(200, "PATCH", ev(cc), obj{"start": at("2025-06-16T10:00:00", "UTC"), "end": at("2025-06-16T11:00:00", "UTC")})
	if entries, _, _ = deltaAll(c, link3); len(entries) != 1 || entries[0]["id"] != cc || entries[0]["subject"] != "C" {
		t.Errorf("C back: %v", entries)
	}
	// $select is not supported on calendarView delta.
	c.must(400, "GET", window("/users/"+uid+"/calendarView/delta", from, to)+"&$select=subject", nil)
}

func TestExpiredDeltaToken(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	c.must(201, "POST", "/users/"+uid+"/events", single("A", "2025-06-05T10:00:00", "2025-06-05T11:00:00"))
	_, link, _ := deltaAll(c, window("/users/"+uid+"/calendarView/delta", "2025-06-01T00:00:00Z", "2025-07-01T00:00:00Z"))
	s.ExpireDeltaTokens(uid)
	status, h, out := c.do("GET", link, nil)
	if status != 410 || errCode(out) != "SyncStateNotFound" || !strings.HasSuffix(h.Get("Location"), "$deltatoken=") {
		t.Errorf("expired: %d %v %q", status, out, h.Get("Location"))
	}
	// The Location starts a full synchronisation.
	if entries, _, _ := deltaAll(c, h.Get("Location")); len(entries) != 1 {
		t.Errorf("resync: %v", entries)
	}
	if status, _, _ := c.do("GET", "/users/"+uid+"/calendarView/delta?$deltatoken=garbage", nil); status != 410 {
		t.Errorf("garbage token: %d", status)
	}
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    obj               `json:"body"`
}

func (c *client) batch(parts []obj) (int, []batchAnswer) {
	c.t.Helper()
	status, _, out := c.do("POST", "/$batch", obj{"requests": parts})
	var answers []batchAnswer
	if r, ok := out["responses"]; ok {
		b, _ := json.Marshal(r)
		json.Unmarshal(b, &answers)
	}
	return status, answers
}

var tidbroHeaders = map[string]string{"Prefer": `IdType="ImmutableId", outlook.timezone="UTC"`, "Content-Type": "application/json"}

func TestBatch(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	status, answers := c.batch([]obj{
		{"id": "1", "method": "GET", "url": "/users/" + uid, "headers": tidbroHeaders},
		{"id": "2", "method": "POST", "url": "/users/" + uid + "/events", "headers": tidbroHeaders, "body": single("X", "2025-06-05T10:00:00", "2025-06-05T11:00:00")},
		{"id": "3", "method": "GET", "url": "users/" + uid + "/calendar", "headers": tidbroHeaders},
	})
	if status != 200 || len(answers) != 3 {
		t.Fatalf("batch: %d %v", status, answers)
	}
	var order []string
	byID := map[string]batchAnswer{}
	for _, a := range answers {
		order = append(order, a.ID)
		byID[a.ID] = a
	}
	if slices.Equal(order, []string{"1", "2", "3"}) {
		t.Error("answers in request order; clients must not rely on it")
	}
	if byID["1"].Status != 200 || byID["1"].Body["id"] != uid || byID["2"].Status != 201 || byID["2"].Body["subject"] != "X" || byID["3"].Status != 200 {
		t.Errorf("answers: %+v", byID)
	}
	if n := s.Requests(uid); n != 2 {
		t.Errorf("mailbox requests %d, want 2 (the user lookup is no mailbox request)", n)
	}

	// A throttled part answers 429 with its own Retry-After.
	s.Throttle(uid, 1, time.Minute)
	_, answers = c.batch([]obj{
		{"id": "a", "method": "GET", "url": "/users/" + uid + "/calendar", "headers": tidbroHeaders},
		{"id": "b", "method": "GET", "url": "/users/" + uid + "/calendars", "headers": tidbroHeaders},
	})
	throttled := 0
	for _, a := range answers {
		if a.Status == 429 {
			throttled++
			if a.Headers["Retry-After"] != "60" || errCode(a.Body) != "TooManyRequests" {
				t.Errorf("429 part: %+v", a)
			}
		}
	}
	if throttled != 1 {
		t.Errorf("%d throttled parts, want 1: %+v", throttled, answers)
	}

	// dependsOn: sequential, and a failed dependency fails its dependents.
	_, answers = c.batch([]obj{
		{"id": "1", "method": "GET", "url": "/users/" + uid + "/events/AAMkADnothing", "headers": tidbroHeaders},
		{"id": "2", "method": "GET", "url": "/users/" + uid + "/calendars", "headers": tidbroHeaders, "dependsOn": []string{"1"}},
	})
	for _, a := range answers {
		if (a.ID == "1" && a.Status != 404) || (a.ID == "2" && a.Status != 424) {
			t.Errorf("dependsOn: %+v", a)
		}
	}

	var many []obj
	for i := range 21 {
		many = append(many, obj{"id": fmt.Sprint(i), "method": "GET", "url": "/users/" + uid, "headers": tidbroHeaders})
	}
	if status, _ := c.batch(many); status != 400 {
		t.Errorf("21 requests: %d", status)
	}
}

func TestThrottleRetryAfter(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	s.Throttle(uid, 1, 200*time.Millisecond)
	status, h, out := c.do("GET", "/users/"+uid+"/calendar", nil)
	if status != 429 || h.Get("Retry-After") != "0.2" || errCode(out) != "TooManyRequests" {
		t.Fatalf("throttled: %d %q %v", status, h.Get("Retry-After"), out)
	}
	time.Sleep(200 * time.Millisecond)
	c.must(200, "GET", "/users/"+uid+"/calendar", nil)

	s.FailNext(uid, 1, 503)
	if status, _, out := c.do("GET", "/users/"+uid+"/calendar", nil); status != 503 || errCode(out) == "" {
		t.Errorf("planned 503: %d %v", status, out)
	}
	if n := s.Requests(uid); n != 3 {
		t.Errorf("Requests = %d", n)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations of a patient client: %v", v)
	}
}

func TestViolations(t *testing.T) {
	s, c := newClient(t)
	s.ExpectViolations()
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	has := func(part string) bool {
		return slices.ContainsFunc(s.Violations(), func(v string) bool { return strings.Contains(v, part) })
	}

	// An early retry after a 429.
	s.Throttle(uid, 1, time.Minute)
	c.must(429, "GET", "/users/"+uid+"/calendar", nil)
	c.must(429, "GET", "/users/"+uid+"/calendar", nil)
	if !has("before its Retry-After") {
		t.Errorf("early retry not caught: %v", s.Violations())
	}

	// Missing Prefer headers, and attendees.
	h := http.Header{"Authorization": {"Bearer " + c.token}}
	c.raw("GET", "/users/"+uid+"/events", nil, h)
	if !has(`IdType="ImmutableId"`) || !has(`outlook.timezone="UTC"`) {
		t.Errorf("missing Prefer not caught: %v", s.Violations())
	}
	body := single("Meeting", "2025-06-05T10:00:00", "2025-06-05T11:00:00")
	body["attendees"] = []obj{{"type": "required", "emailAddress": obj{"address": "bob@contoso.com"}}}
	c.must(201, "POST", "/users/"+uid+"/events", body)
	if !has("attendees") {
		t.Errorf("attendees not caught: %v", s.Violations())
	}
}

func TestConcurrencyLimit(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	s.SetLatency(150 * time.Millisecond)

	// A batch of 8 is forwarded 4 at a time: within the limit.
	var parts []obj
	for i := range 8 {
		parts = append(parts, obj{"id": fmt.Sprint(i), "method": "GET", "url": "/users/" + uid + "/calendar", "headers": tidbroHeaders})
	}
	if _, answers := c.batch(parts); len(answers) != 8 || slices.ContainsFunc(answers, func(a batchAnswer) bool { return a.Status != 200 }) {
		t.Fatalf("batch of 8: %+v", answers)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Fatalf("violations within the limit: %v", v)
	}

	// Six at once: two over the limit.
	s.ExpectViolations()
	var mu sync.Mutex
	var wg sync.WaitGroup
	statuses := map[int]int{}
	for i := range 6 {
		wg.Go(func() {
			// Distinct requests: identical ones sent together could pass
			// for early retries of each other's 429.
			status, h, out := c.do("GET", fmt.Sprintf("/users/%s/calendar?n=%d", uid, i), nil)
			mu.Lock()
			defer mu.Unlock()
			statuses[status]++
			if status == 429 && (errCode(out) != "ApplicationThrottled" || h.Get("Retry-After") == "") {
				t.Errorf("concurrency 429: %v", out)
			}
		})
	}
	wg.Wait()
	if statuses[429] != 2 || statuses[200] != 4 {
		t.Errorf("statuses %v", statuses)
	}
	if !slices.ContainsFunc(s.Violations(), func(v string) bool { return strings.Contains(v, "concurrent") }) {
		t.Errorf("no concurrency violation: %v", s.Violations())
	}
}

// TestRecurrencePatterns expands each pattern type through instances.
func TestRecurrencePatterns(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	cases := []struct {
		name    string
		start   string
		pattern graphtest.RecurrencePattern
		rng     graphtest.RecurrenceRange
		want    []string
	}{
		{"daily every other day", "2025-01-01",
			graphtest.RecurrencePattern{Type: "daily", Interval: 2},
			graphtest.RecurrenceRange{Type: "numbered", NumberOfOccurrences: 3},
			[]string{"2025-01-01", "2025-01-03", "2025-01-05"}},
		{"weekly fortnightly, weeks from monday", "2025-01-07",
			graphtest.RecurrencePattern{Type: "weekly", Interval: 2, DaysOfWeek: []string{"tuesday", "sunday"}, FirstDayOfWeek: "monday"},
			graphtest.RecurrenceRange{Type: "numbered", NumberOfOccurrences: 4},
			[]string{"2025-01-07", "2025-01-12", "2025-01-21", "2025-01-26"}},
		{"weekly fortnightly, weeks from sunday", "2025-01-07",
			graphtest.RecurrencePattern{Type: "weekly", Interval: 2, DaysOfWeek: []string{"tuesday", "sunday"}, FirstDayOfWeek: "sunday"},
			graphtest.RecurrenceRange{Type: "numbered", NumberOfOccurrences: 4},
			[]string{"2025-01-07", "2025-01-19", "2025-01-21", "2025-02-02"}},
		{"31st of each month", "2025-01-31",
			graphtest.RecurrencePattern{Type: "absoluteMonthly", Interval: 1, DayOfMonth: 31},
			graphtest.RecurrenceRange{Type: "endDate", EndDate: "2025-05-31"},
			[]string{"2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"}},
		{"last friday", "2025-01-31",
			graphtest.RecurrencePattern{Type: "relativeMonthly", Interval: 1, DaysOfWeek: []string{"friday"}, Index: "last"},
			graphtest.RecurrenceRange{Type: "numbered", NumberOfOccurrences: 3},
			[]string{"2025-01-31", "2025-02-28", "2025-03-28"}},
		{"second weekend day", "2025-02-02",
			graphtest.RecurrencePattern{Type: "relativeMonthly", Interval: 1, DaysOfWeek: []string{"saturday", "sunday"}, Index: "second"},
			graphtest.RecurrenceRange{Type: "numbered", NumberOfOccurrences: 2},
			[]string{"2025-02-02", "2025-03-02"}},
		{"29 February", "2024-02-29",
			graphtest.RecurrencePattern{Type: "absoluteYearly", Interval: 1, DayOfMonth: 29, Month: 2},
			graphtest.RecurrenceRange{Type: "numbered", NumberOfOccurrences: 3},
			[]string{"2024-02-29", "2025-02-28", "2026-02-28"}},
		{"first monday of september", "2025-09-01",
			graphtest.RecurrencePattern{Type: "relativeYearly", Interval: 1, DaysOfWeek: []string{"monday"}, Month: 9, Index: "first"},
			graphtest.RecurrenceRange{Type: "noEnd"},
			[]string{"2025-09-01", "2026-09-07", "2027-09-06"}},
	}
	for _, tc := range cases {
		tc.rng.StartDate = tc.start
		e := s.PutEvent(uid, graphtest.Event{Subject: tc.name,
			Start:      graphtest.DateTimeTimeZone{DateTime: tc.start + "T12:00:00", TimeZone: "UTC"},
			End:        graphtest.DateTimeTimeZone{DateTime: tc.start + "T13:00:00", TimeZone: "UTC"},
			Recurrence: &graphtest.PatternedRecurrence{Pattern: tc.pattern, Range: tc.rng}})
		var got []string
		link := window("/users/"+uid+"/events/"+e.ID+"/instances", "2024-01-01T00:00:00Z", "2027-12-31T00:00:00Z")
		for link != "" {
			page := c.must(200, "GET", link, nil)
			for _, o := range values(page) {
				got = append(got, o["start"].(obj)["dateTime"].(string)[:10])
			}
			link, _ = page["@odata.nextLink"].(string)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Fields a pattern type does not use are refused, as documented.
	out := c.must(400, "POST", "/users/"+uid+"/events", obj{
		"subject": "bad", "start": at("2025-01-01T10:00:00", "UTC"), "end": at("2025-01-01T11:00:00", "UTC"),
		"recurrence": obj{"pattern": obj{"type": "daily", "interval": 1, "dayOfMonth": 5}, "range": obj{"type": "noEnd", "startDate": "2025-01-01"}},
	})
	if errCode(out) == "" {
		t.Errorf("bad pattern: %v", out)
	}
}

func TestTimeZonesAndAllDay(t *testing.T) {
	s, c := newClient(t)
	uid := s.AddUser("alice@contoso.com", "alice@contoso.com", true)
	timed := c.must(201, "POST", "/users/"+uid+"/events", obj{"subject": "Tokyo call",
		"start": at("2025-06-05T09:00:00.0000000", "Tokyo Standard Time"), "end": at("2025-06-05T10:00:00", "Asia/Tokyo")})
	if timed["start"].(obj)["dateTime"] != "2025-06-05T00:00:00.0000000" || timed["originalEndTimeZone"] != "Tokyo Standard Time" {
		t.Errorf("timed: %v", timed)
	}
	day := c.must(201, "POST", "/users/"+uid+"/events", obj{"subject": "Holiday", "isAllDay": true,
		"start": at("2025-06-05T00:00:00", "Europe/Berlin"), "end": at("2025-06-06T00:00:00", "Europe/Berlin")})
	if day["start"].(obj)["dateTime"] != "2025-06-05T00:00:00.0000000" || day["end"].(obj)["dateTime"] != "2025-06-06T00:00:00.0000000" {
		t.Errorf("all-day: %v", day)
	}
	c.must(400, "POST", "/users/"+uid+"/events", obj{"subject": "x", "isAllDay": true,
		"start": at("2025-06-05T10:00:00", "UTC"), "end": at("2025-06-06T10:00:00", "UTC")})
	if out := c.must(400, "POST", "/users/"+uid+"/events", obj{"subject": "x",
		"start": at("2025-06-05T10:00:00", "Mars/Olympus"), "end": at("2025-06-05T11:00:00", "UTC")}); errCode(out) != "TimeZoneNotSupportedException" {
		t.Errorf("unknown zone: %v", out)
	}
	c.must(400, "POST", "/users/"+uid+"/events", single("offset", "2025-06-05T10:00:00Z", "2025-06-05T11:00:00Z"))
}
