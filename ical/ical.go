// Package ical maps tidbro bodies to and from iCalendar (RFC 5545) and vCard
// (RFC 6350 and 2426).
//
// Time zones: tidbro keeps UTC instants plus an IANA zone name. On decode, a
// TZID that is an IANA name (or a common Windows name, see windowsZones) is
// loaded from the zone database and becomes Event.TimeZone. Any other TZID is
// resolved through the calendar's VTIMEZONE: the STANDARD/DAYLIGHT onsets
// (DTSTART, yearly RRULE, RDATE) pick the offset in force, and before the
// first onset its TZOFFSETFROM holds. TimeZone stays empty then, as the zone
// has no IANA name. A TZID with neither is an error. Floating times (no TZID,
// no Z) are read as UTC and leave TimeZone empty. All-day values are dates at
// midnight UTC, DTEND exclusive; an all-day event's TimeZone is not written.
//
// On encode, times are written with TZID=Event.TimeZone plus a VTIMEZONE
// generated from Go's zone data, holding the transitions of the year of the
// start as yearly rules (right for zones whose rules have not changed since;
// clients that know the IANA name use their own data anyway). Without a
// TimeZone, times are written in UTC.
//
// Encoding from raw (the remote's previous version) keeps what tidbro does
// not model: calendar properties, other components, unknown and X-
// properties, vCard fields and Apple item groups. Not mapped: Event.Extra,
// Task.Extra, Task.Assignee, Contact.Extra; alarm RELATED=END (read as
// relative to the start); attendee parameters beyond CN, ROLE and PARTSTAT.
package ical

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/wintz"
)

// ProdID is written into every calendar tidbro produces.
const ProdID = "-//tidbro//tidbro//EN"

// ErrOtherComponent is the error of DecodeEvent for a calendar object that
// holds only other components (a VTODO, a VJOURNAL), and of DecodeTask for
// one without a VTODO: collections may mix them, and each pair reads its own.
var ErrOtherComponent = errors.New("ical: the calendar object holds another kind of component")

// otherComponent reports whether cal holds a component that is neither
// want nor a time zone.
func otherComponent(cal *goical.Calendar, want string) bool {
	for _, c := range cal.Children {
		if c.Name != want && c.Name != goical.CompTimezone {
			return true
		}
	}
	return false
}

// safely turns a panic in the parsing libraries into an error: bad input
// from a remote must never take the server down.
func safely(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("ical: invalid %s: %v", what, r)
	}
}

func parseCalendar(b []byte) (*goical.Calendar, error) {
	cal, err := goical.NewDecoder(bytes.NewReader(b)).Decode()
	if err != nil {
		return nil, fmt.Errorf("ical: cannot parse iCalendar: %w", err)
	}
	return cal, nil
}

// zones resolves TZIDs of one calendar.
type zones struct {
	vtz map[string]*goical.Component
}

func newZones(cal *goical.Calendar) *zones {
	z := &zones{vtz: map[string]*goical.Component{}}
	for _, c := range cal.Children {
		if c.Name == goical.CompTimezone {
			if p := c.Props.Get(goical.PropTimezoneID); p != nil {
				z.vtz[p.Value] = c
			}
		}
	}
	return z
}

// ianaName returns the IANA zone for a TZID, if there is one.
// Windows names (Outlook's "W. Europe Standard Time") map through CLDR's
// table; an IANA name is taken as it is ("UTC" is both).
func ianaName(tzid string) (string, *time.Location) {
	tzid = strings.TrimPrefix(tzid, "/") // "globally unique" TZIDs
	if tzid == "" || tzid == "Local" || strings.Contains(tzid, "..") {
		return "", nil
	}
	if loc, err := tidbro.LoadZone(tzid); err == nil {
		return tzid, loc
	}
	if n, ok := wintz.ToIANA(tzid); ok {
		if loc, err := tidbro.LoadZone(n); err == nil {
			return n, loc
		}
	}
	return "", nil
}

// parseTime reads one date or date-time value with the parameters of its
// property. It returns the instant, whether it is a date, and the IANA zone.
func (z *zones) parseTime(value string, params goical.Params) (t time.Time, date bool, zone string, err error) {
	t, date, zone, err = z.parseTime1(value, params)
	if err == nil && (t.Year() < 2 || t.Year() > 9998) {
		err = fmt.Errorf("%q is out of range", value) // it could not be written back
	}
	return t, date, zone, err
}

func (z *zones) parseTime1(value string, params goical.Params) (t time.Time, date bool, zone string, err error) {
	value = strings.TrimSpace(value)
	if i := strings.IndexByte(value, '/'); i >= 0 { // a PERIOD: its start
		value = value[:i]
	}
	if strings.EqualFold(params.Get(goical.ParamValue), "DATE") || len(value) == 8 {
		t, err = time.Parse("20060102", value)
		return t, true, "", err
	}
	if strings.HasSuffix(value, "Z") {
		t, err = time.Parse("20060102T150405Z", value)
		return t, false, "", err
	}
	local, err := time.Parse("20060102T150405", value)
	if err != nil {
		return t, false, "", err
	}
	tzid := params.Get(goical.ParamTimezoneID)
	if tzid == "" {
		return local, false, "", nil // floating: read as UTC
	}
	if name, loc := ianaName(tzid); loc != nil {
		t = time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), local.Second(), 0, loc)
		return t.UTC(), false, name, nil
	}
	vtz := z.vtz[tzid]
	if vtz == nil {
		return t, false, "", fmt.Errorf("unknown time zone %q (not an IANA name and no VTIMEZONE)", tzid)
	}
	off, err := vtimezoneOffset(vtz, local)
	if err != nil {
		return t, false, "", fmt.Errorf("time zone %q: %w", tzid, err)
	}
	return local.Add(-off), false, "", nil
}

// vtimezoneOffset returns the UTC offset in force at the local wall time
// (given as if it were UTC): that of the latest STANDARD or DAYLIGHT onset
// not after it. Onsets are compared in wall time, which is off by the DST
// delta for an hour around each transition; that is accepted.
func vtimezoneOffset(vtz *goical.Component, local time.Time) (time.Duration, error) {
	var best, first time.Time
	var bestOff, firstOff time.Duration
	found, any := false, false
	for _, obs := range vtz.Children {
		if obs.Name != goical.CompTimezoneStandard && obs.Name != goical.CompTimezoneDaylight {
			continue
		}
		to, from := obs.Props.Get(goical.PropTimezoneOffsetTo), obs.Props.Get(goical.PropTimezoneOffsetFrom)
		if to == nil {
			continue
		}
		off, err := parseOffset(to.Value)
		if err != nil {
			return 0, err
		}
		before := off
		if from != nil {
			if before, err = parseOffset(from.Value); err != nil {
				return 0, err
			}
		}
		dtp := obs.Props.Get(goical.PropDateTimeStart)
		if dtp == nil {
			continue
		}
		start, err := time.Parse("20060102T150405", dtp.Value)
		if err != nil {
			continue
		}
		if !any || start.Before(first) { // before every onset, the first one's TZOFFSETFROM holds
			first, firstOff, any = start, before, true
		}
		onsets := []time.Time{start}
		if rp := obs.Props.Get(goical.PropRecurrenceRule); rp != nil {
			// Only plain yearly rules (what zones use): anything finer could make
			// a hostile VTIMEZONE expand for minutes.
			opt, err := rrule.StrToROption(rp.Value)
			if err == nil && opt.Freq == rrule.YEARLY && opt.Interval <= 1 && len(opt.Byhour)+len(opt.Byminute)+len(opt.Bysecond) == 0 {
				opt.Dtstart = start
				// rrule-go stops iterating after a few hundred years, and Outlook
				// starts its rules in 1601: move a yearly, uncounted rule closer.
				if y := local.Year() - 2; opt.Freq == rrule.YEARLY && opt.Count == 0 && start.Year() < y {
					opt.Dtstart = start.AddDate(y-start.Year(), 0, 0)
				}
				if !opt.Until.IsZero() {
					opt.Until = opt.Until.Add(before) // UNTIL is UTC; compare in wall time
				}
				if r, err := rrule.NewRRule(*opt); err == nil {
					if t := r.Before(local, true); !t.IsZero() {
						onsets = append(onsets, t)
					}
				}
			}
		}
		for _, rd := range obs.Props.Values(goical.PropRecurrenceDates) {
			for _, v := range strings.Split(rd.Value, ",") {
				if t, err := time.Parse("20060102T150405", v); err == nil {
					onsets = append(onsets, t)
				}
			}
		}
		for _, t := range onsets {
			if !t.After(local) && (!found || t.After(best)) {
				best, bestOff, found = t, off, true
			}
		}
	}
	switch {
	case found:
		return bestOff, nil
	case any:
		return firstOff, nil
	}
	return 0, fmt.Errorf("VTIMEZONE has no usable STANDARD or DAYLIGHT onset")
}

// parseOffset reads a UTC-OFFSET such as "+0200" or "-053000".
func parseOffset(s string) (time.Duration, error) {
	if len(s) != 5 && len(s) != 7 || (s[0] != '+' && s[0] != '-') {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	var h, m, sec int
	if _, err := fmt.Sscanf(s[1:5], "%02d%02d", &h, &m); err != nil {
		return 0, fmt.Errorf("bad UTC offset %q", s)
	}
	if len(s) == 7 {
		if _, err := fmt.Sscanf(s[5:], "%02d", &sec); err != nil {
			return 0, fmt.Errorf("bad UTC offset %q", s)
		}
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if s[0] == '-' {
		d = -d
	}
	return d, nil
}

func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	if sec%60 != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, sec/3600, sec/60%60, sec%60)
	}
	return fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
}

// vtimezone returns the VTIMEZONE text for loc, named name (as ianaName
// returns them), in the given year. Zones do not change while tidbro runs,
// and a sync writes thousands of events in a few zones and years, so the
// text is built once per name and year (see buildVTimezone).
func vtimezone(name string, loc *time.Location, year int) string {
	key := vtimezoneKey{name, year}
	if s, ok := vtimezones.Load(key); ok {
		return s.(string)
	}
	s := buildVTimezone(name, loc, year)
	if vtimezoneN.Load() < maxVTimezones { // bounded: zone names come from remotes
		// A clone: the name may be part of a bigger string (a parsed item).
		if _, had := vtimezones.LoadOrStore(vtimezoneKey{strings.Clone(name), year}, s); !had {
			vtimezoneN.Add(1)
		}
	}
	return s
}

type vtimezoneKey struct {
	name string
	year int
}

const maxVTimezones = 1024

var (
	vtimezones sync.Map // vtimezoneKey → string
	vtimezoneN atomic.Int32
)

// buildVTimezone builds a VTIMEZONE for loc from the transitions of the
// given year, each as a yearly rule on its weekday of the month. Zones whose
// rules changed in other years are right for that year only; clients that
// know the IANA name (most) use their own data anyway.
func buildVTimezone(name string, loc *time.Location, year int) string {
	var w writer
	w.begin(goical.CompTimezone)
	w.raw(goical.PropTimezoneID, name)
	observance := func(kind, start string, from, to int, abbr, rule string) {
		w.begin(kind)
		w.raw(goical.PropDateTimeStart, start)
		w.raw(goical.PropTimezoneOffsetFrom, formatOffset(from))
		w.raw(goical.PropTimezoneOffsetTo, formatOffset(to))
		w.raw(goical.PropTimezoneName, abbr)
		if rule != "" {
			w.raw(goical.PropRecurrenceRule, rule)
		}
		w.end()
	}
	n := 0
	t := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	for {
		_, end := t.ZoneBounds()
		// Go's bounds past the zone data's last transition can stop at
		// 31 December of a leap year and repeat from there: without the
		// !After check, 2040 in Europe/Stockholm looped for ever.
		if end.IsZero() || end.Year() > year || !end.After(t) {
			break
		}
		_, fromOff := t.Zone()
		t = end
		abbr, toOff := t.Zone()
		kind := goical.CompTimezoneStandard
		if t.IsDST() {
			kind = goical.CompTimezoneDaylight
		}
		wall := end.In(time.FixedZone("", fromOff))
		week := (wall.Day()-1)/7 + 1
		if wall.AddDate(0, 0, 7).Month() != wall.Month() {
			week = -1
		}
		day := strings.ToUpper(wall.Weekday().String()[:2])
		observance(kind, wall.Format("20060102T150405"), fromOff, toOff, abbr,
			fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", wall.Month(), week, day))
		n++
	}
	if n == 0 { // no transitions: one fixed offset
		abbr, off := t.Zone()
		observance(goical.CompTimezoneStandard, "19700101T000000", off, off, abbr, "")
	}
	w.end()
	return string(w.out)
}

func text(props goical.Props, name string) string {
	p := props.Get(name)
	if p == nil {
		return ""
	}
	s, err := p.Text()
	if err != nil {
		return p.Value
	}
	return s
}

func categories(props goical.Props) []string {
	var out []string
	for _, p := range props.Values(goical.PropCategories) {
		l, _ := p.TextList()
		for _, c := range l {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
	}
	return out
}

// rawCalendar parses raw (the remote's previous version), if there is one,
// and sorts its components: those named drop, which the encoder rewrites,
// into old; VTIMEZONEs away (the encoder writes its own); the others stay
// in cal.Children, to be kept as they are.
func rawCalendar(raw []byte, drop string) (cal *goical.Calendar, old []*goical.Component, z *zones, err error) {
	if len(raw) == 0 {
		return nil, nil, nil, nil
	}
	cal, err = parseCalendar(raw)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("raw: %w", err)
	}
	z = newZones(cal)
	kids := cal.Children
	cal.Children = nil
	for _, k := range kids {
		switch k.Name {
		case goical.CompTimezone:
		case drop:
			old = append(old, k)
		default:
			cal.Children = append(cal.Children, k)
		}
	}
	return cal, old, z, nil
}

// beginCalendar starts a VCALENDAR with raw's properties, VERSION and
// PRODID set, and the components kept from raw (cal may be nil).
func (w *writer) beginCalendar(cal *goical.Calendar) {
	w.begin(goical.CompCalendar)
	w.text(goical.PropProductID, ProdID)
	w.text(goical.PropVersion, "2.0")
	if cal == nil {
		return
	}
	for key, ps := range cal.Props {
		if key != goical.PropVersion && key != goical.PropProductID {
			for i := range ps {
				w.prop(&ps[i])
			}
		}
	}
	for _, k := range cal.Children {
		w.tree(k)
	}
}

// newUID makes a UID for a body that has none: a random prefix drawn once
// per process, and a count. Unique all the same, and a create does not
// wait on the kernel's random source (a syscall of several µs here).
func newUID() string {
	return uidPrefix + strconv.FormatUint(uidCount.Add(1), 36) + "@tidbro"
}

var (
	uidPrefix = rand.Text() + "-"
	uidCount  atomic.Uint64
)

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
