package wintz

import (
	"testing"
	"time"
)

func TestKnownZones(t *testing.T) {
	for win, iana := range map[string]string{
		"W. Europe Standard Time": "Europe/Berlin",
		"Romance Standard Time":   "Europe/Paris",
		"GMT Standard Time":       "Europe/London",
		"Eastern Standard Time":   "America/New_York",
		"Pacific Standard Time":   "America/Los_Angeles",
		"China Standard Time":     "Asia/Shanghai",
		"UTC":                     "Etc/UTC",
	} {
		if got, ok := ToIANA(win); !ok || got != iana {
			t.Errorf("ToIANA(%q) = %q, %v; want %q", win, got, ok, iana)
		}
	}
	for iana, win := range map[string]string{
		"Europe/Stockholm": "W. Europe Standard Time",
		"Europe/Berlin":    "W. Europe Standard Time",
		"Europe/Helsinki":  "FLE Standard Time",
		"America/Chicago":  "Central Standard Time",
	} {
		if got, ok := FromIANA(iana); !ok || got != win {
			t.Errorf("FromIANA(%q) = %q, %v; want %q", iana, got, ok, win)
		}
	}
	if _, ok := ToIANA("Mars Standard Time"); ok {
		t.Error("an unknown Windows name mapped")
	}
}

// Every zone of the table is one Go knows, and the golden zone of a
// Windows name maps back to it.
func TestTableIsConsistent(t *testing.T) {
	if len(toIANA) < 130 {
		t.Fatalf("only %d Windows zones", len(toIANA))
	}
	for win, iana := range toIANA {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%s → %s: %v", win, iana, err)
		}
		if back, ok := FromIANA(iana); !ok || back != win {
			t.Errorf("%s → %s → %q", win, iana, back)
		}
	}
	for iana := range fromIANA {
		if _, err := time.LoadLocation(iana); err != nil {
			t.Errorf("%s: %v", iana, err)
		}
	}
}
