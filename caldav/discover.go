package caldav

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tidbro/tidbro"
)

// Found is a collection discovery found in a user's home.
type Found struct {
	URL         string
	Name        string   // its display name
	Components  []string // calendars: VEVENT, VTODO, ... (nil: the server did not say, so any)
	AddressBook bool
	ReadOnly    bool // the user may not write into it
}

// Holds reports whether the collection can hold items of kind k.
func (f Found) Holds(k tidbro.Kind) bool {
	switch k {
	case tidbro.KindContact:
		return f.AddressBook
	case tidbro.KindTask:
		return !f.AddressBook && (f.Components == nil || slices.Contains(f.Components, "VTODO"))
	default:
		return !f.AddressBook && (f.Components == nil || slices.Contains(f.Components, "VEVENT"))
	}
}

// only reports whether the collection holds nothing but kind k: a task
// list rather than a calendar that also takes tasks.
func (f Found) only(k tidbro.Kind) bool {
	comp := map[tidbro.Kind]string{tidbro.KindEvent: "VEVENT", tidbro.KindJob: "VEVENT", tidbro.KindTask: "VTODO"}[k]
	return k == tidbro.KindContact || len(f.Components) == 1 && f.Components[0] == comp
}

// Home is what discovery found of a user on a server.
type Home struct {
	Principal       string
	CalendarHome    string
	AddressBookHome string
	Given           *Found  // the account URL itself, when it is a collection
	Collections     []Found // in the home set of the kind asked for
}

const findProps = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav">` +
	`<d:prop><d:resourcetype/><d:displayname/><d:current-user-principal/><d:current-user-privilege-set/>` +
	`<c:calendar-home-set/><card:addressbook-home-set/><c:supported-calendar-component-set/></d:prop></d:propfind>`

// Discover finds the user's principal, home set and collections for items
// of kind k, starting from an account URL that may be a server root, a
// principal, a home or a collection: RFC 6764's well-known URL when the
// URL itself does not tell, then current-user-principal and the home set
// (RFC 4791 and RFC 6352). DNS SRV lookup is not done: give the server's
// URL.
func Discover(ctx context.Context, hc *http.Client, rawURL, user, password string, k tidbro.Kind) (*Home, error) {
	start, err := url.Parse(rawURL)
	if err != nil || start.Scheme == "" || start.Host == "" {
		return nil, tidbro.Invalid("url", "%q is not a URL", rawURL)
	}
	c := newClient(hc, user, password)
	h := &Home{}
	r, at, err := c.propfind(ctx, start, "0", findProps)
	if err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		return nil, err
	}
	if r != nil {
		if f := r.found(at); f.AddressBook || r.isCalendar() {
			h.Given = &f
			if f.Holds(k) {
				return h, nil
			}
		}
		h.learn(at, r.props())
	}
	if h.Principal == "" && h.home(k) == "" {
		// RFC 6764: the well-known URL leads to the principal.
		name := "caldav"
		if k == tidbro.KindContact {
			name = "carddav"
		}
		wk := &url.URL{Scheme: start.Scheme, Host: start.Host, Path: "/.well-known/" + name}
		r, at, err := c.propfind(ctx, wk, "0", findProps)
		if err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
			return nil, err
		}
		if r != nil {
			h.learn(at, r.props())
		}
	}
	if h.home(k) == "" && h.Principal != "" {
		pu, _ := url.Parse(h.Principal)
		r, at, err := c.propfind(ctx, pu, "0", findProps)
		if err != nil {
			return nil, fmt.Errorf("principal %s: %w", h.Principal, err)
		}
		h.learn(at, r.props())
	}
	home := h.home(k)
	if home == "" {
		what := "calendar"
		if k == tidbro.KindContact {
			what = "address book"
		}
		return nil, tidbro.Invalid("url", "found no %s home for user %q at %s: give the URL of the %s", what, user, rawURL, what)
	}
	hu, _ := url.Parse(home)
	ms, hu, err := c.propfindAll(ctx, hu, "1", findProps)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", home, err)
	}
	for i := range ms.Responses {
		r := &ms.Responses[i]
		u, err := resolve(hu, r.Href)
		if err != nil || u.Path == hu.Path {
			continue
		}
		if f := r.found(u); f.AddressBook || r.isCalendar() {
			h.Collections = append(h.Collections, f)
		}
	}
	return h, nil
}

func (h *Home) home(k tidbro.Kind) string {
	if k == tidbro.KindContact {
		return h.AddressBookHome
	}
	return h.CalendarHome
}

// learn keeps the principal and home sets a resource names.
func (h *Home) learn(base *url.URL, p prop) {
	abs := func(href string) string {
		if href == "" {
			return ""
		}
		u, err := resolve(base, href)
		if err != nil {
			return ""
		}
		return u.String()
	}
	if v := abs(p.Principal.Href); v != "" {
		h.Principal = v
	}
	if v := abs(p.CalHome.Href); v != "" {
		h.CalendarHome = v
	}
	if v := abs(p.CardHome.Href); v != "" {
		h.AddressBookHome = v
	}
}

// pick chooses the collection a pair of kind k binds to: the account URL
// when it is one, else a writable collection of the home that holds only
// k (a task list over a calendar that also takes tasks), else one that
// holds k, in href order so that every instance picks the same.
func (h *Home) pick(k tidbro.Kind) (Found, bool) {
	if h.Given != nil && h.Given.Holds(k) {
		return *h.Given, true
	}
	var cands []Found
	for _, f := range h.Collections {
		if f.Holds(k) && !f.ReadOnly {
			cands = append(cands, f)
		}
	}
	slices.SortStableFunc(cands, func(a, b Found) int {
		if a.only(k) != b.only(k) {
			if a.only(k) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.URL, b.URL)
	})
	if len(cands) == 0 {
		return Found{}, false
	}
	return cands[0], true
}

// create makes the default collection of kind k in the home: MKCALENDAR
// (RFC 4791) or extended MKCOL (RFC 5689), trying a second name when the
// first is taken.
func (h *Home) create(ctx context.Context, c *client, k tidbro.Kind) (Found, error) {
	home, err := url.Parse(h.home(k))
	if err != nil {
		return Found{}, err
	}
	var names []string
	var name, method, body, comp string
	switch k {
	case tidbro.KindContact:
		names, name, method = []string{"contacts", "tidbro-contacts"}, "Contacts", "MKCOL"
		body = `<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>` +
			`<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype><d:displayname>` + name + `</d:displayname></d:prop></d:set></d:mkcol>`
	default:
		comp = "VEVENT"
		names, name = []string{"calendar", "tidbro-calendar"}, "Calendar"
		if k == tidbro.KindTask {
			comp, names, name = "VTODO", []string{"tasks", "tidbro-tasks"}, "Tasks"
		}
		method = "MKCALENDAR"
		body = `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>` +
			`<d:displayname>` + name + `</d:displayname><c:supported-calendar-component-set><c:comp name="` + comp + `"/></c:supported-calendar-component-set>` +
			`</d:prop></d:set></c:mkcalendar>`
	}
	var last string
	for _, n := range names {
		u := home.JoinPath(n + "/")
		res, b, err := c.do(ctx, method, u.String(), []byte(body), "Content-Type", "application/xml; charset=utf-8")
		if err != nil {
			return Found{}, fmt.Errorf("%s %s: %w", method, u, err)
		}
		if res.StatusCode == http.StatusCreated || res.StatusCode == http.StatusOK {
			f := Found{URL: u.String(), Name: name, AddressBook: k == tidbro.KindContact}
			if k != tidbro.KindContact {
				f.Components = []string{comp}
			}
			return f, nil
		}
		last = res.Status + " " + snippet(b)
	}
	return Found{}, tidbro.Errorf(tidbro.EINVALID, "the server has no collection for %s and refused to create one (%s): create it and give its URL", k.Plural(), last)
}

// propfind returns the answer for u itself, and the URL that answered
// (after redirects).
func (c *client) propfind(ctx context.Context, u *url.URL, depth, body string) (*response, *url.URL, error) {
	ms, at, err := c.propfindAll(ctx, u, depth, body)
	if err != nil {
		return nil, nil, err
	}
	for i := range ms.Responses {
		if r, err := resolve(at, ms.Responses[i].Href); err == nil && strings.TrimSuffix(r.Path, "/") == strings.TrimSuffix(at.Path, "/") {
			return &ms.Responses[i], at, nil
		}
	}
	if len(ms.Responses) > 0 {
		return &ms.Responses[0], at, nil
	}
	return nil, nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "PROPFIND %s: an empty answer", u)
}

// propfindAll follows redirects itself, keeping the method: Go's client
// would turn PROPFIND into GET.
func (c *client) propfindAll(ctx context.Context, u *url.URL, depth, body string) (*multistatus, *url.URL, error) {
	for range 5 {
		res, b, err := c.do(ctx, "PROPFIND", u.String(), []byte(body), "Depth", depth, "Content-Type", "application/xml; charset=utf-8")
		if err != nil {
			return nil, nil, err
		}
		switch {
		case res.StatusCode == http.StatusMultiStatus:
			ms, err := parseMultistatus(b)
			return ms, u, err
		case res.StatusCode >= 300 && res.StatusCode < 400 && res.Header.Get("Location") != "":
			next, err := u.Parse(res.Header.Get("Location"))
			if err != nil {
				return nil, nil, tidbro.Errorf(tidbro.EINVALID, "PROPFIND %s: bad redirect: %v", u, err)
			}
			u = next
			continue
		case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed:
			return nil, nil, tidbro.Errorf(tidbro.ENOTFOUND, "PROPFIND %s: %s", u, res.Status)
		}
		return nil, nil, tidbro.Errorf(tidbro.EINVALID, "PROPFIND %s: %s %s", u, res.Status, snippet(b))
	}
	return nil, nil, tidbro.Errorf(tidbro.EINVALID, "PROPFIND %s: too many redirects", u)
}

func (r *response) isCalendar() bool {
	for _, ps := range r.Propstats {
		if ok(ps.Status) && ps.Prop.ResourceType.Calendar != nil {
			return true
		}
	}
	return false
}

// found describes the collection r answers for.
func (r *response) found(u *url.URL) Found {
	p := r.props()
	f := Found{URL: u.String(), Name: p.DisplayName, AddressBook: p.ResourceType.AddressBook != nil}
	for _, c := range p.Components {
		f.Components = append(f.Components, strings.ToUpper(c.Name))
	}
	if p.Privileges != nil {
		f.ReadOnly = !p.Privileges.writable()
	}
	return f
}

// Bind finds the collection a pair of kind k binds to for the account at
// rawURL (see Discover and pick) and, when the home has none and create is
// set, creates it.
func Bind(ctx context.Context, hc *http.Client, rawURL, user, password string, k tidbro.Kind, create bool) (Found, error) {
	h, err := Discover(ctx, hc, rawURL, user, password, k)
	if err != nil {
		return Found{}, err
	}
	if f, ok := h.pick(k); ok {
		return f, nil
	}
	if !create {
		return Found{}, tidbro.Errorf(tidbro.ENOTFOUND, "the server has no collection for %s yet: the first run (not a dry run) creates it", k.Plural())
	}
	return h.create(ctx, newClient(hc, user, password), k)
}

// Connector opens the collections of CalDAV and CardDAV accounts, binding
// a pair on its first run (engine.Connector).
func Connector(hc *http.Client) func(ctx context.Context, acc *tidbro.Account, p *tidbro.Pair, create bool) (tidbro.Remote, error) {
	return func(ctx context.Context, acc *tidbro.Account, p *tidbro.Pair, create bool) (tidbro.Remote, error) {
		if acc.Kind != tidbro.AccountCalDAV && acc.Kind != tidbro.AccountCardDAV {
			return nil, tidbro.Errorf(tidbro.EINVALID, "a %s account is not CalDAV or CardDAV", acc.Kind)
		}
		if p.RemoteID == "" {
			f, err := Bind(ctx, hc, acc.URL, acc.Username, acc.Password, p.Kind, create)
			if err != nil {
				return nil, err
			}
			p.RemoteID, p.RemoteName = f.URL, f.Name
		}
		return New(hc, p.RemoteID, acc.Username, acc.Password, p.Kind)
	}
}
