package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/caldav"
	"github.com/tidbro/tidbro/davtest"
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// binary builds tidbro once per test run.
func binary(t testing.TB) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tidbro-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryPath = filepath.Join(dir, "tidbro")
		if out, err := exec.Command("go", "build", "-o", binaryPath, ".").CombinedOutput(); err != nil {
			binaryErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// instance is one running tidbro serve.
type instance struct {
	t    testing.TB
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
	done chan struct{}
}

// startInstance runs tidbro serve on a free port with the given data
// directory and environment (TIDBRO_DB and the like).
func startInstance(t testing.TB, data string, env ...string) *instance {
	t.Helper()
	return startInstanceAt(t, freeAddr(t), data, env...)
}

// startInstanceAt is startInstance on a given address.
func startInstanceAt(t testing.TB, addr, data string, env ...string) *instance {
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", addr, "--data", data, "--lease", "3s", "--retry", "1s")
	cmd.Env = append(append(os.Environ(), "TIDBRO_DB=", "TIDBRO_SECRET_KEY=", "TIDBRO_LOG_LEVEL=debug"), env...)
	in := &instance{t: t, cmd: cmd, base: "http://" + addr, logs: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{w: in.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(in.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.done
		if t.Failed() {
			t.Logf("logs of %s:\n%s", in.base, tail(in.logs.String(), 60))
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		if res, err := http.Get(in.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return in
			}
		}
		select {
		case <-in.done:
			t.Fatalf("tidbro serve exited:\n%s", in.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready after a minute:\n%s", in.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// kill ends the instance with SIGKILL, mid-whatever.
func (in *instance) kill() {
	in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
}

// call sends an API request with token and wants status want.
func (in *instance) call(token, method, path, body string, want int) map[string]any {
	in.t.Helper()
	return apiCall(in.t, in.base, token, method, path, body, want)
}

// apiCall sends a REST request to base and decodes the JSON answer.
func apiCall(t testing.TB, base, token, method, path, body string, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func adminToken(t testing.TB, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// boundCalendar waits until the user's calendar pair is bound and returns
// the collection's URL.
func (in *instance) boundCalendar(token, user string) string {
	in.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st := in.call(token, "GET", "/v1/users/"+user+"/status", "", 200)
		for _, a := range st["accounts"].([]any) {
			for _, p := range a.(map[string]any)["pairs"].([]any) {
				pm := p.(map[string]any)
				if pm["collection"] == "events" && pm["remoteId"] != nil && pm["lastStatus"] == "ok" {
					return pm["remoteId"].(string)
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	in.t.Fatalf("%s's calendar pair was not bound and run within 30 s", user)
	return ""
}

// onRadicale lists a calendar's events by summary (with how often each
// occurs), read with tidbro's own CalDAV client.
func onRadicale(t testing.TB, s *davtest.Server, collection, user string) (map[string]int, error) {
	col, err := caldav.New(nil, collection, user, s.Password, tidbro.KindEvent)
	if err != nil {
		return nil, err
	}
	ch, err := col.Changes(context.Background(), "", nil)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, r := range ch.Changed {
		ids = append(ids, r.ID)
	}
	items, errs, err := col.Fetch(context.Background(), ids)
	if err != nil || len(errs) > 0 {
		return nil, fmt.Errorf("fetch: %v %v", err, errs)
	}
	out := map[string]int{}
	for _, it := range items {
		out[it.Event.Summary]++
	}
	return out, nil
}

// holdsLease reports whether the instance with pid holds a pair's lease
// (lease owners are HOST/PID/RANDOM).
func holdsLease(t *testing.T, db *sql.DB, pid int) bool {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT COUNT(*) FROM schedule WHERE lease_owner LIKE $1 AND lease_until > $2`,
		"%/"+strconv.Itoa(pid)+"/%", time.Now().UnixMicro()).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func eventJSON(summary string, start time.Time) string {
	return fmt.Sprintf(`{"summary":%q,"start":%q,"end":%q}`, summary, start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
}

// aliceOnRadicale starts Radicale and tidbro serve on SQLite, with user
// alice's calendar bound to Radicale; it returns the admin token and the
// calendar's URL.
func aliceOnRadicale(tb testing.TB) (*davtest.Server, *instance, string, string) {
	tb.Helper()
	dav := davtest.Radicale(tb)
	data := tb.TempDir()
	in := startInstance(tb, data)
	token := adminToken(tb, data)
	in.call(token, "PUT", "/v1/users/alice", `{}`, 201)
	in.call(token, "PUT", "/v1/users/alice/accounts/dav", fmt.Sprintf(`{"kind":"caldav","url":%q,"username":"alice","password":"x","policy":{"kinds":["event"]}}`, dav.URL), 201)
	return dav, in, token, in.boundCalendar(token, "alice")
}

// An app change made through the REST API reaches Radicale by itself,
// within a moment (BenchmarkAppToRemote measures how long); and while
// Radicale is down, changes wait and are all delivered once it is back.
func TestLiveSync(t *testing.T) {
	dav, in, token, coll := aliceOnRadicale(t)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)

	began := time.Now()
	in.call(token, "PUT", "/v1/users/alice/events/A-1", eventJSON("Visit", start), 201)
	waitFor(t, 30*time.Second, "the app change on Radicale", func() bool {
		got, err := onRadicale(t, dav, coll, "alice")
		return err == nil && got["Visit"] == 1
	})
	t.Logf("app change visible on Radicale after %v", time.Since(began).Round(time.Millisecond))

	// An outage: the changes wait, in the feed, and go out once it is over.
	dav.Stop()
	in.call(token, "PUT", "/v1/users/alice/events/A-2", eventJSON("Planning", start.Add(2*time.Hour)), 201)
	in.call(token, "PUT", "/v1/users/alice/events/A-1", eventJSON("Visit (moved)", start.Add(time.Hour)), 200)
	in.call(token, "PUT", "/v1/users/alice/events/A-3", eventJSON("Review", start.Add(4*time.Hour)), 201)
	in.call(token, "DELETE", "/v1/users/alice/events/A-3", "", 204)
	waitFor(t, 30*time.Second, "a failed run while Radicale is down", func() bool {
		st := in.call(token, "GET", "/v1/users/alice/status", "", 200)
		p := st["accounts"].([]any)[0].(map[string]any)["pairs"].([]any)[0].(map[string]any)
		return p["lastStatus"] == "failed" && p["failedAttempts"] != nil
	})
	if err := dav.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the waiting changes on Radicale", func() bool {
		got, err := onRadicale(t, dav, coll, "alice")
		return err == nil && len(got) == 2 && got["Visit (moved)"] == 1 && got["Planning"] == 1
	})
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", d, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// pgSchema makes an empty PostgreSQL schema for the test and returns a
// URL whose search_path is it. Like the store's own tests, it never skips
// under CI=true.
func pgSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("TIDBRO_TEST_POSTGRES")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("pgx", dsn)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatalf("PostgreSQL is unreachable, and CI must not skip: %v", err)
		}
		t.Skipf("PostgreSQL is unreachable: %v", err)
	}
	name := "tidbro_live_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + name + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// Three instances share one PostgreSQL database; one is killed with
// SIGKILL while the app writes; every item ends up on Radicale exactly once
// with its last content.
func TestInstancesSurviveSIGKILL(t *testing.T) {
	dsn := pgSchema(t)
	dav := davtest.Radicale(t)
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"TIDBRO_DB=" + dsn, "TIDBRO_SECRET_KEY=" + base64.StdEncoding.EncodeToString(key)}
	// The first instance makes the tenant and the token; the others share them.
	data := t.TempDir()
	ins := []*instance{startInstance(t, data, env...)}
	token := adminToken(t, data)
	for range 2 {
		ins = append(ins, startInstance(t, t.TempDir(), env...))
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := []string{"u1", "u2", "u3", "u4"}
	colls := map[string]string{}
	for _, u := range users {
		ins[0].call(token, "PUT", "/v1/users/"+u, `{}`, 201)
		ins[1].call(token, "PUT", "/v1/users/"+u+"/accounts/dav",
			fmt.Sprintf(`{"kind":"caldav","url":%q,"username":%q,"password":"x","policy":{"kinds":["event"]}}`, dav.URL, u), 201)
	}
	for _, u := range users {
		colls[u] = ins[2].boundCalendar(token, u)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	want := map[string]map[string]int{}
	for _, u := range users {
		want[u] = map[string]int{}
	}
	alive := []*instance{ins[0], ins[1], ins[2]}
	tries := 0
	for i := range 60 {
		u := users[i%len(users)]
		in := alive[i%len(alive)]
		id := fmt.Sprintf("E-%d", i)
		in.call(token, "PUT", "/v1/users/"+u+"/events/"+id, eventJSON("Event "+id, start.Add(time.Duration(i)*time.Hour)), 201)
		want[u]["Event "+id] = 1
		if i%5 == 4 { // edit an earlier one
			prev := fmt.Sprintf("E-%d", i-4)
			pu := users[(i-4)%len(users)]
			in.call(token, "PUT", "/v1/users/"+pu+"/events/"+prev, eventJSON("Edited "+prev, start.Add(time.Duration(i-4)*time.Hour)), 200)
			delete(want[pu], "Event "+prev)
			want[pu]["Edited "+prev] = 1
		}
		if i%7 == 6 { // delete one
			prev := fmt.Sprintf("E-%d", i-2)
			pu := users[(i-2)%len(users)]
			in.call(token, "DELETE", "/v1/users/"+pu+"/events/"+prev, "", 204)
			delete(want[pu], "Event "+prev)
			delete(want[pu], "Edited "+prev)
		}
		if i == 25 {
			// Kill it while it holds a pair: mid-run, whatever the run is doing.
			waitFor(t, 60*time.Second, "instance 2 running a pair", func() bool {
				// A change starts a run on some instance; watch closely for one on ours.
				tries++
				k := fmt.Sprintf("K-%d", tries)
				ins[1].call(token, "PUT", "/v1/users/"+u+"/events/"+k, eventJSON("Event "+k, start.Add(time.Duration(tries)*time.Minute)), 201)
				want[u]["Event "+k] = 1
				for range 150 {
					if holdsLease(t, db, ins[1].cmd.Process.Pid) {
						return true
					}
					time.Sleep(2 * time.Millisecond)
				}
				return false
			})
			ins[1].kill()
			alive = []*instance{ins[0], ins[2]}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, u := range users {
		var got map[string]int
		var err error
		defer func() {
			if t.Failed() {
				t.Logf("%s on Radicale: %v (%v)\nwant %v", u, got, err, want[u])
			}
		}()
		waitFor(t, 90*time.Second, u+"'s calendar on Radicale matches the app", func() bool {
			got, err = onRadicale(t, dav, colls[u], u)
			if err != nil || len(got) != len(want[u]) {
				return false
			}
			for s, n := range want[u] {
				if got[s] != n {
					return false
				}
			}
			return true
		})
	}
	// And nothing is duplicated: every summary occurs once (checked above),
	// and no stray copies exist beyond the app's items.
	for _, u := range users {
		got, _ := onRadicale(t, dav, colls[u], u)
		for s, n := range got {
			if n != 1 {
				t.Errorf("%s: %q is on Radicale %d times", u, s, n)
			}
		}
	}
}

// BenchmarkAppToRemote measures how long an app change takes to appear on
// a CalDAV server (Radicale) through tidbro serve's live sync: p50 and p99
// over b.N changes, one at a time.
//
//	go test ./cmd/tidbro -run XXX -bench AppToRemote -benchtime 50x
func BenchmarkAppToRemote(b *testing.B) {
	dav, in, token, coll := aliceOnRadicale(b)
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	var lat []time.Duration
	b.ResetTimer()
	for i := range b.N {
		summary := fmt.Sprintf("Change %d", i)
		began := time.Now()
		in.call(token, "PUT", "/v1/users/alice/events/B-1", eventJSON(summary, start), map[bool]int{true: 201, false: 200}[i == 0])
		waitFor(b, 30*time.Second, summary+" on Radicale", func() bool {
			got, err := onRadicale(b, dav, coll, "alice")
			return err == nil && got[summary] == 1
		})
		lat = append(lat, time.Since(began))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Milliseconds()), "p99-ms")
}
