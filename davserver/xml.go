package davserver

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// XML namespaces, and the prefixes answers use for them.
const (
	nsDAV     = "DAV:"
	nsCalDAV  = "urn:ietf:params:xml:ns:caldav"
	nsCardDAV = "urn:ietf:params:xml:ns:carddav"
	nsCS      = "http://calendarserver.org/ns/"
	nsApple   = "http://apple.com/ns/ical/"
	nsTidbro  = "urn:tidbro:dav"
)

var prefixes = map[string]string{nsDAV: "d", nsCalDAV: "c", nsCardDAV: "card", nsCS: "cs", nsApple: "ical", nsTidbro: "t"}

const multistatusOpen = `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
	`<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/" xmlns:ical="http://apple.com/ns/ical/">`

// names is a list of requested property names (the children of DAV:prop).
type names struct {
	Names []struct {
		XMLName xml.Name
	} `xml:",any"`
}

func (n *names) list() []xml.Name {
	if n == nil {
		return nil
	}
	out := make([]xml.Name, len(n.Names))
	for i, e := range n.Names {
		out[i] = e.XMLName
	}
	return out
}

type propfindBody struct {
	AllProp  *struct{} `xml:"DAV: allprop"`
	PropName *struct{} `xml:"DAV: propname"`
	Prop     *names    `xml:"DAV: prop"`
}

type syncCollectionBody struct {
	SyncToken string    `xml:"DAV: sync-token"`
	SyncLevel string    `xml:"DAV: sync-level"`
	Prop      *names    `xml:"DAV: prop"`
	AllProp   *struct{} `xml:"DAV: allprop"`
	Limit     *struct {
		NResults int `xml:"DAV: nresults"`
	} `xml:"DAV: limit"`
}

type multigetBody struct {
	Prop    *names    `xml:"DAV: prop"`
	AllProp *struct{} `xml:"DAV: allprop"`
	Hrefs   []string  `xml:"DAV: href"`
}

type timeRange struct {
	Start string `xml:"start,attr"`
	End   string `xml:"end,attr"`
}

type textMatch struct {
	Value     string `xml:",chardata"`
	Collation string `xml:"collation,attr"`
	Negate    string `xml:"negate-condition,attr"`
	MatchType string `xml:"match-type,attr"` // CardDAV: equals | contains | starts-with | ends-with
}

// compFilter and propFilter are RFC 4791's calendar-query filter.
type compFilter struct {
	Name         string       `xml:"name,attr"`
	IsNotDefined *struct{}    `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *timeRange   `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	Props        []propFilter `xml:"urn:ietf:params:xml:ns:caldav prop-filter"`
	Comps        []compFilter `xml:"urn:ietf:params:xml:ns:caldav comp-filter"`
}

type propFilter struct {
	Name         string        `xml:"name,attr"`
	IsNotDefined *struct{}     `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TimeRange    *timeRange    `xml:"urn:ietf:params:xml:ns:caldav time-range"`
	TextMatch    *textMatch    `xml:"urn:ietf:params:xml:ns:caldav text-match"`
	Params       []paramFilter `xml:"urn:ietf:params:xml:ns:caldav param-filter"`
}

type paramFilter struct {
	Name         string     `xml:"name,attr"`
	IsNotDefined *struct{}  `xml:"urn:ietf:params:xml:ns:caldav is-not-defined"`
	TextMatch    *textMatch `xml:"urn:ietf:params:xml:ns:caldav text-match"`
}

type calendarQueryBody struct {
	Prop    *names      `xml:"DAV: prop"`
	AllProp *struct{}   `xml:"DAV: allprop"`
	Filter  *compFilter `xml:"urn:ietf:params:xml:ns:caldav filter>comp-filter"`
}

// cardPropFilter is RFC 6352's addressbook-query filter.
type cardPropFilter struct {
	Name         string         `xml:"name,attr"`
	Test         string         `xml:"test,attr"` // anyof (default) | allof
	IsNotDefined *struct{}      `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatches  []textMatch    `xml:"urn:ietf:params:xml:ns:carddav text-match"`
	Params       []cardParamFil `xml:"urn:ietf:params:xml:ns:carddav param-filter"`
}

type cardParamFil struct {
	Name         string     `xml:"name,attr"`
	IsNotDefined *struct{}  `xml:"urn:ietf:params:xml:ns:carddav is-not-defined"`
	TextMatch    *textMatch `xml:"urn:ietf:params:xml:ns:carddav text-match"`
}

type addressbookQueryBody struct {
	Prop    *names    `xml:"DAV: prop"`
	AllProp *struct{} `xml:"DAV: allprop"`
	Filter  struct {
		Test  string           `xml:"test,attr"`
		Props []cardPropFilter `xml:"urn:ietf:params:xml:ns:carddav prop-filter"`
	} `xml:"urn:ietf:params:xml:ns:carddav filter"`
	Limit *struct {
		NResults int `xml:"DAV: nresults"`
	} `xml:"urn:ietf:params:xml:ns:carddav limit"`
}

type freeBusyBody struct {
	TimeRange *timeRange `xml:"urn:ietf:params:xml:ns:caldav time-range"`
}

// readXML reads a request body of at most maxXML bytes; an empty body is
// not an error (PROPFIND without one means allprop).
func readXML(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxXML+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxXML {
		return nil, errTooLarge
	}
	return b, nil
}

const maxXML = 1 << 20

// rootName returns the name of a document's root element.
func rootName(b []byte) (xml.Name, error) {
	d := xml.NewDecoder(strings.NewReader(string(b)))
	for {
		t, err := d.Token()
		if err != nil {
			return xml.Name{}, fmt.Errorf("not an XML document: %w", err)
		}
		if se, ok := t.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

// prop is one property value: inner is escaped XML (text or elements).
type prop struct {
	name  xml.Name
	inner string
}

// multistatus builds a 207 answer.
type multistatus struct {
	b strings.Builder
}

func newMultistatus() *multistatus {
	m := &multistatus{}
	m.b.WriteString(multistatusOpen)
	return m
}

// response adds a resource's found and missing properties.
func (m *multistatus) response(href string, found []prop, missing []xml.Name) {
	m.b.WriteString("<d:response><d:href>" + esc(href) + "</d:href>")
	if len(found) > 0 {
		m.b.WriteString("<d:propstat><d:prop>")
		for _, p := range found {
			m.b.WriteString(element(p.name, p.inner))
		}
		m.b.WriteString("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>")
	}
	if len(missing) > 0 {
		m.b.WriteString("<d:propstat><d:prop>")
		for _, n := range missing {
			m.b.WriteString(element(n, ""))
		}
		m.b.WriteString("</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>")
	}
	if len(found) == 0 && len(missing) == 0 {
		m.b.WriteString("<d:propstat><d:prop/><d:status>HTTP/1.1 200 OK</d:status></d:propstat>")
	}
	m.b.WriteString("</d:response>")
}

// status adds a resource known only by its status (a deletion, a bad href).
func (m *multistatus) status(href string, code int) {
	fmt.Fprintf(&m.b, "<d:response><d:href>%s</d:href><d:status>HTTP/1.1 %d %s</d:status></d:response>", esc(href), code, http.StatusText(code))
}

func (m *multistatus) syncToken(tok string) {
	m.b.WriteString("<d:sync-token>" + esc(tok) + "</d:sync-token>")
}

func (m *multistatus) write(w http.ResponseWriter) {
	m.b.WriteString("</d:multistatus>")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(http.StatusMultiStatus)
	io.WriteString(w, m.b.String())
}

// element writes <name>inner</name>, with a known prefix or a namespace
// declaration of its own.
func element(n xml.Name, inner string) string {
	if p, ok := prefixes[n.Space]; ok {
		if inner == "" {
			return "<" + p + ":" + n.Local + "/>"
		}
		return "<" + p + ":" + n.Local + ">" + inner + "</" + p + ":" + n.Local + ">"
	}
	if n.Space == "" {
		return "<" + n.Local + ">" + inner + "</" + n.Local + ">"
	}
	return `<x:` + n.Local + ` xmlns:x="` + attrEsc(n.Space) + `">` + inner + `</x:` + n.Local + `>`
}

// esc escapes text content. Quotes stay as they are (getetag values are
// quoted, and some clients read them with a pattern); \r is kept as a
// character reference, so that iCalendar's CRLF survives XML parsing.
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")

func esc(s string) string { return textEscaper.Replace(s) }

func attrEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func hrefXML(href string) string { return "<d:href>" + esc(href) + "</d:href>" }

// davError writes an RFC 4918 error body: a precondition element and, in
// words, why.
func davError(w http.ResponseWriter, code int, condition xml.Name, message string) {
	davErrorWith(w, code, condition, "", message)
}

// davErrorWith is davError with content in the precondition element (the
// hrefs some preconditions name), as escaped XML.
func davErrorWith(w http.ResponseWriter, code int, condition xml.Name, inner, message string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(code)
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<d:error xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:t="urn:tidbro:dav">`)
	if condition.Local != "" {
		b.WriteString(element(condition, inner))
	}
	if message != "" {
		b.WriteString("<t:message>" + esc(message) + "</t:message>")
	}
	b.WriteString("</d:error>\n")
	io.WriteString(w, b.String())
}
