package caldav

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

// A listing read as it comes (stream, readMultistatus) gives what reading
// it whole (do, parseMultistatus) gave: the same responses, sync-token and
// errors, on odd answers too.
func TestStreamedListingMatchesWhole(t *testing.T) {
	const ms = `<?xml version="1.0" encoding="utf-8"?>` + "\n"
	item := func(href, etag string) string {
		return `<d:response><d:href>` + href + `</d:href><d:propstat><d:prop><d:getetag>` + etag + `</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`
	}
	cases := []struct {
		name, body string
		max        int  // maxBody, when not the default
		short      bool // the connection drops before the body's Content-Length
	}{
		{"plain", ms + `<d:multistatus xmlns:d="DAV:">` + item("/cal/a.ics", `"1"`) + item("/cal/b.ics", `"2"`) + `<d:sync-token>tok</d:sync-token></d:multistatus>`, 0, false},
		{"default namespace, other root", `<x xmlns="DAV:"><response><href>/cal/a.ics</href><propstat><prop><getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response><sync-token>t</sync-token></x>`, 0, false},
		{"removed and truncated", `<d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response><d:response><d:href>/cal/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response><d:sync-token>t2</d:sync-token></d:multistatus>`, 0, false},
		{"two tokens, nested ones ignored", `<d:multistatus xmlns:d="DAV:"><d:sync-token>first</d:sync-token><d:other><d:response><d:href>/cal/deep.ics</d:href></d:response><d:sync-token>deep</d:sync-token></d:other>` + item("/cal/a.ics", `"1"`) + `<d:sync-token>last<d:x>skipped</d:x>!</d:sync-token></d:multistatus>`, 0, false},
		{"propstats merged", `<d:multistatus xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:response><d:href>/cal/</d:href><d:propstat><d:prop><cs:getctag>c1</cs:getctag><d:resourcetype><d:collection/></d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat><d:propstat><d:prop><d:getetag>"no"</d:getetag></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat><d:propstat><d:prop><d:getetag>"yes"</d:getetag><d:resourcetype/></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`, 0, false},
		{"odd responses", `<d:multistatus xmlns:d="DAV:" xmlns:c="http://calendarserver.org/ns/"><d:response><href>/no-ns.ics</href><d:href>/cal/first.ics</d:href><d:href>/cal/a<d:x>skipped</d:x>b&amp;c.ics</d:href>` +
			`<d:propstat><d:prop><d:getetag>"1"</d:getetag><d:getetag><![CDATA["2"]]></d:getetag><getctag>no-ns</getctag><c:getctag>c9</c:getctag><d:resourcetype><x:y xmlns:x="urn:x"/><d:collection><d:z/></d:collection></d:resourcetype></d:prop><!-- a comment --><d:status>HTTP/1.1 200 OK</d:status></d:propstat>` +
			`<d:propstat xmlns:d="urn:not-dav"><d:prop><d:getetag>"other"</d:getetag></d:prop></d:propstat></d:response>` +
			`<response xmlns="DAV:"><href>/cal/default.ics</href><propstat><prop><getetag>"3"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></d:multistatus>`, 0, false},
		{"trailing garbage", ms + `<d:multistatus xmlns:d="DAV:">` + item("/cal/a.ics", `"1"`) + `</d:multistatus><<<not xml`, 0, false},
		{"cut off", ms + `<d:multistatus xmlns:d="DAV:">` + item("/cal/a.ics", `"1"`) + `<d:response><d:href>/cal/b`, 0, false},
		{"empty", ``, 0, false},
		{"not XML", `Internal error`, 0, false},
		{"mismatched", `<d:multistatus xmlns:d="DAV:"><d:response></d:multistatus>`, 0, false},
		{"over the limit", ms + `<d:multistatus xmlns:d="DAV:">` + strings.Repeat(item("/cal/a.ics", `"1"`), 20) + `</d:multistatus>`, 1000, false},
		{"over the limit after the XML", `<d:multistatus xmlns:d="DAV:"/>` + strings.Repeat(" ", 200), 100, false},
		{"at the limit", `<d:multistatus xmlns:d="DAV:"/>` + strings.Repeat(" ", 100-31), 100, false},
		{"bad XML over the limit", `<d:multistatus xmlns:d="DAV:"><</d:multistatus>` + strings.Repeat(" ", 200), 100, false},
		{"dropped", ms + `<d:multistatus xmlns:d="DAV:">` + item("/cal/a.ics", `"1"`), 0, true},
		{"dropped after the XML", ms + `<d:multistatus xmlns:d="DAV:">` + item("/cal/a.ics", `"1"`) + `</d:multistatus>`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.max > 0 {
				defer func(old int) { maxBody = old }(maxBody)
				maxBody = tc.max
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.short {
					w.Header().Set("Content-Length", fmt.Sprint(len(tc.body)+100))
				}
				w.WriteHeader(http.StatusMultiStatus)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := newClient(nil, "", "")
			ctx := t.Context()

			var whole []string
			var wholeToken string
			_, b, err := c.do(ctx, "REPORT", srv.URL, nil)
			if err == nil {
				var m *multistatus
				if m, err = parseMultistatus(b); err == nil {
					wholeToken = m.SyncToken
					for _, r := range m.Responses {
						p := r.props()
						whole = append(whole, fmt.Sprintf("%s %s %s %s %v", r.Href, r.Status, p.ETag, p.CTag, p.ResourceType.Collection != nil))
					}
				}
			}
			wholeErr := fmt.Sprint(err)

			var streamed []string
			res, _, err := c.stream(ctx, "REPORT", srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			token, bodyErr, xmlErr := readMultistatus("REPORT", srv.URL, res, func(r *entry) {
				etag, ctag, collection := r.props()
				streamed = append(streamed, fmt.Sprintf("%s %s %s %s %v", r.Href, r.Status, etag, ctag, collection))
			})
			if bodyErr != nil && xmlErr != nil {
				t.Fatalf("both a body error %v and an XML error %v", bodyErr, xmlErr)
			}
			err = bodyErr
			if err == nil {
				err = xmlErr
			}
			if got := fmt.Sprint(err); got != wholeErr {
				t.Fatalf("streamed: error %s; whole: %s", got, wholeErr)
			}
			if err != nil {
				return // fn saw what came before the error; the callers drop it
			}
			if token != wholeToken || !reflect.DeepEqual(streamed, whole) {
				t.Fatalf("streamed: %q %q\nwhole:    %q %q", streamed, token, whole, wholeToken)
			}
		})
	}
}
