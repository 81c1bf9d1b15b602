package bench

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A small run of the whole harness, so that it cannot rot: every
// measurement on Radicale and tidbro's own server, vdirsyncer beside.
func TestSmoke(t *testing.T) {
	for _, tool := range []string{"radicale", "vdirsyncer"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	rep, err := Run(Config{N: 12, Changes: 3, Servers: []string{"radicale", "tidbro"}, Vdirsyncer: true, IdleUsers: 3, Scale: 40, Work: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sets) != 4 {
		t.Fatalf("%d data sets measured, want 4", len(rep.Sets))
	}
	for _, s := range rep.Sets {
		if s.Raw.Items != 12 || s.Tidbro[0].Requests < 12 || s.Tidbro[1].Requests != 1 || s.Tidbro[2].Requests < 3 || s.Vdir[0].Wall <= 0 || s.Tidbro[0].CPU <= 0 {
			t.Errorf("%s %ss: %+v", s.Server, s.Kind, s)
		}
	}
	if rep.Idle == nil || rep.Idle.Pairs != 9 || rep.Idle.Cycle.Requests != 9 {
		t.Errorf("idle cycle: %+v", rep.Idle)
	}
	if rep.Scale == nil || len(rep.Scale.Segments) != 10 || rep.Scale.Sync.MaxRSS <= 0 {
		t.Errorf("scale: %+v", rep.Scale)
	}
	var b bytes.Buffer
	rep.Markdown(&b, "go run ./cmd/tidbro-bench -n 12")
	for _, want := range []string{"## 12 events: initial sync", "| radicale", "| tidbro", "## Idle cycle: 3 users", "go run ./cmd/tidbro-bench -n 12"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
