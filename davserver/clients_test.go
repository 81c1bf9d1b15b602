package davserver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davtest"
)

// python3-caldav discovers, lists, creates, edits, deletes, and fetches
// incrementally by sync token.
func TestPythonCalDAV(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	e.putItem("alice", tidbro.KindEvent, "A-1", appointment("Customer visit", start))
	weekly := appointment("Weekly planning", start.Add(2*time.Hour))
	weekly.Event.RRule = "FREQ=WEEKLY;COUNT=5"
	e.putItem("alice", tidbro.KindEvent, "A-2", weekly)
	due := start.Add(24 * time.Hour)
	e.putItem("alice", tidbro.KindTask, "T-1", &tidbro.Item{Task: &tidbro.Task{Summary: "Call back", Due: &due}})

	// From the well-known URL, as a client given only the host would.
	for _, entry := range []string{e.url + "/.well-known/caldav", e.url + "/dav/"} {
		py := davtest.NewPyCalDAV(t, entry, "alice", e.password["alice"])
		var cals []struct{ URL, Name string }
		py.Run(t, &cals, "calendars")
		var names []string
		for _, c := range cals {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"Calendar", "Tasks"}) {
			t.Fatalf("from %s python3-caldav discovers %v", entry, names)
		}
	}
	py := davtest.NewPyCalDAV(t, e.url+"/dav/", "alice", e.password["alice"])
	cal, tasksURL := e.url+"/dav/calendars/alice/calendar/", e.url+"/dav/calendars/alice/tasks/"
	var objs []struct{ URL, UID, Data string }
	py.Run(t, &objs, "list", cal)
	if len(objs) != 2 || !strings.Contains(objs[0].Data+objs[1].Data, "RRULE:FREQ=WEEKLY;COUNT=5") {
		t.Fatalf("listing the calendar: %+v", objs)
	}
	py.Run(t, &objs, "list", tasksURL)
	if len(objs) != 1 || !strings.Contains(objs[0].Data, "SUMMARY:Call back") {
		t.Fatalf("listing the task list: %+v", objs)
	}
	var first struct {
		Token   string
		Changed []struct{ URL, Data string }
		Gone    []string
	}
	py.Run(t, &first, "sync", cal)
	if len(first.Changed) != 2 || first.Token == "" {
		t.Fatalf("first sync: %+v", first)
	}

	// The client creates, edits and deletes; the app sees each.
	file := filepath.Join(t.TempDir(), "new.ics")
	os.WriteFile(file, []byte(vevent("Dentist", "py-created-1", start.Add(5*time.Hour))), 0o600)
	py.Run(t, nil, "add", cal, file)
	var created *tidbro.Item
	for _, k := range []tidbro.Kind{tidbro.KindEvent} {
		items, _, _ := e.store.Items(ctx, tidbro.ItemQuery{TenantID: e.tenant.ID, OwnerID: e.users["alice"].ID, Kind: k})
		for _, it := range items {
			if it.Event.Summary == "Dentist" {
				created = it
			}
		}
	}
	if created == nil || created.Origin != tidbro.OriginDAVClient {
		t.Fatalf("the client's event in the app: %+v", created)
	}
	py.Run(t, nil, "set", cal, "tidbro-1-event-A-1", "SUMMARY", "Customer visit (moved)")
	if it, _ := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, "A-1"); it.Event.Summary != "Customer visit (moved)" || it.ChangedBy != tidbro.OriginDAVClient || it.Event.UID != "" {
		t.Fatalf("the app's event after the client's edit: %+v", it.Event)
	}
	py.Run(t, nil, "delete", cal, "tidbro-1-event-A-2")
	if _, err := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, "A-2"); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		t.Fatalf("the series the client deleted: %v", err)
	}

	// The app changes one and deletes another: the sync token tells only that.
	py.Run(t, &first, "sync", cal)
	created.Event.Location = "Main St 5"
	created.ChangedBy = tidbro.OriginApp
	if _, _, err := e.store.PutItem(ctx, created, tidbro.Precondition{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.DeleteItem(ctx, e.tenant.ID, tidbro.KindEvent, "A-1", tidbro.Precondition{}, tidbro.OriginApp); err != nil {
		t.Fatal(err)
	}
	var next struct {
		Token   string
		Changed []struct{ URL, Data string }
		Gone    []string
	}
	py.Run(t, &next, "sync", cal, first.Token)
	if len(next.Changed) != 1 || !strings.Contains(next.Changed[0].Data, "LOCATION:Main St 5") || len(next.Gone) != 1 ||
		!strings.HasSuffix(next.Gone[0], "/A-1.ics") || next.Token == first.Token {
		t.Fatalf("incremental sync: %+v", next)
	}
}

// counter counts what clients do on the server.
type counter struct {
	mu      sync.Mutex
	puts    int
	deletes int
	fetched int // items asked for by GET or in multigets
}

func (c *counter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		c.mu.Lock()
		switch {
		case r.Method == http.MethodPut:
			c.puts++
		case r.Method == http.MethodDelete:
			c.deletes++
		case r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, ".ics") || strings.HasSuffix(r.URL.Path, ".vcf")):
			c.fetched++
		case r.Method == "REPORT" && bytes.Contains(body, []byte("multiget")):
			c.fetched += bytes.Count(body, []byte("href>")) / 2
		}
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (c *counter) take() (puts, deletes, fetched int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	puts, deletes, fetched = c.puts, c.deletes, c.fetched
	c.puts, c.deletes, c.fetched = 0, 0, 0
	return
}

// vdirsyncer syncs thousands of events and contacts both ways, and an
// incremental run moves only what changed.
func TestVdirsyncer(t *testing.T) {
	const appEvents, appContacts, localEvents, localContacts = 1500, 800, 300, 200
	e := newEnv(t)
	cnt := &counter{}
	e.wrapHandler(cnt.wrap)
	ctx := context.Background()
	start := time.Now().AddDate(0, 0, -10).Truncate(time.Hour)
	for i := range appEvents {
		it := appointment(fmt.Sprintf("Appointment %d", i), start.Add(time.Duration(i)*3*time.Hour))
		if i%10 == 0 {
			it.Event.RRule = "FREQ=WEEKLY;COUNT=8"
		}
		e.putItem("alice", tidbro.KindEvent, fmt.Sprintf("E-%d", i), it)
	}
	for i := range appContacts {
		e.putItem("alice", tidbro.KindContact, fmt.Sprintf("C-%d", i), &tidbro.Item{Contact: &tidbro.Contact{
			GivenName: "Person", FamilyName: fmt.Sprint(i), Emails: []tidbro.Email{{Address: fmt.Sprintf("p%d@example.com", i)}}}})
	}
	cal := davtest.NewVdirsyncer(t, "caldav", e.url+"/dav/calendars/alice/calendar/", "alice", e.password["alice"], false)
	book := davtest.NewVdirsyncer(t, "carddav", e.url+"/dav/addressbooks/alice/contacts/", "alice", e.password["alice"], false)
	cal.Sync(t)
	book.Sync(t)
	if n := countFiles(t, cal.Dir); n != appEvents {
		t.Fatalf("vdirsyncer fetched %d events, want %d", n, appEvents)
	}
	if n := countFiles(t, book.Dir); n != appContacts {
		t.Fatalf("vdirsyncer fetched %d contacts, want %d", n, appContacts)
	}
	// The other way: the user's own items reach the app.
	for i := range localEvents {
		uid := fmt.Sprintf("local-event-%d", i)
		os.WriteFile(filepath.Join(cal.Dir, uid+".ics"), []byte(vevent(fmt.Sprintf("Local %d", i), uid, start.Add(time.Duration(i)*time.Hour))), 0o600)
	}
	for i := range localContacts {
		uid := fmt.Sprintf("local-card-%d", i)
		os.WriteFile(filepath.Join(book.Dir, uid+".vcf"), []byte(fmt.Sprintf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:Local %d\r\nN:%d;Local;;;\r\nEND:VCARD\r\n", uid, i, i)), 0o600)
	}
	cal.Sync(t)
	book.Sync(t)
	cnt.take()
	if n := e.count(tidbro.KindEvent); n != appEvents+localEvents {
		t.Fatalf("the app holds %d events, want %d", n, appEvents+localEvents)
	}
	if n := e.count(tidbro.KindContact); n != appContacts+localContacts {
		t.Fatalf("the app holds %d contacts, want %d", n, appContacts+localContacts)
	}
	// Nothing changed: nothing moves.
	cal.Sync(t)
	book.Sync(t)
	if p, d, f := cnt.take(); p+d+f != 0 {
		t.Fatalf("a sync with nothing changed moved items: %d PUT, %d DELETE, %d fetched", p, d, f)
	}
	// Three local edits, a local deletion, and two app edits.
	files, _ := filepath.Glob(filepath.Join(cal.Dir, "local-event-*.ics"))
	slices.Sort(files)
	for _, f := range files[:3] {
		b, _ := os.ReadFile(f)
		os.WriteFile(f, bytes.Replace(b, []byte("SUMMARY:Local"), []byte("SUMMARY:Edited"), 1), 0o600)
	}
	os.Remove(files[3])
	for _, id := range []string{"E-7", "E-8"} {
		it, err := e.store.Item(ctx, e.tenant.ID, tidbro.KindEvent, id)
		if err != nil {
			t.Fatal(err)
		}
		it.Event.Location = "Moved by the app"
		it.ChangedBy = tidbro.OriginApp
		if _, _, err := e.store.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	cal.Sync(t)
	if p, d, f := cnt.take(); p != 3 || d != 1 || f != 2 {
		t.Errorf("incremental sync: %d PUT, %d DELETE, %d fetched; want 3, 1, 2", p, d, f)
	}
	edited := 0
	items := e.all(tidbro.KindEvent)
	for _, it := range items {
		if strings.HasPrefix(it.Event.Summary, "Edited") {
			edited++
		}
	}
	if edited != 3 || len(items) != appEvents+localEvents-1 {
		t.Errorf("the app after the incremental sync: %d edited of %d events", edited, len(items))
	}
	moved := 0
	matches, _ := filepath.Glob(filepath.Join(cal.Dir, "*.ics"))
	for _, m := range matches {
		if b, _ := os.ReadFile(m); bytes.Contains(b, []byte("LOCATION:Moved by the app")) {
			moved++
		}
	}
	if moved != 2 {
		t.Errorf("%d of the app's 2 edits reached vdirsyncer's copy", moved)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func (e *env) all(k tidbro.Kind) []*tidbro.Item {
	e.t.Helper()
	var out []*tidbro.Item
	cursor := ""
	for {
		items, next, err := e.store.Items(context.Background(), tidbro.ItemQuery{TenantID: e.tenant.ID, OwnerID: e.users["alice"].ID, Kind: k, Cursor: cursor, Limit: tidbro.MaxPageSize})
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func (e *env) count(k tidbro.Kind) int { return len(e.all(k)) }
