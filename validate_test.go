package tidbro

import (
	"testing"
	"time"
)

// zoneOrUTC answers as time.LoadLocation does, from its cache too.
func TestZoneOrUTC(t *testing.T) {
	for range 2 { // the second time from the cache
		for _, name := range []string{"Europe/Stockholm", "America/New_York", "UTC", "Local"} {
			want, err := time.LoadLocation(name)
			if err != nil {
				t.Fatal(err)
			}
			got := zoneOrUTC(name)
			if got.String() != want.String() {
				t.Errorf("zoneOrUTC(%q) = %v, want %v", name, got, want)
			}
			at := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
			if a, b := at.In(got).Format(time.RFC3339), at.In(want).Format(time.RFC3339); a != b {
				t.Errorf("zoneOrUTC(%q): %s, want %s", name, a, b)
			}
		}
		for _, name := range []string{"", "Not/AZone", "../etc/passwd", "Europe/Stockholm\x00"} {
			if got := zoneOrUTC(name); got != time.UTC {
				t.Errorf("zoneOrUTC(%q) = %v, want UTC", name, got)
			}
		}
	}
	if got := zoneOrUTC("UTC"); got != time.UTC {
		t.Errorf("zoneOrUTC(UTC) = %p, want time.UTC", got)
	}
	if a, b := zoneOrUTC("Europe/Stockholm"), zoneOrUTC("Europe/Stockholm"); a != b {
		t.Error("a zone is loaded again rather than taken from the cache")
	}
	if err := ValidZone("tz", "Europe/Stockholm"); err != nil {
		t.Error(err)
	}
	for _, name := range []string{"Not/AZone", "Local", "/etc/localtime", "../x"} {
		if ValidZone("tz", name) == nil {
			t.Errorf("ValidZone(%q) accepted it", name)
		}
	}
}

func BenchmarkZoneOrUTC(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		zoneOrUTC("Europe/Stockholm")
	}
}
