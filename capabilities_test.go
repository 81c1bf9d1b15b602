package tidbro

import "testing"

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Köln–Düsseldorf", 4, "Köln"},
		{"abc", 3, "abc"},
		{"abc", 10, "abc"},
		{"日本語のテキスト", 3, "日本語"},
		{"abc", 0, ""},
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestKeepCutsNestedFieldsAndPrivate(t *testing.T) {
	ev := &Event{Summary: "Quarterly review", Private: true, Overrides: []Event{{Summary: "Quarterly review, moved"}}}
	Capabilities{FieldLimits: map[string]int{"summary": 9}}.Keep(ev)
	if ev.Summary != "Quarterly" || ev.Overrides[0].Summary != "Quarterly" || ev.Private {
		t.Fatalf("kept %+v", ev)
	}
	ev = &Event{Summary: "Quarterly review", Private: true}
	Capabilities{Private: true}.Keep(ev)
	if ev.Summary != "Quarterly review" || !ev.Private {
		t.Fatalf("a remote without limits changed %+v", ev)
	}
}
