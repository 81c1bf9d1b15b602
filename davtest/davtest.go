// Package davtest starts real CalDAV/CardDAV servers (Radicale, Xandikos)
// on free loopback ports with throwaway storage, for tests. The project's
// test setup (scripts/test-deps) installs them from Debian's packages; where
// one is missing a test skips, except under CI=true, where it fails.
package davtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running DAV server.
type Server struct {
	Name     string
	URL      string // the server root, http://127.0.0.1:PORT/
	User     string // a user the server accepts, with Password
	Password string
	Home     string // the user's home path, holding their collections

	t       testing.TB
	command func() *exec.Cmd
	port    int
	stop    func()
}

// Stop takes the server down (its storage stays), as an outage would.
func (s *Server) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Start brings a stopped server back on the same port and storage.
func (s *Server) Start() {
	s.t.Helper()
	if s.stop == nil {
		start(s.t, s, s.command, s.port)
	}
}

// Radicale starts Radicale 3 with per-user collections and any password
// accepted for the user.
func Radicale(t testing.TB) *Server {
	t.Helper()
	bin := need(t, "radicale")
	dir := t.TempDir()
	port := freePort(t)
	conf := filepath.Join(dir, "config")
	cfg := fmt.Sprintf(`[server]
hosts = 127.0.0.1:%d
[auth]
type = none
[rights]
type = owner_only
[storage]
filesystem_folder = %s
[logging]
level = warning
`, port, filepath.Join(dir, "collections"))
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := &Server{Name: "radicale", URL: fmt.Sprintf("http://127.0.0.1:%d/", port), User: "tidbro", Password: "secret", Home: "/tidbro/"}
	start(t, s, func() *exec.Cmd { return exec.Command(bin, "--config", conf) }, port)
	return s
}

// Xandikos starts Xandikos with its default calendar and address book.
// Xandikos has no authentication of its own; credentials are ignored.
func Xandikos(t testing.TB) *Server {
	t.Helper()
	bin := need(t, "xandikos")
	dir := t.TempDir()
	port := freePort(t)
	s := &Server{Name: "xandikos", URL: fmt.Sprintf("http://127.0.0.1:%d/", port), User: "user", Password: "secret", Home: "/user/"}
	start(t, s, func() *exec.Cmd {
		return exec.Command(bin, "-d", dir, "--defaults", "-l", "127.0.0.1", "-p", strconv.Itoa(port))
	}, port)
	return s
}

func need(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (scripts/test-deps installs it from Debian's packages)", name)
		}
		t.Skipf("%s is not installed; run scripts/test once to install it", name)
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the server until the test ends (or Stop) and waits until it
// answers.
func start(t testing.TB, s *Server, command func() *exec.Cmd, port int) {
	t.Helper()
	s.t, s.command, s.port = t, command, port
	cmd := command()
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.Name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-exited
		})
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("%s exited at start:\n%s", s.Name, logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen within 30 s:\n%s", s.Name, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Do sends a request to the server as its user; path is relative to the root.
func (s *Server) Do(method, path, body string, headers ...string) (*http.Response, string, error) {
	req, err := http.NewRequest(method, strings.TrimSuffix(s.URL, "/")+path, strings.NewReader(body))
	if err != nil {
		return nil, "", err
	}
	req.SetBasicAuth(s.User, s.Password)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(res.Body)
	return res, b.String(), err
}
