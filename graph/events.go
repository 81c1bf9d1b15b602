package graph

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// linkProperty is the single-value extended property, in tidbro's own
// namespace, that carries the key an event was created with: the link back
// to the app item, found again after a crash or a reset.
const linkProperty = "String {3a8f5c2e-9b41-4d7a-8e06-5c1f2b7d9a43} Name tidbroKey"

// eventFields are what tidbro reads of an event; the series' exceptions
// and cancellations come only when asked for on the master.
const eventFields = "id,isOrganizer,subject,body,start,end,isAllDay,location,sensitivity,showAs,categories,recurrence,type,seriesMasterId," +
	"originalStart,originalStartTimeZone,originalEndTimeZone,iCalUId,webLink,isCancelled,isReminderOn,reminderMinutesBeforeStart," +
	"attendees,organizer,lastModifiedDateTime,cancelledOccurrences,exceptionOccurrences"

// Calendar is one mailbox's calendar as a tidbro.Remote.
type Calendar struct {
	c        *Client
	user     string // the mailbox: a user id
	calendar string // a calendar id; "" for the default calendar
	now      func() time.Time
	// Outlook notifies of changes to all of a mailbox's events, not to one
	// calendar's: a change in another calendar costs a run that finds
	// nothing.
	subscriptions
}

// NewCalendar binds to a user's calendar (calendarID "" for the default).
func NewCalendar(c *Client, userID, calendarID string) *Calendar {
	return &Calendar{c: c, user: userID, calendar: calendarID, now: time.Now,
		subscriptions: subscriptions{c: c, user: userID, resource: "users/" + userID + "/events", now: time.Now}}
}

var (
	_ tidbro.Remote     = (*Calendar)(nil)
	_ tidbro.Subscriber = (*Calendar)(nil)
)

func (cal *Calendar) Capabilities() tidbro.Capabilities {
	return tidbro.Capabilities{SyncTokens: true, ServerIDs: true, Private: true, Kinds: []tidbro.Kind{tidbro.KindEvent, tidbro.KindJob},
		MaxBatch: maxBatch, FieldLimits: map[string]int{"summary": 255}}
}

func (cal *Calendar) userPath() string { return "/users/" + url.PathEscape(cal.user) }

func (cal *Calendar) collPath() string {
	if cal.calendar == "" {
		return cal.userPath() + "/calendar"
	}
	return cal.userPath() + "/calendars/" + url.PathEscape(cal.calendar)
}

func (cal *Calendar) eventPath(id string) string {
	return cal.userPath() + "/events/" + url.PathEscape(id)
}

// syncState is the sync token: the delta link of calendarView's round, the
// window it is bound to, and the series seen in it (calendarView delta
// shows occurrences, never their masters, and a series' deletion only as
// its occurrences' removals).
type syncState struct {
	From   time.Time         `json:"f"`
	To     time.Time         `json:"t"`
	Link   string            `json:"l"`
	Series map[string]string `json:"s,omitempty"` // master id → its etag when last reported
}

// unlimited is the window of a policy without one: Graph's calendarView
// needs bounds, and a series without end is expanded within them.
func unlimited(now time.Time) tidbro.TimeRange {
	day := now.UTC().Truncate(24 * time.Hour)
	return tidbro.TimeRange{From: day.AddDate(-1, 0, 0), To: day.AddDate(3, 0, 0)}
}

// Changes reads calendarView/delta: from the token's delta link, or a new
// round over the window. Single events are reported by their id, series by
// their master's; events that left the window are removed without being
// known deleted (the engine checks).
func (cal *Calendar) Changes(ctx context.Context, token string, window *tidbro.TimeRange) (*tidbro.RemoteChanges, error) {
	var st syncState
	if token != "" {
		b, err := decodeToken(token)
		if err == nil {
			err = json.Unmarshal(b, &st)
		}
		if err != nil || st.Link == "" {
			return nil, tidbro.Errorf(tidbro.EINVALID, "not a sync token of this connector")
		}
	}
	w := unlimited(cal.now())
	switch {
	case window != nil:
		w = *window
	case token != "":
		w = tidbro.TimeRange{From: st.From, To: st.To} // an unlimited policy's window moves with new rounds only
	}
	link := ""
	if token != "" {
		if !st.From.Equal(w.From) || !st.To.Equal(w.To) {
			return nil, tidbro.Errorf(tidbro.EINVALID, "the sync token is bound to another window")
		}
		link = st.Link
	} else {
		q := url.Values{"startDateTime": {w.From.UTC().Format(time.RFC3339)}, "endDateTime": {w.To.UTC().Format(time.RFC3339)}}
		link = cal.collPath() + "/calendarView/delta?" + q.Encode()
	}
	out := &tidbro.RemoteChanges{Full: token == ""}
	series := map[string]bool{}
	for id := range st.Series {
		series[id] = true
	}
	if st.Series == nil {
		st.Series = map[string]string{}
	}
	changedSeries := map[string]bool{}
	removals := false
	singles := map[string]string{}
	var removed []string
	var err error
	st.Link, err = deltaRound(ctx, cal.c, cal.user, link, "calendarView delta", func(e event) {
		switch {
		case e.Removed != nil:
			removals = true
			delete(singles, e.ID)
			removed = append(removed, e.ID)
		case e.SeriesMasterID != "":
			series[e.SeriesMasterID], changedSeries[e.SeriesMasterID] = true, true
		case e.Type == "seriesMaster":
			series[e.ID], changedSeries[e.ID] = true, true
		default:
			singles[e.ID] = e.ETag
		}
	})
	if err != nil {
		return nil, err
	}
	// Series: their masters' etags, and which are gone. After removals any
	// known series may have lost occurrences or been deleted, so all are
	// looked at; otherwise only those whose occurrences changed.
	check := changedSeries
	if removals {
		check = series
	}
	ids := sortedKeys(check)
	etags, gone, err := cal.etags(ctx, ids)
	if err != nil {
		return nil, err
	}
	reported := map[string]bool{}
	for _, id := range ids {
		if gone[id] {
			delete(series, id)
			delete(st.Series, id)
			if !out.Full {
				out.Removed = append(out.Removed, tidbro.Removed{ID: id, Deleted: true})
			}
			reported[id] = true
			continue
		}
		// A series checked only because something was removed is reported
		// only if it did change.
		if out.Full || changedSeries[id] || st.Series[id] != etags[id] {
			out.Changed = append(out.Changed, tidbro.RemoteRef{ID: id, ETag: etags[id]})
		}
		st.Series[id] = etags[id]
	}
	for _, id := range sortedKeys(singles) {
		out.Changed = append(out.Changed, tidbro.RemoteRef{ID: id, ETag: singles[id]})
	}
	if !out.Full {
		// Single events, and occurrences (which the connector cannot tell
		// from them): deleted, or out of the window; the engine checks the
		// ones it knows and ignores the rest.
		for _, id := range removed {
			if !series[id] && !reported[id] {
				out.Removed = append(out.Removed, tidbro.Removed{ID: id})
				reported[id] = true
			}
		}
	}
	for id := range st.Series {
		if !series[id] {
			delete(st.Series, id)
		}
	}
	st.From, st.To = w.From, w.To
	b, _ := json.Marshal(st)
	out.Token = encodeToken(b)
	return out, nil
}

// etags reads the current etags of events (series masters), in batches;
// gone says which no longer exist.
func (cal *Calendar) etags(ctx context.Context, ids []string) (map[string]string, map[string]bool, error) {
	reqs := make([]request, len(ids))
	for i, id := range ids {
		reqs[i] = request{Method: http.MethodGet, Path: cal.eventPath(id) + "?$select=id"}
	}
	as, err := cal.c.batch(ctx, cal.user, reqs)
	if err != nil {
		return nil, nil, err
	}
	etags, gone := map[string]string{}, map[string]bool{}
	for i, a := range as {
		var e event
		err := a.answer(reqs[i], &e)
		switch {
		case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
			gone[ids[i]] = true
		case err != nil:
			return nil, nil, err
		default:
			etags[ids[i]] = e.ETag
		}
	}
	return etags, gone, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Fetch reads events (single ones and series masters with their
// exceptions and cancellations) in batches of 20.
func (cal *Calendar) Fetch(ctx context.Context, ids []string) ([]*tidbro.RemoteItem, []tidbro.ItemError, error) {
	return fetchEach(ctx, cal.c, cal.user, ids, "event", func(id string) string {
		return cal.eventPath(id) + "?$select=" + eventFields + "&$expand=exceptionOccurrences"
	}, cal.item)
}

func (cal *Calendar) item(e *event, raw []byte) (*tidbro.RemoteItem, error) {
	ev, err := toEvent(e)
	if err != nil {
		return nil, err
	}
	modified, _ := time.Parse(time.RFC3339Nano, e.LastModified)
	return &tidbro.RemoteItem{ID: e.ID, ETag: e.ETag, Kind: tidbro.KindEvent, Modified: modified, Event: ev, WebLink: e.WebLink, Raw: raw}, nil
}

// transactionID derives Graph's idempotency key from tidbro's, in the GUID
// form Microsoft's examples use.
func transactionID(key string) string {
	h := sha256.Sum256([]byte("tidbro:" + key))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// Create posts the event with a transactionId derived from key (Graph
// answers a repeated post with the event it made) and the key in tidbro's
// extended property (so that Find tells an interrupted create's event,
// whenever). A series' exceptions and cancellations are then applied to
// its occurrences.
func (cal *Calendar) Create(ctx context.Context, key string, it *tidbro.RemoteItem) (tidbro.RemoteRef, error) {
	ev := it.Event
	if ev == nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "no event to create")
	}
	body, err := eventBody(ev, true)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if body["recurrence"] == nil {
		delete(body, "recurrence")
	}
	body["transactionId"] = transactionID(key)
	body["singleValueExtendedProperties"] = []map[string]string{{"id": linkProperty, "value": key}}
	r := request{Method: http.MethodPost, Path: cal.collPath() + "/events", Body: body}
	a, err := cal.c.box(cal.user).writes.do(ctx, r)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	var created event
	if err := a.answer(r, &created); err != nil {
		return tidbro.RemoteRef{}, err
	}
	ref := tidbro.RemoteRef{ID: created.ID, ETag: created.ETag, WebLink: created.WebLink}
	if ev.RRule == "" || len(ev.Overrides) == 0 && len(ev.ExDates) == 0 {
		return ref, nil
	}
	// The series as it is: a repeated create finds its exceptions made
	// already, and writes nothing more.
	items, _, err := cal.Fetch(ctx, []string{created.ID})
	if err != nil || len(items) != 1 {
		return tidbro.RemoteRef{}, fmt.Errorf("the series %s is created, its exceptions not yet: %v", created.ID, err)
	}
	written, err := cal.occurrences(ctx, created.ID, ev, items[0].Event)
	if err != nil {
		return tidbro.RemoteRef{}, fmt.Errorf("the series %s is created, its exceptions not yet: %w", created.ID, err)
	}
	if !written {
		return tidbro.RemoteRef{ID: created.ID, ETag: items[0].ETag, WebLink: items[0].WebLink}, nil
	}
	return cal.ref(ctx, created.ID)
}

// Find looks for the event an earlier Create with key made
// (tidbro.Finder).
func (cal *Calendar) Find(ctx context.Context, key string) (tidbro.RemoteRef, bool, error) {
	f := fmt.Sprintf("singleValueExtendedProperties/Any(ep: ep/id eq '%s' and ep/value eq '%s')", linkProperty, strings.ReplaceAll(key, "'", "''"))
	var res struct {
		Value []event `json:"value"`
	}
	path := cal.collPath() + "/events?$select=id&$filter=" + url.QueryEscape(f)
	if _, err := cal.c.do(ctx, cal.user, request{Method: http.MethodGet, Path: path}, &res); err != nil {
		return tidbro.RemoteRef{}, false, err
	}
	if len(res.Value) == 0 {
		return tidbro.RemoteRef{}, false, nil
	}
	return tidbro.RemoteRef{ID: res.Value[0].ID, ETag: res.Value[0].ETag}, true, nil
}

// ref reads an event's current etag.
func (cal *Calendar) ref(ctx context.Context, id string) (tidbro.RemoteRef, error) {
	var e event
	if _, err := cal.c.do(ctx, cal.user, request{Method: http.MethodGet, Path: cal.eventPath(id) + "?$select=id,webLink"}, &e); err != nil {
		return tidbro.RemoteRef{}, err
	}
	return tidbro.RemoteRef{ID: e.ID, ETag: e.ETag, WebLink: e.WebLink}, nil
}

// Update patches what changed since the remote's own version (it.Raw), if
// the etag still matches; a series' occurrences follow.
func (cal *Calendar) Update(ctx context.Context, it *tidbro.RemoteItem, ifMatch string) (tidbro.RemoteRef, error) {
	if ifMatch == "" {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "an update needs the etag it replaces")
	}
	ev := it.Event
	if ev == nil {
		return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EINVALID, "no event to write")
	}
	var prev *tidbro.Event
	if len(it.Raw) > 0 {
		var g event
		if json.Unmarshal(it.Raw, &g) == nil {
			prev, _ = toEvent(&g)
		}
	}
	body, err := eventBody(ev, true)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if prev != nil {
		if old, err := eventBody(prev, true); err == nil {
			for k, v := range body {
				if jsonEqual(v, old[k]) {
					delete(body, k) // Outlook keeps what it has: HTML bodies, its own location details
				}
			}
		}
	}
	etag := ifMatch
	if len(body) > 0 {
		r := request{Method: http.MethodPatch, Path: cal.eventPath(it.ID), Body: body, Headers: map[string]string{"If-Match": ifMatch}}
		a, err := cal.c.box(cal.user).writes.do(ctx, r)
		if err != nil {
			return tidbro.RemoteRef{}, err
		}
		var e event
		if err := a.answer(r, &e); err != nil {
			if tidbro.ErrorCode(err) == tidbro.EPRECONDITION {
				return tidbro.RemoteRef{}, tidbro.Errorf(tidbro.EPRECONDITION, "%s changed in Outlook", it.ID)
			}
			return tidbro.RemoteRef{}, err
		}
		etag = e.ETag
	}
	if ev.RRule == "" {
		return tidbro.RemoteRef{ID: it.ID, ETag: etag}, nil
	}
	written, err := cal.occurrences(ctx, it.ID, ev, prev)
	if err != nil {
		return tidbro.RemoteRef{}, err
	}
	if !written {
		return tidbro.RemoteRef{ID: it.ID, ETag: etag}, nil
	}
	return cal.ref(ctx, it.ID)
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// occurrences makes a series' occurrences match ev's exceptions and
// cancellations (prev: what the series had, nil for a new one); written
// says whether it changed any.
func (cal *Calendar) occurrences(ctx context.Context, masterID string, ev, prev *tidbro.Event) (written bool, err error) {
	type want struct {
		override *tidbro.Event // nil: cancelled
	}
	todo := map[time.Time]want{}
	var old map[time.Time]*tidbro.Event
	oldEx := map[time.Time]bool{}
	if prev != nil {
		old = map[time.Time]*tidbro.Event{}
		for i := range prev.Overrides {
			old[prev.Overrides[i].RecurrenceID.UTC()] = &prev.Overrides[i]
		}
		for _, t := range prev.ExDates {
			oldEx[t.UTC()] = true
		}
	}
	for _, t := range ev.ExDates {
		if !oldEx[t.UTC()] {
			todo[t.UTC()] = want{}
		}
	}
	for i := range ev.Overrides {
		o := &ev.Overrides[i]
		rid := o.RecurrenceID.UTC()
		if o.Cancelled || o.Status == "cancelled" {
			if !oldEx[rid] {
				todo[rid] = want{}
			}
			continue
		}
		if p := old[rid]; p != nil && cal.sameOccurrence(ev, p, o) {
			continue
		}
		todo[rid] = want{override: o}
	}
	// An exception the app no longer has goes back to the series' shape.
	for rid := range old {
		if !slices.ContainsFunc(ev.Overrides, func(o tidbro.Event) bool { return o.RecurrenceID.UTC().Equal(rid) }) {
			back := *ev
			back.RRule, back.ExDates, back.Overrides = "", nil, nil
			back.Start, back.End = rid, rid.Add(ev.End.Sub(ev.Start))
			todo[rid] = want{override: &back}
		}
	}
	if len(todo) == 0 {
		return false, nil
	}
	var from, to time.Time
	for t := range todo {
		if from.IsZero() || t.Before(from) {
			from = t
		}
		if t.After(to) {
			to = t
		}
	}
	ids, err := cal.instances(ctx, masterID, from.Add(-24*time.Hour), to.Add(48*time.Hour))
	if err != nil {
		return false, err
	}
	for rid, w := range todo {
		id, ok := ids[rid]
		if !ok {
			if w.override == nil {
				continue // not an occurrence (any more): nothing to cancel
			}
			return written, tidbro.Errorf(tidbro.EINVALID, "the series has no occurrence at %s to change", rid.Format(time.RFC3339))
		}
		var r request
		if w.override == nil {
			r = request{Method: http.MethodDelete, Path: cal.eventPath(id)}
		} else {
			o := *w.override
			if o.TimeZone == "" {
				o.TimeZone = ev.TimeZone
			}
			o.AllDay = ev.AllDay
			body, err := eventBody(&o, false)
			if err != nil {
				return written, err
			}
			r = request{Method: http.MethodPatch, Path: cal.eventPath(id), Body: body}
		}
		a, err := cal.c.box(cal.user).writes.do(ctx, r)
		if err == nil {
			err = a.answer(r, nil)
		}
		switch {
		case err == nil:
			written = true
		case w.override == nil && tidbro.ErrorCode(err) == tidbro.ENOTFOUND: // cancelled already
		default:
			return written, fmt.Errorf("occurrence %s: %w", rid.Format(time.RFC3339), err)
		}
	}
	return written, nil
}

// sameOccurrence reports whether two versions of an exception are the same
// to Outlook: the same write.
func (cal *Calendar) sameOccurrence(series, a, b *tidbro.Event) bool {
	body := func(o tidbro.Event) map[string]any {
		if o.TimeZone == "" {
			o.TimeZone = series.TimeZone
		}
		o.AllDay = series.AllDay
		m, err := eventBody(&o, false)
		if err != nil {
			return nil
		}
		return m
	}
	x, y := body(*a), body(*b)
	return x != nil && jsonEqual(x, y)
}

// instances maps the original starts of a series' occurrences in [from,
// to) to their ids.
func (cal *Calendar) instances(ctx context.Context, masterID string, from, to time.Time) (map[time.Time]string, error) {
	q := url.Values{"startDateTime": {from.UTC().Format(time.RFC3339)}, "endDateTime": {to.UTC().Format(time.RFC3339)},
		"$select": {"id,originalStart,type"}}
	link := cal.eventPath(masterID) + "/instances?" + q.Encode()
	out := map[time.Time]string{}
	err := eachPage(ctx, cal.c, cal.user, link, func(events []event) bool {
		for _, e := range events {
			if t, err := time.Parse(time.RFC3339Nano, e.OriginalStart); err == nil {
				out[t.UTC()] = e.ID
			}
		}
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("occurrences of %s: %w", masterID, err)
	}
	return out, nil
}

// Delete removes the event (a series with its occurrences) if its etag is
// still ifMatch ("" for any); one that is gone is deleted already.
func (cal *Calendar) Delete(ctx context.Context, id, ifMatch string) error {
	return deleteItem(ctx, cal.c, cal.user, cal.eventPath(id), id, ifMatch, "Outlook")
}

// Tokens are the sync state, base64url JSON: opaque to the engine, and
// free of characters a database or a log might mangle.
func encodeToken(b []byte) string { return "g1." + base64.RawURLEncoding.EncodeToString(b) }

func decodeToken(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "g1.")
	if !ok {
		return nil, fmt.Errorf("not a Graph sync token")
	}
	return base64.RawURLEncoding.DecodeString(rest)
}
