package davserver

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// report dispatches REPORT by the body's root element.
func (q *request) report(res resource) error {
	body, err := readXML(q.r)
	if err != nil {
		return err
	}
	root, err := rootName(body)
	if err != nil {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the REPORT body is not well-formed XML")
		return nil
	}
	unsupported := func() error {
		davError(q.w, http.StatusForbidden, name(nsDAV, "supported-report"), fmt.Sprintf("%s is not a report of this resource", root.Local))
		return nil
	}
	if res.kind != resCollection && res.kind != resObject {
		return unsupported()
	}
	c := res.coll
	bad := func(err error) error {
		davError(q.w, http.StatusBadRequest, xml.Name{}, "the "+root.Local+" body cannot be read: "+err.Error())
		return nil
	}
	switch {
	case root == name(nsDAV, "sync-collection") && res.kind == resCollection:
		var b syncCollectionBody
		if err := xml.Unmarshal(body, &b); err != nil {
			return bad(err)
		}
		return q.syncCollection(c, &b)
	case root == name(nsCalDAV, "calendar-multiget") && !c.contacts(), root == name(nsCardDAV, "addressbook-multiget") && c.contacts():
		var b multigetBody
		if err := xml.Unmarshal(body, &b); err != nil {
			return bad(err)
		}
		return q.multiget(c, &b)
	case root == name(nsCalDAV, "calendar-query") && !c.contacts():
		var b calendarQueryBody
		if err := xml.Unmarshal(body, &b); err != nil {
			return bad(err)
		}
		return q.calendarQuery(res, &b)
	case root == name(nsCardDAV, "addressbook-query") && c.contacts():
		var b addressbookQueryBody
		if err := xml.Unmarshal(body, &b); err != nil {
			return bad(err)
		}
		return q.addressbookQuery(res, &b)
	case root == name(nsCalDAV, "free-busy-query") && c == calendar && res.kind == resCollection:
		var b freeBusyBody
		if err := xml.Unmarshal(body, &b); err != nil {
			return bad(err)
		}
		return q.freeBusy(&b)
	}
	return unsupported()
}

// maxSyncItems bounds one sync-collection answer; a longer one is cut
// with a 507 on the collection and a token to go on from (RFC 6578 3.6).
const maxSyncItems = 5000

// syncCollection answers RFC 6578's report from the user's change feed: a
// token is a feed position, so an incremental answer reads only the
// changes since.
func (q *request) syncCollection(c *collection, b *syncCollectionBody) error {
	if lvl := strings.TrimSpace(b.SyncLevel); lvl != "" && lvl != "1" {
		davError(q.w, http.StatusForbidden, name(nsDAV, "sync-traversal-supported"), "the collections hold no collections: use sync-level 1")
		return nil
	}
	want := b.Prop.list()
	if b.Prop == nil {
		want = []xml.Name{pGetETag}
	}
	limit := maxSyncItems
	if b.Limit != nil && b.Limit.NResults > 0 {
		limit = min(limit, b.Limit.NResults)
	}
	ms := newMultistatus()
	if strings.TrimSpace(b.SyncToken) == "" {
		// The head first: what changes while the listing runs comes again
		// next time, which is harmless.
		head, err := q.s.store.CollectionHead(q.ctx, q.user.TenantID, q.user.ID, c.kinds)
		if err != nil {
			return err
		}
		if err := q.eachItem(c, tidbro.TimeRange{}, func(it *tidbro.Item) error { return q.describeObject(ms, c, it, want, false) }); err != nil {
			return err
		}
		ms.syncToken(syncToken(head))
		ms.write(q.w)
		return nil
	}
	since, ok := parseSyncToken(b.SyncToken)
	head, err := q.s.store.Head(q.ctx, q.user.TenantID)
	if err != nil {
		return err
	}
	if !ok || since > head {
		davError(q.w, http.StatusForbidden, name(nsDAV, "valid-sync-token"), "the sync token is not one of this server's: sync from the start")
		return nil
	}
	latest := map[int64]tidbro.Change{} // by item: its newest change
	var order []int64
	token, truncated := since, false
	for cursor := since; ; {
		cs, err := q.s.store.Changes(q.ctx, tidbro.ChangeQuery{TenantID: q.user.TenantID, OwnerID: q.user.ID, Kinds: c.kinds, Since: cursor, Limit: tidbro.MaxPageSize})
		if err != nil {
			return err
		}
		for _, ch := range cs {
			if _, seen := latest[ch.Item.ID]; !seen {
				if len(order) == limit {
					truncated = true
					break
				}
				order = append(order, ch.Item.ID)
			}
			latest[ch.Item.ID] = ch
			token = ch.Seq
		}
		if truncated || len(cs) < tidbro.MaxPageSize {
			break
		}
		cursor = cs[len(cs)-1].Seq
	}
	for _, id := range order {
		ch := latest[id]
		it := ch.Item
		if ch.Op == tidbro.OpUpsert && !it.Deleted && it.OwnerID == q.user.ID {
			if err := q.describeObject(ms, c, it, want, false); err != nil {
				return err
			}
			continue
		}
		ms.status(q.objectPath(c, it), http.StatusNotFound)
	}
	if truncated {
		ms.status(collectionPath(c, q.user.Username), http.StatusInsufficientStorage)
	}
	ms.syncToken(syncToken(token))
	ms.write(q.w)
	return nil
}

// multiget answers calendar-multiget and addressbook-multiget.
func (q *request) multiget(c *collection, b *multigetBody) error {
	want := b.Prop.list()
	if b.Prop == nil {
		want = []xml.Name{pGetETag}
	}
	ms := newMultistatus()
	for _, href := range b.Hrefs {
		href = strings.TrimSpace(href)
		u, err := url.Parse(href)
		if err != nil {
			ms.status(href, http.StatusBadRequest)
			continue
		}
		res, ok := resolvePath(u.EscapedPath(), q.user.Username)
		if !ok || res.kind != resObject || res.coll != c {
			ms.status(href, http.StatusNotFound)
			continue
		}
		it, err := q.item(res)
		if err != nil {
			return err
		}
		if it == nil {
			ms.status(href, http.StatusNotFound)
			continue
		}
		if err := q.describeObject(ms, c, it, want, false); err != nil {
			return err
		}
	}
	ms.write(q.w)
	return nil
}

// calendarQuery answers RFC 4791's calendar-query. A time range on the
// top component is answered by the store's recurrence-aware window query;
// the rest of the filter is tested on each candidate's representation.
func (q *request) calendarQuery(res resource, b *calendarQueryBody) error {
	c := res.coll
	want := b.Prop.list()
	if b.Prop == nil {
		want = []xml.Name{pGetETag}
	}
	f := b.Filter
	if f == nil || !strings.EqualFold(f.Name, "VCALENDAR") {
		davError(q.w, http.StatusForbidden, name(nsCalDAV, "valid-filter"), "a calendar-query filter starts with comp-filter VCALENDAR")
		return nil
	}
	var window *tidbro.TimeRange
	for _, cf := range f.Comps {
		if strings.EqualFold(cf.Name, c.comp) && cf.TimeRange != nil && c.comp == "VEVENT" {
			r, err := parseRange(cf.TimeRange)
			if err != nil {
				davError(q.w, http.StatusForbidden, name(nsCalDAV, "valid-filter"), err.Error())
				return nil
			}
			window = &r
		}
	}
	ms := newMultistatus()
	each := func(it *tidbro.Item) error {
		data, err := q.representation(it)
		if err != nil {
			return err
		}
		ok, err := matchCalendar(it, data, f)
		if err != nil {
			davError(q.w, http.StatusForbidden, name(nsCalDAV, "valid-filter"), err.Error())
			return errAnswered
		}
		if ok {
			return q.describeObject(ms, c, it, want, false)
		}
		return nil
	}
	var err error
	switch {
	case res.kind == resObject:
		var it *tidbro.Item
		if it, err = q.item(res); err == nil && it != nil {
			err = each(it)
		}
	default:
		var r tidbro.TimeRange
		if window != nil {
			r = *window
		}
		err = q.eachItem(c, r, each)
	}
	if err == errAnswered {
		return nil
	}
	if err != nil {
		return err
	}
	ms.write(q.w)
	return nil
}

func sameName(c *collection, it *tidbro.Item, name string) bool {
	k, id, ok := parseObject(c, name)
	return ok && k == it.Kind && id == it.AppID
}

// errAnswered stops a walk whose answer has been written.
var errAnswered = fmt.Errorf("answered")

// parseRange reads a CalDAV time-range (UTC date-times); a missing end
// is open.
func parseRange(tr *timeRange) (tidbro.TimeRange, error) {
	r := tidbro.TimeRange{From: time.Unix(0, 0).UTC(), To: tidbro.Forever}
	var err error
	if tr.Start != "" {
		if r.From, err = time.Parse("20060102T150405Z", tr.Start); err != nil {
			return r, fmt.Errorf("time-range start %q is not a UTC date-time", tr.Start)
		}
	}
	if tr.End != "" {
		if r.To, err = time.Parse("20060102T150405Z", tr.End); err != nil {
			return r, fmt.Errorf("time-range end %q is not a UTC date-time", tr.End)
		}
	}
	if !r.To.After(r.From) {
		return r, fmt.Errorf("time-range end is not after its start")
	}
	return r, nil
}

// addressbookQuery answers RFC 6352's addressbook-query.
func (q *request) addressbookQuery(res resource, b *addressbookQueryBody) error {
	c := res.coll
	want := b.Prop.list()
	if b.Prop == nil {
		want = []xml.Name{pGetETag}
	}
	limit := 0
	if b.Limit != nil {
		limit = b.Limit.NResults
	}
	ms := newMultistatus()
	n, truncated := 0, false
	err := q.eachItem(c, tidbro.TimeRange{}, func(it *tidbro.Item) error {
		if res.kind == resObject && !sameName(c, it, res.name) {
			return nil
		}
		data, err := q.representation(it)
		if err != nil {
			return err
		}
		if !matchCard(data, b.Filter.Test, b.Filter.Props) {
			return nil
		}
		if limit > 0 && n == limit {
			truncated = true
			return errAnswered
		}
		n++
		return q.describeObject(ms, c, it, want, false)
	})
	if err != nil && err != errAnswered {
		return err
	}
	if truncated {
		ms.status(q.r.URL.EscapedPath(), http.StatusInsufficientStorage)
	}
	ms.write(q.w)
	return nil
}

// freeBusy answers free-busy-query: the busy times of the user's calendar
// in the range, recurrences expanded, as one VFREEBUSY.
func (q *request) freeBusy(b *freeBusyBody) error {
	if b.TimeRange == nil {
		davError(q.w, http.StatusForbidden, name(nsCalDAV, "valid-filter"), "a free-busy-query needs a time-range")
		return nil
	}
	r, err := parseRange(b.TimeRange)
	if err != nil {
		davError(q.w, http.StatusForbidden, name(nsCalDAV, "valid-filter"), err.Error())
		return nil
	}
	type period struct {
		from, to time.Time
		fbtype   string
	}
	var periods []period
	err = q.eachItem(calendar, r, func(it *tidbro.Item) error {
		for _, in := range it.Event.Instances(r.From, r.To, 0) {
			fbtype := "BUSY"
			switch {
			case in.Event.Status == "cancelled" || in.Event.ShowAs == "free" || in.Event.ShowAs == "" && it.Event.ShowAs == "free":
				continue
			case in.Event.ShowAs == "tentative" || in.Event.Status == "tentative":
				fbtype = "BUSY-TENTATIVE"
			case in.Event.ShowAs == "oof":
				fbtype = "BUSY-UNAVAILABLE"
			}
			periods = append(periods, period{maxT(in.Start, r.From), minT(in.End, r.To), fbtype})
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(periods, func(a, b period) int { return a.from.Compare(b.from) })
	const f = "20060102T150405Z"
	var out strings.Builder
	out.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//tidbro//tidbro//EN\r\nBEGIN:VFREEBUSY\r\n")
	fmt.Fprintf(&out, "DTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\n", time.Now().UTC().Format(f), r.From.UTC().Format(f), r.To.UTC().Format(f))
	for _, p := range periods {
		if p.to.After(p.from) {
			fmt.Fprintf(&out, "FREEBUSY;FBTYPE=%s:%s/%s\r\n", p.fbtype, p.from.UTC().Format(f), p.to.UTC().Format(f))
		}
	}
	out.WriteString("END:VFREEBUSY\r\nEND:VCALENDAR\r\n")
	q.w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	q.w.WriteHeader(http.StatusOK)
	_, err = q.w.Write([]byte(out.String()))
	return err
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
