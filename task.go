package tidbro

import (
	"encoding/json"
	"time"
)

// Task is a to-do. Dates-only tasks (AllDay) keep Start and Due at midnight
// UTC of their dates.
type Task struct {
	UID         string            `json:"uid,omitempty"`
	Summary     string            `json:"summary,omitempty"`
	Description string            `json:"description,omitempty"`
	Start       *time.Time        `json:"-" schema:"start,date-time"`
	Due         *time.Time        `json:"-" schema:"due,date-time"`
	Completed   *time.Time        `json:"-" schema:"completed,date-time"`
	TimeZone    string            `json:"timeZone,omitempty"`
	AllDay      bool              `json:"allDay,omitempty"`
	Status      string            `json:"status,omitempty"`   // needs-action (default) | in-process | completed | cancelled
	Priority    int               `json:"priority,omitempty"` // 0 undefined, 1 highest .. 9 lowest (RFC 5545)
	Percent     int               `json:"percent,omitempty"`  // percent complete, 0..100
	Assignee    string            `json:"assignee,omitempty"` // who does it, as shown in groupware (the owner's calendar holds it)
	Private     bool              `json:"private,omitempty"`
	Categories  []string          `json:"categories,omitempty"`
	URL         string            `json:"url,omitempty"`
	Extra       map[string]string `json:"extra,omitempty"`
}

var taskStatuses = []string{"", "needs-action", "in-process", "completed", "cancelled"}

type taskAlias Task

type taskTimes struct {
	Start     string `json:"start,omitempty"`
	Due       string `json:"due,omitempty"`
	Completed string `json:"completed,omitempty"`
}

func (t Task) MarshalJSON() ([]byte, error) {
	loc := zoneOrUTC(t.TimeZone)
	f := func(p *time.Time, dateOnly bool) string {
		if p == nil {
			return ""
		}
		return formatTime(*p, dateOnly, loc)
	}
	return json.Marshal(struct {
		taskAlias
		taskTimes
	}{taskAlias(t), taskTimes{f(t.Start, t.AllDay), f(t.Due, t.AllDay), f(t.Completed, false)}})
}

func (t *Task) UnmarshalJSON(b []byte) error {
	var v struct {
		*taskAlias
		taskTimes
	}
	v.taskAlias = (*taskAlias)(t)
	if err := decodeStrict(b, &v); err != nil {
		return err
	}
	parse := func(field, s string, dateAllowed bool) (*time.Time, error) {
		tm, dateOnly, err := parseTime(field, s)
		if err != nil || tm.IsZero() {
			return nil, err
		}
		if dateOnly && dateAllowed {
			t.AllDay = true
		}
		return &tm, nil
	}
	var err error
	if t.Start, err = parse("start", v.taskTimes.Start, true); err != nil {
		return err
	}
	if t.Due, err = parse("due", v.taskTimes.Due, true); err != nil {
		return err
	}
	if t.Completed, err = parse("completed", v.taskTimes.Completed, false); err != nil {
		return err
	}
	for _, p := range []*time.Time{t.Start, t.Due} {
		if p != nil {
			*p = normalizeTime(*p, t.AllDay)
		}
	}
	if t.Completed != nil {
		*t.Completed = normalizeTime(*t.Completed, false)
	}
	return nil
}

func (t *Task) Validate() error {
	if t.Start != nil && t.Due != nil && t.Due.Before(*t.Start) {
		return Invalid("due", "due is before start")
	}
	if err := validZone("timeZone", t.TimeZone); err != nil {
		return err
	}
	if err := oneOf("status", t.Status, taskStatuses); err != nil {
		return err
	}
	if t.Priority < 0 || t.Priority > 9 {
		return Invalid("priority", "priority %d is outside 0..9", t.Priority)
	}
	if t.Percent < 0 || t.Percent > 100 {
		return Invalid("percent", "percent %d is outside 0..100", t.Percent)
	}
	if err := validURL("url", t.URL); err != nil {
		return err
	}
	return validStrings("", map[string]string{
		"uid": t.UID, "summary": t.Summary, "description": t.Description, "assignee": t.Assignee,
	}, t.Categories, t.Extra)
}

// Span is from start (or due) to due (or start); undated tasks have none.
func (t *Task) Span() (from, to time.Time, ok bool) {
	switch {
	case t.Start != nil && t.Due != nil:
		return *t.Start, *t.Due, true
	case t.Start != nil:
		return *t.Start, *t.Start, true
	case t.Due != nil:
		return *t.Due, *t.Due, true
	}
	return time.Time{}, time.Time{}, false
}
