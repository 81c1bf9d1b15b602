package remotetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
// write.
func applyLimits(it *tidbro.RemoteItem, limits map[string]int, dropPrivate bool) {
	caps := tidbro.Capabilities{FieldLimits: limits, Private: !dropPrivate}
	for _, body := range []any{it.Event, it.Task, it.Contact} {
		caps.Keep(body)
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
