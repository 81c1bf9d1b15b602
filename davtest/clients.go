package davtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// DebianPython is the interpreter python3-caldav is installed for (not
// another python3 earlier on the PATH).
const DebianPython = "/usr/bin/python3"

// PyCalDAV is a CalDAV user working with python3-caldav
// (clients/davclient.py, whose doc lists the commands).
type PyCalDAV struct {
	URL, User, Password string
	script              string
}

// NewPyCalDAV checks that python3-caldav is there (skipping the test when
// it is not, failing it under CI=true).
func NewPyCalDAV(t testing.TB, url, user, password string) *PyCalDAV {
	t.Helper()
	if err := exec.Command(DebianPython, "-I", "-c", "import caldav.davclient").Run(); err != nil {
		missing(t, "python3-caldav")
	}
	_, file, _, _ := runtime.Caller(0)
	return &PyCalDAV{URL: url, User: user, Password: password, script: filepath.Join(filepath.Dir(file), "clients", "davclient.py")}
}

// Run runs a command and decodes its JSON answer into out (when not nil).
func (p *PyCalDAV) Run(t testing.TB, out any, args ...string) {
	t.Helper()
	if err := p.Try(out, args...); err != nil {
		t.Fatal(err)
	}
}

// Try runs a command and returns its failure.
func (p *PyCalDAV) Try(out any, args ...string) error {
	cmd := exec.Command(DebianPython, append([]string{p.script, p.URL, p.User, p.Password}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("davclient %v: %v\n%s", args, err, stderr.String())
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("davclient %v: %v\n%s", args, err, b)
		}
	}
	return nil
}

// Vdirsyncer pairs one remote collection with a local folder of files.
type Vdirsyncer struct {
	Dir    string // the local copy: one file per item
	config string
}

// NewVdirsyncer configures vdirsyncer for the collection at url; kind is
// "caldav" or "carddav". The local side wins conflicts when localWins.
func NewVdirsyncer(t testing.TB, kind, url, user, password string, localWins bool) *Vdirsyncer {
	t.Helper()
	if _, err := exec.LookPath("vdirsyncer"); err != nil {
		missing(t, "vdirsyncer")
	}
	dir := t.TempDir()
	ext, wins := ".ics", "b wins"
	if kind == "carddav" {
		ext = ".vcf"
	}
	if localWins {
		wins = "a wins"
	}
	v := &Vdirsyncer{Dir: filepath.Join(dir, "items"), config: filepath.Join(dir, "config")}
	conf := fmt.Sprintf(`[general]
status_path = %q

[pair items]
a = "local"
b = "remote"
collections = null
conflict_resolution = %q

[storage local]
type = "filesystem"
path = %q
fileext = %q

[storage remote]
type = %q
url = %q
username = %q
password = %q
`, filepath.Join(dir, "status"), wins, v.Dir, ext, kind, url, user, password)
	if err := os.WriteFile(v.config, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(v.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	v.Run(t, "discover", "items")
	return v
}

// Run runs vdirsyncer with args and returns its output.
func (v *Vdirsyncer) Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("vdirsyncer", append([]string{"-c", v.config}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("vdirsyncer %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Sync runs one sync.
func (v *Vdirsyncer) Sync(t testing.TB) string {
	t.Helper()
	return v.Run(t, "sync")
}

func missing(t testing.TB, pkg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (scripts/test-deps installs it from Debian's packages)", pkg)
	}
	t.Skipf("%s is not installed; run scripts/test once to install it", pkg)
}

// Litmus runs the litmus WebDAV suites against the collection at url (they
// work in a collection "litmus" they make below it) and returns its
// output; litmus's exit status is not an error, the caller reads the
// results.
func Litmus(t testing.TB, url, user, password string) string {
	t.Helper()
	need(t, "litmus")
	cmd := exec.Command("litmus", url, user, password)
	cmd.Dir = t.TempDir() // for its debug.log
	cmd.Env = append(os.Environ(), "TERM=dumb")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("litmus: %v\n%s", err, out)
	}
	return string(out)
}
