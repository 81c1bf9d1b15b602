package caldav

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davtest"
	"github.com/tidbro/tidbro/remotetest"
)

var pairKinds = []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask, tidbro.KindContact}

// From a server root, an empty Radicale home gets a calendar, a task list
// and an address book; binding again finds them and creates nothing more.
func TestBindCreatesDefaults(t *testing.T) {
	s := davtest.Radicale(t)
	ctx := t.Context()
	for _, k := range pairKinds {
		if _, err := Bind(ctx, nil, s.URL, s.User, s.Password, k, false); tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
			t.Fatalf("%s: a dry bind on an empty home: %v, want not_found", k, err)
		}
	}
	first := map[tidbro.Kind]Found{}
	for _, k := range pairKinds {
		f, err := Bind(ctx, nil, s.URL, s.User, s.Password, k, true)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if !f.Holds(k) || !f.only(k) || !strings.HasPrefix(f.URL, s.URL+"tidbro/") {
			t.Fatalf("%s: bound to %+v", k, f)
		}
		first[k] = f
	}
	if first[tidbro.KindEvent].URL == first[tidbro.KindTask].URL {
		t.Fatalf("events and tasks share %s on an empty home", first[tidbro.KindEvent].URL)
	}
	for _, k := range pairKinds {
		f, err := Bind(ctx, nil, s.URL, s.User, s.Password, k, true)
		if err != nil || f.URL != first[k].URL {
			t.Fatalf("%s: second bind %+v %v, want %s", k, f, err, first[k].URL)
		}
	}
	h, err := Discover(ctx, nil, s.URL, s.User, s.Password, tidbro.KindEvent)
	if err != nil || len(h.Collections) != 3 {
		t.Fatalf("the home holds %+v %v, want the three collections", h, err)
	}
}

// Xandikos's default calendar takes events and tasks: both pairs share it,
// and each reads only its own items from it.
func TestBindSharedCalendar(t *testing.T) {
	s := davtest.Xandikos(t)
	ctx := t.Context()
	var cols []*Collection
	for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask} {
		f, err := Bind(ctx, nil, s.URL, s.User, s.Password, k, true)
		if err != nil {
			t.Fatal(err)
		}
		if f.URL != s.URL+"user/calendars/calendar/" {
			t.Fatalf("%s bound to %s, want the default calendar", k, f.URL)
		}
		col, err := New(nil, f.URL, s.User, s.Password, k)
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col)
	}
	ev, err := cols[0].Create(ctx, "ev-1", remotetest.Sample(tidbro.KindEvent, 1))
	if err != nil {
		t.Fatal(err)
	}
	task, err := cols[1].Create(ctx, "task-1", remotetest.Sample(tidbro.KindTask, 1))
	if err != nil {
		t.Fatal(err)
	}
	for i, col := range cols {
		ch, err := col.Changes(ctx, "", nil)
		if err != nil || len(ch.Changed) != 2 {
			t.Fatalf("listing: %+v %v, want both items", ch, err)
		}
		items, errs, err := col.Fetch(ctx, []string{ev.ID, task.ID})
		if err != nil || len(errs) != 0 || len(items) != 1 {
			t.Fatalf("%s collection fetched %d items, errors %v %v; want its own one", col.kind, len(items), errs, err)
		}
		if want := []string{ev.ID, task.ID}[i]; items[0].ID != want || items[0].Kind != col.kind {
			t.Fatalf("%s collection fetched %s (%s), want %s", col.kind, items[0].ID, items[0].Kind, want)
		}
	}
}

// An account URL that is a collection binds to it for its kind; a pair of
// another kind finds its collection through the principal.
func TestBindGivenCollection(t *testing.T) {
	for _, start := range []func(testing.TB) *davtest.Server{davtest.Radicale, davtest.Xandikos} {
		s := start(t)
		t.Run(s.Name, func(t *testing.T) {
			ctx := t.Context()
			given := newCollection(t, s, tidbro.KindEvent)
			f, err := Bind(ctx, nil, given.base.String(), s.User, s.Password, tidbro.KindEvent, true)
			if err != nil || f.URL != given.base.String() {
				t.Fatalf("bound to %+v %v, want the given %s", f, err, given.base)
			}
			// Radicale keeps the calendar to events, and tasks go elsewhere
			// in the home; Xandikos ignores the component set asked for,
			// and the calendar takes tasks too.
			h, err := Discover(ctx, nil, given.base.String(), s.User, s.Password, tidbro.KindTask)
			if err != nil || h.Given == nil {
				t.Fatalf("discovery from a calendar: %+v %v", h, err)
			}
			f, err = Bind(ctx, nil, given.base.String(), s.User, s.Password, tidbro.KindTask, true)
			if err != nil || (f.URL == given.base.String()) != h.Given.Holds(tidbro.KindTask) || !f.Holds(tidbro.KindTask) {
				t.Fatalf("task pair bound to %+v %v; the given calendar is %+v", f, err, h.Given)
			}
			if s.Name == "radicale" && f.URL == given.base.String() {
				t.Fatal("Radicale's events-only calendar took the task pair")
			}
			f, err = Bind(ctx, nil, given.base.String(), s.User, s.Password, tidbro.KindContact, true)
			if err != nil || !f.AddressBook {
				t.Fatalf("contact pair bound to %+v %v", f, err)
			}
		})
	}
}

// A URL the server does not know leads to the user through RFC 6764's
// well-known URL.
func TestBindWellKnown(t *testing.T) {
	for _, start := range []func(testing.TB) *davtest.Server{davtest.Radicale, davtest.Xandikos} {
		s := start(t)
		t.Run(s.Name, func(t *testing.T) {
			for _, k := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindContact} {
				h, err := Discover(t.Context(), nil, s.URL+"no/such/place/", s.User, s.Password, k)
				if err != nil || h.Principal != s.URL+strings.TrimPrefix(s.Home, "/") {
					t.Fatalf("%s: %+v %v, want principal %s", k, h, err, s.Home)
				}
			}
		})
	}
}

// A server that is no DAV server says so in words, and is not retried as
// if it were down.
func TestDiscoverNotDAV(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such method", http.StatusMethodNotAllowed)
	}))
	defer srv.Close()
	_, err := Discover(t.Context(), nil, srv.URL, "u", "p", tidbro.KindEvent)
	if tidbro.ErrorCode(err) != tidbro.EINVALID || !strings.Contains(err.Error(), "found no calendar home") {
		t.Fatalf("got %v, want an invalid-url error naming what is missing", err)
	}
}

// The choice among a home's collections: the given one, then writable
// single-kind ones, then any that take the kind, in URL order.
func TestPick(t *testing.T) {
	mixed := Found{URL: "/a-mixed/", Components: []string{"VEVENT", "VTODO"}}
	anyComp := Found{URL: "/b-any/"}
	todo := Found{URL: "/c-todo/", Components: []string{"VTODO"}}
	events := Found{URL: "/d-events/", Components: []string{"VEVENT"}}
	readOnly := Found{URL: "/0-birthdays/", Components: []string{"VEVENT"}, ReadOnly: true}
	book := Found{URL: "/e-book/", AddressBook: true}
	for _, c := range []struct {
		home Home
		kind tidbro.Kind
		want string
	}{
		{Home{Collections: []Found{mixed, anyComp, todo, events, readOnly, book}}, tidbro.KindEvent, "/d-events/"},
		{Home{Collections: []Found{mixed, anyComp, todo, events, readOnly, book}}, tidbro.KindTask, "/c-todo/"},
		{Home{Collections: []Found{events, anyComp, mixed}}, tidbro.KindTask, "/a-mixed/"},
		{Home{Collections: []Found{readOnly, todo}}, tidbro.KindEvent, ""},
		{Home{Collections: []Found{mixed, book}}, tidbro.KindContact, "/e-book/"},
		{Home{Given: &mixed, Collections: []Found{todo}}, tidbro.KindTask, "/a-mixed/"},
		{Home{Given: &events, Collections: []Found{todo}}, tidbro.KindTask, "/c-todo/"},
	} {
		got, ok := c.home.pick(c.kind)
		if got.URL != c.want || ok != (c.want != "") {
			names := []string{}
			for _, f := range c.home.Collections {
				names = append(names, f.URL)
			}
			t.Errorf("pick %s from %v: %q, want %q", c.kind, names, got.URL, c.want)
		}
	}
}
