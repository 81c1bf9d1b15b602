package tidbro

import (
	"reflect"
	"strings"
	"time"
	"unicode/utf8"
)

// Keep changes body (a *Event, *Task or *Contact) to what a remote with
// these capabilities keeps of a write: string fields named in FieldLimits
// are cut to that many characters wherever they stand in the body (an
// event's overrides too), and private flags are cleared where the remote
// has none. Connectors' fakes and the engine's comparisons share it, so
// they agree on what "truncated by the remote" means.
func (c Capabilities) Keep(body any) {
	if len(c.FieldLimits) == 0 && c.Private {
		return
	}
	keep(reflect.ValueOf(body), c.FieldLimits, !c.Private)
}

var timeType = reflect.TypeFor[time.Time]()

func keep(v reflect.Value, limits map[string]int, dropPrivate bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			keep(v.Elem(), limits, dropPrivate)
		}
	case reflect.Slice:
		for i := range v.Len() {
			keep(v.Index(i), limits, dropPrivate)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		for i := range v.NumField() {
			f, sf := v.Field(i), v.Type().Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			switch {
			case !sf.IsExported():
			case f.Kind() == reflect.String:
				if n, ok := limits[name]; ok {
					f.SetString(Truncate(f.String(), n))
				}
			case f.Kind() == reflect.Bool && name == "private" && dropPrivate:
				f.SetBool(false)
			default:
				keep(f, limits, dropPrivate)
			}
		}
	}
}

// Truncate keeps the first n characters (runes) of s.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range max(n, 0) {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
