package ical

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goical "github.com/emersion/go-ical"
	"github.com/tidbro/tidbro"
)

// DecodeTask parses a VCALENDAR holding one VTODO. Assignee is not read:
// VTODO has no standard property for it.
func DecodeTask(b []byte) (t *tidbro.Task, err error) {
	defer safely("task", &err)
	cal, err := parseCalendar(b)
	if err != nil {
		return nil, err
	}
	z := newZones(cal)
	var c *goical.Component
	for _, k := range cal.Children {
		if k.Name == goical.CompToDo {
			c = k
			break
		}
	}
	if c == nil && otherComponent(cal, goical.CompToDo) {
		return nil, ErrOtherComponent
	}
	if c == nil {
		return nil, errors.New("ical: no VTODO in calendar")
	}
	t = &tidbro.Task{
		UID:         text(c.Props, goical.PropUID),
		Summary:     text(c.Props, goical.PropSummary),
		Description: text(c.Props, goical.PropDescription),
		URL:         text(c.Props, goical.PropURL),
		Categories:  categories(c.Props),
		Status:      strings.ToLower(text(c.Props, goical.PropStatus)),
	}
	if !contains([]string{"needs-action", "in-process", "completed", "cancelled"}, t.Status) {
		t.Status = ""
	}
	for _, f := range []struct {
		name string
		dst  **time.Time
	}{{goical.PropDateTimeStart, &t.Start}, {goical.PropDue, &t.Due}, {goical.PropCompleted, &t.Completed}} {
		p := c.Props.Get(f.name)
		if p == nil {
			continue
		}
		tm, date, zone, err := z.parseTime(p.Value, p.Params)
		if err != nil {
			return nil, fmt.Errorf("ical: VTODO %q: %s: %w", t.UID, f.name, err)
		}
		*f.dst = &tm
		if f.name != goical.PropCompleted {
			t.AllDay = t.AllDay || date
			if zone != "" {
				t.TimeZone = zone
			}
		}
	}
	if p := c.Props.Get(goical.PropPriority); p != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(p.Value)); err == nil && n >= 0 && n <= 9 {
			t.Priority = n
		}
	}
	if p := c.Props.Get(goical.PropPercentComplete); p != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(p.Value)); err == nil && n >= 0 && n <= 100 {
			t.Percent = n
		}
	}
	switch strings.ToUpper(text(c.Props, goical.PropClass)) {
	case "PRIVATE", "CONFIDENTIAL":
		t.Private = true
	}
	return t, nil
}

var taskProps = []string{
	goical.PropUID, goical.PropSummary, goical.PropDescription, goical.PropURL, goical.PropCategories,
	goical.PropStatus, goical.PropDateTimeStart, goical.PropDue, goical.PropCompleted, goical.PropPriority,
	goical.PropPercentComplete, goical.PropClass, goical.PropDateTimeStamp,
}

// EncodeTask writes t as a VCALENDAR with one VTODO, keeping from raw what
// tidbro does not model (as EncodeEvent does).
func EncodeTask(t *tidbro.Task, raw []byte) (out []byte, err error) {
	defer safely("raw calendar", &err)
	if t == nil {
		return nil, errors.New("ical: no task")
	}
	cal, old, _, err := rawCalendar(raw, goical.CompToDo)
	if err != nil {
		return nil, err
	}
	uid := t.UID
	if uid == "" && len(old) > 0 {
		uid = text(old[0].Props, goical.PropUID) // a resource keeps its UID
	}
	if uid == "" {
		uid = newUID()
	}
	var loc *time.Location
	var tz string
	if t.TimeZone != "" && !t.AllDay {
		name, l := ianaName(t.TimeZone)
		if l == nil {
			return nil, fmt.Errorf("ical: %q is not an IANA time zone", t.TimeZone)
		}
		loc = l
		year := time.Now().Year()
		if t.Due != nil {
			year = t.Due.In(l).Year()
		} else if t.Start != nil {
			year = t.Start.In(l).Year()
		}
		tz = vtimezone(name, loc, year)
	}
	w := getWriter()
	defer w.release()
	w.beginCalendar(cal)
	if tz != "" {
		w.component(tz)
	}
	w.begin(goical.CompToDo)
	if len(old) > 0 {
		for name, ps := range old[0].Props {
			if !contains(taskProps, name) {
				for i := range ps {
					w.prop(&ps[i])
				}
			}
		}
	}
	w.text(goical.PropUID, uid)
	w.utcProp(goical.PropDateTimeStamp, time.Now())
	if t.Start != nil {
		w.timeProp(goical.PropDateTimeStart, *t.Start, t.AllDay, loc, t.TimeZone)
	}
	if t.Due != nil {
		w.timeProp(goical.PropDue, *t.Due, t.AllDay, loc, t.TimeZone)
	}
	if t.Completed != nil {
		w.timeProp(goical.PropCompleted, *t.Completed, false, nil, "") // RFC 5545: always UTC
	}
	w.optText(goical.PropSummary, t.Summary)
	w.optText(goical.PropDescription, t.Description)
	w.optText(goical.PropStatus, upper(t.Status))
	if t.URL != "" {
		w.raw(goical.PropURL, t.URL)
	}
	if t.Priority != 0 {
		w.intProp(goical.PropPriority, t.Priority)
	}
	if t.Percent != 0 {
		w.intProp(goical.PropPercentComplete, t.Percent)
	}
	if t.Private {
		w.text(goical.PropClass, "PRIVATE")
	}
	if len(t.Categories) > 0 {
		w.textList(goical.PropCategories, t.Categories)
	}
	if len(old) > 0 {
		for _, k := range old[0].Children {
			w.tree(k)
		}
	}
	w.end()
	w.end()
	out, err = w.bytes()
	if err != nil && len(raw) > 0 {
		return EncodeTask(t, nil) // raw breaks the rules: keep only what tidbro knows
	}
	return out, err
}
