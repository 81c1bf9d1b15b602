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
	"bufio"
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
	res, err := c.send(ctx, method, u, body, headers...)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	return c.check(method, u, res)
}

// stream is do for requests answered by a listing that may be long: a 207
// comes back with its body unread, for readMultistatus to decode as it
// arrives rather than held whole. Any other answer is read and checked as
// do does.
func (c *client) stream(ctx context.Context, method, u string, body []byte, headers ...string) (*http.Response, []byte, error) {
	res, err := c.send(ctx, method, u, body, headers...)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode == http.StatusMultiStatus {
		return res, nil, nil // none of check's statuses: nothing to check before the body
	}
	defer res.Body.Close()
	return c.check(method, u, res)
}

func (c *client) send(ctx context.Context, method, u string, body []byte, headers ...string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, classify(err)
	}
	return res, nil
}

// check reads the body of res and turns the statuses every caller treats
// alike into errors.
func (c *client) check(method, u string, res *http.Response) (*http.Response, []byte, error) {
	b, err := io.ReadAll(io.LimitReader(res.Body, int64(maxBody)+1))
	if err != nil {
		return nil, nil, readFailed(method, u, err)
	}
	if len(b) > maxBody {
		return res, nil, tooLarge(method, u)
	}
	switch {
	case res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden && method == "PROPFIND":
		return res, b, tidbro.Errorf(tidbro.EUNAUTHORIZED, "%s %s: %s: check the account's username and password", method, u, res.Status)
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 && res.StatusCode != http.StatusInsufficientStorage:
		return res, b, tidbro.Errorf(tidbro.EUNAVAILABLE, "%s %s: %s", method, u, res.Status)
	}
	return res, b, nil
}

func readFailed(method, u string, err error) error {
	return tidbro.Errorf(tidbro.EUNAVAILABLE, "%s %s: reading the answer: %v", method, u, err)
}

func tooLarge(method, u string) error {
	return tidbro.Errorf(tidbro.ETOOLARGE, "%s %s: the answer is over %d MB", method, u, maxBody>>20)
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
		return nil, notXML(err)
	}
	return &ms, nil
}

func notXML(err error) error {
	return tidbro.Errorf(tidbro.EUNAVAILABLE, "the server's multistatus answer is not XML: %v", err)
}

// entry is a response of a collection's listing, holding only what
// Changes reads of it: decoding a full response for each of 100,000 items
// costs time for nothing. decodeEntry fills it as xml's DecodeElement
// would by these tags.
type entry struct {
	Href      string          `xml:"DAV: href"`
	Status    string          `xml:"DAV: status"`
	Propstats []entryPropstat `xml:"DAV: propstat"`
}

type entryPropstat struct {
	Status string `xml:"DAV: status"`
	Prop   struct {
		ETag         string `xml:"DAV: getetag"`
		CTag         string `xml:"http://calendarserver.org/ns/ getctag"`
		ResourceType struct {
			Collection *struct{} `xml:"DAV: collection"`
		} `xml:"DAV: resourcetype"`
	} `xml:"DAV: prop"`
}

var (
	nameHref         = xml.Name{Space: "DAV:", Local: "href"}
	nameStatus       = xml.Name{Space: "DAV:", Local: "status"}
	namePropstat     = xml.Name{Space: "DAV:", Local: "propstat"}
	nameProp         = xml.Name{Space: "DAV:", Local: "prop"}
	nameGetETag      = xml.Name{Space: "DAV:", Local: "getetag"}
	nameGetCTag      = xml.Name{Space: "http://calendarserver.org/ns/", Local: "getctag"}
	nameResourceType = xml.Name{Space: "DAV:", Local: "resourcetype"}
	nameCollection   = xml.Name{Space: "DAV:", Local: "collection"}
)

// decodeEntry reads the rest of the element whose start d just returned
// into e, as d.DecodeElement(e, start) would, without reflection, which
// took a tenth of the time of each item of a listing. (The rest is
// encoding/xml's tokens.)
func decodeEntry(d *xml.Decoder, e *entry) error {
	return eachChild(d, func(t xml.StartElement) (err error) {
		switch t.Name {
		case nameHref:
			e.Href, err = charData(d)
		case nameStatus:
			e.Status, err = charData(d)
		case namePropstat:
			e.Propstats = append(e.Propstats, entryPropstat{})
			err = decodePropstat(d, &e.Propstats[len(e.Propstats)-1])
		default:
			err = d.Skip()
		}
		return err
	})
}

func decodePropstat(d *xml.Decoder, ps *entryPropstat) error {
	return eachChild(d, func(t xml.StartElement) (err error) {
		switch t.Name {
		case nameStatus:
			ps.Status, err = charData(d)
		case nameProp:
			p := &ps.Prop
			err = eachChild(d, func(t xml.StartElement) (err error) {
				switch t.Name {
				case nameGetETag:
					p.ETag, err = charData(d)
				case nameGetCTag:
					p.CTag, err = charData(d)
				case nameResourceType:
					err = eachChild(d, func(t xml.StartElement) error {
						if t.Name == nameCollection {
							p.ResourceType.Collection = &struct{}{}
						}
						return d.Skip()
					})
				default:
					err = d.Skip()
				}
				return err
			})
		default:
			err = d.Skip()
		}
		return err
	})
}

// eachChild hands each child element of the element just started to fn,
// which consumes it whole, until that element's end.
func eachChild(d *xml.Decoder, fn func(xml.StartElement) error) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := fn(t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		}
	}
}

// charData is the element's own character data, as DecodeElement gives a
// string: child elements are skipped, their text left out.
func charData(d *xml.Decoder) (string, error) {
	var text []byte
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text = append(text, t...)
		case xml.StartElement:
			if err := d.Skip(); err != nil {
				return "", err
			}
		case xml.EndElement:
			return string(text), nil
		}
	}
}

// props merges the entry's 2xx properties as response.props does: the
// last value given wins, and it is a collection if any says so.
func (e *entry) props() (etag, ctag string, collection bool) {
	for _, ps := range e.Propstats {
		if !ok(ps.Status) {
			continue
		}
		if ps.Prop.ETag != "" {
			etag = ps.Prop.ETag
		}
		if ps.Prop.CTag != "" {
			ctag = ps.Prop.CTag
		}
		collection = collection || ps.Prop.ResourceType.Collection != nil
	}
	return etag, ctag, collection
}

// readMultistatus decodes the 207 answer res (from stream) one DAV:response
// at a time, handing each to fn, and closes the body: a listing of 100,000
// items is never in memory whole, as raw XML or as a tree. It returns the
// multistatus's sync-token. It accepts what parseMultistatus does (any
// root element, responses and sync-token among its children, the last
// sync-token winning) and fails as do and parseMultistatus would have on
// the whole body: bodyErr (over maxBody, or cut off) first, as do reads
// the body before it is parsed, then xmlErr. fn may have seen some
// responses by then; the caller drops them with the error.
func readMultistatus(method, u string, res *http.Response, fn func(*entry)) (syncToken string, bodyErr, xmlErr error) {
	defer res.Body.Close()
	body := &cappedBody{r: io.LimitReader(res.Body, int64(maxBody)+1)}
	buf := bufio.NewReaderSize(body, 32<<10)
	xmlErr = eachResponse(xml.NewDecoder(buf), &syncToken, fn)
	// Read what is left, as do would have: a body over maxBody fails even
	// when the XML ended before the limit, and the connection can be
	// reused.
	if _, err := io.Copy(io.Discard, buf); err != nil && body.err == nil {
		body.err = err
	}
	switch {
	case errors.Is(body.err, errTooLarge):
		return "", tooLarge(method, u), nil
	case body.err != nil:
		return "", readFailed(method, u, body.err), nil
	case xmlErr != nil:
		return "", nil, notXML(xmlErr)
	}
	return syncToken, nil, nil
}

func eachResponse(d *xml.Decoder, syncToken *string, fn func(*entry)) error {
	var (
		response  = xml.Name{Space: "DAV:", Local: "response"}
		tokenName = xml.Name{Space: "DAV:", Local: "sync-token"}
		inRoot    bool
	)
	for {
		tok, err := d.Token()
		if err != nil {
			return err // io.EOF before the root too, as xml.Unmarshal has it
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case !inRoot:
				inRoot = true // whatever its name, as multistatus has no XMLName
			case t.Name == response:
				var e entry
				if err := decodeEntry(d, &e); err != nil {
					return err
				}
				fn(&e)
			case t.Name == tokenName:
				var s string
				if err := d.DecodeElement(&s, &t); err != nil {
					return err
				}
				*syncToken = s
			default:
				if err := d.Skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			return nil // the root's: its children were each consumed whole
		}
	}
}

var errTooLarge = errors.New("over maxBody")

// cappedBody reads a body limited to maxBody+1 bytes, failing past maxBody
// and keeping the read error, so that readMultistatus tells a failed read
// from XML cut short by it.
type cappedBody struct {
	r   io.Reader
	n   int64
	err error
}

func (c *cappedBody) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	if c.n += int64(n); c.n > int64(maxBody) {
		c.err = errTooLarge
		return 0, c.err
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
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
