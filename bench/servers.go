package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davtest"
)

// server is a CalDAV/CardDAV server under test.
type server struct {
	name    string
	version string
	// collection makes a fresh, empty calendar or address book and returns
	// its URL with credentials that reach it.
	collection func(kind tidbro.Kind) (url, user, password string, err error)
	pid        func() int
	stop       func()
	// counter counts the requests a collection of it receives.
	counter func(collection string) (requestCounter, error)
}

var fresh atomic.Int64

// dav wraps Radicale or Xandikos.
func dav(s *davtest.Server, version string) *server {
	return &server{name: s.Name, version: version, stop: s.Stop, pid: s.Pid,
		counter: func(coll string) (requestCounter, error) { return newCounter(coll) },
		collection: func(kind tidbro.Kind) (string, string, string, error) {
			n := fresh.Add(1)
			path, method, body := "", "MKCALENDAR", `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>`+
				`<c:supported-calendar-component-set><c:comp name="VEVENT"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`
			if kind == tidbro.KindContact {
				method, body = "MKCOL", `<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><d:set><d:prop>`+
					`<d:resourcetype><d:collection/><card:addressbook/></d:resourcetype></d:prop></d:set></d:mkcol>`
			}
			switch {
			case s.Name == "xandikos" && kind == tidbro.KindContact:
				path = fmt.Sprintf("%scontacts/bench-%d/", s.Home, n)
			case s.Name == "xandikos":
				path = fmt.Sprintf("%scalendars/bench-%d/", s.Home, n)
			default:
				path = fmt.Sprintf("%sbench-%d/", s.Home, n)
			}
			res, b, err := s.Do(method, path, body, "Content-Type", "application/xml; charset=utf-8")
			if err != nil || res.StatusCode != http.StatusCreated {
				return "", "", "", fmt.Errorf("%s %s on %s: %v %s", method, path, s.Name, err, b)
			}
			return strings.TrimSuffix(s.URL, "/") + path, s.User, s.Password, nil
		}}
}

// tidbroServer runs tidbro serve as a DAV server (no synchronisation of
// its own); each fresh collection is a new user's.
type tidbroServer struct {
	bin, data, base string
	cmd             *exec.Cmd
	passwords       map[string]string
}

func startTidbro(bin, dir string) (*tidbroServer, error) {
	t := &tidbroServer{bin: bin, data: dir, passwords: map[string]string{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	t.base = "http://" + addr
	t.cmd = exec.Command(bin, "serve", "--addr", addr, "--data", dir, "--no-sync", "--log-level", "warn")
	t.cmd.Env = append(os.Environ(), "TIDBRO_DB=", "TIDBRO_SECRET_KEY=")
	logs, err := os.Create(filepath.Join(dir, "..", filepath.Base(dir)+".log"))
	if err != nil {
		return nil, err
	}
	t.cmd.Stdout, t.cmd.Stderr = logs, logs
	if err := t.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		if res, err := http.Get(t.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return t, nil
			}
		}
		if time.Now().After(deadline) {
			t.cmd.Process.Kill()
			return nil, fmt.Errorf("tidbro serve not ready in a minute (see %s)", logs.Name())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// addUsers makes users with app passwords in the server's store, directly
// (the store is safe to share with the running server).
func (t *tidbroServer) addUsers(names ...string) error {
	ctx := context.Background()
	st, err := openStore(t.data)
	if err != nil {
		return err
	}
	defer st.Close()
	tn, err := st.Tenant(ctx, tidbro.DefaultTenant)
	if err != nil {
		return err
	}
	for _, n := range names {
		u := &tidbro.User{TenantID: tn.ID, Username: n}
		if _, err := st.PutUser(ctx, u); err != nil {
			return err
		}
		pw, hash := tidbro.NewAppPassword()
		if _, err := st.CreateAppPassword(ctx, tn.ID, u.ID, "bench", hash); err != nil {
			return err
		}
		t.passwords[n] = pw
	}
	return nil
}

func (t *tidbroServer) server() *server {
	return &server{name: "tidbro", version: "this tree", pid: func() int { return t.cmd.Process.Pid },
		stop:    func() { t.cmd.Process.Kill(); t.cmd.Wait() },
		counter: func(string) (requestCounter, error) { return newServedCounter(t.base) },
		collection: func(kind tidbro.Kind) (string, string, string, error) {
			user := fmt.Sprintf("bench%d", fresh.Add(1))
			if err := t.addUsers(user); err != nil {
				return "", "", "", err
			}
			path := "/dav/calendars/" + user + "/calendar/"
			if kind == tidbro.KindContact {
				path = "/dav/addressbooks/" + user + "/contacts/"
			}
			return t.base + path, user, t.passwords[user], nil
		}}
}

func version(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(strings.Split(string(out), "\n")[0])
}
