package tidbro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Event is an appointment (and the body of a job). Times are instants; for
// all-day events they are midnight UTC of the calendar dates, End exclusive.
type Event struct {
	UID          string            `json:"uid,omitempty"`
	Summary      string            `json:"summary,omitempty"`
	Description  string            `json:"description,omitempty"`
	Location     string            `json:"location,omitempty"`
	Start        time.Time         `json:"-" schema:"start,date-time"`
	End          time.Time         `json:"-" schema:"end,date-time"`
	TimeZone     string            `json:"timeZone,omitempty"` // IANA; the zone recurrence is computed in
	AllDay       bool              `json:"allDay,omitempty"`
	RRule        string            `json:"rrule,omitempty"` // RFC 5545 RECUR value, without DTSTART
	RDates       []time.Time       `json:"-" schema:"rdates,date-time"`
	ExDates      []time.Time       `json:"-" schema:"exdates,date-time"`
	Overrides    []Event           `json:"overrides,omitempty"`               // changed instances, each with RecurrenceID
	RecurrenceID *time.Time        `json:"-" schema:"recurrenceId,date-time"` // set on overrides only
	Cancelled    bool              `json:"cancelled,omitempty"`               // an override that removes its instance
	Status       string            `json:"status,omitempty"`                  // confirmed (default) | tentative | cancelled
	ShowAs       string            `json:"showAs,omitempty"`                  // busy (default) | free | tentative | oof | workingElsewhere
	Private      bool              `json:"private,omitempty"`
	Categories   []string          `json:"categories,omitempty"`
	Alarms       []Alarm           `json:"alarms,omitempty"`
	Organizer    *Attendee         `json:"organizer,omitempty"` // stored only: tidbro never sends invitations
	Attendees    []Attendee        `json:"attendees,omitempty"`
	URL          string            `json:"url,omitempty"`
	Extra        map[string]string `json:"extra,omitempty"` // app-defined fields, e.g. for job field mapping
}

// Alarm is a reminder. Trigger is an RFC 5545 duration relative to the start
// ("-PT15M"); At is an absolute trigger instead.
type Alarm struct {
	Action      string     `json:"action,omitempty"` // display (default) | audio | email
	Trigger     string     `json:"trigger,omitempty"`
	At          *time.Time `json:"at,omitempty"`
	Description string     `json:"description,omitempty"`
}

// Attendee is an organizer or attendee of an event.
type Attendee struct {
	Email  string `json:"email"`
	Name   string `json:"name,omitempty"`
	Role   string `json:"role,omitempty"`   // required | optional | chair | non-participant
	Status string `json:"status,omitempty"` // needs-action | accepted | declined | tentative | delegated
}

var (
	eventStatuses = []string{"", "confirmed", "tentative", "cancelled"}
	showAsValues  = []string{"", "busy", "free", "tentative", "oof", "workingElsewhere"}
	alarmActions  = []string{"", "display", "audio", "email"}
	attendeeRoles = []string{"", "required", "optional", "chair", "non-participant"}
	partStatuses  = []string{"", "needs-action", "accepted", "declined", "tentative", "delegated"}
)

type eventAlias Event

type eventTimes struct {
	Start        string   `json:"start,omitempty"`
	End          string   `json:"end,omitempty"`
	RecurrenceID string   `json:"recurrenceId,omitempty"`
	RDates       []string `json:"rdates,omitempty"`
	ExDates      []string `json:"exdates,omitempty"`
}

// MarshalJSON writes times as RFC 3339 in the event's zone, or as dates for
// all-day events.
func (e Event) MarshalJSON() ([]byte, error) {
	loc := zoneOrUTC(e.TimeZone)
	f := func(t time.Time) string { return formatTime(t, e.AllDay, loc) }
	v := struct {
		eventAlias
		eventTimes
	}{eventAlias: eventAlias(e)}
	v.eventTimes.Start, v.eventTimes.End = f(e.Start), f(e.End)
	if e.RecurrenceID != nil {
		v.eventTimes.RecurrenceID = f(*e.RecurrenceID)
	}
	for _, t := range e.RDates {
		v.eventTimes.RDates = append(v.eventTimes.RDates, f(t))
	}
	for _, t := range e.ExDates {
		v.eventTimes.ExDates = append(v.eventTimes.ExDates, f(t))
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads RFC 3339 date-times or plain dates; a plain-date start
// makes the event all-day. Unknown fields are refused.
func (e *Event) UnmarshalJSON(b []byte) error {
	var v struct {
		*eventAlias
		eventTimes
	}
	v.eventAlias = (*eventAlias)(e)
	if err := decodeStrict(b, &v); err != nil {
		return err
	}
	var dateOnly bool
	var err error
	if e.Start, dateOnly, err = parseTime("start", v.eventTimes.Start); err != nil {
		return err
	}
	if dateOnly {
		e.AllDay = true
	}
	if e.End, _, err = parseTime("end", v.eventTimes.End); err != nil {
		return err
	}
	if v.eventTimes.RecurrenceID != "" {
		t, _, err := parseTime("recurrenceId", v.eventTimes.RecurrenceID)
		if err != nil {
			return err
		}
		e.RecurrenceID = &t
	}
	if e.RDates, err = parseTimes("rdates", v.eventTimes.RDates); err != nil {
		return err
	}
	if e.ExDates, err = parseTimes("exdates", v.eventTimes.ExDates); err != nil {
		return err
	}
	e.normalize()
	return nil
}

// normalize brings times to their canonical form, so that equal content
// hashes equally: whole seconds, and dates at midnight UTC for all-day events.
func (e *Event) normalize() {
	e.RRule = NormalizeRRule(e.RRule)
	norm := func(t time.Time) time.Time { return normalizeTime(t, e.AllDay) }
	e.Start, e.End = norm(e.Start), norm(e.End)
	if e.RecurrenceID != nil {
		t := norm(*e.RecurrenceID)
		e.RecurrenceID = &t
	}
	for i := range e.RDates {
		e.RDates[i] = norm(e.RDates[i])
	}
	for i := range e.ExDates {
		e.ExDates[i] = norm(e.ExDates[i])
	}
	if e.RecurrenceID == nil { // an override's defaults come from its series, below
		if !e.AllDay && e.End.IsZero() {
			e.End = e.Start
		}
		if e.AllDay && !e.Start.IsZero() && !e.End.After(e.Start) {
			e.End = e.Start.AddDate(0, 0, 1)
		}
	}
	for i := range e.Overrides {
		o := &e.Overrides[i]
		if e.AllDay {
			o.AllDay = true
		}
		if o.TimeZone == "" {
			o.TimeZone = e.TimeZone
		}
		o.normalize()
		if o.End.IsZero() && !o.Start.IsZero() {
			o.End = o.Start.Add(e.End.Sub(e.Start))
		}
	}
}

// Validate checks the event's semantics; field names follow the JSON names.
func (e *Event) Validate() error {
	if err := e.validateOne(""); err != nil {
		return err
	}
	if e.RecurrenceID != nil {
		return Invalid("recurrenceId", "only overrides have a recurrenceId")
	}
	if e.RRule != "" {
		if _, err := e.recurrence(); err != nil {
			return err
		}
	}
	if e.RRule == "" && len(e.RDates) == 0 && (len(e.ExDates) > 0 || len(e.Overrides) > 0) {
		return Invalid("rrule", "exdates and overrides need a recurring event (rrule or rdates)")
	}
	seen := map[time.Time]bool{}
	for i := range e.Overrides {
		o := &e.Overrides[i]
		p := fmt.Sprintf("overrides[%d].", i)
		if o.RecurrenceID == nil {
			return Invalid(p+"recurrenceId", "an override needs the recurrenceId of the instance it changes")
		}
		if seen[*o.RecurrenceID] {
			return Invalid(p+"recurrenceId", "two overrides for the same instance")
		}
		seen[*o.RecurrenceID] = true
		if o.RRule != "" || len(o.RDates) > 0 || len(o.ExDates) > 0 || len(o.Overrides) > 0 {
			return Invalid(p+"rrule", "an override cannot recur itself")
		}
		if o.AllDay != e.AllDay {
			return Invalid(p+"allDay", "an override must match the series' allDay")
		}
		if err := o.validateOne(p); err != nil {
			return err
		}
	}
	return nil
}

func (e *Event) validateOne(p string) error {
	if e.Start.IsZero() {
		return Invalid(p+"start", "start is required")
	}
	if !e.End.IsZero() && e.End.Before(e.Start) {
		return Invalid(p+"end", "end %s is before start %s", e.End.Format(time.RFC3339), e.Start.Format(time.RFC3339))
	}
	if err := validZone(p+"timeZone", e.TimeZone); err != nil {
		return err
	}
	if err := oneOf(p+"status", e.Status, eventStatuses); err != nil {
		return err
	}
	if err := oneOf(p+"showAs", e.ShowAs, showAsValues); err != nil {
		return err
	}
	for i, a := range e.Alarms {
		q := fmt.Sprintf("%salarms[%d].", p, i)
		if err := oneOf(q+"action", a.Action, alarmActions); err != nil {
			return err
		}
		if (a.Trigger == "") == (a.At == nil) {
			return Invalid(q+"trigger", "an alarm needs exactly one of trigger (a duration like -PT15M) and at")
		}
		if a.Trigger != "" {
			if _, err := ParseDuration(a.Trigger); err != nil {
				return Invalid(q+"trigger", "%v", err)
			}
		}
	}
	if e.Organizer != nil {
		if err := e.Organizer.validate(p + "organizer."); err != nil {
			return err
		}
	}
	for i := range e.Attendees {
		if err := e.Attendees[i].validate(fmt.Sprintf("%sattendees[%d].", p, i)); err != nil {
			return err
		}
	}
	if err := validURL(p+"url", e.URL); err != nil {
		return err
	}
	return validStrings(p, map[string]string{
		"uid": e.UID, "summary": e.Summary, "description": e.Description, "location": e.Location,
	}, e.Categories, e.Extra)
}

func (a *Attendee) validate(p string) error {
	if !validEmail(a.Email) {
		return Invalid(p+"email", "%q is not an e-mail address", a.Email)
	}
	if err := oneOf(p+"role", a.Role, attendeeRoles); err != nil {
		return err
	}
	return oneOf(p+"status", a.Status, partStatuses)
}

// Span returns the series' extent: first start to last end, Forever when the
// rule has no end.
func (e *Event) Span() (from, to time.Time, ok bool) {
	if e.Start.IsZero() {
		return time.Time{}, time.Time{}, false
	}
	from, to = e.Start, e.End
	if e.RRule != "" {
		r, err := e.recurrence()
		if err != nil {
			return from, Forever, true
		}
		last, bounded := r.last()
		if !bounded {
			return from, Forever, true
		}
		if end := last.Add(e.End.Sub(e.Start)); end.After(to) {
			to = end
		}
	}
	for _, t := range e.RDates {
		if end := t.Add(e.End.Sub(e.Start)); end.After(to) {
			to = end
		}
	}
	for _, o := range e.Overrides {
		if o.Start.Before(from) {
			from = o.Start
		}
		if o.End.After(to) {
			to = o.End
		}
	}
	return from, to, true
}

// Occurs reports whether any instance of the event overlaps [from, to).
func (e *Event) Occurs(from, to time.Time) bool {
	return len(e.Instances(from, to, 1)) > 0
}

// Instance is one occurrence of an event.
type Instance struct {
	Start, End time.Time
	Event      *Event // the series, or the override that changed this instance
}

// Instances returns the instances that overlap [from, to), at most limit
// of them (0: all), in no particular order. Cancelled instances are left
// out.
func (e *Event) Instances(from, to time.Time, limit int) []Instance {
	var out []Instance
	full := func() bool { return limit > 0 && len(out) >= limit }
	dur := e.End.Sub(e.Start)
	overlaps := func(s, en time.Time) bool {
		if en.Equal(s) {
			return !s.Before(from) && s.Before(to)
		}
		return s.Before(to) && en.After(from)
	}
	overridden := map[time.Time]bool{}
	for i := range e.Overrides {
		o := &e.Overrides[i]
		overridden[*o.RecurrenceID] = true
		if !o.Cancelled && o.Status != "cancelled" && overlaps(o.Start, o.End) && !full() {
			out = append(out, Instance{Start: o.Start, End: o.End, Event: o})
		}
	}
	excluded := func(t time.Time) bool {
		if overridden[t] {
			return true
		}
		for _, x := range e.ExDates {
			if x.Equal(t) {
				return true
			}
		}
		return false
	}
	add := func(t time.Time) {
		if !excluded(t) && overlaps(t, t.Add(dur)) && !full() {
			out = append(out, Instance{Start: t, End: t.Add(dur), Event: e})
		}
	}
	if e.RRule == "" && len(e.RDates) == 0 {
		if overlaps(e.Start, e.End) && !full() {
			out = append(out, Instance{Start: e.Start, End: e.End, Event: e})
		}
		return out
	}
	for _, t := range e.RDates {
		add(t)
	}
	if e.RRule == "" {
		add(e.Start)
		return out
	}
	r, err := e.recurrence()
	if err != nil {
		return out
	}
	for _, t := range r.between(from.Add(-dur), to) {
		if full() {
			break
		}
		add(t)
	}
	return out
}

// decodeStrict decodes, refusing unknown fields. Type errors name the field
// by its JSON path, without the helper structs of the custom decoders.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	err := d.Decode(v)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		var path []string
		for _, seg := range strings.Split(te.Field, ".") {
			if !strings.HasSuffix(seg, "Alias") && !strings.HasSuffix(seg, "Times") {
				path = append(path, seg)
			}
		}
		te.Field = strings.Join(path, ".")
	}
	return err
}
