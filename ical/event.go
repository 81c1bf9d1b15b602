package ical

import (
	"errors"
	"fmt"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/tidbro/tidbro"
)

// DecodeEvent parses a VCALENDAR holding one VEVENT series: the master plus
// RECURRENCE-ID overrides. An override cancelled with STATUS:CANCELLED has
// Cancelled set. A calendar of overrides only (an invitation to one
// instance) is refused: tidbro needs the series.
func DecodeEvent(b []byte) (ev *tidbro.Event, err error) {
	defer safely("event", &err)
	cal, err := parseCalendar(b)
	if err != nil {
		return nil, err
	}
	z := newZones(cal)
	var master *goical.Component
	var overrides []*goical.Component
	for _, c := range cal.Children {
		if c.Name != goical.CompEvent {
			continue
		}
		if c.Props.Get(goical.PropRecurrenceID) != nil {
			overrides = append(overrides, c)
		} else if master == nil {
			master = c
		} else {
			return nil, errors.New("ical: more than one VEVENT without RECURRENCE-ID")
		}
	}
	if master == nil && len(overrides) == 0 && otherComponent(cal, goical.CompEvent) {
		return nil, ErrOtherComponent
	}
	if master == nil {
		return nil, errors.New("ical: no VEVENT series in calendar")
	}
	ev, err = decodeVEvent(z, master)
	if err != nil {
		return nil, err
	}
	for _, c := range overrides {
		if uid := text(c.Props, goical.PropUID); uid != ev.UID {
			return nil, fmt.Errorf("ical: override UID %q differs from series UID %q", uid, ev.UID)
		}
		o, err := decodeVEvent(z, c)
		if err != nil {
			return nil, err
		}
		if c.Props.Get(goical.PropDateTimeEnd) == nil && c.Props.Get(goical.PropDuration) == nil {
			o.End = o.Start.Add(ev.End.Sub(ev.Start)) // an override keeps the series' length
		}
		o.UID = "" // UID and zone are the series'
		if o.TimeZone == ev.TimeZone {
			o.TimeZone = ""
		}
		ev.Overrides = append(ev.Overrides, *o)
	}
	return ev, nil
}

func decodeVEvent(z *zones, c *goical.Component) (*tidbro.Event, error) {
	ev := &tidbro.Event{
		UID:         text(c.Props, goical.PropUID),
		Summary:     text(c.Props, goical.PropSummary),
		Description: text(c.Props, goical.PropDescription),
		Location:    text(c.Props, goical.PropLocation),
		URL:         text(c.Props, goical.PropURL),
		Categories:  categories(c.Props),
	}
	fail := func(prop string, err error) (*tidbro.Event, error) {
		return nil, fmt.Errorf("ical: VEVENT %q: %s: %w", ev.UID, prop, err)
	}
	one := func(name string) (time.Time, bool, string, error) {
		p := c.Props.Get(name)
		return z.parseTime(p.Value, p.Params)
	}
	if c.Props.Get(goical.PropDateTimeStart) == nil {
		return fail("DTSTART", errors.New("missing"))
	}
	var err error
	if ev.Start, ev.AllDay, ev.TimeZone, err = one(goical.PropDateTimeStart); err != nil {
		return fail("DTSTART", err)
	}
	switch {
	case c.Props.Get(goical.PropDateTimeEnd) != nil:
		if ev.End, _, _, err = one(goical.PropDateTimeEnd); err != nil {
			return fail("DTEND", err)
		}
	case c.Props.Get(goical.PropDuration) != nil:
		d, err := tidbro.ParseDuration(c.Props.Get(goical.PropDuration).Value)
		if err != nil {
			return fail("DURATION", err)
		}
		ev.End = ev.Start.Add(d)
	case ev.AllDay:
		ev.End = ev.Start.AddDate(0, 0, 1) // RFC 5545 3.6.1: a date lasts one day
	default:
		ev.End = ev.Start
	}
	if p := c.Props.Get(goical.PropRecurrenceID); p != nil {
		t, _, _, err := z.parseTime(p.Value, p.Params)
		if err != nil {
			return fail("RECURRENCE-ID", err)
		}
		ev.RecurrenceID = &t
	}
	if p := c.Props.Get(goical.PropRecurrenceRule); p != nil {
		ev.RRule = tidbro.NormalizeRRule(p.Value)
	}
	for _, name := range []string{goical.PropRecurrenceDates, goical.PropExceptionDates} {
		for _, p := range c.Props.Values(name) {
			for _, v := range strings.Split(p.Value, ",") {
				t, _, _, err := z.parseTime(v, p.Params)
				if err != nil {
					return fail(name, err)
				}
				if name == goical.PropRecurrenceDates {
					ev.RDates = append(ev.RDates, t)
				} else {
					ev.ExDates = append(ev.ExDates, t)
				}
			}
		}
	}
	ev.Status = strings.ToLower(text(c.Props, goical.PropStatus))
	if ev.Status != "" && !contains([]string{"confirmed", "tentative", "cancelled"}, ev.Status) {
		ev.Status = ""
	}
	if ev.RecurrenceID != nil && ev.Status == "cancelled" {
		ev.Cancelled = true
	}
	switch strings.ToUpper(text(c.Props, goical.PropClass)) {
	case "PRIVATE", "CONFIDENTIAL":
		ev.Private = true
	}
	if strings.EqualFold(text(c.Props, goical.PropTransparency), "TRANSPARENT") {
		ev.ShowAs = "free"
	}
	// Outlook's own busy status is finer than TRANSP, so it wins.
	if s, ok := busyStatus[strings.ToUpper(text(c.Props, busyStatusProp))]; ok {
		ev.ShowAs = s
	}
	if p := c.Props.Get(goical.PropOrganizer); p != nil {
		a := attendee(p)
		ev.Organizer = &a
	}
	for i := range c.Props.Values(goical.PropAttendee) {
		ev.Attendees = append(ev.Attendees, attendee(&c.Props.Values(goical.PropAttendee)[i]))
	}
	for _, a := range c.Children {
		if a.Name != goical.CompAlarm {
			continue
		}
		al, err := decodeAlarm(a)
		if err != nil {
			return fail("VALARM", err)
		}
		ev.Alarms = append(ev.Alarms, al)
	}
	return ev, nil
}

const busyStatusProp = "X-MICROSOFT-CDO-BUSYSTATUS"

var busyStatus = map[string]string{
	"FREE": "free", "BUSY": "busy", "TENTATIVE": "tentative", "OOF": "oof", "WORKINGELSEWHERE": "workingElsewhere",
}

var roles = map[string]string{
	"REQ-PARTICIPANT": "required", "OPT-PARTICIPANT": "optional", "CHAIR": "chair", "NON-PARTICIPANT": "non-participant",
}

func attendee(p *goical.Prop) tidbro.Attendee {
	a := tidbro.Attendee{Email: p.Value, Name: p.Params.Get(goical.ParamCommonName)}
	if len(a.Email) >= 7 && strings.EqualFold(a.Email[:7], "mailto:") {
		a.Email = a.Email[7:]
	}
	a.Role = roles[strings.ToUpper(p.Params.Get(goical.ParamRole))]
	st := strings.ToLower(p.Params.Get(goical.ParamParticipationStatus))
	if contains([]string{"needs-action", "accepted", "declined", "tentative", "delegated"}, st) {
		a.Status = st
	}
	return a
}

func decodeAlarm(c *goical.Component) (tidbro.Alarm, error) {
	a := tidbro.Alarm{Action: strings.ToLower(text(c.Props, goical.PropAction)), Description: text(c.Props, goical.PropDescription)}
	if !contains([]string{"display", "audio", "email"}, a.Action) {
		a.Action = "display" // X- and PROCEDURE actions: still a reminder
	}
	p := c.Props.Get(goical.PropTrigger)
	if p == nil {
		return a, errors.New("TRIGGER missing")
	}
	if strings.EqualFold(p.Params.Get(goical.ParamValue), "DATE-TIME") || strings.HasSuffix(p.Value, "Z") {
		t, err := time.Parse("20060102T150405Z", p.Value)
		if err != nil {
			return a, fmt.Errorf("TRIGGER: %w", err)
		}
		a.At = &t
		return a, nil
	}
	if _, err := tidbro.ParseDuration(p.Value); err != nil {
		return a, fmt.Errorf("TRIGGER: %w", err)
	}
	// RELATED=END triggers are kept as if relative to the start: tidbro's
	// Alarm has no such flag.
	a.Trigger = p.Value
	return a, nil
}

// eventProps are the VEVENT properties tidbro models; EncodeEvent replaces
// them and keeps all others from raw.
var eventProps = []string{
	goical.PropUID, goical.PropSummary, goical.PropDescription, goical.PropLocation, goical.PropURL,
	goical.PropDateTimeStart, goical.PropDateTimeEnd, goical.PropDuration, goical.PropRecurrenceID,
	goical.PropRecurrenceRule, goical.PropRecurrenceDates, goical.PropExceptionDates, goical.PropStatus,
	goical.PropClass, goical.PropTransparency, busyStatusProp, goical.PropCategories,
	goical.PropOrganizer, goical.PropAttendee, goical.PropDateTimeStamp,
}

// EncodeEvent writes ev as a VCALENDAR. When raw (the remote's previous
// version) is given, its calendar properties, its other components and the
// properties of its VEVENTs that tidbro does not model (X- and unknown ones)
// are kept, matched by RECURRENCE-ID. VALARMs are rewritten from ev.Alarms;
// ORGANIZER and ATTENDEE are rewritten, losing parameters tidbro does not
// model (RSVP, DELEGATED-TO, ...). Event.Extra is not written.
func EncodeEvent(ev *tidbro.Event, raw []byte) (out []byte, err error) {
	defer safely("raw calendar", &err)
	if ev == nil || ev.Start.IsZero() {
		return nil, errors.New("ical: event has no start")
	}
	cal, old, z, err := rawCalendar(raw, goical.CompEvent)
	if err != nil {
		return nil, err
	}
	var loc *time.Location
	var tz string
	if ev.TimeZone != "" && !ev.AllDay {
		name, l := ianaName(ev.TimeZone)
		if l == nil {
			return nil, fmt.Errorf("ical: %q is not an IANA time zone", ev.TimeZone)
		}
		loc = l
		tz = vtimezone(name, loc, ev.Start.In(loc).Year())
	}
	var prev map[string]*goical.Component
	if len(old) > 0 {
		prev = map[string]*goical.Component{}
	}
	for _, c := range old {
		key := ""
		if p := c.Props.Get(goical.PropRecurrenceID); p != nil {
			if t, _, _, err := z.parseTime(p.Value, p.Params); err == nil {
				key = t.UTC().Format(time.RFC3339)
			} else {
				key = p.Value
			}
		}
		prev[key] = c
	}
	uid := ev.UID
	if uid == "" && prev[""] != nil {
		uid = text(prev[""].Props, goical.PropUID) // a resource keeps its UID (RFC 4791, no-uid-conflict)
	}
	if uid == "" {
		uid = newUID() // iCalendar requires one
	}
	w := getWriter()
	defer w.release()
	w.beginCalendar(cal)
	if tz != "" {
		w.component(tz)
	}
	w.vevent(ev, prev[""], uid, loc, ev.TimeZone, ev.AllDay, nil)
	for i := range ev.Overrides {
		o := &ev.Overrides[i]
		if o.RecurrenceID == nil {
			return nil, fmt.Errorf("ical: override %d has no recurrence ID", i)
		}
		var p *goical.Component
		if prev != nil {
			p = prev[o.RecurrenceID.UTC().Format(time.RFC3339)]
		}
		w.vevent(o, p, uid, loc, ev.TimeZone, ev.AllDay, o.RecurrenceID)
	}
	w.end()
	out, err = w.bytes()
	if err != nil && len(raw) > 0 {
		// raw itself breaks the rules (say, two SEQUENCEs): write what tidbro
		// knows rather than fail the sync.
		return EncodeEvent(ev, nil)
	}
	return out, err
}

// vevent writes one VEVENT with what prev (the remote's, or nil) has that
// tidbro does not model. Times of overrides use the series' zone so
// RECURRENCE-IDs match; rid is an override's.
func (w *writer) vevent(ev *tidbro.Event, prev *goical.Component, uid string, loc *time.Location, tzid string, allDay bool, rid *time.Time) {
	w.begin(goical.CompEvent)
	if prev != nil {
		for name, ps := range prev.Props {
			if !contains(eventProps, name) {
				for i := range ps {
					w.prop(&ps[i])
				}
			}
		}
	}
	w.text(goical.PropUID, uid)
	w.utcProp(goical.PropDateTimeStamp, time.Now())
	w.timeProp(goical.PropDateTimeStart, ev.Start, allDay, loc, tzid)
	switch {
	case ev.End.IsZero() || ev.End.Equal(ev.Start):
	case prev != nil && prev.Props.Get(goical.PropDuration) != nil && ev.End.After(ev.Start):
		// The remote wrote a length, not an end: so does tidbro.
		w.raw(goical.PropDuration, icalDuration(ev.End.Sub(ev.Start)))
	default:
		w.timeProp(goical.PropDateTimeEnd, ev.End, allDay, loc, tzid)
	}
	if rid != nil {
		w.timeProp(goical.PropRecurrenceID, *rid, allDay, loc, tzid)
	}
	w.keptText(goical.PropSummary, ev.Summary, prev)
	w.keptText(goical.PropDescription, ev.Description, prev)
	w.keptText(goical.PropLocation, ev.Location, prev)
	if ev.URL != "" {
		w.raw(goical.PropURL, ev.URL)
	}
	if ev.RRule != "" {
		w.raw(goical.PropRecurrenceRule, ev.RRule)
	}
	for _, t := range ev.RDates {
		w.timeProp(goical.PropRecurrenceDates, t, allDay, loc, tzid)
	}
	for _, t := range ev.ExDates {
		w.timeProp(goical.PropExceptionDates, t, allDay, loc, tzid)
	}
	status := ev.Status
	if ev.Cancelled {
		status = "cancelled"
	}
	w.optText(goical.PropStatus, upper(status))
	// CLASS and TRANSP: a value the remote wrote that means what the body
	// says (CONFIDENTIAL is private too; PUBLIC and OPAQUE are the
	// defaults) stays as it was.
	prevText := func(name string) string {
		if prev == nil {
			return ""
		}
		return strings.ToUpper(text(prev.Props, name))
	}
	switch class := prevText(goical.PropClass); {
	case ev.Private && class == "CONFIDENTIAL", !ev.Private && class == "PUBLIC":
		w.text(goical.PropClass, class)
	case ev.Private:
		w.text(goical.PropClass, "PRIVATE")
	}
	switch {
	case ev.ShowAs != "":
		transp := "OPAQUE"
		if ev.ShowAs == "free" {
			transp = "TRANSPARENT"
		}
		w.text(goical.PropTransparency, transp)
		w.raw(busyStatusProp, upper(ev.ShowAs))
	case prevText(goical.PropTransparency) == "OPAQUE":
		w.text(goical.PropTransparency, "OPAQUE")
	}
	if len(ev.Categories) > 0 {
		w.textList(goical.PropCategories, ev.Categories)
	}
	if ev.Organizer != nil {
		w.attendee(goical.PropOrganizer, *ev.Organizer)
	}
	for _, a := range ev.Attendees {
		w.attendee(goical.PropAttendee, a)
	}
	var prevAlarms []*goical.Component
	if prev != nil {
		for _, k := range prev.Children {
			if k.Name == goical.CompAlarm {
				prevAlarms = append(prevAlarms, k)
			} else {
				w.tree(k)
			}
		}
	}
	for i, a := range ev.Alarms {
		var pa *goical.Component
		if i < len(prevAlarms) {
			pa = prevAlarms[i]
		}
		w.valarm(a, ev.Summary, pa)
	}
	w.end()
}

// keptText writes a TEXT property, keeping the parameters (LANGUAGE,
// ALTREP and the like) prev had on it.
func (w *writer) keptText(name, v string, prev *goical.Component) {
	if v == "" {
		return
	}
	w.startProp(name)
	if prev != nil {
		if q := prev.Props.Get(name); q != nil {
			w.params(q.Params, goical.ParamValue)
		}
	}
	w.props = append(w.props, ':')
	w.props = appendText(w.props, v)
	w.endLine()
}

// roleParams are the ROLE values of tidbro's roles.
var roleParams = func() map[string]string {
	m := map[string]string{}
	for k, v := range roles {
		m[v] = k
	}
	return m
}()

// attendee writes an ORGANIZER or ATTENDEE with the parameters tidbro
// models.
func (w *writer) attendee(name string, a tidbro.Attendee) {
	w.startProp(name)
	if a.Name != "" {
		w.param(goical.ParamCommonName, a.Name)
	}
	if a.Status != "" {
		w.param(goical.ParamParticipationStatus, upper(a.Status))
	}
	if role, ok := roleParams[a.Role]; ok {
		w.param(goical.ParamRole, role)
	}
	w.props = append(w.props, ":mailto:"...) // what url.URL{Scheme: "mailto", Opaque: a.Email} writes
	w.props = appendClean(w.props, a.Email)
	w.endLine()
}

// valarm writes an alarm over the remote's alarm in the same place, when
// it has the same action: what tidbro does not model of it (UIDs, e-mail
// recipients, X- properties) stays.
func (w *writer) valarm(a tidbro.Alarm, summary string, prev *goical.Component) {
	w.begin(goical.CompAlarm)
	action := a.Action
	if action == "" {
		action = "display"
	}
	if prev != nil && !strings.EqualFold(text(prev.Props, goical.PropAction), action) {
		prev = nil
	}
	if prev != nil {
		for name, ps := range prev.Props {
			if name != goical.PropAction && name != goical.PropTrigger && name != goical.PropDescription {
				for i := range ps {
					w.prop(&ps[i])
				}
			}
		}
	}
	w.text(goical.PropAction, upper(action))
	if a.At != nil {
		w.startProp(goical.PropTrigger)
		w.param(goical.ParamValue, "DATE-TIME")
		w.props = appendTime(append(w.props, ':'), a.At.UTC(), utcLayout)
		w.endLine()
	} else {
		w.raw(goical.PropTrigger, a.Trigger)
	}
	desc := a.Description
	if desc == "" && action == "display" {
		desc = summary // RFC 5545 requires DESCRIPTION on DISPLAY alarms
	}
	w.optText(goical.PropDescription, desc)
	if prev != nil {
		for _, k := range prev.Children {
			w.tree(k)
		}
	}
	w.end()
}
