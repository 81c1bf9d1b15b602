package graphtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tidbro/tidbro/wintz"
)

// Event is an event as the fake stores it, mirroring Graph's event JSON
// (learn.microsoft.com/graph/api/resources/event). Start and End are kept
// in UTC (all-day events at midnight of their dates, see setTimes);
// OriginalStartTimeZone and OriginalEndTimeZone hold the zones they were
// written in, as Windows names.
type Event struct {
	ID                            string               `json:"id"`
	CreatedDateTime               time.Time            `json:"createdDateTime"`
	LastModifiedDateTime          time.Time            `json:"lastModifiedDateTime"`
	ChangeKey                     string               `json:"changeKey"`
	Categories                    []string             `json:"categories"`
	TransactionID                 string               `json:"transactionId"` // "" is null
	OriginalStartTimeZone         string               `json:"originalStartTimeZone"`
	OriginalEndTimeZone           string               `json:"originalEndTimeZone"`
	ICalUID                       string               `json:"iCalUId"`
	ReminderMinutesBeforeStart    int                  `json:"reminderMinutesBeforeStart"`
	IsReminderOn                  bool                 `json:"isReminderOn"`
	Subject                       string               `json:"subject"`
	Body                          ItemBody             `json:"body"`
	Importance                    string               `json:"importance"`
	Sensitivity                   string               `json:"sensitivity"`
	IsAllDay                      bool                 `json:"isAllDay"`
	IsCancelled                   bool                 `json:"isCancelled"`
	ShowAs                        string               `json:"showAs"`
	Type                          string               `json:"type"` // singleInstance, occurrence, exception, seriesMaster
	WebLink                       string               `json:"webLink"`
	SeriesMasterID                string               `json:"seriesMasterId"`         // "" is null
	OriginalStart                 time.Time            `json:"originalStart,omitzero"` // occurrences and exceptions only
	Start                         DateTimeTimeZone     `json:"start"`
	End                           DateTimeTimeZone     `json:"end"`
	Location                      Location             `json:"location"`
	Recurrence                    *PatternedRecurrence `json:"recurrence"`
	Attendees                     []Attendee           `json:"attendees"`
	Organizer                     Recipient            `json:"organizer"`
	SingleValueExtendedProperties []ExtendedProperty   `json:"singleValueExtendedProperties,omitempty"`

	// Bookkeeping of a series master, not properties of its own: the
	// modified occurrences (full events of type exception, with
	// OriginalStart) and the original starts of the cancelled ones.
	Exceptions []Event     `json:"-"`
	Cancelled  []time.Time `json:"-"`
	seriesKey  string      // change key of the series' last own change, its occurrences' change key
}

// DateTimeTimeZone is Graph's dateTimeTimeZone.
type DateTimeTimeZone struct {
	DateTime string `json:"dateTime"` // 2006-01-02T15:04:05.0000000, no offset
	TimeZone string `json:"timeZone"`
}

// ItemBody is an event's body.
type ItemBody struct {
	ContentType string `json:"contentType"` // text or html
	Content     string `json:"content"`
}

// EmailAddress is a name and an address.
type EmailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

// Recipient is an organizer.
type Recipient struct {
	EmailAddress EmailAddress `json:"emailAddress"`
}

// ResponseStatus is an attendee's answer.
type ResponseStatus struct {
	Response string `json:"response"`
	Time     string `json:"time"`
}

// Attendee is an attendee of a meeting.
type Attendee struct {
	Type         string         `json:"type"` // required, optional, resource
	EmailAddress EmailAddress   `json:"emailAddress"`
	Status       ResponseStatus `json:"status"`
}

// PhysicalAddress is a location's address.
type PhysicalAddress struct {
	Street          string `json:"street"`
	City            string `json:"city"`
	State           string `json:"state"`
	CountryOrRegion string `json:"countryOrRegion"`
	PostalCode      string `json:"postalCode"`
}

// Location is an event's location.
type Location struct {
	DisplayName  string           `json:"displayName"`
	LocationType string           `json:"locationType"`
	UniqueID     string           `json:"uniqueId,omitempty"`
	UniqueIDType string           `json:"uniqueIdType"`
	Address      *PhysicalAddress `json:"address,omitempty"`
}

// PatternedRecurrence is a series' recurrence.
type PatternedRecurrence struct {
	Pattern RecurrencePattern `json:"pattern"`
	Range   RecurrenceRange   `json:"range"`
}

// RecurrencePattern is how often a series repeats.
type RecurrencePattern struct {
	Type           string   `json:"type"` // daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly, relativeYearly
	Interval       int      `json:"interval"`
	Month          int      `json:"month"`
	DayOfMonth     int      `json:"dayOfMonth"`
	DaysOfWeek     []string `json:"daysOfWeek"`
	FirstDayOfWeek string   `json:"firstDayOfWeek"`
	Index          string   `json:"index"` // first, second, third, fourth, last
}

// RecurrenceRange is how long a series repeats.
type RecurrenceRange struct {
	Type                string `json:"type"` // endDate, noEnd, numbered
	StartDate           string `json:"startDate"`
	EndDate             string `json:"endDate"`
	RecurrenceTimeZone  string `json:"recurrenceTimeZone"`
	NumberOfOccurrences int    `json:"numberOfOccurrences"`
}

// ExtendedProperty is a single-value extended property.
type ExtendedProperty struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

const dtLayout = "2006-01-02T15:04:05.0000000"
const dateLayout = "2006-01-02"

// clone deep-copies e.
func (e Event) clone() Event {
	c := e
	c.Categories = slices.Clone(e.Categories)
	c.Attendees = slices.Clone(e.Attendees)
	c.SingleValueExtendedProperties = slices.Clone(e.SingleValueExtendedProperties)
	if e.Location.Address != nil {
		a := *e.Location.Address
		c.Location.Address = &a
	}
	if e.Recurrence != nil {
		r := *e.Recurrence
		r.Pattern.DaysOfWeek = slices.Clone(r.Pattern.DaysOfWeek)
		c.Recurrence = &r
	}
	c.Exceptions = nil
	for _, x := range e.Exceptions {
		c.Exceptions = append(c.Exceptions, x.clone())
	}
	c.Cancelled = slices.Clone(e.Cancelled)
	return c
}

// startTime and endTime are the instants of a stored event (an all-day
// event's dates at midnight UTC).
func (e *Event) startTime() time.Time { t, _ := time.Parse(dtLayout, e.Start.DateTime); return t }
func (e *Event) endTime() time.Time   { t, _ := time.Parse(dtLayout, e.End.DateTime); return t }

// eventProperties are the names $select accepts.
var eventProperties = []string{
	"allowNewTimeProposals", "attendees", "body", "bodyPreview", "cancelledOccurrences", "categories",
	"changeKey", "createdDateTime", "end", "exceptionOccurrences", "hasAttachments", "hideAttendees",
	"iCalUId", "id", "importance", "isAllDay", "isCancelled", "isDraft", "isOnlineMeeting", "isOrganizer",
	"isReminderOn", "lastModifiedDateTime", "location", "locations", "onlineMeeting",
	"onlineMeetingProvider", "onlineMeetingUrl", "organizer", "originalEndTimeZone", "originalStart",
	"originalStartTimeZone", "recurrence", "reminderMinutesBeforeStart", "responseRequested",
	"responseStatus", "sensitivity", "seriesMasterId", "showAs", "start", "subject", "transactionId",
	"type", "webLink",
}

// render is e's JSON object as Graph answers it, times in UTC, without the
// extended properties (they come only through $expand).
func render(e *Event) map[string]any {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	delete(m, "singleValueExtendedProperties")
	m["@odata.etag"] = `W/"` + e.ChangeKey + `"`
	if e.TransactionID == "" {
		m["transactionId"] = nil
	}
	if e.SeriesMasterID == "" {
		m["seriesMasterId"] = nil
	}
	if e.Categories == nil {
		m["categories"] = []any{}
	}
	if e.Attendees == nil {
		m["attendees"] = []any{}
	}
	m["locations"] = []any{}
	if e.Location.DisplayName != "" {
		m["locations"] = []any{m["location"]}
	}
	m["bodyPreview"] = preview(e.Body)
	// Properties the fake does not model, at the values of a plain event
	// the mailbox owner organises.
	m["isOrganizer"] = true
	m["responseStatus"] = map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"}
	m["responseRequested"] = true
	m["hasAttachments"] = false
	m["isDraft"] = false
	m["hideAttendees"] = false
	m["allowNewTimeProposals"] = true
	m["isOnlineMeeting"] = false
	m["onlineMeetingProvider"] = "unknown"
	m["onlineMeeting"] = nil
	m["onlineMeetingUrl"] = nil
	return m
}

var tags = regexp.MustCompile(`<[^>]*>`)

func preview(b ItemBody) string {
	s := b.Content
	if b.ContentType == "html" {
		s = tags.ReplaceAllString(s, " ")
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 255 {
		s = string(r[:255])
	}
	return s
}

// ---- ids ----

func (s *Server) newEventID() string { return "AAMkAD" + b64(s.unique()) + "AAA=" }

func (s *Server) newChangeKey() string { return base64.StdEncoding.EncodeToString(s.unique()) }

func (s *Server) newICalUID() string {
	return "040000008200E00074C5B7101A82E00800000000" + strings.ToUpper(hex.EncodeToString(s.unique()))
}

func calendarID(userID string) string {
	h := sha256.Sum256([]byte("calendar " + userID))
	return "AAMkCA" + b64(h[:18]) + "AAA="
}

// occurrenceID is the id of a series' occurrence: opaque to clients, but
// derived from the master's id and the original start, so that it is the
// same in every answer and leads back to both.
func occurrenceID(masterID string, orig time.Time) string {
	return "AAMkOC" + b64([]byte(masterID+"|"+orig.UTC().Format("20060102T150405Z"))) + "="
}

func parseOccurrenceID(id string) (masterID string, orig time.Time, ok bool) {
	raw, ok := strings.CutPrefix(id, "AAMkOC")
	if !ok {
		return "", time.Time{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSuffix(raw, "="))
	if err != nil {
		return "", time.Time{}, false
	}
	i := bytes.LastIndexByte(b, '|')
	if i < 0 {
		return "", time.Time{}, false
	}
	t, err := time.Parse("20060102T150405Z", string(b[i+1:]))
	return string(b[:i]), t, err == nil
}

func webLink(id string) string {
	return "https://outlook.office365.com/owa/?itemid=" + url.QueryEscape(id) + "&exvsurl=1&path=/calendar/item"
}

// occurrence renders a series' occurrence at its original start: the
// master's properties at the occurrence's times, recurrence null.
func occurrence(m *Event, orig time.Time) Event {
	o := m.clone()
	o.Exceptions, o.Cancelled, o.Recurrence = nil, nil, nil
	o.ID = occurrenceID(m.ID, orig)
	o.Type = "occurrence"
	o.SeriesMasterID = m.ID
	o.OriginalStart = orig
	o.TransactionID = ""
	o.ChangeKey = m.seriesKey
	o.WebLink = webLink(o.ID)
	h := sha256.Sum256([]byte(m.ICalUID + orig.Format(time.RFC3339)))
	o.ICalUID = "040000008200E00074C5B7101A82E008" + strings.ToUpper(hex.EncodeToString(h[:20]))
	dur := m.endTime().Sub(m.startTime())
	o.Start = DateTimeTimeZone{orig.Format(dtLayout), "UTC"}
	o.End = DateTimeTimeZone{orig.Add(dur).Format(dtLayout), "UTC"}
	return o
}

// ---- zones and times ----

type zoneInfo struct {
	loc     *time.Location
	windows string
}

var zones sync.Map // name → zoneInfo

// zone resolves a timeZone as Graph accepts it: a Windows name or an IANA
// name (mapped with wintz); what Graph stores is the Windows name.
func zone(name string) (zoneInfo, error) {
	if z, ok := zones.Load(name); ok {
		return z.(zoneInfo), nil
	}
	z := zoneInfo{}
	var err error
	if strings.EqualFold(name, "UTC") {
		z = zoneInfo{time.UTC, "UTC"}
	} else if iana, ok := wintz.ToIANA(name); ok {
		z.windows = name
		z.loc, err = time.LoadLocation(iana)
	} else if win, ok := wintz.FromIANA(name); ok {
		z.windows = win
		z.loc, err = time.LoadLocation(name)
	} else {
		err = fmt.Errorf("unknown zone")
	}
	if err != nil {
		return z, badZone(name)
	}
	zones.Store(name, z)
	return z, nil
}

// wall is a start or an end as written: a wall-clock time in its zone.
type wall struct {
	t   time.Time // in the zone's location
	win string
}

func givenWall(d DateTimeTimeZone) (wall, error) {
	z, err := zone(d.TimeZone)
	if err != nil {
		return wall{}, err
	}
	// Fractional seconds are accepted after the seconds; an offset or a Z
	// is not, as dateTimeTimeZone has none.
	t, err := time.ParseInLocation("2006-01-02T15:04:05", d.DateTime, z.loc)
	if err != nil {
		return wall{}, fmt.Errorf("dateTime %q is not of the form 2006-01-02T15:04:05[.fffffff] without an offset", d.DateTime)
	}
	return wall{t, z.windows}, nil
}

// storedWall is a stored start or end back in the zone it was written in.
func storedWall(d DateTimeTimeZone, win string, allDay bool) wall {
	z, err := zone(win)
	if err != nil {
		z = zoneInfo{time.UTC, "UTC"}
	}
	t, _ := time.Parse(dtLayout, d.DateTime)
	if allDay {
		return wall{time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, z.loc), z.windows}
	}
	return wall{t.In(z.loc), z.windows}
}

func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func midnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// ---- writing ----

// apiError is a Graph error answer from validation.
type apiError struct {
	status    int
	code, msg string
}

func invalid(format string, args ...any) *apiError {
	// Graph's codes for these validation failures are not documented; ours
	// is ErrorInvalidRequest.
	return &apiError{400, "ErrorInvalidRequest", fmt.Sprintf(format, args...)}
}

// What a body is written onto.
const (
	modeCreate = iota // a new event
	modeUpdate        // a single instance or a series master
	modeMember        // an occurrence or exception of a series
)

// readOnly properties in a body are ignored (our choice; the
// documentation does not say whether Graph refuses or ignores them).
var readOnly = map[string]bool{
	"id": true, "changeKey": true, "createdDateTime": true, "lastModifiedDateTime": true, "type": true,
	"seriesMasterId": true, "originalStart": true, "originalStartTimeZone": true, "originalEndTimeZone": true,
	"iCalUId": true, "webLink": true, "bodyPreview": true, "isOrganizer": true, "responseStatus": true,
	"hasAttachments": true, "organizer": true, "isCancelled": true,
}

// applyFields writes the properties of a create or update body onto e and
// normalises it; hasAttendees reports attendees in the body.
func applyFields(e *Event, fields map[string]json.RawMessage, mode int) (hasAttendees bool, _ *apiError) {
	keys := slices.Sorted(maps.Keys(fields))
	var start, end *DateTimeTimeZone
	allDay := e.IsAllDay
	for _, k := range keys {
		raw := fields[k]
		var err error
		switch k {
		case "subject":
			err = strictJSON(raw, &e.Subject)
		case "body":
			var b ItemBody
			if err = strictJSON(raw, &b); err == nil {
				// Graph answers "html" for "HTML"; text stays text (our
				// choice: no conversion of text to HTML).
				b.ContentType = strings.ToLower(cmpOr(b.ContentType, "text"))
				if b.ContentType != "text" && b.ContentType != "html" {
					return false, invalid("body.contentType must be text or html, not %q", b.ContentType)
				}
				e.Body = b
			}
		case "start":
			start = new(DateTimeTimeZone)
			err = strictJSON(raw, start)
		case "end":
			end = new(DateTimeTimeZone)
			err = strictJSON(raw, end)
		case "isAllDay":
			err = strictJSON(raw, &allDay)
		case "location":
			var l Location
			if err = strictJSON(raw, &l); err == nil {
				e.Location = defaultLocation(l)
			}
		case "locations":
			var ls []Location
			if err = strictJSON(raw, &ls); err == nil {
				e.Location = defaultLocation(Location{})
				if len(ls) > 0 {
					e.Location = defaultLocation(ls[0])
				}
			}
		case "sensitivity", "showAs", "importance":
			var v string
			if err = strictJSON(raw, &v); err == nil {
				canon, ok := enumValue(enums[k], v)
				if !ok {
					return false, invalid("%s: %q is not one of %v", k, v, enums[k])
				}
				switch k {
				case "sensitivity":
					e.Sensitivity = canon
				case "showAs":
					e.ShowAs = canon
				default:
					e.Importance = canon
				}
			}
		case "categories":
			e.Categories = nil
			err = strictJSON(raw, &e.Categories)
		case "recurrence":
			if mode == modeMember {
				return false, invalid("An occurrence or exception of a series cannot have a recurrence.")
			}
			var r *PatternedRecurrence
			if err = strictJSON(raw, &r); err == nil {
				e.Recurrence = r
			}
		case "isReminderOn":
			err = strictJSON(raw, &e.IsReminderOn)
		case "reminderMinutesBeforeStart":
			err = strictJSON(raw, &e.ReminderMinutesBeforeStart)
		case "attendees":
			var as []Attendee
			if err = strictJSON(raw, &as); err == nil {
				if len(as) > 500 {
					return false, invalid("An event can have at most 500 attendees.")
				}
				for i := range as {
					as[i].Type = cmpOr(as[i].Type, "required")
					if as[i].Status.Response == "" {
						as[i].Status = ResponseStatus{"none", "0001-01-01T00:00:00Z"}
					}
				}
				e.Attendees = as
				hasAttendees = len(as) > 0
			}
		case "transactionId":
			var v string
			if err = strictJSON(raw, &v); err == nil {
				switch {
				case mode == modeCreate:
					e.TransactionID = v
				case mode == modeUpdate && v != e.TransactionID:
					return false, invalid("transactionId cannot be changed after the event is created.")
				}
			}
		case "singleValueExtendedProperties":
			var ps []ExtendedProperty
			if err = strictJSON(raw, &ps); err == nil {
				for _, p := range ps {
					k, ok := propKey(p.ID)
					if !ok {
						return false, invalid("invalid extended property id %q", p.ID)
					}
					i := slices.IndexFunc(e.SingleValueExtendedProperties, func(x ExtendedProperty) bool { pk, _ := propKey(x.ID); return pk == k })
					if i >= 0 {
						e.SingleValueExtendedProperties[i].Value = p.Value
					} else {
						e.SingleValueExtendedProperties = append(e.SingleValueExtendedProperties, p)
					}
				}
			}
		default:
			if readOnly[k] || strings.HasPrefix(k, "@odata.") {
				continue
			}
			return false, &apiError{400, "ErrorInvalidProperty", fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.event' (or graphtest does not model it).", k)}
		}
		if err != nil {
			return false, invalid("%s: %v", k, err)
		}
	}
	if mode == modeCreate && (start == nil || end == nil) {
		return false, invalid("An event needs a start and an end.")
	}
	if start != nil || end != nil || allDay != e.IsAllDay {
		if err := setTimes(e, start, end, allDay); err != nil {
			return false, err
		}
	}
	if e.Recurrence != nil {
		if err := checkRecurrence(e); err != nil {
			return false, err
		}
	}
	return hasAttendees, nil
}

// setTimes stores start and end (nil: unchanged) in UTC. An all-day event
// must start and end at midnight of one zone; it is stored, and answered,
// at midnight of its dates in UTC: all-day events are floating (our
// choice; the brief does not say how Graph answers them under
// outlook.timezone="UTC").
func setTimes(e *Event, start, end *DateTimeTimeZone, allDay bool) *apiError {
	sw := storedWall(e.Start, e.OriginalStartTimeZone, e.IsAllDay)
	ew := storedWall(e.End, e.OriginalEndTimeZone, e.IsAllDay)
	var err error
	if start != nil {
		if sw, err = givenWall(*start); err != nil {
			return zoneError(err, "start")
		}
	}
	if end != nil {
		if ew, err = givenWall(*end); err != nil {
			return zoneError(err, "end")
		}
	}
	if allDay {
		if !midnight(sw.t) || !midnight(ew.t) || sw.win != ew.win {
			return invalid("An all-day event must start and end at midnight in the same time zone.")
		}
		sd, ed := civil(sw.t), civil(ew.t)
		if !ed.After(sd) {
			return invalid("An all-day event must end at least a day after it starts.")
		}
		e.Start = DateTimeTimeZone{sd.Format(dtLayout), "UTC"}
		e.End = DateTimeTimeZone{ed.Format(dtLayout), "UTC"}
	} else {
		if ew.t.Before(sw.t) {
			return invalid("The end of an event cannot be before its start.")
		}
		e.Start = DateTimeTimeZone{sw.t.UTC().Format(dtLayout), "UTC"}
		e.End = DateTimeTimeZone{ew.t.UTC().Format(dtLayout), "UTC"}
	}
	e.IsAllDay = allDay
	e.OriginalStartTimeZone, e.OriginalEndTimeZone = sw.win, ew.win
	return nil
}

// badZone is a time zone name neither Windows nor IANA (of wintz's table).
type badZone string

func (z badZone) Error() string { return fmt.Sprintf("unsupported time zone %q", string(z)) }

func zoneError(err error, field string) *apiError {
	if z, ok := err.(badZone); ok {
		// The code Graph uses here is not in the brief; ours.
		return &apiError{400, "TimeZoneNotSupportedException", fmt.Sprintf("%s: A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", field, string(z))}
	}
	return invalid("%s: %v", field, err)
}

func defaultLocation(l Location) Location {
	l.LocationType = cmpOr(l.LocationType, "default")
	l.UniqueIDType = cmpOr(l.UniqueIDType, "unknown")
	return l
}

var enums = map[string][]string{
	"sensitivity": {"normal", "personal", "private", "confidential"},
	"showAs":      {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"},
	"importance":  {"low", "normal", "high"},
}

func enumValue(values []string, v string) (string, bool) {
	for _, x := range values {
		if strings.EqualFold(x, v) {
			return x, true
		}
	}
	return "", false
}

// strictJSON decodes raw into v, refusing properties v does not have
// (OData annotations such as @odata.type aside, which SDKs add).
func strictJSON(raw json.RawMessage, v any) error {
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return err
	}
	b, _ := json.Marshal(stripAnnotations(tree))
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func stripAnnotations(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if strings.HasPrefix(k, "@odata.") {
				delete(x, k)
			} else {
				x[k] = stripAnnotations(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = stripAnnotations(x[i])
		}
	}
	return v
}

// newEvent is an event with the defaults Graph gives a new one.
func (s *Server) newEvent(mb *mailbox, id string) Event {
	now := time.Now().UTC()
	if id == "" {
		id = s.newEventID()
	}
	return Event{
		ID: id, CreatedDateTime: now, LastModifiedDateTime: now, ICalUID: s.newICalUID(),
		Body: ItemBody{"html", ""}, Importance: "normal", Sensitivity: "normal", ShowAs: "busy",
		IsReminderOn: true, ReminderMinutesBeforeStart: 15, WebLink: webLink(id),
		Location:  defaultLocation(Location{}),
		Organizer: Recipient{EmailAddress{mb.owner.name, cmpOr(mb.owner.mail, mb.owner.upn)}},
	}
}
