package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/davtest"
	"github.com/tidbro/tidbro/secret"
	"github.com/tidbro/tidbro/sqlite"
)

// Config says what to measure.
type Config struct {
	N          int      // items per data set (events, and as many contacts)
	Servers    []string // radicale, xandikos, tidbro
	Vdirsyncer bool     // measure vdirsyncer beside tidbro
	Changes    int      // items changed for the incremental runs (100)
	IdleUsers  int      // users (3 pairs each) in the idle cycle against tidbro's server; 0 skips it
	Scale      int      // items for tidbro's own server's ingest and sync at scale; 0 skips it
	GoBench    bool     // also run the go test benchmarks (planning, app→remote latency)
	Work       string   // a scratch directory
	Log        io.Writer
}

// Report is what a run found.
type Report struct {
	Date    time.Time
	Machine string
	Config  Config
	Sets    []*SetResult // per server and kind
	Idle    *IdleResult
	Scale   *ScaleResult
	GoBench map[string]string // benchmark → its result line
}

// SetResult is one data set on one server: the ceiling, tidbro and
// vdirsyncer, initial, unchanged and incremental.
type SetResult struct {
	Server, Version string
	Kind            tidbro.Kind
	Raw             Measure
	Tidbro          [3]Measure // initial, no change, Changes changed
	Vdir            [3]Measure
	HasVdir         bool
}

// IdleResult is a no-change cycle over many users' pairs.
type IdleResult struct {
	Users, Pairs int
	Initial      Measure
	Cycle        Measure
}

// ScaleResult is tidbro's own server taking many items.
type ScaleResult struct {
	Items    int
	Segments []float64 // ingest rate (items/s) of each tenth
	Sync     Measure   // tidbro sync of as many app items into it
}

func (c *Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// Run measures. It needs the tidbro source tree (it builds cmd/tidbro) and
// the servers and vdirsyncer installed (scripts/test-deps installs them).
func Run(cfg Config) (*Report, error) {
	if cfg.Changes == 0 {
		cfg.Changes = min(100, cfg.N)
	}
	rep := &Report{Date: time.Now().UTC(), Machine: machine(), Config: cfg, GoBench: map[string]string{}}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(cfg.Work, "bin", "tidbro")
	cfg.logf("building tidbro")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tidbro")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %v\n%s", err, out)
	}
	events, contacts := Events(cfg.N), Contacts(cfg.N)
	files, err := Files(events, contacts)
	if err != nil {
		return nil, err
	}
	var tsrv *tidbroServer
	for _, name := range cfg.Servers {
		var s *server
		dir := filepath.Join(cfg.Work, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		switch name {
		case "radicale":
			d, err := davtest.StartRadicale(dir)
			if err != nil {
				return nil, err
			}
			s = dav(d, version("radicale", "--version"))
		case "xandikos":
			d, err := davtest.StartXandikos(dir)
			if err != nil {
				return nil, err
			}
			s = dav(d, version("dpkg-query", "-W", "-f", "${Version}", "xandikos"))
		case "tidbro":
			if tsrv, err = startTidbro(bin, dir); err != nil {
				return nil, err
			}
			s = tsrv.server()
		default:
			return nil, fmt.Errorf("unknown server %q", name)
		}
		for _, kind := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindContact} {
			cfg.logf("%s: %ss", name, kind)
			r, err := measureSet(&cfg, bin, s, kind, events, contacts, files)
			if err != nil {
				s.stop()
				return nil, fmt.Errorf("%s %ss: %w", name, kind, err)
			}
			rep.Sets = append(rep.Sets, r)
		}
		if name == "tidbro" {
			if cfg.Scale > 0 {
				cfg.logf("tidbro: %d items", cfg.Scale)
				if rep.Scale, err = measureScale(&cfg, bin, s); err != nil {
					return nil, err
				}
			}
			if cfg.IdleUsers > 0 {
				cfg.logf("tidbro: idle cycle of %d users", cfg.IdleUsers)
				if rep.Idle, err = measureIdle(&cfg, bin, tsrv); err != nil {
					return nil, err
				}
			}
		}
		s.stop()
	}
	if cfg.GoBench {
		for _, b := range []struct{ pkg, name, time string }{
			{"./engine", "Plan100k", "5x"},
			{"./cmd/tidbro", "AppToRemote", "50x"},
		} {
			cfg.logf("go test -bench %s", b.name)
			cmd := exec.Command("go", "test", b.pkg, "-run", "XXX", "-bench", b.name, "-benchtime", b.time, "-benchmem")
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("go test -bench %s: %v\n%s", b.name, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "Benchmark"+b.name) {
					rep.GoBench[b.name] = strings.Join(strings.Fields(line), " ")
				}
			}
		}
	}
	return rep, nil
}

// measureSet measures one kind of data on one server: the raw ingest,
// then tidbro and vdirsyncer each into a fresh collection of their own.
func measureSet(cfg *Config, bin string, s *server, kind tidbro.Kind, events []*tidbro.Event, contacts []*tidbro.Contact, files map[string][]byte) (*SetResult, error) {
	r := &SetResult{Server: s.name, Version: s.version, Kind: kind}
	ext := ".ics"
	if kind == tidbro.KindContact {
		ext = ".vcf"
	}
	var names []string
	for n := range files {
		if strings.HasSuffix(n, ext) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	coll, user, pw, err := s.collection(kind)
	if err != nil {
		return nil, err
	}
	if r.Raw, err = putAll(coll, user, pw, files, names, 8); err != nil {
		return nil, fmt.Errorf("raw ingest: %w", err)
	}

	// tidbro: the app's items into a fresh collection, through a counter.
	coll, user, pw, err = s.collection(kind)
	if err != nil {
		return nil, err
	}
	cnt, err := s.counter(coll)
	if err != nil {
		return nil, err
	}
	defer cnt.close()
	data := filepath.Join(cfg.Work, fmt.Sprintf("sync-%s-%s", s.name, kind))
	app, err := newApp(data, kind, cnt.url(coll), user, pw)
	if err != nil {
		return nil, err
	}
	if err := app.put(events, contacts, kind, 0); err != nil {
		return nil, err
	}
	for i, step := range []string{"initial", "unchanged", "changed"} {
		if step == "changed" {
			if err := app.put(events[:cfg.Changes], contacts[:cfg.Changes], kind, 1); err != nil {
				return nil, err
			}
		}
		cnt.take()
		m, out, err := runChild([]string{"TIDBRO_DB=", "TIDBRO_SECRET_KEY="}, bin, "sync", "--data", data)
		if err != nil {
			return nil, err
		}
		if !strings.Contains(out, ": ok") {
			return nil, fmt.Errorf("tidbro sync %s:\n%s", step, out)
		}
		m.Requests, m.Items = cnt.take(), []int{cfg.N, 0, cfg.Changes}[i]
		r.Tidbro[i] = m
	}

	if !cfg.Vdirsyncer {
		return r, nil
	}
	// vdirsyncer: the same files from a folder into a fresh collection.
	r.HasVdir = true
	coll, user, pw, err = s.collection(kind)
	if err != nil {
		return nil, err
	}
	vc, err := s.counter(coll)
	if err != nil {
		return nil, err
	}
	defer vc.close()
	v, err := newVdir(filepath.Join(cfg.Work, fmt.Sprintf("vdir-%s-%s", s.name, kind)), kind, vc.url(coll), user, pw, files, names)
	if err != nil {
		return nil, err
	}
	for i, step := range []string{"initial", "unchanged", "changed"} {
		if step == "changed" {
			if err := v.touch(names[:cfg.Changes]); err != nil {
				return nil, err
			}
		}
		vc.take()
		m, _, err := runChild(nil, "vdirsyncer", "-c", v.config, "sync")
		if err != nil {
			return nil, err
		}
		m.Requests, m.Items = vc.take(), []int{cfg.N, 0, cfg.Changes}[i]
		r.Vdir[i] = m
	}
	return r, nil
}

// openStore opens the SQLite store of a tidbro data directory, as tidbro
// itself would (the directory's own secret key).
func openStore(data string) (tidbro.Store, error) {
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	box, err := secret.Load(data)
	if err != nil {
		return nil, err
	}
	return sqlite.Open(context.Background(), filepath.Join(data, "tidbro.db"), box)
}

// app is a tidbro data directory with one user and one account.
type app struct {
	data   string
	tenant int64
	user   int64
}

func newApp(data string, kind tidbro.Kind, url, user, password string) (*app, error) {
	ctx := context.Background()
	st, err := openStore(data)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	tn, err := st.CreateTenant(ctx, tidbro.DefaultTenant)
	if err != nil {
		return nil, err
	}
	u := &tidbro.User{TenantID: tn.ID, Username: "bench"}
	if _, err := st.PutUser(ctx, u); err != nil {
		return nil, err
	}
	p := tidbro.DefaultPolicy()
	p.Window = nil // the whole data set
	accKind, pairKind := tidbro.AccountCalDAV, tidbro.KindEvent
	p.Kinds = []tidbro.Kind{tidbro.KindEvent}
	if kind == tidbro.KindContact {
		accKind, pairKind, p.Kinds = tidbro.AccountCardDAV, tidbro.KindContact, []tidbro.Kind{tidbro.KindContact}
	}
	a := &tidbro.Account{TenantID: tn.ID, UserID: u.ID, Name: "bench", Kind: accKind, URL: url, Username: user, Password: password, Policy: p}
	if _, err := st.PutAccount(ctx, a); err != nil {
		return nil, err
	}
	if _, err := st.PutPair(ctx, &tidbro.Pair{AccountID: a.ID, Kind: pairKind}); err != nil {
		return nil, err
	}
	return &app{data: data, tenant: tn.ID, user: u.ID}, nil
}

// put writes the app's items (version v changes every summary or name).
func (a *app) put(events []*tidbro.Event, contacts []*tidbro.Contact, kind tidbro.Kind, v int) error {
	ctx := context.Background()
	st, err := openStore(a.data)
	if err != nil {
		return err
	}
	defer st.Close()
	suffix := ""
	if v > 0 {
		suffix = " v" + strconv.Itoa(v)
	}
	if kind == tidbro.KindContact {
		for i, c := range contacts {
			k := c.Clone()
			k.Title += suffix
			it := &tidbro.Item{TenantID: a.tenant, Kind: kind, AppID: fmt.Sprintf("C-%d", i), OwnerID: a.user, ChangedBy: tidbro.OriginApp, Contact: k}
			if _, _, err := st.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
				return err
			}
		}
		return nil
	}
	for i, ev := range events {
		e := ev.Clone()
		e.Summary += suffix
		it := &tidbro.Item{TenantID: a.tenant, Kind: kind, AppID: fmt.Sprintf("E-%d", i), Type: "appointment", OwnerID: a.user, ChangedBy: tidbro.OriginApp, Event: e}
		if _, _, err := st.PutItem(ctx, it, tidbro.Precondition{}); err != nil {
			return err
		}
	}
	return nil
}

// vdir is a vdirsyncer set-up: a folder of the files, paired with a
// collection.
type vdir struct {
	dir, config string
}

func newVdir(dir string, kind tidbro.Kind, url, user, password string, files map[string][]byte, names []string) (*vdir, error) {
	v := &vdir{dir: filepath.Join(dir, "items"), config: filepath.Join(dir, "config")}
	if err := os.MkdirAll(v.dir, 0o700); err != nil {
		return nil, err
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(v.dir, n), files[n], 0o600); err != nil {
			return nil, err
		}
	}
	typ, ext := "caldav", ".ics"
	if kind == tidbro.KindContact {
		typ, ext = "carddav", ".vcf"
	}
	conf := fmt.Sprintf("[general]\nstatus_path = %q\n\n[pair items]\na = \"local\"\nb = \"remote\"\ncollections = null\nconflict_resolution = \"a wins\"\n\n"+
		"[storage local]\ntype = \"filesystem\"\npath = %q\nfileext = %q\n\n[storage remote]\ntype = %q\nurl = %q\nusername = %q\npassword = %q\n",
		filepath.Join(dir, "status"), v.dir, ext, typ, url, user, password)
	if err := os.WriteFile(v.config, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if _, _, err := runChild(nil, "vdirsyncer", "-c", v.config, "discover", "items"); err != nil {
		return nil, err
	}
	return v, nil
}

var summaryRE = regexp.MustCompile(`(?m)^(SUMMARY|TITLE):(.*)$`)

// touch changes the files as a user's edits would.
func (v *vdir) touch(names []string) error {
	for _, n := range names {
		p := filepath.Join(v.dir, n)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		b = summaryRE.ReplaceAll(b, []byte("${1}:${2} v1"))
		if !strings.Contains(string(b), " v1") { // cards without a title: add a note
			b = []byte(strings.Replace(string(b), "END:VCARD", "NOTE:edited\r\nEND:VCARD", 1))
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// moduleRoot is the source tree's top directory, where go.mod is.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return "", fmt.Errorf("run this inside the tidbro source tree (go env GOMOD: %v)", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

func machine() string {
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	cpu := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = ", " + strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%d cores%s%s, %s %s/%s", runtime.NumCPU(), cpu, mem, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
