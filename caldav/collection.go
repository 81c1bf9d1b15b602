package caldav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/ical"
)

// Collection is one remote calendar, task list or address book.
type Collection struct {
	c    *client
	base *url.URL // the collection, ending in /
	kind tidbro.Kind
}

// MaxBatch is how many items one multiget asks for.
const MaxBatch = 50

// New binds to the collection at collectionURL, holding items of kind
// (event, task or contact).
func New(hc *http.Client, collectionURL, user, password string, kind tidbro.Kind) (*Collection, error) {
	u, err := url.Parse(collectionURL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, tidbro.Invalid("url", "%q is not a collection URL", collectionURL)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return &Collection{c: newClient(hc, user, password), base: u, kind: kind}, nil
}

var _ tidbro.Remote = (*Collection)(nil)

func (col *Collection) Capabilities() tidbro.Capabilities {
	kinds := []tidbro.Kind{col.kind}
	if col.kind == tidbro.KindEvent {
		kinds = append(kinds, tidbro.KindJob)
	}
	return tidbro.Capabilities{SyncTokens: true, Private: true, Kinds: kinds, MaxBatch: MaxBatch}
}

func (col *Collection) contact() bool { return col.kind == tidbro.KindContact }

func (col *Collection) ext() string {
	if col.contact() {
		return ".vcf"
	}
	return ".ics"
}

func (col *Collection) mediaType() string {
	if col.contact() {
		return "text/vcard; charset=utf-8"
	}
	return "text/calendar; charset=utf-8"
}

// href is the absolute URL of an item id (its path).
func (col *Collection) href(id string) string {
	u := *col.base
	u.Path, u.RawPath = id, ""
	return u.String()
}

// ctagPrefix marks tokens of servers without sync-collection: the token is
// the collection's CTag, and a changed CTag means a full listing.
const ctagPrefix = "ctag:"

// Changes uses RFC 6578 sync-collection, or the CTag and ETags where a
// server lacks it. It lists the whole collection, whatever the window: a
// time-range calendar-query would cost less on big calendars, but Xandikos
// 0.2.8 leaves out recurring series that began before the range.
func (col *Collection) Changes(ctx context.Context, token string, window *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	if strings.HasPrefix(token, ctagPrefix) {
		return col.ctagChanges(ctx, strings.TrimPrefix(token, ctagPrefix))
	}
	out := &tidbro.RemoteChanges{Full: token == ""}
	for {
		body := `<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="DAV:"><d:sync-token>` + xmlEscape(token) +
			`</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>`
		res, b, err := col.c.stream(ctx, "REPORT", col.base.String(), []byte(body), "Content-Type", "application/xml; charset=utf-8")
		if err != nil && token != "" && res != nil && res.StatusCode == http.StatusInternalServerError {
			// Xandikos answers a token it does not know with 500: list all.
			return col.Changes(ctx, "", window)
		}
		if err != nil {
			return nil, fmt.Errorf("sync-collection: %w", err)
		}
		switch {
		case res.StatusCode == http.StatusMultiStatus:
		case token != "" && bytes.Contains(b, []byte("valid-sync-token")):
			return nil, tidbro.Errorf(tidbro.EINVALID, "the server no longer accepts sync token %q", token)
		case token == "" && res.StatusCode >= 400 && res.StatusCode < 500:
			return col.ctagChanges(ctx, "") // no RFC 6578: CTag and ETags
		default:
			return nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "sync-collection: %s", res.Status)
		}
		truncated := false
		syncToken, bodyErr, xmlErr := readMultistatus("REPORT", col.base.String(), res, func(r *entry) {
			u, err := resolve(col.base, r.Href)
			if err != nil {
				return
			}
			if u.Path == col.base.Path {
				truncated = truncated || code(r.Status) == "507"
				return
			}
			if code(r.Status) == "404" {
				out.Removed = append(out.Removed, tidbro.Removed{ID: u.Path, Deleted: true})
				return
			}
			if etag, _, _ := r.props(); etag != "" {
				out.Changed = append(out.Changed, tidbro.RemoteRef{ID: u.Path, ETag: etag})
			}
		})
		if bodyErr != nil {
			return nil, fmt.Errorf("sync-collection: %w", bodyErr)
		}
		if xmlErr != nil {
			return nil, xmlErr
		}
		out.Token = syncToken
		if !truncated || syncToken == "" || syncToken == token {
			return out, nil
		}
		token = syncToken // 507: the server sent part; ask for the rest
	}
}

// ctagChanges serves servers without sync-collection: an unchanged CTag
// costs one request; a changed one lists every ETag.
func (col *Collection) ctagChanges(ctx context.Context, old string) (*tidbro.RemoteChanges, error) {
	const q = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop><cs:getctag/><d:getetag/><d:resourcetype/></d:prop></d:propfind>`
	if old != "" {
		res, b, err := col.c.do(ctx, "PROPFIND", col.base.String(), []byte(q), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
		if err != nil {
			return nil, err
		}
		if res.StatusCode == http.StatusMultiStatus {
			if ms, err := parseMultistatus(b); err == nil && len(ms.Responses) > 0 && ms.Responses[0].props().CTag == old {
				return &tidbro.RemoteChanges{Token: ctagPrefix + old}, nil
			}
		}
	}
	res, _, err := col.c.stream(ctx, "PROPFIND", col.base.String(), []byte(q), "Depth", "1", "Content-Type", "application/xml; charset=utf-8")
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusMultiStatus {
		return nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "listing %s: %s", col.base, res.Status)
	}
	out := &tidbro.RemoteChanges{Full: true, Token: ctagPrefix}
	_, bodyErr, xmlErr := readMultistatus("PROPFIND", col.base.String(), res, func(r *entry) {
		u, err := resolve(col.base, r.Href)
		if err != nil {
			return
		}
		etag, ctag, collection := r.props()
		if u.Path == col.base.Path {
			out.Token = ctagPrefix + ctag
			return
		}
		if !collection && etag != "" {
			out.Changed = append(out.Changed, tidbro.RemoteRef{ID: u.Path, ETag: etag})
		}
	})
	if bodyErr != nil {
		return nil, bodyErr
	}
	if xmlErr != nil {
		return nil, xmlErr
	}
	return out, nil
}

// fetchParallel bounds the multigets in flight for one Fetch: enough to
// hide the round trips, few enough not to swamp a small server.
const fetchParallel = 4

// Fetch asks for the items in multigets of MaxBatch, a few at a time.
func (col *Collection) Fetch(ctx context.Context, ids []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	type result struct {
		items []*tidbro.RemoteItem
		errs  []tidbro.ItemError
		err   error
	}
	var batches [][]string
	for start := 0; start < len(ids); start += MaxBatch {
		batches = append(batches, ids[start:min(start+MaxBatch, len(ids))])
	}
	results := make([]result, len(batches))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	sem := make(chan struct{}, fetchParallel)
	for i, batch := range batches {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			r := &results[i]
			if r.items, r.errs, r.err = col.multiget(ctx, batch); r.err != nil {
				cancel() // the call fails as a whole: stop the rest
			}
		}()
	}
	wg.Wait()
	var items []*tidbro.RemoteItem
	var errs []tidbro.ItemError
	for _, r := range results {
		if r.err != nil && !errors.Is(r.err, context.Canceled) {
			return nil, nil, r.err
		}
	}
	for _, r := range results {
		if r.err != nil {
			return nil, nil, r.err
		}
		items, errs = append(items, r.items...), append(errs, r.errs...)
	}
	return items, errs, nil
}

func (col *Collection) multiget(ctx context.Context, batch []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	var items []*tidbro.RemoteItem
	var errs []tidbro.ItemError
	var b strings.Builder
	if col.contact() {
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><card:addressbook-multiget xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><card:address-data/></d:prop>`)
	} else {
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><d:getetag/><c:calendar-data/></d:prop>`)
	}
	for _, id := range batch {
		u := url.URL{Path: id}
		b.WriteString("<d:href>" + xmlEscape(u.EscapedPath()) + "</d:href>")
	}
	if col.contact() {
		b.WriteString(`</card:addressbook-multiget>`)
	} else {
		b.WriteString(`</c:calendar-multiget>`)
	}
	res, body, err := col.c.do(ctx, "REPORT", col.base.String(), []byte(b.String()), "Depth", "1", "Content-Type", "application/xml; charset=utf-8")
	if tidbro.ErrorCode(err) == tidbro.ETOOLARGE {
		// Some item is huge: halve the batch until it stands alone, and
		// report it, not the batch.
		if len(batch) == 1 {
			return nil, []tidbro.ItemError{{ID: batch[0], Err: tidbro.Errorf(tidbro.ETOOLARGE, "%s is over %d MB", batch[0], maxBody>>20)}}, nil
		}
		half := len(batch) / 2
		items, errs, err := col.multiget(ctx, batch[:half])
		if err != nil {
			return nil, nil, err
		}
		more, moreErrs, err := col.multiget(ctx, batch[half:])
		if err != nil {
			return nil, nil, err
		}
		return append(items, more...), append(errs, moreErrs...), nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("multiget: %w", err)
	}
	if res.StatusCode != http.StatusMultiStatus {
		return nil, nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "multiget: %s", res.Status)
	}
	ms, err := parseMultistatus(body)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range ms.Responses {
		u, err := resolve(col.base, r.Href)
		if err != nil || code(r.Status) == "404" {
			continue
		}
		p := r.props()
		data := p.CalendarData
		if col.contact() {
			data = p.AddressData
		}
		if data == "" {
			continue // not there (any more)
		}
		it, err := col.decode(u.Path, p.ETag, []byte(data))
		if errors.Is(err, ical.ErrOtherComponent) {
			continue // a task in a calendar the event pair reads too, or an event in a task list
		}
		if err != nil {
			errs = append(errs, tidbro.ItemError{ID: u.Path, Err: err})
			continue
		}
		items = append(items, it)
	}
	return items, errs, nil
}

// maxItem bounds one item's representation: anything bigger is refused as
// an item error rather than held in memory and stored.
const maxItem = 16 << 20

func (col *Collection) decode(id, etag string, data []byte) (*tidbro.RemoteItem, error) {
	if len(data) > maxItem {
		return nil, tidbro.Errorf(tidbro.ETOOLARGE, "%d bytes, over the limit of %d", len(data), maxItem)
	}
	it := &tidbro.RemoteItem{ID: id, ETag: etag, Kind: col.kind, Raw: data}
	var err error
	switch col.kind {
	case tidbro.KindContact:
		it.Contact, err = ical.DecodeContact(data)
	case tidbro.KindTask:
		it.Task, err = ical.DecodeTask(data)
	default:
		it.Kind = tidbro.KindEvent
		it.Event, err = ical.DecodeEvent(data)
	}
	if errors.Is(err, ical.ErrOtherComponent) {
		return nil, err
	}
	if err != nil {
		return nil, tidbro.Errorf(tidbro.EINVALID, "cannot read %s: %v", id, err)
	}
	return it, nil
}

func (col *Collection) encode(it *tidbro.RemoteItem) ([]byte, error) {
	switch col.kind {
	case tidbro.KindContact:
		return ical.EncodeContact(it.Contact, it.Raw)
	case tidbro.KindTask:
		return ical.EncodeTask(it.Task, it.Raw)
	}
	return ical.EncodeEvent(it.Event, it.Raw)
}

func (col *Collection) Create(ctx context.Context, key string, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	id := col.base.Path + url.PathEscape(key) + col.ext()
	data, err := col.encode(it)
	if err != nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "cannot write %s: %v", key, err)
	}
	// If-None-Match: * makes a retried create find its first attempt.
	res, body, err := col.c.do(ctx, "PUT", col.href(id), data, "Content-Type", col.mediaType(), "If-None-Match", "*")
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	switch {
	case res.StatusCode == http.StatusPreconditionFailed:
		etag, err := col.etag(ctx, id)
		return tidbro.RemoteRef{ID: id, ETag: etag}, err
	case res.StatusCode/100 != 2:
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "the server refused %s: %s %s", key, res.Status, snippet(body))
	}
	return col.written(ctx, id, res)
}

func (col *Collection) Update(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (tidbro.RemoteRef, error) {
	if ifMatch == "" {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "an update needs the etag it replaces")
	}
	data, err := col.encode(it)
	if err != nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "cannot write %s: %v", it.ID, err)
	}
	res, body, err := col.c.do(ctx, "PUT", col.href(it.ID), data, "Content-Type", col.mediaType(), "If-Match", ifMatch)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	switch {
	case res.StatusCode == http.StatusPreconditionFailed:
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "%s changed on the server", it.ID)
	case res.StatusCode == http.StatusNotFound:
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.ENOTFOUND, "%s is gone from the server", it.ID)
	case res.StatusCode/100 != 2:
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "the server refused %s: %s %s", it.ID, res.Status, snippet(body))
	}
	return col.written(ctx, it.ID, res)
}

func (col *Collection) Delete(ctx context.Context, id, ifMatch string) error {
	var h []string
	if ifMatch != "" {
		h = []string{"If-Match", ifMatch}
	}
	res, body, err := col.c.do(ctx, "DELETE", col.href(id), nil, h...)
	if err != nil {
		return err
	}
	switch {
	case res.StatusCode/100 == 2, res.StatusCode == http.StatusNotFound:
		return nil
	case res.StatusCode == http.StatusPreconditionFailed:
		return tidbro.Errorf(tidbro.EPRECONDITION, "%s changed on the server", id)
	}
	return tidbro.Errorf(tidbro.EINVALID, "the server refused to delete %s: %s %s", id, res.Status, snippet(body))
}

// written returns the reference of a version just written. Servers that
// change what they store send no ETag (RFC 4791): ask for it.
func (col *Collection) written(ctx context.Context, id string, res *http.Response) (tidbro.RemoteRef, error) {
	if etag := res.Header.Get("ETag"); etag != "" {
		return tidbro.RemoteRef{ID: id, ETag: etag}, nil
	}
	etag, err := col.etag(ctx, id)
	return tidbro.RemoteRef{ID: id, ETag: etag}, err
}

func (col *Collection) etag(ctx context.Context, id string) (string, error) {
	const q = `<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>`
	res, b, err := col.c.do(ctx, "PROPFIND", col.href(id), []byte(q), "Depth", "0", "Content-Type", "application/xml; charset=utf-8")
	if err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusMultiStatus {
		return "", tidbro.Errorf(tidbro.EUNAVAILABLE, "etag of %s: %s", id, res.Status)
	}
	ms, err := parseMultistatus(b)
	if err != nil || len(ms.Responses) == 0 {
		return "", tidbro.Errorf(tidbro.EUNAVAILABLE, "etag of %s: no answer", id)
	}
	return ms.Responses[0].props().ETag, nil
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
