package memremote

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidbro/tidbro"
)

// Deep copies are written out rather than made by a JSON round trip: the
// bodies' JSON normalises (UTC, whole seconds, default ends, override zones),
// and a remote must hand back exactly what it holds. TestCopyIsDeep fills
// every field by reflection, so a field added to a body later and not copied
// here fails it.

func copyItem(it *tidbro.RemoteItem) *tidbro.RemoteItem {
	if it == nil {
		return nil
	}
	c := *it
	c.Event = copyEvent(it.Event)
	c.Task = copyTask(it.Task)
	c.Contact = copyContact(it.Contact)
	c.Raw = bytes.Clone(it.Raw)
	return &c
}

func copyEvent(e *tidbro.Event) *tidbro.Event {
	if e == nil {
		return nil
	}
	c := cloneEvent(*e)
	return &c
}

func cloneEvent(e tidbro.Event) tidbro.Event {
	e.RDates = slices.Clone(e.RDates)
	e.ExDates = slices.Clone(e.ExDates)
	if e.Overrides != nil {
		os := make([]tidbro.Event, len(e.Overrides))
		for i, o := range e.Overrides {
			os[i] = cloneEvent(o)
		}
		e.Overrides = os
	}
	e.RecurrenceID = clonePtr(e.RecurrenceID)
	e.Categories = slices.Clone(e.Categories)
	if e.Alarms != nil {
		as := make([]tidbro.Alarm, len(e.Alarms))
		for i, a := range e.Alarms {
			a.At = clonePtr(a.At)
			as[i] = a
		}
		e.Alarms = as
	}
	e.Organizer = clonePtr(e.Organizer)
	e.Attendees = slices.Clone(e.Attendees)
	e.Extra = maps.Clone(e.Extra)
	return e
}

func copyTask(t *tidbro.Task) *tidbro.Task {
	if t == nil {
		return nil
	}
	c := *t
	c.Start = clonePtr(t.Start)
	c.Due = clonePtr(t.Due)
	c.Completed = clonePtr(t.Completed)
	c.Categories = slices.Clone(t.Categories)
	c.Extra = maps.Clone(t.Extra)
	return &c
}

func copyContact(k *tidbro.Contact) *tidbro.Contact {
	if k == nil {
		return nil
	}
	c := *k
	c.Emails = slices.Clone(k.Emails)
	c.Phones = slices.Clone(k.Phones)
	c.Addresses = slices.Clone(k.Addresses)
	c.URLs = slices.Clone(k.URLs)
	if k.Photo != nil {
		p := *k.Photo
		p.Data = bytes.Clone(p.Data)
		c.Photo = &p
	}
	c.Categories = slices.Clone(k.Categories)
	c.Extra = maps.Clone(k.Extra)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

// applyLimits truncates the string fields named in limits (by JSON name, at
// any depth) and, with dropPrivate, clears every "private" flag: what a
// remote with those limits keeps of a write.
func applyLimits(it *tidbro.RemoteItem, limits map[string]int, dropPrivate bool) {
	if len(limits) == 0 && !dropPrivate {
		return
	}
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
				if n, ok := limits[name]; ok {
					f.SetString(truncate(f.String(), n))
				}
			case f.Kind() == reflect.Bool && name == "private" && dropPrivate:
				f.SetBool(false)
			default:
				limitValue(f, limits, dropPrivate)
			}
		}
	}
}

// truncate keeps the first n characters (runes) of s.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}
