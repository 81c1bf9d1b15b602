package ical

import (
	"errors"
	"fmt"
	"net/url"
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
	cal, old, z, err := newCalendar(raw, goical.CompEvent)
	if err != nil {
		return nil, err
	}
	var loc *time.Location
	if ev.TimeZone != "" && !ev.AllDay {
		name, l := ianaName(ev.TimeZone)
		if l == nil {
			return nil, fmt.Errorf("ical: %q is not an IANA time zone", ev.TimeZone)
		}
		loc = l
		cal.Children = append(cal.Children, vtimezone(name, loc, ev.Start.In(loc).Year()))
	}
	prev := map[string]*goical.Component{}
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
	cal.Children = append(cal.Children, encodeVEvent(ev, prev[""], uid, loc, ev.TimeZone, ev.AllDay))
	for i := range ev.Overrides {
		o := &ev.Overrides[i]
		if o.RecurrenceID == nil {
			return nil, fmt.Errorf("ical: override %d has no recurrence ID", i)
		}
		c := encodeVEvent(o, prev[o.RecurrenceID.UTC().Format(time.RFC3339)], uid, loc, ev.TimeZone, ev.AllDay)
		c.Props.Set(timeProp(goical.PropRecurrenceID, *o.RecurrenceID, ev.AllDay, loc, ev.TimeZone))
		cal.Children = append(cal.Children, c)
	}
	out, err = encodeCalendar(cal)
	if err != nil && len(raw) > 0 {
		// raw itself breaks the rules (say, two SEQUENCEs): write what tidbro
		// knows rather than fail the sync.
		return EncodeEvent(ev, nil)
	}
	return out, err
}

// encodeVEvent writes one VEVENT onto a copy of prev (or a new one). Times
// of overrides use the series' zone so RECURRENCE-IDs match.
func encodeVEvent(ev *tidbro.Event, prev *goical.Component, uid string, loc *time.Location, tzid string, allDay bool) *goical.Component {
	c := goical.NewComponent(goical.CompEvent)
	if prev != nil {
		for name, ps := range prev.Props {
			if !contains(eventProps, name) {
				c.Props[name] = ps
			}
		}
		for _, k := range prev.Children {
			if k.Name != goical.CompAlarm {
				c.Children = append(c.Children, k)
			}
		}
	}
	c.Props.SetText(goical.PropUID, uid)
	c.Props.SetDateTime(goical.PropDateTimeStamp, time.Now().UTC().Truncate(time.Second))
	c.Props.Set(timeProp(goical.PropDateTimeStart, ev.Start, allDay, loc, tzid))
	switch {
	case ev.End.IsZero() || ev.End.Equal(ev.Start):
	case prev != nil && prev.Props.Get(goical.PropDuration) != nil && ev.End.After(ev.Start):
		// The remote wrote a length, not an end: so does tidbro.
		p := goical.NewProp(goical.PropDuration)
		p.Value = icalDuration(ev.End.Sub(ev.Start))
		c.Props.Set(p)
	default:
		c.Props.Set(timeProp(goical.PropDateTimeEnd, ev.End, allDay, loc, tzid))
	}
	setText(c.Props, goical.PropSummary, ev.Summary)
	setText(c.Props, goical.PropDescription, ev.Description)
	setText(c.Props, goical.PropLocation, ev.Location)
	if prev != nil { // keep LANGUAGE, ALTREP and the like on rewritten texts
		for _, name := range []string{goical.PropSummary, goical.PropDescription, goical.PropLocation} {
			if p, q := c.Props.Get(name), prev.Props.Get(name); p != nil && q != nil {
				for k, v := range q.Params {
					if k != goical.ParamValue {
						p.Params[k] = v
					}
				}
			}
		}
	}
	if ev.URL != "" {
		p := goical.NewProp(goical.PropURL)
		p.Value = ev.URL
		c.Props.Set(p)
	}
	if ev.RRule != "" {
		p := goical.NewProp(goical.PropRecurrenceRule)
		p.Value = ev.RRule
		c.Props.Set(p)
	}
	for _, t := range ev.RDates {
		c.Props.Add(timeProp(goical.PropRecurrenceDates, t, allDay, loc, tzid))
	}
	for _, t := range ev.ExDates {
		c.Props.Add(timeProp(goical.PropExceptionDates, t, allDay, loc, tzid))
	}
	status := ev.Status
	if ev.Cancelled {
		status = "cancelled"
	}
	setText(c.Props, goical.PropStatus, strings.ToUpper(status))
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
		c.Props.SetText(goical.PropClass, class)
	case ev.Private:
		c.Props.SetText(goical.PropClass, "PRIVATE")
	}
	if ev.ShowAs == "" && prevText(goical.PropTransparency) == "OPAQUE" {
		c.Props.SetText(goical.PropTransparency, "OPAQUE")
	}
	if ev.ShowAs != "" {
		transp := "OPAQUE"
		if ev.ShowAs == "free" {
			transp = "TRANSPARENT"
		}
		c.Props.SetText(goical.PropTransparency, transp)
		setRaw(c.Props, busyStatusProp, strings.ToUpper(ev.ShowAs))
	}
	setCategories(c.Props, ev.Categories)
	if ev.Organizer != nil {
		c.Props.Set(attendeeProp(goical.PropOrganizer, *ev.Organizer))
	}
	for _, a := range ev.Attendees {
		c.Props.Add(attendeeProp(goical.PropAttendee, a))
	}
	var prevAlarms []*goical.Component
	if prev != nil {
		for _, k := range prev.Children {
			if k.Name == goical.CompAlarm {
				prevAlarms = append(prevAlarms, k)
			}
		}
	}
	for i, a := range ev.Alarms {
		var pa *goical.Component
		if i < len(prevAlarms) {
			pa = prevAlarms[i]
		}
		c.Children = append(c.Children, encodeAlarm(a, ev.Summary, pa))
	}
	return c
}

// icalDuration writes d as an RFC 5545 duration (PT1H30M, P1D).
func icalDuration(d time.Duration) string {
	var b strings.Builder
	b.WriteString("P")
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		fmt.Fprintf(&b, "%dD", days)
		return b.String()
	}
	b.WriteString("T")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if sec := d % time.Minute / time.Second; sec > 0 || d < time.Minute {
		fmt.Fprintf(&b, "%dS", sec)
	}
	return b.String()
}

func attendeeProp(name string, a tidbro.Attendee) *goical.Prop {
	p := goical.NewProp(name)
	p.Value = (&url.URL{Scheme: "mailto", Opaque: a.Email}).String()
	if a.Name != "" {
		p.Params.Set(goical.ParamCommonName, a.Name)
	}
	for k, v := range roles {
		if v == a.Role {
			p.Params.Set(goical.ParamRole, k)
		}
	}
	if a.Status != "" {
		p.Params.Set(goical.ParamParticipationStatus, strings.ToUpper(a.Status))
	}
	return p
}

// encodeAlarm writes an alarm over the remote's alarm in the same place,
// when it has the same action: what tidbro does not model of it (UIDs,
// e-mail recipients, X- properties) stays.
func encodeAlarm(a tidbro.Alarm, summary string, prev *goical.Component) *goical.Component {
	c := goical.NewComponent(goical.CompAlarm)
	action := a.Action
	if action == "" {
		action = "display"
	}
	if prev != nil && strings.EqualFold(text(prev.Props, goical.PropAction), action) {
		for name, ps := range prev.Props {
			if name != goical.PropAction && name != goical.PropTrigger && name != goical.PropDescription {
				c.Props[name] = ps
			}
		}
		c.Children = prev.Children
	}
	c.Props.SetText(goical.PropAction, strings.ToUpper(action))
	p := goical.NewProp(goical.PropTrigger)
	if a.At != nil {
		p.Params.Set(goical.ParamValue, "DATE-TIME")
		p.Value = a.At.UTC().Format("20060102T150405Z")
	} else {
		p.Value = a.Trigger
	}
	c.Props.Set(p)
	desc := a.Description
	if desc == "" && action == "display" {
		desc = summary // RFC 5545 requires DESCRIPTION on DISPLAY alarms
	}
	setText(c.Props, goical.PropDescription, desc)
	return c
}
