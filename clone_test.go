package tidbro

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestCloneIsDeep fills every field of a RemoteItem, bodies included, by
// reflection: a field added to a body later is covered without editing
// this test, and one that Clone shares or drops fails it.
func TestCloneIsDeep(t *testing.T) {
	var it RemoteItem
	f := filler{loc: time.FixedZone("X", 5*3600+1800)}
	f.fill(reflect.ValueOf(&it).Elem(), 0)
	if len(it.Event.Overrides) == 0 || it.Event.Overrides[0].RecurrenceID == nil || it.Contact.Photo == nil || len(it.Contact.Photo.Data) == 0 {
		t.Fatal("the filler left nested fields empty")
	}
	c := (&it).Clone()
	if !reflect.DeepEqual(&it, c) {
		t.Fatalf("the copy differs:\n%+v\n%+v", it, *c)
	}
	for _, p := range aliases(reflect.ValueOf(it), reflect.ValueOf(*c), "item") {
		t.Errorf("the copy shares %s with the original", p)
	}
	// Exactness the JSON form would lose: instants' zones and nanoseconds.
	if got := c.Event.Start; got.Location() != f.loc || got.Nanosecond() == 0 {
		t.Errorf("copied start %v lost its zone or nanoseconds", got)
	}
}

func TestCloneKeepsNilAndEmpty(t *testing.T) {
	it := &RemoteItem{
		Event: &Event{Categories: []string{}, Overrides: []Event{{Alarms: []Alarm{}}}, Extra: map[string]string{}},
		Raw:   []byte{},
	}
	if c := it.Clone(); !reflect.DeepEqual(it, c) {
		t.Fatalf("copy changed nil or empty values:\n%#v\n%#v", it.Event, c.Event)
	}
	if (*RemoteItem)(nil).Clone() != nil {
		t.Fatal("copy of nil is not nil")
	}
}

type filler struct {
	n   int
	loc *time.Location
}

var timeTypeForTest = reflect.TypeFor[time.Time]()

func (f *filler) fill(v reflect.Value, depth int) {
	f.n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Uint8:
		v.SetUint(uint64(f.n))
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), depth+1)
		v.Set(p)
	case reflect.Slice:
		n := 2
		if depth > 8 { // an event's overrides are events: stop somewhere
			n = 0
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k, depth+1)
			f.fill(e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == timeTypeForTest {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, f.n, f.n, f.loc)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), depth+1)
			}
		}
	default:
		panic("filler: add a case for " + v.Type().String())
	}
}

// aliases lists the paths at which a and b share memory.
func aliases(a, b reflect.Value, path string) []string {
	var out []string
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() {
			return nil
		}
		if a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		out = append(out, aliases(a.Elem(), b.Elem(), path)...)
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
		for i := range min(a.Len(), b.Len()) {
			out = append(out, aliases(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Map:
		if !a.IsNil() && a.Pointer() == b.Pointer() {
			out = append(out, path)
		}
	case reflect.Struct:
		if a.Type() == timeTypeForTest { // its *Location is shared by design
			return nil
		}
		for i := range a.NumField() {
			if a.Type().Field(i).IsExported() {
				out = append(out, aliases(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name)...)
			}
		}
	}
	return out
}
