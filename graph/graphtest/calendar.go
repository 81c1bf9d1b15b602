package graphtest

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// serveMailbox answers /users/{who}/... for a user with a mailbox, once
// admitted. s.mu is held.
func (s *Server) serveMailbox(q *req, mb *mailbox, who string, rest []string) {
	method := q.r.Method
	switch {
	case rest[0] == "contacts" || rest[0] == "contactFolders":
		s.serveContacts(q, mb, who, rest)
		return
	case rest[0] == "todo":
		s.serveTodo(q, mb, who, rest[1:])
		return
	case rest[0] == "calendars" && len(rest) == 1:
		if s.method(q, http.MethodGet) {
			q.json(http.StatusOK, map[string]any{"@odata.context": s.URL + "/$metadata#users('" + who + "')/calendars", "value": []any{calendarJSON(mb)}})
		}
		return
	case rest[0] == "calendars":
		// One calendar per mailbox: the default one.
		if rest[1] != mb.calID {
			q.fail(http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store.")
			return
		}
		rest = rest[2:]
	case rest[0] == "calendar":
		rest = rest[1:]
	}
	if len(rest) == 0 {
		if s.method(q, http.MethodGet) {
			obj := calendarJSON(mb)
			obj["@odata.context"] = s.URL + "/$metadata#users('" + who + "')/calendars/$entity"
			q.json(http.StatusOK, obj)
		}
		return
	}
	if !strings.EqualFold(q.prefer["outlook.timezone"], "UTC") {
		s.violate("%s: events read or written without Prefer: outlook.timezone=\"UTC\"", q.describe())
	}
	switch {
	case len(rest) == 1 && rest[0] == "events":
		switch method {
		case http.MethodGet:
			s.listEvents(q, mb)
		case http.MethodPost:
			s.createEvent(q, mb)
		default:
			s.method(q, http.MethodGet, http.MethodPost)
		}
	case len(rest) == 2 && rest[0] == "events":
		switch method {
		case http.MethodGet:
			s.getEvent(q, mb, rest[1])
		case http.MethodPatch:
			s.patchEvent(q, mb, rest[1])
		case http.MethodDelete:
			s.deleteEvent(q, mb, rest[1])
		default:
			s.method(q, http.MethodGet, http.MethodPatch, http.MethodDelete)
		}
	case len(rest) == 3 && rest[0] == "events" && rest[2] == "instances":
		if s.method(q, http.MethodGet) {
			s.listInstances(q, mb, rest[1])
		}
	case len(rest) == 1 && rest[0] == "calendarView":
		if s.method(q, http.MethodGet) {
			s.calendarView(q, mb)
		}
	case len(rest) == 2 && rest[0] == "calendarView" && rest[1] == "delta":
		if s.method(q, http.MethodGet) {
			s.delta(q, mb)
		}
	default:
		q.failf(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", rest[len(rest)-1])
	}
}

// method answers 405 unless the request's method is one of allowed.
func (s *Server) method(q *req, allowed ...string) bool {
	if slices.Contains(allowed, q.r.Method) {
		return true
	}
	q.w.Header().Set("Allow", strings.Join(allowed, ", "))
	q.fail(http.StatusMethodNotAllowed, "ErrorInvalidRequest", "The OData request is not supported.")
	return false
}

func calendarJSON(mb *mailbox) map[string]any {
	return map[string]any{
		"id": mb.calID, "name": "Calendar", "color": "auto", "hexColor": "", "isDefaultCalendar": true,
		"changeKey": "DxYSthXJXEWwAQSYQnXvIgAAAAAAAA==", "canShare": true, "canViewPrivateItems": true,
		"canEdit": true, "isTallyingResponses": true, "isRemovable": false,
		"allowedOnlineMeetingProviders": []any{"teamsForBusiness"}, "defaultOnlineMeetingProvider": "teamsForBusiness",
		"owner": map[string]any{"name": mb.owner.name, "address": cmpOr(mb.owner.mail, mb.owner.upn)},
	}
}

// ---- finding events ----

const (
	kindEvent      = iota // a single instance or a series master
	kindOccurrence        // an unmodified occurrence of a series
	kindException         // a modified occurrence
)

type target struct {
	kind int
	ev   *Event    // the event, or the series master of an occurrence or exception
	orig time.Time // original start of an occurrence or exception
	idx  int       // index in ev.Exceptions
}

var errNotFound = &apiError{http.StatusNotFound, "ErrorItemNotFound", "The specified object was not found in the store."}

func (mb *mailbox) find(id string) (target, *apiError) {
	if e := mb.events[id]; e != nil {
		return target{kind: kindEvent, ev: e}, nil
	}
	if !strings.HasPrefix(id, "AAMk") {
		return target{}, &apiError{http.StatusBadRequest, "ErrorInvalidIdMalformed", "Id is malformed."}
	}
	mid, orig, ok := parseOccurrenceID(id)
	m := mb.events[mid]
	if !ok || m == nil || m.Recurrence == nil {
		return target{}, errNotFound
	}
	if i := slices.IndexFunc(m.Exceptions, func(x Event) bool { return x.OriginalStart.Equal(orig) }); i >= 0 {
		return target{kind: kindException, ev: m, orig: orig, idx: i}, nil
	}
	if slices.ContainsFunc(m.Cancelled, orig.Equal) || !isOccurrence(m, orig) {
		return target{}, errNotFound
	}
	return target{kind: kindOccurrence, ev: m, orig: orig}, nil
}

// view is a copy of the target as an event.
func (tg target) view() Event {
	switch tg.kind {
	case kindOccurrence:
		return occurrence(tg.ev, tg.orig)
	case kindException:
		return tg.ev.Exceptions[tg.idx].clone()
	}
	return tg.ev.clone()
}

// window is every instance of the calendar overlapping [ws, we): single
// instances, occurrences and exceptions, by start.
func (mb *mailbox) window(ws, we time.Time) []Event {
	var out []Event
	for _, id := range mb.order {
		e := mb.events[id]
		if e.Recurrence != nil {
			out = append(out, seriesInstances(e, ws, we)...)
		} else if overlaps(e.startTime(), e.endTime(), ws, we) {
			out = append(out, e.clone())
		}
	}
	sortByStart(out)
	return out
}

// touch records changes of items, for @removed of items outside a delta
// window.
func (mb *mailbox) touch(ids ...string) {
	for _, id := range ids {
		mb.logSeq++
		mb.log = append(mb.log, logEntry{mb.logSeq, id})
		mb.srv.eventChanged(mb, id)
	}
}

func (s *Server) bump(e *Event) {
	e.ChangeKey = s.newChangeKey()
	e.LastModifiedDateTime = time.Now().UTC()
}

// ---- handlers ----

func (s *Server) body(q *req) (map[string]json.RawMessage, bool) {
	mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if mt != "application/json" {
		q.fail(http.StatusUnsupportedMediaType, "BadRequest", "A JSON body needs Content-Type: application/json.")
		return nil, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(q.body, &fields); err != nil || fields == nil {
		q.fail(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
		return nil, false
	}
	return fields, true
}

// ifMatch honours If-Match with an @odata.etag (our choice: the documentation
// does not say events support it; Exchange's 412 for a stale change key is
// observed).
func (s *Server) ifMatch(q *req, changeKey string) bool {
	h := q.r.Header.Get("If-Match")
	if h == "" || h == "*" {
		return true
	}
	for _, tag := range strings.Split(h, ",") {
		if strings.Trim(strings.TrimPrefix(strings.TrimSpace(tag), "W/"), `"`) == changeKey {
			return true
		}
	}
	q.fail(http.StatusPreconditionFailed, "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
	return false
}

func (s *Server) createEvent(q *req, mb *mailbox) {
	fields, ok := s.body(q)
	if !ok {
		return
	}
	e := s.newEvent(mb, "")
	hasAttendees, aerr := applyFields(&e, fields, modeCreate)
	if hasAttendees {
		s.violate("%s: event created with attendees (Graph sends them invitations)", q.describe())
	}
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	// transactionId: a repeated create returns the first one's event, 201,
	// for the mailbox's lifetime, even when it was deleted since (our
	// choice; Graph only says it skips redundant creates).
	if id, ok := mb.txns[e.TransactionID]; ok && e.TransactionID != "" {
		prev, live := mb.events[id]
		if !live {
			t := mb.tombs[id]
			prev = &t
		}
		q.json(http.StatusCreated, s.entity(render(prev)))
		return
	}
	e.Type = "singleInstance"
	if e.Recurrence != nil {
		e.Type = "seriesMaster"
	}
	s.bump(&e)
	e.seriesKey = e.ChangeKey
	mb.events[e.ID] = &e
	mb.order = append(mb.order, e.ID)
	if e.TransactionID != "" {
		mb.txns[e.TransactionID] = e.ID
	}
	mb.touch(e.ID)
	q.json(http.StatusCreated, s.entity(render(&e)))
}

func (s *Server) entity(m map[string]any) map[string]any {
	m["@odata.context"] = s.URL + "/$metadata#users/events/$entity"
	return m
}

// eventOptions are $select and $expand of an event read.
type eventOptions struct {
	sel []string
	exp expandOpts
}

func (s *Server) options(q *req) (eventOptions, bool) {
	qs := q.r.URL.Query()
	sel, aerr := parseSelect(qs.Get("$select"))
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return eventOptions{}, false
	}
	exp, err := parseExpand(qs.Get("$expand"))
	if err != nil {
		q.fail(http.StatusBadRequest, "BadRequest", err.Error())
		return eventOptions{}, false
	}
	return eventOptions{sel, exp}, true
}

// show renders an event with its options; extra holds properties only a
// series master got by id has.
func (o eventOptions) show(e *Event, extra map[string]any) map[string]any {
	m := render(e)
	var props []any
	for _, p := range e.SingleValueExtendedProperties {
		if k, _ := propKey(p.ID); slices.Contains(o.exp.props, k) {
			props = append(props, map[string]any{"id": p.ID, "value": p.Value})
		}
	}
	// Without a match the property is left out (our choice).
	if len(props) > 0 {
		m["singleValueExtendedProperties"] = props
	}
	return selectEvent(m, o.sel, extra)
}

func (s *Server) getEvent(q *req, mb *mailbox, id string) {
	tg, aerr := mb.find(id)
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	o, ok := s.options(q)
	if !ok {
		return
	}
	e := tg.view()
	// cancelledOccurrences and exceptionOccurrences come back only when
	// selected (the latter also expanded), on a series master got by id.
	extra := map[string]any{}
	if tg.kind == kindEvent && e.Recurrence != nil {
		cancelled := []any{}
		for _, t := range e.Cancelled {
			cancelled = append(cancelled, occurrenceIDBeta(&e, t))
		}
		extra["cancelledOccurrences"] = cancelled
		if o.exp.exceptions {
			exceptions := []any{}
			for i := range e.Exceptions {
				exceptions = append(exceptions, render(&e.Exceptions[i]))
			}
			extra["exceptionOccurrences"] = exceptions
		}
	}
	q.json(http.StatusOK, s.entity(o.show(&e, extra)))
}

func (s *Server) listEvents(q *req, mb *mailbox) {
	o, ok := s.options(q)
	if !ok {
		return
	}
	var pf *propFilter
	if f := q.r.URL.Query().Get("$filter"); f != "" {
		p, err := parseEventFilter(f)
		if err != nil {
			q.fail(http.StatusBadRequest, "ErrorInvalidUrlQueryFilter", err.Error())
			return
		}
		pf = &p
	}
	var items []any
	for _, id := range mb.order {
		e := mb.events[id]
		if !pf.matches(e.SingleValueExtendedProperties) {
			continue
		}
		items = append(items, o.show(e, nil))
	}
	s.collection(q, "Collection(event)", items, 10)
}

func (s *Server) patchEvent(q *req, mb *mailbox, id string) {
	tg, aerr := mb.find(id)
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	cur := tg.view()
	if !s.ifMatch(q, cur.ChangeKey) {
		return
	}
	fields, ok := s.body(q)
	if !ok {
		return
	}
	mode := modeUpdate
	if tg.kind != kindEvent {
		mode = modeMember
	}
	hasAttendees, aerr := applyFields(&cur, fields, mode)
	if hasAttendees {
		s.violate("%s: event updated with attendees (Graph sends them invitations)", q.describe())
	}
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	s.bump(&cur)
	if tg.kind == kindEvent {
		cur.Type = "singleInstance"
		if cur.Recurrence != nil {
			cur.Type = "seriesMaster"
		}
		prune(&cur)
		cur.seriesKey = cur.ChangeKey
		*tg.ev = cur
		mb.touch(cur.ID)
		q.json(http.StatusOK, s.entity(render(&cur)))
		return
	}
	// An occurrence becomes an exception; it may not move onto or past the
	// day of its neighbours (ErrorOccurrenceCrossingBoundary, event-update).
	x := newExpander(tg.ev)
	day := civil(cur.startTime().In(x.loc))
	prev, next := neighbours(tg.ev, tg.orig)
	if (!prev.IsZero() && !civil(prev.In(x.loc)).Before(day)) || (!next.IsZero() && !day.Before(civil(next.In(x.loc)))) {
		q.fail(http.StatusBadRequest, "ErrorOccurrenceCrossingBoundary", "Modified occurrence is crossing or overlapping adjacent occurrence.")
		return
	}
	cur.Type = "exception"
	if tg.kind == kindOccurrence {
		tg.ev.Exceptions = append(tg.ev.Exceptions, cur)
	} else {
		tg.ev.Exceptions[tg.idx] = cur
	}
	// Our choice: a change to a member also changes its master's change key
	// (not its occurrences').
	s.bump(tg.ev)
	mb.touch(cur.ID)
	q.json(http.StatusOK, s.entity(render(&cur)))
}

// prune drops exceptions and cancellations that a master's new pattern or
// times no longer have (our choice; Outlook discards them when a series'
// times change).
func prune(m *Event) {
	if m.Recurrence == nil {
		m.Exceptions, m.Cancelled = nil, nil
		return
	}
	m.Exceptions = slices.DeleteFunc(m.Exceptions, func(x Event) bool { return !isOccurrence(m, x.OriginalStart) })
	m.Cancelled = slices.DeleteFunc(m.Cancelled, func(t time.Time) bool { return !isOccurrence(m, t) })
}

func (s *Server) deleteEvent(q *req, mb *mailbox, id string) {
	tg, aerr := mb.find(id)
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	if cur := tg.view(); !s.ifMatch(q, cur.ChangeKey) {
		return
	}
	s.remove(mb, tg)
	q.noContent()
}

// remove deletes an event, or cancels one occurrence of a series.
func (s *Server) remove(mb *mailbox, tg target) {
	m := tg.ev
	switch tg.kind {
	case kindEvent:
		delete(mb.events, m.ID)
		mb.order = slices.DeleteFunc(mb.order, func(x string) bool { return x == m.ID })
		if m.TransactionID != "" {
			mb.tombs[m.ID] = m.clone()
		}
		mb.touch(m.ID)
		for _, x := range m.Exceptions {
			mb.touch(x.ID)
		}
		return
	case kindException:
		m.Exceptions = slices.Delete(m.Exceptions, tg.idx, tg.idx+1)
	}
	m.Cancelled = append(m.Cancelled, tg.orig)
	s.bump(m) // our choice, as for updates of members
	mb.touch(occurrenceID(m.ID, tg.orig))
}

func (s *Server) listInstances(q *req, mb *mailbox, id string) {
	tg, aerr := mb.find(id)
	if aerr != nil {
		q.fail(aerr.status, aerr.code, aerr.msg)
		return
	}
	ws, we, ok := s.timeWindow(q)
	if !ok {
		return
	}
	o, ok := s.options(q)
	if !ok {
		return
	}
	items := []any{}
	// Anything but a series master has no instances (our choice).
	if tg.kind == kindEvent && tg.ev.Recurrence != nil {
		for _, e := range seriesInstances(tg.ev, ws, we) {
			items = append(items, o.show(&e, nil))
		}
	}
	s.collection(q, "Collection(event)", items, 10)
}

func (s *Server) calendarView(q *req, mb *mailbox) {
	ws, we, ok := s.timeWindow(q)
	if !ok {
		return
	}
	o, ok := s.options(q)
	if !ok {
		return
	}
	items := []any{}
	for _, e := range mb.window(ws, we) {
		items = append(items, o.show(&e, nil))
	}
	s.collection(q, "Collection(event)", items, 10)
}

// timeWindow reads startDateTime and endDateTime: ISO 8601, an offset is
// honoured, none means UTC.
func (s *Server) timeWindow(q *req) (ws, we time.Time, ok bool) {
	qs := q.r.URL.Query()
	get := func(name string) string {
		for k, v := range qs {
			if strings.EqualFold(k, name) {
				return v[0]
			}
		}
		return ""
	}
	a, b := get("startDateTime"), get("endDateTime")
	if a == "" || b == "" {
		q.fail(http.StatusBadRequest, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
		return ws, we, false
	}
	var err1, err2 error
	ws, err1 = parseInstant(a)
	we, err2 = parseInstant(b)
	if err1 != nil || err2 != nil || !we.After(ws) {
		q.failf(http.StatusBadRequest, "ErrorInvalidParameter", "startDateTime %q and endDateTime %q must be ISO 8601 times, the end after the start (a + in an offset must be encoded as %%2B).", a, b)
		return ws, we, false
	}
	return ws, we, true
}

func parseInstant(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02T15:04:05", v); err == nil {
		return t, nil
	}
	return time.Parse(dateLayout, v)
}

// collection answers a page of a collection: $top (or
// Prefer: odata.maxpagesize), else size; @odata.nextLink with $skip.
func (s *Server) collection(q *req, context string, items []any, size int) {
	qs := q.r.URL.Query()
	if v, err := strconv.Atoi(q.prefer["odata.maxpagesize"]); err == nil && v > 0 {
		size = v
	}
	if t := qs.Get("$top"); t != "" {
		v, err := strconv.Atoi(t)
		if err != nil || v < 1 || v > 1000 {
			q.fail(http.StatusBadRequest, "BadRequest", "Invalid $top: "+t)
			return
		}
		size = v
	}
	skip, _ := strconv.Atoi(qs.Get("$skip"))
	skip = min(max(skip, 0), len(items))
	end := min(skip+size, len(items))
	out := map[string]any{"@odata.context": s.URL + "/$metadata#" + context, "value": append([]any{}, items[skip:end]...)}
	if end < len(items) {
		qs.Set("$skip", strconv.Itoa(end))
		out["@odata.nextLink"] = s.URL + strings.TrimPrefix(q.r.URL.EscapedPath(), "/v1.0") + "?" + encodeQuery(qs)
	}
	q.json(http.StatusOK, out)
}

// encodeQuery encodes a query as Graph writes its links: $ unescaped.
func encodeQuery(v url.Values) string {
	return strings.ReplaceAll(v.Encode(), "%24", "$")
}

// ---- direct access for tests ----

// Events are copies of the series masters and single instances of the
// user's default calendar, in creation order.
func (s *Server) Events(userID string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mustMailbox(userID)
	var out []Event
	for _, id := range mb.order {
		out = append(out, mb.events[id].clone())
	}
	return out
}

// Event is a copy of one item by id: a single instance, a series master, an
// occurrence or an exception.
func (s *Server) Event(userID, id string) (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.mustMailbox(userID).find(id)
	if err != nil {
		return Event{}, false
	}
	return tg.view(), true
}

// PutEvent creates (empty ID) or replaces an event as another Outlook client
// would, and returns what is stored. Start and End may be in any zone Graph
// accepts; a series' Exceptions (with OriginalStart) and Cancelled (original
// starts) are taken as given. The change key changes.
func (s *Server) PutEvent(userID string, e Event) Event {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mustMailbox(userID)
	e = e.clone()
	def := s.newEvent(mb, e.ID)
	old := mb.events[e.ID]
	if old != nil {
		def.CreatedDateTime, def.ICalUID = old.CreatedDateTime, old.ICalUID
	}
	e.ID = def.ID
	fill(&e, def)
	if err := normalise(&e); err != nil {
		s.t.Fatalf("graphtest: PutEvent %q: %s", e.Subject, err.msg)
	}
	e.Type = "singleInstance"
	s.bump(&e)
	e.seriesKey = e.ChangeKey
	if e.Recurrence != nil {
		e.Type = "seriesMaster"
		for i := range e.Exceptions {
			x := &e.Exceptions[i]
			orig := x.OriginalStart.UTC()
			if !isOccurrence(&e, orig) {
				s.t.Fatalf("graphtest: PutEvent %q: exception at %v is not an occurrence", e.Subject, orig)
			}
			x.Recurrence, x.Exceptions, x.Cancelled = nil, nil, nil
			fill(x, occurrence(&e, orig))
			x.ID, x.Type, x.SeriesMasterID, x.OriginalStart = occurrenceID(e.ID, orig), "exception", e.ID, orig
			if err := normalise(x); err != nil {
				s.t.Fatalf("graphtest: PutEvent %q: exception: %s", e.Subject, err.msg)
			}
			s.bump(x)
		}
		for i, t := range e.Cancelled {
			if e.Cancelled[i] = t.UTC(); !isOccurrence(&e, e.Cancelled[i]) {
				s.t.Fatalf("graphtest: PutEvent %q: cancelled %v is not an occurrence", e.Subject, t)
			}
		}
	} else {
		e.Exceptions, e.Cancelled = nil, nil
	}
	if old == nil {
		mb.order = append(mb.order, e.ID)
	} else {
		for _, x := range old.Exceptions {
			mb.touch(x.ID)
		}
	}
	mb.events[e.ID] = &e
	mb.touch(e.ID)
	for _, x := range e.Exceptions {
		mb.touch(x.ID)
	}
	return e.clone()
}

// fill gives an event written by a test the defaults it left out.
func fill(e *Event, def Event) {
	if e.CreatedDateTime.IsZero() {
		e.CreatedDateTime = def.CreatedDateTime
	}
	e.ICalUID = cmpOr(e.ICalUID, def.ICalUID)
	e.WebLink = webLink(def.ID)
	if e.Organizer.EmailAddress.Address == "" {
		e.Organizer = def.Organizer
	}
	e.Body.ContentType = strings.ToLower(cmpOr(e.Body.ContentType, def.Body.ContentType))
	e.Importance = cmpOr(e.Importance, def.Importance)
	e.Sensitivity = cmpOr(e.Sensitivity, def.Sensitivity)
	e.ShowAs = cmpOr(e.ShowAs, def.ShowAs)
	e.Location = defaultLocation(e.Location)
	if e.Start.DateTime == "" {
		e.Start, e.OriginalStartTimeZone = def.Start, def.OriginalStartTimeZone
	}
	if e.End.DateTime == "" {
		e.End, e.OriginalEndTimeZone = def.End, def.OriginalEndTimeZone
	}
}

// normalise stores a test's event times as a written one's. A start or
// end in UTC with an original zone (as Events returns them) is taken back
// to that zone first, so a round trip keeps it.
func normalise(e *Event) *apiError {
	back := func(d DateTimeTimeZone, orig string) DateTimeTimeZone {
		if !strings.EqualFold(d.TimeZone, "UTC") || orig == "" || strings.EqualFold(orig, "UTC") {
			return d
		}
		w := storedWall(d, orig, e.IsAllDay)
		return DateTimeTimeZone{w.t.Format(dtLayout), orig}
	}
	start, end := back(e.Start, e.OriginalStartTimeZone), back(e.End, e.OriginalEndTimeZone)
	if err := setTimes(e, &start, &end, e.IsAllDay); err != nil {
		return err
	}
	if e.Recurrence != nil {
		return checkRecurrence(e)
	}
	return nil
}

// DeleteEvent deletes an event as another client would; an occurrence's or
// exception's id cancels that occurrence.
func (s *Server) DeleteEvent(userID, id string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mustMailbox(userID)
	tg, err := mb.find(id)
	if err != nil {
		s.t.Fatalf("graphtest: DeleteEvent %q: %s", id, err.msg)
	}
	s.remove(mb, tg)
}

// ExpireDeltaTokens forgets every delta token issued so far for the
// mailbox: using one answers 410 Gone, SyncStateNotFound.
func (s *Server) ExpireDeltaTokens(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mb := s.mustMailbox(userID)
	for tok, st := range mb.deltas {
		mb.expired[tok] = st
	}
	mb.deltas = map[string]*deltaState{}
}
