package tidbro

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"
)

// Hashes are stored (items, links), so ContentHash must keep its input:
// the JSON of {"k": kind, "t": type, "b": body}, marshalled as a whole.
// ContentHashOf, which builds that JSON from the body's, must agree.
func TestContentHashFormat(t *testing.T) {
	reference := func(it *Item) string {
		b, err := json.Marshal(struct {
			Kind Kind   `json:"k"`
			Type string `json:"t"`
			Body any    `json:"b"`
		}{it.Kind, it.Type, it.Body()})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:16])
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due := start.Add(48 * time.Hour)
	items := []*Item{
		{Kind: KindEvent, Type: "appointment", Event: &Event{Summary: "Visit", Start: start, End: start.Add(time.Hour)}},
		{Kind: KindJob, Type: "job <A&B>", Event: &Event{Summary: "Fix <pump> & \"valve\" – Grüße", Location: "\u2028line", Start: start, End: start.Add(time.Hour),
			TimeZone: "Europe/Stockholm", RRule: "FREQ=WEEKLY;COUNT=3", ExDates: []time.Time{start.AddDate(0, 0, 7)}}},
		{Kind: KindEvent, Event: &Event{Summary: "Day off", Start: start, End: start.AddDate(0, 0, 1), AllDay: true}},
		{Kind: KindTask, Type: "todo", Task: &Task{Summary: "Call \xff back", Due: &due, Priority: 1}},
		{Kind: KindContact, Contact: &Contact{GivenName: "Åsa", FamilyName: "Öberg <ab>", Organization: "A&B"}},
		{Kind: "unknown"}, {Kind: KindEvent}, {Kind: KindTask},
	}
	for _, it := range items {
		want := reference(it)
		if got := it.ContentHash(); got != want {
			t.Errorf("%s %q: ContentHash %s, want %s", it.Kind, it.Type, got, want)
		}
		body, err := json.Marshal(it.Body())
		if err != nil {
			t.Fatal(err)
		}
		if got := ContentHashOf(it.Kind, it.Type, body); got != want {
			t.Errorf("%s %q: ContentHashOf %s, want %s", it.Kind, it.Type, got, want)
		}
	}
	// And one value, as stored by every release so far.
	if got := items[0].ContentHash(); got != "ad9709d604bebbb95161df9caedece33" {
		t.Errorf("the hash of a plain event is %s, which stored hashes do not match", got)
	}
}
