package ical

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	goical "github.com/emersion/go-ical"
)

// writer renders iCalendar and vCard text straight into a buffer. The
// encoders used to build go-ical and go-vcard trees only to serialise them,
// which was most of their cost; writer produces the bytes those libraries'
// encoders produced: properties sorted by name (in the order added within
// a name), parameters sorted by name, no line folding. For iCalendar it
// also drops line breaks from values (which go-ical refuses) and refuses
// what go-ical's encoder refuses, so raw that breaks the rules still makes
// the encoders fall back to writing without it.
type writer struct {
	out   []byte   // finished text
	props []byte   // the open component's property lines, as added
	lines []line   // their places in props
	stack []open   // components begun and not ended
	keys  []string // scratch for sorting parameter names
	err   error    // the first refusal
}

// line is a property line in props, and its key, the name it sorts by
// (its key in a go-ical or go-vcard map; after the group in vCard). No
// pointers: sorting lines then needs no write barriers.
type line struct {
	start, keyStart, keyEnd, end int
}

func (w *writer) key(l line) []byte { return w.props[l.keyStart:l.keyEnd] }

type open struct {
	name    string
	kids    int
	flushed bool // its properties are in out
}

var writers = sync.Pool{New: func() any { return new(writer) }}

// getWriter returns an empty writer from the pool: the sync client renders
// thousands of items, and reusing buffers saves most allocations.
func getWriter() *writer {
	w := writers.Get().(*writer)
	w.out, w.props, w.lines, w.stack, w.err = w.out[:0], w.props[:0], w.lines[:0], w.stack[:0], nil
	return w
}

// release returns w to the pool unless its buffers grew big (a contact's
// photo): those are left to the garbage collector.
func (w *writer) release() {
	if cap(w.out) > 64<<10 || cap(w.props) > 64<<10 {
		return
	}
	clear(w.stack[:cap(w.stack)])
	clear(w.keys[:cap(w.keys)]) // they may point into a parsed raw
	writers.Put(w)
}

// bytes returns a copy of the text (w's buffer goes back to the pool), or
// the first refusal, worded as the encoders always have.
func (w *writer) bytes() ([]byte, error) {
	if w.err != nil {
		return nil, fmt.Errorf("ical: %w", w.err)
	}
	return bytes.Clone(w.out), nil
}

func (w *writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
}

// begin starts a component, after its parent's properties.
func (w *writer) begin(name string) {
	if n := len(w.stack); n > 0 {
		w.flush()
		w.stack[n-1].kids++
		w.checkChild(w.stack[n-1].name, name)
	}
	w.out = append(w.out, "BEGIN:"...)
	w.out = append(w.out, name...)
	w.out = append(w.out, "\r\n"...)
	w.stack = append(w.stack, open{name: name})
}

func (w *writer) end() {
	w.flush()
	top := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	w.checkKids(top.name, top.kids)
	w.out = append(w.out, "END:"...)
	w.out = append(w.out, top.name...)
	w.out = append(w.out, "\r\n"...)
}

// component writes a rendered component (a cached VTIMEZONE) as a child.
func (w *writer) component(text string) {
	w.flush()
	w.stack[len(w.stack)-1].kids++
	w.out = append(w.out, text...)
}

// flush moves the open component's properties to out, sorted by name as
// both libraries' encoders sort them.
func (w *writer) flush() {
	top := &w.stack[len(w.stack)-1]
	if top.flushed {
		return
	}
	top.flushed = true
	slices.SortStableFunc(w.lines, func(a, b line) int { return bytes.Compare(w.key(a), w.key(b)) })
	w.checkProps(top.name)
	for _, l := range w.lines {
		w.out = append(w.out, w.props[l.start:l.end]...)
	}
	w.props, w.lines = w.props[:0], w.lines[:0]
}

// startProp starts a property line with its name.
func (w *writer) startProp(name string) {
	n := len(w.props)
	w.props = append(w.props, name...)
	w.lines = append(w.lines, line{start: n, keyStart: n, keyEnd: len(w.props)})
}

func (w *writer) endLine() {
	w.props = append(w.props, "\r\n"...)
	w.lines[len(w.lines)-1].end = len(w.props)
}

var errParamQuote = errors.New("ical: failed to encode param value: contains a double-quote")

// param writes one iCalendar parameter value, quoted when it holds a
// separator; go-ical refuses a double quote, which cannot be escaped.
func (w *writer) param(name, v string) {
	w.props = append(w.props, ';')
	w.props = append(w.props, name...)
	w.props = append(w.props, '=')
	w.paramValue(v)
}

func (w *writer) paramValue(v string) {
	if hasBreak(v) {
		v = noBreaks.Replace(v)
	}
	if strings.IndexByte(v, '"') >= 0 {
		w.fail(errParamQuote)
	}
	if strings.IndexByte(v, ';') >= 0 || strings.IndexByte(v, ':') >= 0 || strings.IndexByte(v, ',') >= 0 {
		w.props = append(w.props, '"')
		w.props = append(w.props, v...)
		w.props = append(w.props, '"')
	} else {
		w.props = append(w.props, v...)
	}
}

// params writes a parsed property's parameters but skip.
func (w *writer) params(ps goical.Params, skip string) {
	keys := w.keys[:0]
	for k := range ps {
		if k != skip {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.props = append(w.props, ';')
		w.props = append(w.props, k...)
		w.props = append(w.props, '=')
		for i, v := range ps[k] {
			if i > 0 {
				w.props = append(w.props, ',')
			}
			w.paramValue(v)
		}
	}
	w.keys = keys
}

// noBreaks drops line breaks go-ical refuses in values (escaped TEXT has
// none left; a stray CR in a UID or URL from a sloppy remote can).
var noBreaks = strings.NewReplacer("\r", "", "\n", " ")

// value ends a property with a value written as it is (but for breaks).
func (w *writer) value(v string) {
	w.props = appendClean(append(w.props, ':'), v)
	w.endLine()
}

// appendClean appends s without line breaks: CRs dropped, LFs spaces.
func appendClean(dst []byte, s string) []byte {
	if hasBreak(s) {
		s = noBreaks.Replace(s)
	}
	return append(dst, s...)
}

// hasBreak is strings.ContainsAny(s, "\r\n"), which costs more.
func hasBreak(s string) bool {
	return strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0
}

// raw writes a property whose value needs no escaping (a URI, a RECUR).
func (w *writer) raw(name, v string) {
	w.startProp(name)
	w.value(v)
}

// text writes a TEXT property.
func (w *writer) text(name, v string) {
	w.startProp(name)
	w.props = append(w.props, ':')
	w.props = appendText(w.props, v)
	w.endLine()
}

// optText writes a TEXT property unless v is empty.
func (w *writer) optText(name, v string) {
	if v != "" {
		w.text(name, v)
	}
}

// intProp writes an INTEGER property.
func (w *writer) intProp(name string, n int) {
	w.startProp(name)
	w.props = strconv.AppendInt(append(w.props, ':'), int64(n), 10)
	w.endLine()
}

// textList writes a TEXT list (CATEGORIES).
func (w *writer) textList(name string, l []string) {
	w.startProp(name)
	w.props = append(w.props, ':')
	for i, v := range l {
		if i > 0 {
			w.props = append(w.props, ',')
		}
		w.props = appendText(w.props, v)
	}
	w.endLine()
}

// appendText escapes an RFC 5545 TEXT value as go-ical's SetTextList does,
// invalid UTF-8 becoming U+FFFD, and drops CRs (as appendClean does: LFs
// are escaped before).
func appendText(dst []byte, s string) []byte {
	run := 0 // s[run:i] is still to copy as it is
	for i := 0; i < len(s); {
		c := s[i]
		if !textSpecial[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				dst = append(dst, s[run:i]...)
				dst = utf8.AppendRune(dst, utf8.RuneError)
				run = i + 1
			}
			i += n
			continue
		}
		dst = append(dst, s[run:i]...)
		switch c {
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
		default:
			dst = append(dst, '\\', c)
		}
		run = i + 1
		i++
	}
	return append(dst, s[run:]...)
}

// textSpecial marks the bytes appendText looks at: those it escapes or
// drops, and those of multi-byte (or invalid) UTF-8.
var textSpecial = func() (t [256]bool) {
	for _, c := range "\\;,\n\r" {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < len(t); c++ {
		t[c] = true
	}
	return t
}()

// upper is strings.ToUpper, without its allocation for the values of
// tidbro's enums (statuses, actions), which most events have.
func upper(s string) string {
	switch s {
	case "display":
		return "DISPLAY"
	case "audio":
		return "AUDIO"
	case "email":
		return "EMAIL"
	case "confirmed":
		return "CONFIRMED"
	case "tentative":
		return "TENTATIVE"
	case "cancelled":
		return "CANCELLED"
	case "needs-action":
		return "NEEDS-ACTION"
	case "in-process":
		return "IN-PROCESS"
	case "completed":
		return "COMPLETED"
	case "busy":
		return "BUSY"
	case "free":
		return "FREE"
	case "oof":
		return "OOF"
	case "workingElsewhere":
		return "WORKINGELSEWHERE"
	case "accepted":
		return "ACCEPTED"
	case "declined":
		return "DECLINED"
	case "delegated":
		return "DELEGATED"
	}
	return strings.ToUpper(s)
}

// prop writes a parsed property as go-ical's encoder does. It sorts by
// its name, as go-ical's decoder files it under its name.
func (w *writer) prop(p *goical.Prop) {
	w.startProp(p.Name)
	w.params(p.Params, "")
	w.value(p.Value)
}

// tree writes a parsed component and what it holds.
func (w *writer) tree(c *goical.Component) {
	w.begin(c.Name)
	for _, ps := range c.Props {
		for i := range ps {
			w.prop(&ps[i])
		}
	}
	for _, k := range c.Children {
		w.tree(k)
	}
	w.end()
}

// timeProp writes a date, a zoned local time or a UTC time.
func (w *writer) timeProp(name string, t time.Time, allDay bool, loc *time.Location, tzid string) {
	w.startProp(name)
	switch {
	case allDay:
		w.param(goical.ParamValue, "DATE")
		w.props = append(w.props, ':')
		w.props = appendTime(w.props, t.UTC(), dateLayout)
	case loc != nil:
		w.param(goical.ParamTimezoneID, tzid)
		w.props = append(w.props, ':')
		w.props = appendTime(w.props, t.In(loc), localLayout)
	default:
		w.props = append(w.props, ':')
		w.props = appendTime(w.props, t.UTC(), utcLayout)
	}
	w.endLine()
}

// utcProp writes a UTC date-time, as go-ical's SetDateTime does for one.
func (w *writer) utcProp(name string, t time.Time) {
	w.startProp(name)
	w.props = append(w.props, ':')
	w.props = appendTime(w.props, t.UTC(), utcLayout)
	w.endLine()
}

const (
	dateLayout  = "20060102"
	localLayout = "20060102T150405"
	utcLayout   = "20060102T150405Z"
)

// appendTime formats t in one of the three layouts, without
// time.AppendFormat's layout parsing for the years it pads to four digits.
func appendTime(dst []byte, t time.Time, layout string) []byte {
	y, m, d := t.Date()
	if y < 0 || y > 9999 {
		return t.AppendFormat(dst, layout)
	}
	dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	dst = append2(append2(dst, int(m)), d)
	if layout == dateLayout {
		return dst
	}
	h, mi, s := t.Clock()
	dst = append2(append2(append2(append(dst, 'T'), h), mi), s)
	if layout == utcLayout {
		dst = append(dst, 'Z')
	}
	return dst
}

func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}

// icalDuration writes d as an RFC 5545 duration (PT1H30M, P1D).
func icalDuration(d time.Duration) string {
	var a [24]byte
	b := append(a[:0], 'P')
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		return string(append(strconv.AppendInt(b, int64(days), 10), 'D'))
	}
	b = append(b, 'T')
	if h := d / time.Hour; h > 0 {
		b = append(strconv.AppendInt(b, int64(h), 10), 'H')
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		b = append(strconv.AppendInt(b, int64(m), 10), 'M')
	}
	if sec := d % time.Minute / time.Second; sec > 0 || d < time.Minute {
		b = append(strconv.AppendInt(b, int64(sec), 10), 'S')
	}
	return string(b)
}

// The checks below are go-ical's encoder's (checkComponent): what it
// refused, the encoders still refuse.

// checkChild checks that parent may hold a child component.
func (w *writer) checkChild(parent, child string) {
	switch parent {
	case goical.CompEvent, goical.CompToDo:
		if child != goical.CompAlarm {
			w.fail(fmt.Errorf("ical: failed to encode %s: nested %q components are forbidden, only VALARM is allowed", parent, child))
		}
	case goical.CompJournal, goical.CompFreeBusy:
		w.fail(fmt.Errorf("ical: failed to encode %s: nested components are forbidden", parent))
	case goical.CompTimezone:
		if child != goical.CompTimezoneStandard && child != goical.CompTimezoneDaylight {
			w.fail(fmt.Errorf("ical: failed to encode VTIMEZONE: nested %q components are forbidden, only STANDARD and DAYLIGHT are allowed", child))
		}
	}
}

func (w *writer) checkKids(name string, kids int) {
	switch {
	case kids > 0:
	case name == goical.CompCalendar:
		w.fail(errors.New("ical: failed to encode VCALENDAR: calendar is empty"))
	case name == goical.CompTimezone:
		w.fail(errors.New("ical: failed to encode VTIMEZONE: expected one nested STANDARD or DAYLIGHT component"))
	}
}

// propRule: the properties a component must have once, and those it may
// have at most once. propRules gives a component's with a switch: every
// component written looks its rules up, and a map lookup cost more than
// the check itself.
type propRule struct{ exactlyOne, atMostOne []string }

var (
	rulesCalendar = propRule{
		[]string{goical.PropProductID, goical.PropVersion},
		[]string{goical.PropCalendarScale, goical.PropMethod, goical.PropUID, goical.PropLastModified, goical.PropURL,
			goical.PropRefreshInterval, goical.PropSource, goical.PropColor},
	}
	rulesEvent = propRule{
		[]string{goical.PropDateTimeStamp, goical.PropUID},
		[]string{goical.PropDateTimeStart, goical.PropClass, goical.PropCreated, goical.PropDescription, goical.PropGeo,
			goical.PropLastModified, goical.PropLocation, goical.PropOrganizer, goical.PropPriority, goical.PropRecurrenceRule,
			goical.PropSequence, goical.PropStatus, goical.PropSummary, goical.PropTransparency, goical.PropURL,
			goical.PropRecurrenceID, goical.PropDateTimeEnd, goical.PropDuration, goical.PropColor},
	}
	rulesToDo = propRule{
		[]string{goical.PropDateTimeStamp, goical.PropUID},
		[]string{goical.PropClass, goical.PropCompleted, goical.PropCreated, goical.PropDescription, goical.PropDateTimeStart,
			goical.PropGeo, goical.PropLastModified, goical.PropLocation, goical.PropOrganizer, goical.PropPercentComplete,
			goical.PropPriority, goical.PropRecurrenceID, goical.PropSequence, goical.PropStatus, goical.PropSummary,
			goical.PropURL, goical.PropDue, goical.PropDuration, goical.PropColor},
	}
	rulesJournal = propRule{
		[]string{goical.PropDateTimeStamp, goical.PropUID},
		[]string{goical.PropClass, goical.PropCreated, goical.PropDateTimeStart, goical.PropLastModified, goical.PropOrganizer,
			goical.PropRecurrenceID, goical.PropSequence, goical.PropStatus, goical.PropSummary, goical.PropURL, goical.PropColor},
	}
	rulesFreeBusy = propRule{
		[]string{goical.PropDateTimeStamp, goical.PropUID},
		[]string{goical.PropContact, goical.PropDateTimeStart, goical.PropDateTimeEnd, goical.PropOrganizer, goical.PropURL},
	}
	rulesTimezone = propRule{
		[]string{goical.PropTimezoneID},
		[]string{goical.PropLastModified, goical.PropTimezoneURL},
	}
	rulesObservance = propRule{ // STANDARD and DAYLIGHT
		[]string{goical.PropDateTimeStart, goical.PropTimezoneOffsetTo, goical.PropTimezoneOffsetFrom}, nil,
	}
)

func propRules(component string) *propRule {
	switch component {
	case goical.CompEvent:
		return &rulesEvent
	case goical.CompCalendar:
		return &rulesCalendar
	case goical.CompTimezoneStandard, goical.CompTimezoneDaylight:
		return &rulesObservance
	case goical.CompTimezone:
		return &rulesTimezone
	case goical.CompToDo:
		return &rulesToDo
	case goical.CompJournal:
		return &rulesJournal
	case goical.CompFreeBusy:
		return &rulesFreeBusy
	}
	return nil
}

// checkProps checks the open component's properties, sorted by name.
func (w *writer) checkProps(name string) {
	rule := propRules(name)
	if rule == nil {
		return
	}
	for _, p := range rule.exactlyOne {
		if n := w.count(p); n != 1 {
			w.fail(fmt.Errorf("ical: failed to encode %q: want exactly one %q property, got %v", name, p, n))
		}
	}
	for i := 0; i < len(w.lines); {
		key := w.key(w.lines[i])
		j := i + 1
		for j < len(w.lines) && bytes.Equal(w.key(w.lines[j]), key) {
			j++
		}
		if j-i > 1 && contains(rule.atMostOne, string(key)) {
			w.fail(fmt.Errorf("ical: failed to encode %q: want at most one %q property, got %v", name, key, j-i))
		}
		i = j
	}
	if (name != goical.CompEvent && name != goical.CompToDo) || w.count(goical.PropDuration) == 0 {
		return
	}
	switch {
	case name == goical.CompEvent && w.count(goical.PropDateTimeEnd) > 0:
		w.fail(errors.New("ical: failed to encode VEVENT: only one of DTEND and DURATION can be specified"))
	case name == goical.CompToDo && w.count(goical.PropDue) > 0:
		w.fail(errors.New("ical: failed to encode VTODO: only one of DUE and DURATION can be specified"))
	case name == goical.CompToDo && w.count(goical.PropDateTimeStart) == 0:
		w.fail(errors.New("ical: failed to encode VTODO: DTSTART is required when DURATION is specified"))
	}
}

// count returns how many of the open component's properties, sorted,
// have key.
func (w *writer) count(key string) int {
	i, j := 0, len(w.lines) // the first with a key not before key is in [i, j]
	for i < j {
		if h := int(uint(i+j) >> 1); string(w.key(w.lines[h])) < key {
			i = h + 1
		} else {
			j = h
		}
	}
	n := 0
	for i+n < len(w.lines) && string(w.key(w.lines[i+n])) == key {
		n++
	}
	return n
}
