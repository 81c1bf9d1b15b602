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

	command func() *exec.Cmd
	port    int
	mu      sync.Mutex
	stop    func()
	proc    *os.Process
	logs    *bytes.Buffer
}

// Radicale starts Radicale 3 with per-user collections and any password
// accepted for the user, until the test ends.
func Radicale(t testing.TB) *Server {
	t.Helper()
	need(t, "radicale")
	return started(t)(StartRadicale(t.TempDir()))
}

// Xandikos starts Xandikos with its default calendar and address book,
// until the test ends. Xandikos has no authentication of its own;
// credentials are ignored.
func Xandikos(t testing.TB) *Server {
	t.Helper()
	need(t, "xandikos")
	return started(t)(StartXandikos(t.TempDir()))
}

func started(t testing.TB) func(*Server, error) *Server {
	return func(s *Server, err error) *Server {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		return s
	}
}

// StartRadicale starts Radicale with its storage in dir (for programs;
// tests use Radicale). Stop ends it.
func StartRadicale(dir string) (*Server, error) {
	bin, err := exec.LookPath("radicale")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "config")
	cfg := fmt.Sprintf(`[server]
hosts = 127.0.0.1:%d
max_connections = 64
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
		return nil, err
	}
	s := &Server{Name: "radicale", URL: fmt.Sprintf("http://127.0.0.1:%d/", port), User: "tidbro", Password: "secret", Home: "/tidbro/",
		command: func() *exec.Cmd { return exec.Command(bin, "--config", conf) }, port: port}
	return s, s.Start()
}

// StartXandikos starts Xandikos with its storage in dir. Stop ends it.
func StartXandikos(dir string) (*Server, error) {
	bin, err := exec.LookPath("xandikos")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Name: "xandikos", URL: fmt.Sprintf("http://127.0.0.1:%d/", port), User: "user", Password: "secret", Home: "/user/",
		command: func() *exec.Cmd {
			return exec.Command(bin, "-d", dir, "--defaults", "-l", "127.0.0.1", "-p", strconv.Itoa(port))
		}, port: port}
	return s, s.Start()
}

func need(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		missing(t, name)
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Stop takes the server down (its storage stays), as an outage would.
func (s *Server) Stop() {
	s.mu.Lock()
	stop := s.stop
	s.stop = nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// Start brings the server up (again, on the same port and storage) and
// waits until it answers.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		return nil
	}
	cmd := s.command()
	s.logs = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.proc = cmd.Process
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-exited
		})
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			s.stop = nil
			return fmt.Errorf("%s exited at start:\n%s", s.Name, s.logs.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), time.Second); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not listen within 30 s:\n%s", s.Name, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is the server process's id (0 when stopped), for measuring it.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop == nil || s.proc == nil {
		return 0
	}
	return s.proc.Pid
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
