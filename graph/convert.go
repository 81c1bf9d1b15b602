package graph

import (
	"fmt"
	"html"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/wintz"
)

// The Graph shapes tidbro reads (event resource, v1.0).
type (
	dateTimeTZ struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	}
	itemBody struct {
		ContentType string `json:"contentType"`
		Content     string `json:"content"`
	}
	emailAddress struct {
		Name    string `json:"name,omitempty"`
		Address string `json:"address"`
	}
	attendee struct {
		Type         string       `json:"type"`
		EmailAddress emailAddress `json:"emailAddress"`
		Status       struct {
			Response string `json:"response"`
		} `json:"status"`
	}
	recurrencePattern struct {
		Type           string   `json:"type"`
		Interval       int      `json:"interval"`
		DaysOfWeek     []string `json:"daysOfWeek,omitempty"`
		DayOfMonth     int      `json:"dayOfMonth,omitempty"`
		Month          int      `json:"month,omitempty"`
		Index          string   `json:"index,omitempty"`
		FirstDayOfWeek string   `json:"firstDayOfWeek,omitempty"`
	}
	recurrenceRange struct {
		Type                string `json:"type"`
		StartDate           string `json:"startDate"`
		EndDate             string `json:"endDate,omitempty"`
		NumberOfOccurrences int    `json:"numberOfOccurrences,omitempty"`
		RecurrenceTimeZone  string `json:"recurrenceTimeZone,omitempty"`
	}
	patternedRecurrence struct {
		Pattern recurrencePattern `json:"pattern"`
		Range   recurrenceRange   `json:"range"`
	}
	event struct {
		ID                    string                        `json:"id"`
		ETag                  string                        `json:"@odata.etag"`
		Removed               *struct{}                     `json:"@removed"`
		Subject               string                        `json:"subject"`
		Body                  *itemBody                     `json:"body"`
		Start                 *dateTimeTZ                   `json:"start"`
		End                   *dateTimeTZ                   `json:"end"`
		IsAllDay              bool                          `json:"isAllDay"`
		Location              *struct{ DisplayName string } `json:"location"`
		Sensitivity           string                        `json:"sensitivity"`
		ShowAs                string                        `json:"showAs"`
		Categories            []string                      `json:"categories"`
		Recurrence            *patternedRecurrence          `json:"recurrence"`
		Type                  string                        `json:"type"`
		SeriesMasterID        string                        `json:"seriesMasterId"`
		OriginalStart         string                        `json:"originalStart"`
		OriginalStartTimeZone string                        `json:"originalStartTimeZone"`
		ICalUID               string                        `json:"iCalUId"`
		WebLink               string                        `json:"webLink"`
		IsCancelled           bool                          `json:"isCancelled"`
		IsReminderOn          bool                          `json:"isReminderOn"`
		IsOrganizer           bool                          `json:"isOrganizer"`
		ReminderMinutes       int                           `json:"reminderMinutesBeforeStart"`
		Attendees             []attendee                    `json:"attendees"`
		Organizer             *struct {
			EmailAddress emailAddress `json:"emailAddress"`
		} `json:"organizer"`
		LastModified         string   `json:"lastModifiedDateTime"`
		CancelledOccurrences []string `json:"cancelledOccurrences"`
		ExceptionOccurrences []event  `json:"exceptionOccurrences"`
	}
)

const graphTime = "2006-01-02T15:04:05.9999999"

// parseTime reads a dateTimeTimeZone; tidbro asks for UTC everywhere, but a
// zone Graph names is honoured.
func parseTime(d *dateTimeTZ) (time.Time, error) {
	if d == nil || d.DateTime == "" {
		return time.Time{}, fmt.Errorf("no date-time")
	}
	loc := time.UTC
	if d.TimeZone != "" && !strings.EqualFold(d.TimeZone, "UTC") {
		if l := zone(d.TimeZone); l != nil {
			loc = l
		}
	}
	t, err := time.ParseInLocation(graphTime, d.DateTime, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("date-time %q: %w", d.DateTime, err)
	}
	return t.UTC(), nil
}

// zone loads a Windows or IANA zone name.
func zone(name string) *time.Location {
	if iana, ok := wintz.ToIANA(name); ok {
		name = iana
	}
	l, err := tidbro.LoadZone(name)
	if err != nil {
		return nil
	}
	return l
}

// ianaOf names the zone Outlook wrote (Windows names mostly) the IANA way.
func ianaOf(name string) string {
	if name == "" || strings.HasPrefix(name, "tzone://") {
		return ""
	}
	if iana, ok := wintz.ToIANA(name); ok {
		if iana == "Etc/UTC" {
			return ""
		}
		return iana
	}
	if _, err := tidbro.LoadZone(name); err == nil && name != "UTC" {
		return name
	}
	return ""
}

var (
	tagRE   = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]+>`)
	blockRE = regexp.MustCompile(`(?i)<br\s*/?>|</p>|</div>|</li>|</tr>`)
	blankRE = regexp.MustCompile(`\n{3,}`)
)

// text turns Outlook's HTML bodies into the plain text tidbro keeps.
func text(b *itemBody) string {
	if b == nil {
		return ""
	}
	if !strings.EqualFold(b.ContentType, "html") {
		return strings.TrimSpace(strings.ReplaceAll(b.Content, "\r\n", "\n"))
	}
	s := blockRE.ReplaceAllString(b.Content, "\n")
	s = tagRE.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = strings.ReplaceAll(s, "\u00a0", " ")
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.TrimSpace(blankRE.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// toEvent reads a Graph event (a single instance, or a series master with
// its exceptions and cancellations) into tidbro's model.
func toEvent(g *event) (*tidbro.Event, error) {
	ev := &tidbro.Event{UID: g.ICalUID, Summary: g.Subject, Description: text(g.Body), Categories: g.Categories,
		TimeZone: ianaOf(g.OriginalStartTimeZone)}
	if g.Location != nil {
		ev.Location = g.Location.DisplayName
	}
	var err error
	if ev.Start, err = parseTime(g.Start); err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	if ev.End, err = parseTime(g.End); err != nil {
		return nil, fmt.Errorf("end: %w", err)
	}
	if g.IsAllDay {
		ev.AllDay, ev.Start, ev.End = true, localDate(ev.Start, ev.TimeZone), localDate(ev.End, ev.TimeZone)
		ev.TimeZone = ""
	}
	ev.Private = g.Sensitivity == "private" || g.Sensitivity == "confidential"
	switch g.ShowAs {
	case "free", "tentative", "oof", "workingElsewhere":
		ev.ShowAs = g.ShowAs
	}
	if g.IsCancelled {
		ev.Status = "cancelled"
	}
	if g.IsReminderOn {
		ev.Alarms = []tidbro.Alarm{{Action: "display", Trigger: fmt.Sprintf("-PT%dM", g.ReminderMinutes)}}
	}
	// The mailbox's own events name it organizer: that says nothing. An
	// invitation's organizer, or a meeting's, does.
	if g.Organizer != nil && g.Organizer.EmailAddress.Address != "" && (!g.IsOrganizer || len(g.Attendees) > 0) {
		ev.Organizer = &tidbro.Attendee{Email: g.Organizer.EmailAddress.Address, Name: g.Organizer.EmailAddress.Name}
	}
	for _, a := range g.Attendees {
		ev.Attendees = append(ev.Attendees, tidbro.Attendee{Email: a.EmailAddress.Address, Name: a.EmailAddress.Name,
			Role: roleOf[a.Type], Status: responseOf[a.Status.Response]})
	}
	if g.Recurrence != nil {
		loc := zone(g.Recurrence.Range.RecurrenceTimeZone)
		if loc == nil {
			loc = zone(g.OriginalStartTimeZone)
		}
		if loc == nil || ev.AllDay {
			loc = time.UTC
		}
		if ev.RRule, err = toRRule(g.Recurrence, loc); err != nil {
			return nil, err
		}
		for _, oid := range g.CancelledOccurrences {
			if t, ok := occurrenceStart(oid, ev.Start, loc); ok {
				ev.ExDates = append(ev.ExDates, t)
			}
		}
		for i := range g.ExceptionOccurrences {
			x := &g.ExceptionOccurrences[i]
			o, err := toEvent(x)
			if err != nil {
				return nil, fmt.Errorf("exception %s: %w", x.ID, err)
			}
			rid, err := time.Parse(time.RFC3339, x.OriginalStart)
			if err != nil {
				return nil, fmt.Errorf("exception %s: originalStart %q: %w", x.ID, x.OriginalStart, err)
			}
			rid = rid.UTC()
			o.RecurrenceID, o.UID, o.RRule = &rid, "", ""
			if o.TimeZone == ev.TimeZone {
				o.TimeZone = ""
			}
			ev.Overrides = append(ev.Overrides, *o)
		}
		slices.SortFunc(ev.Overrides, func(a, b tidbro.Event) int { return a.RecurrenceID.Compare(*b.RecurrenceID) })
		slices.SortFunc(ev.ExDates, func(a, b time.Time) int { return a.Compare(b) })
	}
	return ev, nil
}

// localDate is an all-day boundary as tidbro keeps it: midnight UTC of the
// date it falls on in the event's zone.
func localDate(t time.Time, zoneName string) time.Time {
	if l := zone(zoneName); l != nil {
		t = t.In(l)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// occurrenceStart reads the date of an occurrence id ("OID.{master}.{date}")
// as the instant the series starts on that date.
func occurrenceStart(oid string, start time.Time, loc *time.Location) (time.Time, bool) {
	i := strings.LastIndex(oid, ".")
	if i < 0 {
		return time.Time{}, false
	}
	d, err := time.ParseInLocation("2006-01-02", oid[i+1:], loc)
	if err != nil {
		return time.Time{}, false
	}
	s := start.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day(), s.Hour(), s.Minute(), s.Second(), 0, loc).UTC(), true
}

var (
	roleOf     = map[string]string{"required": "required", "optional": "optional", "resource": "non-participant"}
	responseOf = map[string]string{"accepted": "accepted", "declined": "declined", "tentativelyAccepted": "tentative",
		"organizer": "accepted", "none": "needs-action", "notResponded": "needs-action"}
	weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	byDay    = map[string]string{"SU": "sunday", "MO": "monday", "TU": "tuesday", "WE": "wednesday", "TH": "thursday", "FR": "friday", "SA": "saturday"}
	indexes  = map[string]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}
)

func dayCode(name string) string {
	for k, v := range byDay {
		if v == name {
			return k
		}
	}
	return ""
}

// toRRule writes Outlook's recurrence as an RFC 5545 RECUR value; start is
// the series' start in the recurrence's zone.
func toRRule(r *patternedRecurrence, loc *time.Location) (string, error) {
	p := r.Pattern
	var parts []string
	days := func() string {
		var ds []string
		for _, d := range p.DaysOfWeek {
			if c := dayCode(strings.ToLower(d)); c != "" {
				ds = append(ds, c)
			}
		}
		return strings.Join(ds, ",")
	}
	index := func() (int, error) {
		if p.Index == "" {
			return 1, nil
		}
		n, ok := indexes[strings.ToLower(p.Index)]
		if !ok {
			return 0, fmt.Errorf("recurrence index %q", p.Index)
		}
		return n, nil
	}
	switch p.Type {
	case "daily":
		parts = append(parts, "FREQ=DAILY")
	case "weekly":
		parts = append(parts, "FREQ=WEEKLY", "BYDAY="+days())
		if p.FirstDayOfWeek != "" && !strings.EqualFold(p.FirstDayOfWeek, "monday") {
			parts = append(parts, "WKST="+dayCode(strings.ToLower(p.FirstDayOfWeek)))
		}
	case "absoluteMonthly":
		parts = append(parts, "FREQ=MONTHLY", "BYMONTHDAY="+strconv.Itoa(p.DayOfMonth))
	case "relativeMonthly":
		n, err := index()
		if err != nil {
			return "", err
		}
		parts = append(parts, "FREQ=MONTHLY", "BYDAY="+days(), "BYSETPOS="+strconv.Itoa(n))
	case "absoluteYearly":
		parts = append(parts, "FREQ=YEARLY", "BYMONTH="+strconv.Itoa(p.Month), "BYMONTHDAY="+strconv.Itoa(p.DayOfMonth))
	case "relativeYearly":
		n, err := index()
		if err != nil {
			return "", err
		}
		parts = append(parts, "FREQ=YEARLY", "BYMONTH="+strconv.Itoa(p.Month), "BYDAY="+days(), "BYSETPOS="+strconv.Itoa(n))
	default:
		return "", fmt.Errorf("recurrence pattern %q is not one tidbro knows", p.Type)
	}
	if p.Interval > 1 {
		parts = append(parts, "INTERVAL="+strconv.Itoa(p.Interval))
	}
	switch r.Range.Type {
	case "numbered":
		parts = append(parts, "COUNT="+strconv.Itoa(r.Range.NumberOfOccurrences))
	case "endDate":
		d, err := time.ParseInLocation("2006-01-02", r.Range.EndDate, loc)
		if err != nil {
			return "", fmt.Errorf("recurrence end date %q: %w", r.Range.EndDate, err)
		}
		// The last day counts: every instance starting on it is in.
		until := time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, loc)
		parts = append(parts, "UNTIL="+until.UTC().Format("20060102T150405Z"))
	}
	return tidbro.NormalizeRRule(strings.Join(parts, ";")), nil
}

// fromRRule writes an RFC 5545 RECUR as Outlook's recurrence, or says
// which part Outlook cannot repeat by.
func fromRRule(rule string, start time.Time, loc *time.Location, zoneName string) (*patternedRecurrence, error) {
	kv := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(rule, "RRULE:"), ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("RRULE part %q", part)
		}
		kv[strings.ToUpper(k)] = strings.ToUpper(v)
	}
	for k := range kv {
		switch k {
		case "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST":
		default:
			return nil, fmt.Errorf("an Outlook series cannot repeat by %s (RRULE %s)", k, rule)
		}
	}
	s := start.In(loc)
	r := &patternedRecurrence{}
	r.Pattern.Interval = 1
	if v := kv["INTERVAL"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("INTERVAL %q", v)
		}
		r.Pattern.Interval = n
	}
	days, index, err := parseByDay(kv["BYDAY"], kv["BYSETPOS"])
	if err != nil {
		return nil, err
	}
	if len(days) == 0 {
		days = []string{weekdays[s.Weekday()]}
	}
	monthDay := s.Day()
	if v := kv["BYMONTHDAY"]; v != "" {
		if monthDay, err = strconv.Atoi(v); err != nil || monthDay < 1 || monthDay > 31 {
			return nil, fmt.Errorf("an Outlook series repeats on one day of the month from 1 to 31, not BYMONTHDAY=%s", v)
		}
	}
	month := int(s.Month())
	if v := kv["BYMONTH"]; v != "" {
		if month, err = strconv.Atoi(v); err != nil || month < 1 || month > 12 {
			return nil, fmt.Errorf("an Outlook series repeats in one month, not BYMONTH=%s", v)
		}
	}
	switch kv["FREQ"] {
	case "DAILY":
		if kv["BYDAY"] != "" || kv["BYMONTHDAY"] != "" || kv["BYMONTH"] != "" {
			return nil, fmt.Errorf("an Outlook daily series cannot be limited (RRULE %s)", rule)
		}
		r.Pattern.Type = "daily"
	case "WEEKLY":
		if index != 0 {
			return nil, fmt.Errorf("an Outlook series cannot repeat weekly by position (RRULE %s)", rule)
		}
		r.Pattern.Type, r.Pattern.DaysOfWeek, r.Pattern.FirstDayOfWeek = "weekly", days, "monday"
		if w := kv["WKST"]; w != "" {
			r.Pattern.FirstDayOfWeek = byDay[w]
		}
	case "MONTHLY":
		if index != 0 {
			r.Pattern.Type, r.Pattern.DaysOfWeek, r.Pattern.Index = "relativeMonthly", days, indexName(index)
		} else {
			r.Pattern.Type, r.Pattern.DayOfMonth = "absoluteMonthly", monthDay
		}
	case "YEARLY":
		if index != 0 {
			r.Pattern.Type, r.Pattern.DaysOfWeek, r.Pattern.Index, r.Pattern.Month = "relativeYearly", days, indexName(index), month
		} else {
			r.Pattern.Type, r.Pattern.DayOfMonth, r.Pattern.Month = "absoluteYearly", monthDay, month
		}
	default:
		return nil, fmt.Errorf("an Outlook series cannot repeat %s (RRULE %s)", strings.ToLower(kv["FREQ"]), rule)
	}
	if index == 0 && r.Pattern.Type != "weekly" {
		r.Pattern.DaysOfWeek = nil
	}
	r.Range.StartDate = s.Format("2006-01-02")
	r.Range.RecurrenceTimeZone = zoneName
	switch {
	case kv["COUNT"] != "":
		n, err := strconv.Atoi(kv["COUNT"])
		if err != nil || n < 1 {
			return nil, fmt.Errorf("COUNT %q", kv["COUNT"])
		}
		r.Range.Type, r.Range.NumberOfOccurrences = "numbered", n
	case kv["UNTIL"] != "":
		u, err := parseUntil(kv["UNTIL"], loc)
		if err != nil {
			return nil, err
		}
		r.Range.Type, r.Range.EndDate = "endDate", u.In(loc).Format("2006-01-02")
	default:
		r.Range.Type = "noEnd"
	}
	return r, nil
}

func parseUntil(v string, loc *time.Location) (time.Time, error) {
	for _, f := range []string{"20060102T150405Z", "20060102T150405", "20060102"} {
		l := loc
		if strings.HasSuffix(f, "Z") {
			l = time.UTC
		}
		if t, err := time.ParseInLocation(f, v, l); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("UNTIL %q", v)
}

func indexName(n int) string {
	for k, v := range indexes {
		if v == n {
			return k
		}
	}
	return "first"
}

// parseByDay reads BYDAY (with an ordinal, "2TU", or BYSETPOS) into days
// and one position (0: none).
func parseByDay(v, setpos string) (days []string, index int, err error) {
	if setpos != "" {
		if index, err = strconv.Atoi(setpos); err != nil || index < -1 || index > 4 || index == 0 {
			return nil, 0, fmt.Errorf("an Outlook series repeats on the first to fourth or the last day, not BYSETPOS=%s", setpos)
		}
	}
	for _, d := range strings.Split(v, ",") {
		if d == "" {
			continue
		}
		code := d[len(d)-2:]
		name, ok := byDay[code]
		if !ok {
			return nil, 0, fmt.Errorf("BYDAY %q", v)
		}
		if ord := d[:len(d)-2]; ord != "" {
			n, err := strconv.Atoi(ord)
			if err != nil || n < -1 || n > 4 || n == 0 || index != 0 && index != n {
				return nil, 0, fmt.Errorf("an Outlook series repeats on the first to fourth or the last day, not BYDAY=%s", v)
			}
			index = n
		}
		days = append(days, name)
	}
	return days, index, nil
}

// eventBody writes an event as Graph's create or update body; fields not
// modelled by tidbro are left to what Outlook has.
func eventBody(ev *tidbro.Event, series bool) (map[string]any, error) {
	zoneName, loc := "UTC", time.UTC
	if ev.TimeZone != "" && !ev.AllDay {
		if l, err := tidbro.LoadZone(ev.TimeZone); err == nil {
			loc, zoneName = l, ev.TimeZone
			if w, ok := wintz.FromIANA(ev.TimeZone); ok {
				zoneName = w
			}
		}
	}
	at := func(t time.Time) dateTimeTZ {
		if ev.AllDay {
			return dateTimeTZ{DateTime: t.UTC().Format("2006-01-02") + "T00:00:00", TimeZone: "UTC"}
		}
		return dateTimeTZ{DateTime: t.In(loc).Format("2006-01-02T15:04:05"), TimeZone: zoneName}
	}
	end := ev.End
	if end.IsZero() || !end.After(ev.Start) {
		end = ev.Start
		if ev.AllDay {
			end = ev.Start.AddDate(0, 0, 1)
		}
	}
	b := map[string]any{
		"subject":     ev.Summary,
		"body":        itemBody{ContentType: "text", Content: ev.Description},
		"start":       at(ev.Start),
		"end":         at(end),
		"isAllDay":    ev.AllDay,
		"location":    map[string]string{"displayName": ev.Location},
		"sensitivity": map[bool]string{true: "private", false: "normal"}[ev.Private],
		"showAs":      showAs(ev),
		"categories":  nonNil(ev.Categories),
	}
	b["isReminderOn"], b["reminderMinutesBeforeStart"] = false, 0
	for _, a := range ev.Alarms {
		if a.At == nil && strings.HasPrefix(a.Trigger, "-") {
			if d, err := tidbro.ParseDuration(a.Trigger); err == nil {
				b["isReminderOn"], b["reminderMinutesBeforeStart"] = true, int(-d/time.Minute)
				break
			}
		}
	}
	if series && ev.RRule != "" {
		r, err := fromRRule(ev.RRule, ev.Start, loc, zoneName)
		if err != nil {
			return nil, tidbro.Errorf(tidbro.EINVALID, "%v", err)
		}
		b["recurrence"] = r
	} else if series {
		b["recurrence"] = nil
	}
	return b, nil
}

func showAs(ev *tidbro.Event) string {
	if ev.ShowAs == "" {
		return "busy"
	}
	return ev.ShowAs
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
