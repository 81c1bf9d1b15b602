// Package caldav is tidbro's CalDAV and CardDAV connector: one remote
// collection (calendar, task list or address book) as a tidbro.Remote.
//
// It speaks WebDAV with its own small client rather than go-webdav's: the
// engine needs conditional writes (If-Match, If-None-Match: *), the ETag of
// every write, RFC 6578 sync-collection with its error conditions and 507
// paging, and per-item errors from multiget; go-webdav's client sends no
// conditional headers and hides the status of each response.
package caldav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tidbro/tidbro"
)

// client sends WebDAV requests to one server with the account's credentials.
type client struct {
	http     *http.Client
	user     string
	password string
}

// newClient makes a client that never follows redirects on its own: Go's
// would turn PROPFIND and REPORT into GET, and a redirected PUT must not
// land somewhere unasked.
func newClient(hc *http.Client, user, password string) *client {
	if hc == nil {
		hc = http.DefaultClient
	}
	nc := *hc
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{http: &nc, user: user, password: password}
}

// maxBody bounds what one response may hold (a multiget of a batch).
var maxBody = 64 << 20 // a variable for tests

func (c *client) do(ctx context.Context, method, u string, body []byte, headers ...string) (*http.Response, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, nil, classify(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, int64(maxBody)+1))
	if err != nil {
		return nil, nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "%s %s: reading the answer: %v", method, u, err)
	}
	if len(b) > maxBody {
		return res, nil, tidbro.Errorf(tidbro.ETOOLARGE, "%s %s: the answer is over %d MB", method, u, maxBody>>20)
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden && method == "PROPFIND":
		return res, b, tidbro.Errorf(tidbro.EUNAUTHORIZED, "%s %s: %s: check the account's username and password", method, u, res.Status)
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 && res.StatusCode != http.StatusInsufficientStorage:
		return res, b, tidbro.Errorf(tidbro.EUNAVAILABLE, "%s %s: %s", method, u, res.Status)
	}
	return res, b, nil
}

// classify marks failures to reach the server transient; the run's own
// cancellation stays what it is.
func classify(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return tidbro.Errorf(tidbro.EUNAVAILABLE, "%v", err)
}

// multistatus is a 207 answer.
type multistatus struct {
	Responses []response `xml:"DAV: response"`
	SyncToken string     `xml:"DAV: sync-token"`
}

type response struct {
	Href      string     `xml:"DAV: href"`
	Status    string     `xml:"DAV: status"`
	Propstats []propstat `xml:"DAV: propstat"`
}

type propstat struct {
	Status string `xml:"DAV: status"`
	Prop   prop   `xml:"DAV: prop"`
}

type prop struct {
	ETag         string      `xml:"DAV: getetag"`
	CTag         string      `xml:"http://calendarserver.org/ns/ getctag"`
	SyncToken    string      `xml:"DAV: sync-token"`
	CalendarData string      `xml:"urn:ietf:params:xml:ns:caldav calendar-data"`
	AddressData  string      `xml:"urn:ietf:params:xml:ns:carddav address-data"`
	ResourceType rtype       `xml:"DAV: resourcetype"`
	Principal    hrefProp    `xml:"DAV: current-user-principal"`
	CalHome      hrefProp    `xml:"urn:ietf:params:xml:ns:caldav calendar-home-set"`
	CardHome     hrefProp    `xml:"urn:ietf:params:xml:ns:carddav addressbook-home-set"`
	DisplayName  string      `xml:"DAV: displayname"`
	Privileges   *privileges `xml:"DAV: current-user-privilege-set"`
	Components   []struct {
		Name string `xml:"name,attr"`
	} `xml:"urn:ietf:params:xml:ns:caldav supported-calendar-component-set>comp"`
}

type rtype struct {
	Collection  *struct{} `xml:"DAV: collection"`
	Calendar    *struct{} `xml:"urn:ietf:params:xml:ns:caldav calendar"`
	AddressBook *struct{} `xml:"urn:ietf:params:xml:ns:carddav addressbook"`
}

// privileges is RFC 3744's current-user-privilege-set.
type privileges struct {
	Privilege []struct {
		Names []struct {
			XMLName xml.Name
		} `xml:",any"`
	} `xml:"DAV: privilege"`
}

// writable reports whether the privileges let the user add and change
// items.
func (p *privileges) writable() bool {
	for _, pr := range p.Privilege {
		for _, n := range pr.Names {
			if n.XMLName.Space == "DAV:" && (n.XMLName.Local == "all" || n.XMLName.Local == "write" || n.XMLName.Local == "write-content" || n.XMLName.Local == "bind") {
				return true
			}
		}
	}
	return false
}

type hrefProp struct {
	Href string `xml:"DAV: href"`
}

// ok reports whether a status line ("HTTP/1.1 200 OK") is 2xx.
func ok(status string) bool {
	f := strings.Fields(status)
	return len(f) >= 2 && strings.HasPrefix(f[1], "2")
}

func code(status string) string {
	if f := strings.Fields(status); len(f) >= 2 {
		return f[1]
	}
	return ""
}

// props returns the response's 2xx properties merged.
func (r *response) props() prop {
	var p prop
	for _, ps := range r.Propstats {
		if !ok(ps.Status) {
			continue
		}
		if ps.Prop.ETag != "" {
			p.ETag = ps.Prop.ETag
		}
		if ps.Prop.CalendarData != "" {
			p.CalendarData = ps.Prop.CalendarData
		}
		if ps.Prop.AddressData != "" {
			p.AddressData = ps.Prop.AddressData
		}
		if ps.Prop.CTag != "" {
			p.CTag = ps.Prop.CTag
		}
		if ps.Prop.SyncToken != "" {
			p.SyncToken = ps.Prop.SyncToken
		}
		if ps.Prop.ResourceType.Collection != nil {
			p.ResourceType = ps.Prop.ResourceType
		}
		if ps.Prop.Principal.Href != "" {
			p.Principal = ps.Prop.Principal
		}
		if ps.Prop.CalHome.Href != "" {
			p.CalHome = ps.Prop.CalHome
		}
		if ps.Prop.CardHome.Href != "" {
			p.CardHome = ps.Prop.CardHome
		}
		if ps.Prop.DisplayName != "" {
			p.DisplayName = ps.Prop.DisplayName
		}
		if ps.Prop.Privileges != nil {
			p.Privileges = ps.Prop.Privileges
		}
		if len(ps.Prop.Components) > 0 {
			p.Components = ps.Prop.Components
		}
	}
	return p
}

func parseMultistatus(b []byte) (*multistatus, error) {
	var ms multistatus
	if err := xml.Unmarshal(b, &ms); err != nil {
		return nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "the server's multistatus answer is not XML: %v", err)
	}
	return &ms, nil
}

// resolve makes an href from an answer absolute against base.
func resolve(base *url.URL, href string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(href))
	if err != nil {
		return nil, fmt.Errorf("bad href %q: %w", href, err)
	}
	return base.ResolveReference(u), nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
