package caldav

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davtest"
	"github.com/tidbro/tidbro/remotetest"
)

// noSyncCollection puts a proxy before s that refuses RFC 6578, as servers
// without it do, and counts the requests that reach it.
func noSyncCollection(t *testing.T, s *davtest.Server) (proxyURL string, requests *atomic.Int64) {
	target, _ := url.Parse(s.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Method == "REPORT" && bytes.Contains(body, []byte("sync-collection")) {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0"?><d:error xmlns:d="DAV:"><d:supported-report/></d:error>`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/", requests
}

// Without sync-collection, the CTag tells whether anything changed (one
// request), and the ETags what.
func TestCTagFallback(t *testing.T) {
	s := davtest.Radicale(t)
	ctx := t.Context()
	real := newCollection(t, s, tidbro.KindEvent)
	proxy, requests := noSyncCollection(t, s)
	col, err := New(nil, proxy+strings.TrimPrefix(real.base.Path, "/"), s.User, s.Password, tidbro.KindEvent)
	if err != nil {
		t.Fatal(err)
	}
	a, err := col.Create(ctx, "a", remotetest.Sample(tidbro.KindEvent, 1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := col.Create(ctx, "b", remotetest.Sample(tidbro.KindEvent, 2))
	if err != nil {
		t.Fatal(err)
	}
	first, err := col.Changes(ctx, "", nil)
	if err != nil || !first.Full || len(first.Changed) != 2 || !strings.HasPrefix(first.Token, ctagPrefix) {
		t.Fatalf("first listing: %+v %v", first, err)
	}
	requests.Store(0)
	same, err := col.Changes(ctx, first.Token, nil)
	if err != nil || same.Full || len(same.Changed) != 0 || same.Token != first.Token {
		t.Fatalf("no change: %+v %v, want nothing", same, err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("no change cost %d requests, want 1", n)
	}
	// Another client changes a and deletes b.
	p := &peer{col: real}
	items, _, _ := real.Fetch(ctx, []string{a.ID})
	items[0].Event.Summary = "Changed by the peer"
	a2, err := p.Put(ctx, items[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	ch, err := col.Changes(ctx, first.Token, nil)
	if err != nil || !ch.Full || len(ch.Changed) != 1 || ch.Changed[0].ID != a.ID || ch.Changed[0].ETag == a.ETag || ch.Token == first.Token {
		t.Fatalf("after the peer's writes: %+v %v, want a full listing of a's new version %s", ch, err, a2.ETag)
	}
}

// A server that sends sync-collection results in pages (507 on the
// collection, RFC 6578 section 3.6) is asked again until it has sent all.
func TestSyncCollectionPaging(t *testing.T) {
	const items, page = 7, 3
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Method != "REPORT" || !bytes.Contains(body, []byte("sync-collection")) {
			http.Error(w, "unexpected", http.StatusBadRequest)
			return
		}
		// The token is the index of the next item to send.
		tok := string(body[bytes.Index(body, []byte("<d:sync-token>"))+len("<d:sync-token>") : bytes.Index(body, []byte("</d:sync-token>"))])
		from := 0
		if tok != "" {
			from, _ = strconv.Atoi(strings.TrimPrefix(tok, "http://example.com/sync/"))
		}
		to := min(from+page, items)
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">`)
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, `<d:response><d:href>/cal/%d.ics</d:href><d:propstat><d:prop><d:getetag>"e%d"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, i, i)
		}
		if to < items {
			b.WriteString(`<d:response><d:href>/cal/</d:href><d:status>HTTP/1.1 507 Insufficient Storage</d:status></d:response>`)
		}
		fmt.Fprintf(&b, `<d:sync-token>http://example.com/sync/%d</d:sync-token></d:multistatus>`, to)
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, b.String())
	}))
	defer srv.Close()
	col, err := New(nil, srv.URL+"/cal/", "u", "p", tidbro.KindEvent)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := col.Changes(t.Context(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Full || len(ch.Changed) != items || ch.Token != fmt.Sprintf("http://example.com/sync/%d", items) {
		t.Fatalf("got %d items, full %v, token %q; want all %d and the last token", len(ch.Changed), ch.Full, ch.Token, items)
	}
	if n := requests.Load(); n != (items+page-1)/page {
		t.Errorf("%d requests for %d items in pages of %d", n, items, page)
	}
}

// An item too big for one answer is an error of that item; the rest of
// its batch comes through.
func TestHugeItemIsItsOwnError(t *testing.T) {
	s := davtest.Radicale(t)
	ctx := t.Context()
	col := newCollection(t, s, tidbro.KindEvent)
	var ids []string
	for i := range 5 {
		ref, err := col.Create(ctx, fmt.Sprintf("item-%d", i), remotetest.Sample(tidbro.KindEvent, i+1))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ref.ID)
	}
	big := remotetest.Sample(tidbro.KindEvent, 9)
	big.Event.Description = strings.Repeat("x", 200<<10)
	huge, err := col.Create(ctx, "huge", big)
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids[:2], append([]string{huge.ID}, ids[2:]...)...)
	defer func(old int) { maxBody = old }(maxBody)
	maxBody = 100 << 10 // the normal items fit, the big one does not
	items, errs, err := col.Fetch(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 5 || len(errs) != 1 || errs[0].ID != huge.ID || tidbro.ErrorCode(errs[0].Err) != tidbro.ETOOLARGE {
		t.Fatalf("fetched %d items, errors %v; want 5 and the huge one's too_large", len(items), errs)
	}
}

// Bad items in a server's answer (unparseable, a card where an event
// belongs) are errors of those items; the good one comes through.
func TestBadItemsAreItemErrors(t *testing.T) {
	good, err := New(nil, "http://127.0.0.1/cal/", "", "", tidbro.KindEvent)
	if err != nil {
		t.Fatal(err)
	}
	data, err := good.encode(remotetest.Sample(tidbro.KindEvent, 1))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{
		"/cal/good.ics":    string(data),
		"/cal/garbage.ics": "this is not iCalendar",
		"/cal/card.ics":    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">`)
		for href, body := range bodies {
			var esc bytes.Buffer
			xml.EscapeText(&esc, []byte(body))
			fmt.Fprintf(&b, `<d:response><d:href>%s</d:href><d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>%s</c:calendar-data></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>`, href, esc.String())
		}
		b.WriteString(`</d:multistatus>`)
		w.WriteHeader(http.StatusMultiStatus)
		io.WriteString(w, b.String())
	}))
	defer srv.Close()
	col, _ := New(nil, srv.URL+"/cal/", "", "", tidbro.KindEvent)
	items, errs, err := col.Fetch(t.Context(), []string{"/cal/good.ics", "/cal/garbage.ics", "/cal/card.ics"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != "/cal/good.ics" || len(errs) != 2 {
		t.Fatalf("items %d, errors %v; want the good item and two item errors", len(items), errs)
	}
	for _, e := range errs {
		if tidbro.ErrorCode(e.Err) != tidbro.EINVALID || !strings.Contains(e.Error(), e.ID) {
			t.Errorf("item error %v: want invalid, naming the item", e)
		}
	}
}
