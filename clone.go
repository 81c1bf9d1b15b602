package tidbro

import (
	"bytes"
	"maps"
	"slices"
)

// Deep copies are written out rather than made by a JSON round trip: the
// bodies' JSON normalises (UTC, whole seconds, default ends, override zones),
// and a remote (and any copy) must hand back exactly what it holds. TestCloneIsDeep fills
// every field by reflection, so a field added to a body later and not copied
// here fails it.

// Clone returns a deep copy of the item.
func (it *RemoteItem) Clone() *RemoteItem {
	if it == nil {
		return nil
	}
	c := *it
	c.Event = it.Event.Clone()
	c.Task = it.Task.Clone()
	c.Contact = it.Contact.Clone()
	c.Raw = bytes.Clone(it.Raw)
	return &c
}

// Clone returns a deep copy of the event.
func (e *Event) Clone() *Event {
	if e == nil {
		return nil
	}
	c := cloneEvent(*e)
	return &c
}

func cloneEvent(e Event) Event {
	e.RDates = slices.Clone(e.RDates)
	e.ExDates = slices.Clone(e.ExDates)
	if e.Overrides != nil {
		os := make([]Event, len(e.Overrides))
		for i, o := range e.Overrides {
			os[i] = cloneEvent(o)
		}
		e.Overrides = os
	}
	e.RecurrenceID = clonePtr(e.RecurrenceID)
	e.Categories = slices.Clone(e.Categories)
	if e.Alarms != nil {
		as := make([]Alarm, len(e.Alarms))
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

// Clone returns a deep copy of the task.
func (t *Task) Clone() *Task {
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

// Clone returns a deep copy of the contact.
func (k *Contact) Clone() *Contact {
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
