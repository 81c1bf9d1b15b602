package sqlstore

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
)

// canonicalByRoundTrip is canonical as json.Marshal, json.Unmarshal and
// json.Marshal again, which canonical must equal byte for byte.
func canonicalByRoundTrip(in *tidbro.Item) (*tidbro.Item, []byte, error) {
	it := &tidbro.Item{
		TenantID: in.TenantID, Kind: in.Kind, AppID: in.AppID, Type: in.Type,
		Origin: in.Origin, ChangedBy: in.ChangedBy, OwnerID: in.OwnerID,
	}
	b, err := json.Marshal(in.Body())
	if err != nil {
		return nil, nil, err
	}
	if err := decodeBody(it, b); err != nil {
		return nil, nil, err
	}
	b, err = json.Marshal(it.Body())
	return it, b, err
}

func TestCanonical(t *testing.T) {
	stockholm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 30, 15, 123456789, stockholm)
	moved := start.AddDate(0, 0, 14)
	due := start.Add(48 * time.Hour)
	at := start.Add(-time.Hour)
	bad := "caf\xe9 <b>&</b>" // not UTF-8, and HTML
	items := map[string]*tidbro.Item{
		"event":             {Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: "Visit <&>", Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Stockholm"}},
		"event without end": {Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: "Call", Start: start}},
		"all-day event":     {Kind: tidbro.KindEvent, Event: &tidbro.Event{Summary: "Holiday", Start: start, AllDay: true}},
		"series": {Kind: tidbro.KindEvent, Event: &tidbro.Event{
			Summary: "Weekly", Start: start, End: start.Add(time.Hour), TimeZone: "Europe/Stockholm",
			RRule: "count=20;freq=weekly", ExDates: []time.Time{start.AddDate(0, 0, 7)}, RDates: []time.Time{},
			Overrides:  []tidbro.Event{{RecurrenceID: &moved, Start: moved.Add(time.Hour), Summary: "Moved"}},
			Alarms:     []tidbro.Alarm{{Trigger: "-PT15M"}, {Action: "email", At: &at}},
			Organizer:  &tidbro.Attendee{Email: "o@example.com"},
			Attendees:  []tidbro.Attendee{{Email: "a@example.com", Name: "A\u2028"}},
			Categories: []string{}, Extra: map[string]string{"b": "2", "a": "1"},
		}},
		"job":           {Kind: tidbro.KindJob, Event: &tidbro.Event{Summary: bad, Start: start, End: start.Add(time.Hour)}},
		"task":          {Kind: tidbro.KindTask, Task: &tidbro.Task{Summary: "Order", Due: &due, TimeZone: "Europe/Stockholm", Priority: 1}},
		"all-day task":  {Kind: tidbro.KindTask, Task: &tidbro.Task{Summary: "Order", Start: &start, Due: &due, AllDay: true}},
		"done task":     {Kind: tidbro.KindTask, Task: &tidbro.Task{Summary: "Done", Completed: &start, Status: "completed", Extra: map[string]string{}}},
		"contact":       {Kind: tidbro.KindContact, Contact: &tidbro.Contact{GivenName: "Ann", Emails: []tidbro.Email{{Address: "ann@example.com"}}, Photo: &tidbro.Photo{MediaType: "image/jpeg", Data: []byte{0xff, 0xd8, 0, 1, 2}}}},
		"empty contact": {Kind: tidbro.KindContact, Contact: &tidbro.Contact{URLs: []string{}, Extra: map[string]string{}, Photo: &tidbro.Photo{Data: []byte{}}}},
		"contact, HTML": {Kind: tidbro.KindContact, Contact: &tidbro.Contact{Organization: "A & B <c>", Note: "line\nline\t\u2029\x01"}},
		"contact, U+FFFD": {Kind: tidbro.KindContact, Contact: &tidbro.Contact{
			DisplayName: "\ufffd", Note: `a backslash and ufffd: \ufffd`}},
		"contact, not UTF-8": {Kind: tidbro.KindContact, Contact: &tidbro.Contact{
			DisplayName: bad, Extra: map[string]string{bad: bad}, Addresses: []tidbro.Address{{Street: "\xff"}}}},
	}
	for name, in := range items {
		in.TenantID, in.AppID, in.Type, in.OwnerID, in.ChangedBy = 1, "x", "appointment", 2, tidbro.OriginApp
		wantIt, want, err := canonicalByRoundTrip(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		it, got, err := canonical(in)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: canonical JSON\n%s\nwant\n%s", name, got, want)
		}
		if !reflect.DeepEqual(it, wantIt) {
			t.Errorf("%s: canonical item\n%+v\nwant\n%+v", name, it.Body(), wantIt.Body())
		}
	}
}

// TestContactJSONPlain checks what canonical relies on to skip marshalling
// a contact again: encoding/json marshals a decoded contact as the contact
// it decoded, but for strings that were not UTF-8. That holds of data
// without JSON or text methods of its own, without interfaces (which
// decode as maps and float64s), times (which have methods) and floats,
// and without the ",string" option.
func TestContactJSONPlain(t *testing.T) {
	methods := []reflect.Type{
		reflect.TypeFor[json.Marshaler](), reflect.TypeFor[json.Unmarshaler](),
		reflect.TypeFor[encoding.TextMarshaler](), reflect.TypeFor[encoding.TextUnmarshaler](),
	}
	seen := map[reflect.Type]bool{}
	var check func(path string, ty reflect.Type)
	check = func(path string, ty reflect.Type) {
		if seen[ty] {
			return
		}
		seen[ty] = true
		for _, m := range methods {
			if ty.Implements(m) || reflect.PointerTo(ty).Implements(m) {
				t.Errorf("%s: %s implements %s", path, ty, m)
			}
		}
		switch ty.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		case reflect.Pointer, reflect.Slice:
			check(path+"[]", ty.Elem())
		case reflect.Map:
			if ty.Key().Kind() != reflect.String {
				t.Errorf("%s: map keys of %s", path, ty.Key())
			}
			check(path+"{}", ty.Elem())
		case reflect.Struct:
			for i := range ty.NumField() {
				f := ty.Field(i)
				if !f.IsExported() {
					continue
				}
				if opts := strings.Split(f.Tag.Get("json"), ","); len(opts) > 1 && strings.Contains(","+strings.Join(opts[1:], ",")+",", ",string,") {
					t.Errorf("%s.%s: the string option", path, f.Name)
				}
				check(path+"."+f.Name, f.Type)
			}
		default:
			t.Errorf("%s: a %s", path, ty)
		}
	}
	check("Contact", reflect.TypeFor[tidbro.Contact]())
}
