package graphtest

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// calendarView delta (learn.microsoft.com/graph/api/event-delta,
// .../delta-query-events): single instances, occurrences and exceptions in
// the window, never series masters, as full objects. A round is computed
// whole when it starts and then served in pages; its delta token keeps the
// window and a snapshot (instance id → change key), so the next round
// reports what differs, plus @removed for items outside the window touched
// since (as documented).

type deltaState struct {
	ws, we time.Time
	snap   map[string]string // instance id → change key
	seq    int               // mailbox log position of the snapshot
}

// round is one delta round of any collection, computed whole when it
// starts: its entries and the state S its delta token will stand for.
type round[S any] struct {
	entries []any
	next    S
	token   string // the delta token, made when the last page is first served
}

// roundPage is where a skip token points; serving it again (a retry) gives
// the same page and links.
type roundPage[S any] struct {
	round *round[S]
	off   int
	next  map[int]string // end offset → skip token of the following page
}

type (
	deltaSession = round[*deltaState]
	deltaPage    = roundPage[*deltaState]
)

// servePage answers with page pg of its round, size entries of the
// collection of entity (event, contact, todoTask), and a nextLink to the
// rest (remembered in pages) or, on the last page, the deltaLink of the
// round's end state (remembered in deltas). A page has either link, never
// both.
func servePage[S any](s *Server, q *req, pg *roundPage[S], size int, entity string, pages map[string]*roundPage[S], deltas map[string]S) {
	r := pg.round
	end := min(pg.off+size, len(r.entries))
	out := map[string]any{
		"@odata.context": s.URL + "/$metadata#Collection(" + entity + ")",
		"value":          append([]any{}, r.entries[pg.off:end]...),
	}
	link := s.URL + strings.TrimPrefix(q.r.URL.EscapedPath(), "/v1.0")
	if end < len(r.entries) {
		if pg.next == nil {
			pg.next = map[int]string{}
		}
		tok := pg.next[end]
		if tok == "" {
			tok = randomToken()
			pg.next[end] = tok
			pages[tok] = &roundPage[S]{round: r, off: end}
		}
		out["@odata.nextLink"] = link + "?$skiptoken=" + tok
	} else {
		if r.token == "" {
			r.token = randomToken()
			deltas[r.token] = r.next
		}
		out["@odata.deltaLink"] = link + "?$deltatoken=" + r.token
	}
	q.json(http.StatusOK, out)
}

// defaultDeltaPage is the page size without Prefer: odata.maxpagesize (our
// choice; not documented).
const defaultDeltaPage = 50

func (s *Server) delta(q *req, mb *mailbox) {
	qs := q.r.URL.Query()
	for k := range qs {
		if strings.HasPrefix(k, "$") && k != "$skiptoken" && k != "$deltatoken" {
			// $select, $filter, $expand, $orderby, $search are not supported
			// on calendarView delta in v1.0; nor, here, $top and the rest.
			q.failf(http.StatusBadRequest, "ErrorInvalidUrlQuery", "The query parameter '%s' is not supported with calendarView delta.", k)
			return
		}
	}
	var pg *deltaPage
	switch {
	case qs.Has("$skiptoken"):
		if pg = mb.pages[qs.Get("$skiptoken")]; pg == nil {
			s.gone(q, nil)
			return
		}
	case qs.Get("$deltatoken") != "":
		st := mb.deltas[qs.Get("$deltatoken")]
		if st == nil {
			s.gone(q, mb.expired[qs.Get("$deltatoken")])
			return
		}
		pg = &deltaPage{round: s.deltaRound(mb, st.ws, st.we, st)}
	default:
		ws, we, ok := s.timeWindow(q)
		if !ok {
			return
		}
		pg = &deltaPage{round: s.deltaRound(mb, ws, we, nil)}
	}
	size := defaultDeltaPage
	if v, err := strconv.Atoi(q.prefer["odata.maxpagesize"]); err == nil && v > 0 {
		size = v
	}
	servePage(s, q, pg, size, "event", mb.pages, mb.deltas)
}

// gone answers an unknown or expired token: 410 with a Location whose
// $deltatoken is empty (a synchronisation reset, delta-query-overview) and
// the observed SyncStateNotFound.
func (s *Server) gone(q *req, st *deltaState) {
	loc := s.URL + strings.TrimPrefix(q.r.URL.EscapedPath(), "/v1.0") + "?"
	if st != nil {
		v := url.Values{}
		v.Set("startDateTime", st.ws.Format(time.RFC3339))
		v.Set("endDateTime", st.we.Format(time.RFC3339))
		loc += v.Encode() + "&"
	}
	q.w.Header().Set("Location", loc+"$deltatoken=")
	q.fail(http.StatusGone, "SyncStateNotFound", "The sync state generation is not found; the delta token has expired or is unknown. Synchronise again from the start.")
}

// deltaRound computes a round over [ws, we) since prev (nil: the initial
// round).
func (s *Server) deltaRound(mb *mailbox, ws, we time.Time, prev *deltaState) *deltaSession {
	next := &deltaState{ws: ws, we: we, snap: map[string]string{}, seq: mb.logSeq}
	sess := &deltaSession{next: next, entries: []any{}}
	for _, e := range mb.window(ws, we) {
		next.snap[e.ID] = e.ChangeKey
		if prev == nil || prev.snap[e.ID] != e.ChangeKey {
			m := render(&e)
			m["@odata.type"] = "#microsoft.graph.event"
			sess.entries = append(sess.entries, m)
		}
	}
	if prev == nil {
		return sess
	}
	removed := map[string]bool{}
	var ids []string
	// Instances that left the window: deleted, cancelled or moved out.
	for id := range prev.snap {
		if _, ok := next.snap[id]; !ok {
			ids = append(ids, id)
			removed[id] = true
		}
	}
	sort.Strings(ids)
	// Items outside the window added, updated or deleted since: ids of
	// single instances, series masters (for changes to a whole series) and
	// occurrences. Clients filter these against their own window.
	for _, le := range mb.log {
		if _, in := next.snap[le.id]; le.seq > prev.seq && !in && !removed[le.id] {
			ids = append(ids, le.id)
			removed[le.id] = true
		}
	}
	for _, id := range ids {
		sess.entries = append(sess.entries, map[string]any{
			"@odata.type": "#microsoft.graph.event", "id": id, "@removed": map[string]any{"reason": "deleted"},
		})
	}
	return sess
}
