package remotetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidbro/tidbro"
)

// comparableForm returns it in canonical form, with what the suite does not
// compare cleared and default values in their empty form (see Run).
func comparableForm(it *tidbro.RemoteItem) (*tidbro.RemoteItem, error) {
	c, err := canonical(it)
	if err != nil {
		return nil, err
	}
	if e := c.Event; e != nil {
		normEvent(e)
		for i := range e.Overrides {
			normEvent(&e.Overrides[i])
		}
	}
	if t := c.Task; t != nil {
		t.UID = ""
		t.Status = orEmpty(t.Status, "needs-action")
	}
	if k := c.Contact; k != nil {
		k.UID = ""
	}
	return c, nil
}

func normEvent(e *tidbro.Event) {
	e.UID = ""
	e.Status = orEmpty(e.Status, "confirmed")
	e.ShowAs = orEmpty(e.ShowAs, "busy")
	for i := range e.Alarms {
		a := &e.Alarms[i]
		a.Action = orEmpty(a.Action, "display")
		a.Description = ""
	}
}

func orEmpty(v, def string) string {
	if v == def {
		return ""
	}
	return v
}

// applyLimits does to want what Capabilities say the remote does to a
// write: it truncates string fields named in limits (by JSON name, at any
// depth of the body) to that many characters and, with dropPrivate, clears
// every "private" flag.
func applyLimits(it *tidbro.RemoteItem, limits map[string]int, dropPrivate bool) {
	for _, body := range []any{it.Event, it.Task, it.Contact} {
		limitValue(reflect.ValueOf(body), limits, dropPrivate)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func limitValue(v reflect.Value, limits map[string]int, dropPrivate bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			limitValue(v.Elem(), limits, dropPrivate)
		}
	case reflect.Slice:
		for i := range v.Len() {
			limitValue(v.Index(i), limits, dropPrivate)
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
				if n, ok := limits[name]; ok && utf8.RuneCountInString(f.String()) > n {
					f.SetString(string([]rune(f.String())[:max(n, 0)]))
				}
			case f.Kind() == reflect.Bool && name == "private" && dropPrivate:
				f.SetBool(false)
			default:
				limitValue(f, limits, dropPrivate)
			}
		}
	}
}

// diffBodies shows the lines of the two bodies' indented JSON that differ.
func diffBodies(want, got *tidbro.RemoteItem) string {
	lines := func(it *tidbro.RemoteItem) []string {
		b, err := json.MarshalIndent(it.Body(), "", "  ")
		if err != nil {
			return []string{err.Error()}
		}
		return strings.Split(string(b), "\n")
	}
	w, g := lines(want), lines(got)
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	if b.Len() == 0 {
		return "(the same lines, in another order)"
	}
	return b.String()
}
