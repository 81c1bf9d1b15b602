package tidbro

import (
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// maxExpand bounds how many instances are walked to find the end of a
// COUNT-limited series; longer series are treated as unbounded, which only
// widens window queries.
const maxExpand = 100_000

type recurrence struct {
	rule  *rrule.RRule
	opt   *rrule.ROption
	until time.Time
}

// recurrence parses the event's RRULE anchored at its start, in its zone, so
// that daylight-saving changes keep the wall-clock time.
func (e *Event) recurrence() (*recurrence, error) {
	s := strings.TrimPrefix(strings.TrimSpace(e.RRule), "RRULE:")
	if strings.ContainsAny(s, "\r\n") || strings.Contains(strings.ToUpper(s), "DTSTART") {
		return nil, Invalid("rrule", "rrule is a single RECUR value such as FREQ=WEEKLY;BYDAY=MO, without DTSTART")
	}
	loc := zoneOrUTC(e.TimeZone)
	if e.AllDay {
		loc = time.UTC
	}
	opt, err := rrule.StrToROptionInLocation(s, loc)
	if err != nil {
		return nil, Invalid("rrule", "invalid RRULE %q: %v", e.RRule, err)
	}
	if opt.Count < 0 || opt.Interval < 0 {
		return nil, Invalid("rrule", "invalid RRULE %q: COUNT and INTERVAL must be positive", e.RRule)
	}
	if opt.Count > 0 && !opt.Until.IsZero() {
		return nil, Invalid("rrule", "invalid RRULE %q: COUNT and UNTIL cannot both be given", e.RRule)
	}
	if len(opt.Byeaster) > 0 {
		return nil, Invalid("rrule", "invalid RRULE %q: BYEASTER is not part of RFC 5545", e.RRule)
	}
	until := opt.Until
	opt.Dtstart = e.Start.In(loc)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, Invalid("rrule", "invalid RRULE %q: %v", e.RRule, err)
	}
	return &recurrence{rule: r, opt: opt, until: until}, nil
}

// last returns the start of the last instance, or bounded=false when the
// series has no end (or one too far to walk to).
func (r *recurrence) last() (t time.Time, bounded bool) {
	if !r.until.IsZero() {
		// UNTIL bounds every instance start; it is a cheap, safe upper bound.
		return r.until, true
	}
	if r.opt.Count == 0 || r.opt.Count > maxExpand {
		return time.Time{}, false
	}
	next := r.rule.Iterator()
	for {
		v, ok := next()
		if !ok {
			return t, !t.IsZero()
		}
		t = v
	}
}

// between returns the instance starts in [from, to].
func (r *recurrence) between(from, to time.Time) []time.Time {
	out := r.rule.Between(from, to, true)
	for i := range out {
		out[i] = out[i].UTC()
	}
	return out
}
