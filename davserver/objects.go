package davserver

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/engine"
	"github.com/tidbro/tidbro/ical"
)

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("dav: reading a setting: %w", err)
	}
	return nil
}

// etag is an item's entity tag: its version. What the server serves for a
// version never changes (see representation), so the tag is strong.
func etag(it *tidbro.Item) string { return `"` + strconv.FormatInt(it.Version, 10) + `"` }

// defaultUID is the UID of an app item that has none: stable, so that every
// rendering and every client sees the same one.
func defaultUID(it *tidbro.Item) string {
	return fmt.Sprintf("tidbro-%d-%s-%s", it.TenantID, it.Kind, it.AppID)
}

// representation returns the iCalendar or vCard the server serves for the
// item's current version: the one it served or took before for that
// version, or a new one written over the last (so that what a client put
// and tidbro does not model survives an app change).
func (q *request) representation(it *tidbro.Item) ([]byte, error) {
	ver, raw, err := q.s.store.DAVObject(q.ctx, it.ID)
	switch {
	case err == nil && ver == it.Version:
		return raw, nil
	case err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND:
		return nil, err
	}
	data, err := q.render(it, raw)
	if err != nil {
		return nil, fmt.Errorf("rendering %s %q: %w", it.Kind, it.AppID, err)
	}
	if err := q.s.store.PutDAVObject(q.ctx, it.ID, it.Version, data); err != nil {
		return nil, err
	}
	return data, nil
}

func (q *request) render(it *tidbro.Item, raw []byte) ([]byte, error) {
	switch it.Kind {
	case tidbro.KindContact:
		c := it.Contact.Clone()
		c.Extra = nil
		if c.UID == "" {
			c.UID = defaultUID(it)
		}
		return ical.EncodeContact(c, raw)
	case tidbro.KindTask:
		t := it.Task.Clone()
		t.Extra = nil
		if t.UID == "" {
			t.UID = defaultUID(it)
		}
		return ical.EncodeTask(t, raw)
	case tidbro.KindJob:
		m, err := q.jobMapping()
		if err != nil {
			return nil, err
		}
		ev, err := m.Render(it)
		if err != nil {
			return nil, err
		}
		if ev.UID == "" {
			ev.UID = defaultUID(it)
		}
		return ical.EncodeEvent(ev, raw)
	default:
		ev := it.Event.Clone()
		ev.Extra = nil
		if ev.UID == "" {
			ev.UID = defaultUID(it)
		}
		return ical.EncodeEvent(ev, raw)
	}
}

func (q *request) jobMapping() (*engine.JobMapping, error) {
	b, err := q.s.store.Setting(q.ctx, q.user.TenantID, engine.JobMappingKey)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		b, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := engine.ParseJobMapping(b)
	return &m, err
}

// decode reads a client's object for collection c into an item body,
// carrying over what the client never sees of the stored item (app
// fields, the assignee) and forgetting the UID tidbro made up for it.
func decode(c *collection, data []byte, old *tidbro.Item) (*tidbro.Item, error) {
	it := &tidbro.Item{Kind: c.kinds[0]}
	if old != nil {
		it.Kind = old.Kind
	}
	var err error
	switch it.Kind {
	case tidbro.KindContact:
		it.Contact, err = ical.DecodeContact(data)
		if err == nil && old != nil {
			it.Contact.Extra = old.Contact.Extra
			if it.Contact.UID == defaultUID(old) {
				it.Contact.UID = old.Contact.UID
			}
		}
	case tidbro.KindTask:
		it.Task, err = ical.DecodeTask(data)
		if err == nil && old != nil {
			it.Task.Extra, it.Task.Assignee = old.Task.Extra, old.Task.Assignee
			if it.Task.UID == defaultUID(old) {
				it.Task.UID = old.Task.UID
			}
		}
	default:
		it.Event, err = ical.DecodeEvent(data)
		if err == nil && old != nil {
			it.Event.Extra = old.Event.Extra
			if it.Event.UID == defaultUID(old) {
				it.Event.UID = old.Event.UID
			}
		}
	}
	return it, err
}

// mediaTypeOK accepts a request's Content-Type for collection c: the
// collection's own, or none.
func mediaTypeOK(c *collection, ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	mt = strings.TrimSpace(mt)
	if c.contacts() {
		return mt == "text/vcard" || mt == "text/x-vcard" || mt == "text/directory"
	}
	return mt == "text/calendar"
}
