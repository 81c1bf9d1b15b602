package davserver_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tidbro/tidbro/davtest"
)

// litmus, the WebDAV conformance suite, passes in a user's document area.
// Its locks suite has nothing to run: tidbro claims WebDAV class 1 and 3,
// not class 2 (locks), and litmus skips locking for such a server.
func TestLitmus(t *testing.T) {
	e := newEnv(t)
	out := davtest.Litmus(t, e.url+"/dav/files/alice/", "alice", e.password["alice"])
	defer func() {
		if t.Failed() {
			t.Log(out)
		}
	}()
	result := regexp.MustCompile(`(\w+)\.{2,}\s+(pass|FAIL)`)
	summary := regexp.MustCompile("(?m)^<- summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")
	for _, m := range result.FindAllStringSubmatch(out, -1) {
		if m[2] == "FAIL" {
			t.Errorf("litmus test %s failed", m[1])
		}
	}
	if !result.MatchString(out) {
		t.Errorf("litmus reported no results")
	}
	ran := map[string]bool{}
	for _, m := range summary.FindAllStringSubmatch(out, -1) {
		ran[m[1]] = true
		if m[4] != "0" || m[2] != m[3] {
			t.Errorf("litmus suite %s: %s run, %s passed, %s failed", m[1], m[2], m[3], m[4])
		}
	}
	for _, suite := range []string{"basic", "copymove", "props", "http"} {
		if !ran[suite] {
			t.Errorf("litmus suite %s did not run", suite)
		}
	}
	if !strings.Contains(out, "locking tests skipped") && !strings.Contains(out, "does not claim Class 2") {
		t.Errorf("litmus did not skip its locks suite for want of class 2")
	}
}
