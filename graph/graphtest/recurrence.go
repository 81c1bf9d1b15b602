package graphtest

import (
	"sort"
	"time"
)

// Recurrence as documented in learn.microsoft.com/graph/api/resources/recurrencepattern
// and .../recurrencerange.

var (
	patternTypes = []string{"daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"}
	rangeTypes   = []string{"endDate", "noEnd", "numbered"}
	weekdays     = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"} // by time.Weekday
	indexes      = []string{"first", "second", "third", "fourth", "last"}
)

// checkRecurrence validates e's recurrence against the documented required
// fields and writes it in canonical form. A field the pattern type does not
// use must be left at its zero value ("properties with unsupported values
// cause an error"); the range must start on the event's start date in the
// recurrence time zone.
func checkRecurrence(e *Event) *apiError {
	p, rg := &e.Recurrence.Pattern, &e.Recurrence.Range
	var ok bool
	if p.Type, ok = enumValue(patternTypes, p.Type); !ok {
		return invalid("recurrence.pattern.type must be one of %v", patternTypes)
	}
	if p.Interval < 1 {
		return invalid("recurrence.pattern.interval must be at least 1")
	}
	for i, d := range p.DaysOfWeek {
		if p.DaysOfWeek[i], ok = enumValue(weekdays, d); !ok {
			return invalid("recurrence.pattern.daysOfWeek: %q is not a day", d)
		}
	}
	if p.DaysOfWeek == nil {
		p.DaysOfWeek = []string{}
	}
	if p.FirstDayOfWeek, ok = enumValue(weekdays, cmpOr(p.FirstDayOfWeek, "sunday")); !ok {
		return invalid("recurrence.pattern.firstDayOfWeek must be a day")
	}
	if p.Index, ok = enumValue(indexes, cmpOr(p.Index, "first")); !ok {
		return invalid("recurrence.pattern.index must be one of %v", indexes)
	}
	days := p.Type == "weekly" || p.Type == "relativeMonthly" || p.Type == "relativeYearly"
	dom := p.Type == "absoluteMonthly" || p.Type == "absoluteYearly"
	month := p.Type == "absoluteYearly" || p.Type == "relativeYearly"
	switch {
	case days != (len(p.DaysOfWeek) > 0):
		return invalid("recurrence.pattern.daysOfWeek is required for weekly and relative patterns, and unsupported for %s", p.Type)
	case dom != (p.DayOfMonth != 0), p.DayOfMonth < 0, p.DayOfMonth > 31:
		return invalid("recurrence.pattern.dayOfMonth (1-31) is required for absolute patterns, and unsupported for %s", p.Type)
	case month != (p.Month != 0), p.Month < 0, p.Month > 12:
		return invalid("recurrence.pattern.month (1-12) is required for yearly patterns, and unsupported for %s", p.Type)
	}
	if rg.Type, ok = enumValue(rangeTypes, rg.Type); !ok {
		return invalid("recurrence.range.type must be one of %v", rangeTypes)
	}
	sd, err := time.Parse(dateLayout, rg.StartDate)
	if err != nil {
		return invalid("recurrence.range.startDate must be a date (2006-01-02)")
	}
	switch rg.Type {
	case "endDate":
		ed, err := time.Parse(dateLayout, rg.EndDate)
		if err != nil || ed.Before(sd) {
			return invalid("recurrence.range.endDate must be a date not before startDate")
		}
		rg.NumberOfOccurrences = 0
	case "numbered":
		if rg.NumberOfOccurrences < 1 {
			return invalid("recurrence.range.numberOfOccurrences must be positive")
		}
		rg.EndDate = "0001-01-01"
	default:
		rg.EndDate, rg.NumberOfOccurrences = "0001-01-01", 0
	}
	if rg.RecurrenceTimeZone != "" {
		z, err := zone(rg.RecurrenceTimeZone)
		if err != nil {
			return zoneError(err, "recurrence.range.recurrenceTimeZone")
		}
		rg.RecurrenceTimeZone = z.windows
	}
	if first := civil(newExpander(e).first); !first.Equal(sd) {
		return invalid("recurrence.range.startDate %s must be the event's start date (%s in the recurrence time zone)", rg.StartDate, first.Format(dateLayout))
	}
	return nil
}

// expander lays a series' pattern out in time.
type expander struct {
	r     *PatternedRecurrence
	loc   *time.Location // the recurrence time zone, or the event's
	first time.Time      // the master's start in loc (all-day: floating, in UTC)
	dur   time.Duration
}

func newExpander(m *Event) expander {
	x := expander{r: m.Recurrence, loc: time.UTC, first: m.startTime(), dur: m.endTime().Sub(m.startTime())}
	if !m.IsAllDay {
		if z, err := zone(cmpOr(m.Recurrence.Range.RecurrenceTimeZone, m.OriginalStartTimeZone)); err == nil {
			x.loc = z.loc
		}
		x.first = x.first.In(x.loc)
	}
	return x
}

// maxPeriods bounds a walk through a pattern (days, weeks, months or years).
const maxPeriods = 200000

// each yields the original starts (UTC) of the series' occurrences in
// order, cancelled and modified ones included, until yield returns false or
// the range ends. Occurrences keep the master's wall-clock time in the
// recurrence time zone, across DST changes.
func (x expander) each(yield func(time.Time) bool) {
	p, rg := x.r.Pattern, x.r.Range
	sd, _ := time.Parse(dateLayout, rg.StartDate)
	ed, _ := time.Parse(dateLayout, rg.EndDate)
	h, mi, se := x.first.Clock()
	var days [7]bool
	for _, d := range p.DaysOfWeek {
		days[weekdayOf(d)] = true
	}
	count := 0
	emit := func(d time.Time) bool {
		switch {
		case d.Before(sd):
			return true
		case rg.Type == "endDate" && d.After(ed), rg.Type == "numbered" && count >= rg.NumberOfOccurrences:
			return false
		}
		count++
		return yield(time.Date(d.Year(), d.Month(), d.Day(), h, mi, se, 0, x.loc).UTC())
	}
	weekStart := sd.AddDate(0, 0, -((int(sd.Weekday()) - weekdayOf(p.FirstDayOfWeek) + 7) % 7))
	for i := 0; i < maxPeriods; i++ {
		n := i * p.Interval
		switch p.Type {
		case "daily":
			if !emit(sd.AddDate(0, 0, n)) {
				return
			}
		case "weekly":
			w := weekStart.AddDate(0, 0, 7*n)
			for j := range 7 {
				if d := w.AddDate(0, 0, j); days[d.Weekday()] && !emit(d) {
					return
				}
			}
		case "absoluteMonthly", "relativeMonthly":
			m := time.Date(sd.Year(), sd.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
			if d, ok := dayIn(m, p, days); ok && !emit(d) {
				return
			}
		case "absoluteYearly", "relativeYearly":
			m := time.Date(sd.Year()+n, time.Month(p.Month), 1, 0, 0, 0, 0, time.UTC)
			if d, ok := dayIn(m, p, days); ok && !emit(d) {
				return
			}
		}
	}
}

// dayIn is the pattern's day in the month starting at m: dayOfMonth for the
// absolute types (the month's last day when it is shorter: our choice,
// Outlook's behaviour is not in the brief), or the index-th day of the month
// that falls on one of daysOfWeek for the relative ones (so "first" of
// monday..friday is the first weekday).
func dayIn(m time.Time, p RecurrencePattern, days [7]bool) (time.Time, bool) {
	last := m.AddDate(0, 1, -1).Day()
	if p.Type == "absoluteMonthly" || p.Type == "absoluteYearly" {
		return m.AddDate(0, 0, min(p.DayOfMonth, last)-1), true
	}
	var match []time.Time
	for d := range last {
		if t := m.AddDate(0, 0, d); days[t.Weekday()] {
			match = append(match, t)
		}
	}
	i := weekdayIndex(p.Index)
	switch {
	case len(match) == 0:
		return time.Time{}, false
	case i < 0:
		return match[len(match)-1], true
	case i < len(match):
		return match[i], true
	}
	return time.Time{}, false
}

func weekdayOf(name string) int {
	for i, d := range weekdays {
		if d == name {
			return i
		}
	}
	return 0
}

// weekdayIndex is 0..3 for first..fourth and -1 for last.
func weekdayIndex(name string) int {
	if name == "last" {
		return -1
	}
	for i, x := range indexes {
		if x == name {
			return i
		}
	}
	return 0
}

func overlaps(start, end, ws, we time.Time) bool {
	if start.Equal(end) {
		return !start.Before(ws) && start.Before(we)
	}
	return start.Before(we) && end.After(ws)
}

// isOccurrence reports whether orig is an original start of m's pattern.
func isOccurrence(m *Event, orig time.Time) bool {
	found := false
	newExpander(m).each(func(t time.Time) bool {
		found = t.Equal(orig)
		return t.Before(orig)
	})
	return found
}

// neighbours are the original starts of the pattern before and after orig
// (zero when there is none).
func neighbours(m *Event, orig time.Time) (prev, next time.Time) {
	newExpander(m).each(func(t time.Time) bool {
		switch {
		case t.Before(orig):
			prev = t
		case t.After(orig):
			next = t
			return false
		}
		return true
	})
	return prev, next
}

// seriesInstances are the members of series m overlapping [ws, we):
// occurrences that are neither cancelled nor modified, and exceptions where
// they now are.
func seriesInstances(m *Event, ws, we time.Time) []Event {
	skip := map[int64]bool{}
	for _, t := range m.Cancelled {
		skip[t.UnixNano()] = true
	}
	for _, x := range m.Exceptions {
		skip[x.OriginalStart.UnixNano()] = true
	}
	x := newExpander(m)
	var out []Event
	x.each(func(t time.Time) bool {
		if !t.Before(we) {
			return false
		}
		if !skip[t.UnixNano()] && overlaps(t, t.Add(x.dur), ws, we) {
			out = append(out, occurrence(m, t))
		}
		return true
	})
	for _, ex := range m.Exceptions {
		if overlaps(ex.startTime(), ex.endTime(), ws, we) {
			out = append(out, ex.clone())
		}
	}
	sortByStart(out)
	return out
}

func sortByStart(es []Event) {
	sort.SliceStable(es, func(i, j int) bool {
		if a, b := es[i].Start.DateTime, es[j].Start.DateTime; a != b {
			return a < b
		}
		return es[i].ID < es[j].ID
	})
}

// occurrenceIDBeta is an occurrence's occurrenceId, "OID.{seriesMasterId}.
// {date in the recurrence time zone}", the form of cancelledOccurrences.
func occurrenceIDBeta(m *Event, orig time.Time) string {
	return "OID." + m.ID + "." + orig.In(newExpander(m).loc).Format(dateLayout)
}
