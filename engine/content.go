package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/tidbro/tidbro"
)

// Content comparison. Both sides are compared as the remote would hold
// them: an app item is projected through the job mapping, the remote's
// capabilities and its field limits before hashing, so that a value the
// remote truncated, or a field it cannot hold, never counts as a change.

func cloneEvent(e *tidbro.Event) *tidbro.Event {
	c := *e
	c.Categories = slices.Clone(e.Categories)
	return &c
}

// remoteKind is the kind an item has on the remote: jobs are events there.
func remoteKind(k tidbro.Kind) tidbro.Kind {
	if k == tidbro.KindJob {
		return tidbro.KindEvent
	}
	return k
}

// remoteView returns the body the remote should hold for an app item.
func (in *Input) remoteView(it *tidbro.Item) (*tidbro.Item, error) {
	v := &tidbro.Item{Kind: remoteKind(it.Kind)}
	switch it.Kind {
	case tidbro.KindJob:
		ev, err := in.Mapping.Render(it)
		if err != nil {
			return nil, err
		}
		v.Event = ev
	case tidbro.KindEvent:
		v.Event = cloneEvent(it.Event)
		v.Event.Extra = nil
	case tidbro.KindTask:
		t := *it.Task
		t.Extra = nil
		v.Task = &t
	case tidbro.KindContact:
		c := *it.Contact
		c.Extra = nil
		v.Contact = &c
	}
	in.limit(v)
	return v, nil
}

// limit applies what the remote cannot hold: field length caps, and the
// private flag where the remote has none. Keep reaches into nested values
// (overrides, alarms) that v still shares with the app item, so the body is
// copied first.
func (in *Input) limit(v *tidbro.Item) {
	if len(in.Caps.FieldLimits) == 0 && in.Caps.Private {
		return
	}
	v.Event, v.Task, v.Contact = v.Event.Clone(), v.Task.Clone(), v.Contact.Clone()
	in.Caps.Keep(v.Body())
}

func setPrivate(v *tidbro.Item, p bool) {
	switch {
	case v.Event != nil:
		v.Event.Private = p
	case v.Task != nil:
		v.Task.Private = p
	case v.Contact != nil:
		v.Contact.Private = p
	}
}

// viewHash hashes a body as the remote holds it.
func viewHash(v *tidbro.Item) string {
	return (&tidbro.Item{Kind: remoteKind(v.Kind), Event: v.Event, Task: v.Task, Contact: v.Contact}).ContentHash()
}

// RemoteHash hashes a remote item's content for change detection.
func RemoteHash(r *tidbro.RemoteItem) string {
	return viewHash(r.Item(r.Kind))
}

// importView returns what the app should hold when it takes the remote's
// content: the remote body, except that values the remote truncated keep the
// app's full text, app-only fields (extra) stay, and private items are
// reduced per policy.
func (in *Input) importView(r *tidbro.RemoteItem, app *tidbro.Item) *tidbro.Item {
	v := &tidbro.Item{Kind: r.Kind}
	switch {
	case r.Event != nil:
		v.Event = cloneEvent(r.Event)
	case r.Task != nil:
		t := *r.Task
		v.Task = &t
	case r.Contact != nil:
		c := *r.Contact
		v.Contact = &c
	}
	if app != nil {
		if app.Kind == tidbro.KindJob {
			v.Kind = tidbro.KindJob
		}
		if len(in.Caps.FieldLimits) > 0 {
			in.restoreCut(v, app)
		}
		switch {
		case v.Event != nil && app.Event != nil:
			v.Event.Extra = app.Event.Extra
		case v.Task != nil && app.Task != nil:
			v.Task.Extra = app.Task.Extra
		case v.Contact != nil && app.Contact != nil:
			v.Contact.Extra = app.Contact.Extra
		}
		if !in.Caps.Private { // the remote cannot say; keep the app's flag
			setPrivate(v, app.Private())
		}
	}
	// Busy-only applies to groupware's own items; an app item stays whole.
	// Tasks and contacts have no busy form: policy busy imports them whole.
	if r.Event != nil && r.Event.Private && in.Policy.Private == tidbro.PrivateBusy && (app == nil || app.Origin == tidbro.OriginGroupware) {
		ev := v.Event
		*ev = tidbro.Event{UID: ev.UID, Summary: "Busy", Start: ev.Start, End: ev.End, TimeZone: ev.TimeZone, AllDay: ev.AllDay,
			RRule: ev.RRule, RDates: ev.RDates, ExDates: ev.ExDates, ShowAs: ev.ShowAs, Private: true}
	}
	return v
}

// linkBase returns what a link keeps of agreed, the content both sides now
// hold, as the base of later merges, and agreed's hash (viewHash, from the
// JSON at hand). merge3 only asks whether a field still holds its base
// value, so a contact's inline photo is kept as a digest of its JSON
// (digestOf): the link row stays small, and the photo is not written a
// third time, nor rewritten with every later change to the link.
func linkBase(agreed *tidbro.Item) (base []byte, hash string, err error) {
	full, err := agreed.BodyJSON()
	if err != nil {
		return nil, "", err
	}
	hash = tidbro.ContentHashOf(remoteKind(agreed.Kind), "", full)
	c := agreed.Contact
	if c == nil || c.Photo == nil || len(c.Photo.Data) == 0 {
		return full, hash, nil
	}
	// The photo's JSON as it stands in full (and as merge3 will find it):
	// found, not marshalled again, which would cost what the smaller
	// link row saves.
	start, end, ok := tidbro.PhotoSpan(full)
	if !ok {
		return full, hash, nil // kept whole
	}
	base = make([]byte, 0, len(full)-(end-start)+100)
	base = append(append(base, full[:start]...), digestOf(full[start:end])...)
	return append(base, full[end:]...), hash, nil
}

// digestOf is how a base keeps a bulky value: {"sha256":"…"}, which no
// body value looks like (a photo's JSON has mediaType, data or uri).
func digestOf(v []byte) string {
	sum := sha256.Sum256(v)
	return `{"sha256":"` + hex.EncodeToString(sum[:]) + `"}`
}

// holdsBase: v is the base value bv, or bv is v's digest.
func holdsBase(v, bv json.RawMessage) bool {
	if string(v) == string(bv) {
		return true
	}
	return v != nil && bytes.HasPrefix(bv, []byte(`{"sha256":"`)) && string(bv) == digestOf(v)
}

// merge3 merges app and remote bodies field by field against base, the
// content both sides last agreed on (linkBase). A field changed on one side
// only takes that side's value; a field changed on both takes the preferred
// side's.
func merge3(base []byte, app, remote any, preferApp bool) (map[string]json.RawMessage, []string, error) {
	var b, a, r map[string]json.RawMessage
	for _, x := range []struct {
		dst *map[string]json.RawMessage
		src any
	}{{&a, app}, {&r, remote}} {
		raw, err := json.Marshal(x.src)
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, x.dst); err != nil {
			return nil, nil, err
		}
	}
	if len(base) > 0 {
		if err := json.Unmarshal(base, &b); err != nil {
			return nil, nil, fmt.Errorf("link base: %w", err)
		}
	}
	out := map[string]json.RawMessage{}
	var clashes []string
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range r {
		keys[k] = true
	}
	for k := range keys {
		av, rv, bv := a[k], r[k], b[k]
		var v json.RawMessage
		switch {
		case string(av) == string(rv):
			v = av
		case holdsBase(av, bv):
			v = rv
		case holdsBase(rv, bv):
			v = av
		default:
			clashes = append(clashes, k)
			v = rv
			if preferApp {
				v = av
			}
		}
		if v != nil {
			out[k] = v
		}
	}
	slices.Sort(clashes)
	return out, clashes, nil
}

// restoreCut puts the app's full text back wherever the remote holds just
// what it would have cut the app's value to (Capabilities.Keep), at any
// depth: an override's summary as much as the event's.
func (in *Input) restoreCut(v, app *tidbro.Item) {
	kept, err := in.remoteView(app)
	if err != nil {
		return
	}
	// v shares nested values with the fetched remote item: copy them first.
	v.Event, v.Task, v.Contact = v.Event.Clone(), v.Task.Clone(), v.Contact.Clone()
	restore(reflect.ValueOf(v.Body()), reflect.ValueOf(kept.Body()), reflect.ValueOf(app.Body()))
}

func restore(dst, kept, full reflect.Value) {
	switch dst.Kind() {
	case reflect.Pointer:
		if !dst.IsNil() && !kept.IsNil() && !full.IsNil() {
			restore(dst.Elem(), kept.Elem(), full.Elem())
		}
	case reflect.Slice:
		if dst.Len() == kept.Len() && dst.Len() == full.Len() {
			for i := range dst.Len() {
				restore(dst.Index(i), kept.Index(i), full.Index(i))
			}
		}
	case reflect.Struct:
		if dst.Type() == reflect.TypeFor[time.Time]() {
			return
		}
		for i := range dst.NumField() {
			if dst.Type().Field(i).IsExported() {
				restore(dst.Field(i), kept.Field(i), full.Field(i))
			}
		}
	case reflect.String:
		if dst.String() == kept.String() && kept.String() != full.String() {
			dst.SetString(full.String()) // the remote's value is our own, cut short
		}
	}
}
