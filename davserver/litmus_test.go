package davserver_test

import (
	"regexp"
	"testing"

	"github.com/tidbro/tidbro/davtest"
)

// litmus, the WebDAV conformance suite, passes in a user's document area:
// every test of all five suites runs (locks too, since the area claims
// class 2) and passes, without warnings.
func TestLitmus(t *testing.T) {
	e := newEnv(t)
	out := davtest.Litmus(t, e.url+"/dav/files/alice/", "alice", e.password["alice"])
	defer func() {
		if t.Failed() {
			t.Log(out)
		}
	}()
	result := regexp.MustCompile(`(\w+)\.{2,}\s+(pass|FAIL|SKIPPED)`)
	summary := regexp.MustCompile("(?m)^<- summary for `(\\w+)': of (\\d+) tests run: (\\d+) passed, (\\d+) failed")
	for _, m := range result.FindAllStringSubmatch(out, -1) {
		if m[2] != "pass" {
			t.Errorf("litmus test %s: %s", m[1], m[2])
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
	for _, suite := range []string{"basic", "copymove", "props", "locks", "http"} {
		if !ran[suite] {
			t.Errorf("litmus suite %s did not run", suite)
		}
	}
	if regexp.MustCompile(`(?i)skipped`).MatchString(out) {
		t.Errorf("litmus skipped tests")
	}
	// A warning is a test that passed with a status code other than the
	// one RFC 4918 asks for (423 for a locked resource, 412 for an If
	// header that does not hold, 201 for a LOCK that made a resource).
	if regexp.MustCompile(`(?i)warning`).MatchString(out) {
		t.Errorf("litmus issued warnings")
	}
}
