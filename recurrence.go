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

// rruleOrder is the order NormalizeRRule writes a rule's parts in.
var rruleOrder = []string{"FREQ", "COUNT", "UNTIL", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
	"BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST"}

// NormalizeRRule writes a RECUR value in one canonical order, with
// upper-case names, so that the same rule reads the same from every server
// (Xandikos, for one, reorders the parts).
func NormalizeRRule(rule string) string {
	rule = strings.TrimPrefix(strings.TrimSpace(rule), "RRULE:")
	if rule == "" {
		return ""
	}
	parts := map[string]string{}
	var names []string
	for _, p := range strings.Split(rule, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return rule // not ours to fix: validation reports it
		}
		k = strings.ToUpper(strings.TrimSpace(k))
		if _, dup := parts[k]; !dup {
			names = append(names, k)
		}
		parts[k] = strings.TrimSpace(v)
	}
	var out []string
	for _, k := range rruleOrder {
		if v, ok := parts[k]; ok {
			out = append(out, k+"="+v)
			delete(parts, k)
		}
	}
	for _, k := range names {
		if v, ok := parts[k]; ok {
			out = append(out, k+"="+v)
		}
	}
	return strings.Join(out, ";")
}
