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
	cal, old, _, err := newCalendar(raw, goical.CompToDo)
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
	c := goical.NewComponent(goical.CompToDo)
	if len(old) > 0 {
		for name, ps := range old[0].Props {
			if !contains(taskProps, name) {
				c.Props[name] = ps
			}
		}
		c.Children = old[0].Children
	}
	var loc *time.Location
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
		cal.Children = append(cal.Children, vtimezone(name, loc, year))
	}
	c.Props.SetText(goical.PropUID, uid)
	c.Props.SetDateTime(goical.PropDateTimeStamp, time.Now().UTC().Truncate(time.Second))
	if t.Start != nil {
		c.Props.Set(timeProp(goical.PropDateTimeStart, *t.Start, t.AllDay, loc, t.TimeZone))
	}
	if t.Due != nil {
		c.Props.Set(timeProp(goical.PropDue, *t.Due, t.AllDay, loc, t.TimeZone))
	}
	if t.Completed != nil {
		c.Props.Set(timeProp(goical.PropCompleted, *t.Completed, false, nil, "")) // RFC 5545: always UTC
	}
	setText(c.Props, goical.PropSummary, t.Summary)
	setText(c.Props, goical.PropDescription, t.Description)
	setText(c.Props, goical.PropStatus, strings.ToUpper(t.Status))
	if t.URL != "" {
		p := goical.NewProp(goical.PropURL)
		p.Value = t.URL
		c.Props.Set(p)
	}
	if t.Priority != 0 {
		setRaw(c.Props, goical.PropPriority, strconv.Itoa(t.Priority))
	}
	if t.Percent != 0 {
		setRaw(c.Props, goical.PropPercentComplete, strconv.Itoa(t.Percent))
	}
	if t.Private {
		c.Props.SetText(goical.PropClass, "PRIVATE")
	}
	setCategories(c.Props, t.Categories)
	cal.Children = append(cal.Children, c)
	out, err = encodeCalendar(cal)
	if err != nil && len(raw) > 0 {
		return EncodeTask(t, nil) // raw breaks the rules: keep only what tidbro knows
	}
	return out, err
}
