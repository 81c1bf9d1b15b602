package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/caldav"
	"github.com/tidbro/tidbro/engine"
	"github.com/tidbro/tidbro/graph"
	"github.com/tidbro/tidbro/scheduler"
)

// remoteHTTP is the HTTP client of every connector. The timeout bounds one
// request (a multigets of a batch included), not a run.
var remoteHTTP = &http.Client{Timeout: 2 * time.Minute, Transport: remoteTransport}

// remoteTransport keeps connections to each groupware host open for reuse.
// Go's default keeps 2 idle per host: a run writes 4 items at once, and
// many pairs share one server (all of a tenant's mailboxes are on Graph),
// so the default closed and reopened connections all the time, each a new
// TCP (and TLS) handshake on both sides.
var remoteTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 256, 64
	return t
}()

// graphConnector keeps its clients (tokens, each mailbox's limits) for the
// process's life; useStore gives it the tenants' settings and users.
var graphConnector = &graph.Connector{HTTP: remoteHTTP}

// connectors open remote collections by account kind; tests replace them
// with in-memory remotes.
var connectors = map[tidbro.AccountKind]engine.Connector{
	tidbro.AccountCalDAV:  caldav.Connector(remoteHTTP),
	tidbro.AccountCardDAV: caldav.Connector(remoteHTTP),
	tidbro.AccountGraph:   graphConnector.Connect,
}

// useStore points the connectors that need the store at it.
func useStore(store tidbro.Store) {
	graphConnector.Settings = func(ctx context.Context, tenantID int64) (*graph.Settings, error) {
		b, err := store.SealedSetting(ctx, tenantID, graph.SettingKey)
		if err != nil {
			return nil, err
		}
		var s graph.Settings
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("the tenant's Graph settings: %w", err)
		}
		return &s, nil
	}
	graphConnector.User = func(ctx context.Context, acc *tidbro.Account) (*tidbro.User, error) {
		users, err := store.Users(ctx, acc.TenantID)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if u.ID == acc.UserID {
				return u, nil
			}
		}
		return nil, tidbro.Errorf(tidbro.ENOTFOUND, "no user %d", acc.UserID)
	}
}

func connect(ctx context.Context, acc *tidbro.Account, p *tidbro.Pair, create bool) (tidbro.Remote, error) {
	c := connectors[acc.Kind]
	if c == nil {
		return nil, tidbro.Errorf(tidbro.EINVALID, "this build has no connector for %s accounts", acc.Kind)
	}
	return c(ctx, acc, p, create)
}

func syncCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newAdminCmd("sync", stderr, true)
	user := c.fs.String("user", "", "only this user's pairs")
	account := c.fs.String("account", "", "only accounts of this name")
	kind := c.fs.String("kind", "", "only this collection: events, tasks or contacts")
	full := c.fs.Bool("full", false, `relist both sides and rematch ("Full sync now")`)
	since := c.fs.String("since", "", "sync from date YYYY-MM-DD: a full run limited to items changed since then")
	dry := c.fs.Bool("dry-run", false, "print what a run would do and write nothing")
	allow := c.fs.Bool("allow-mass-delete", false, "let deletions past the mass-deletion guard through, for this run")
	parallel := c.fs.Int("parallel", 1, "run this many pairs at a time")
	usage := "sync [--user U] [--account A] [--kind events|tasks|contacts] [--full] [--since DATE] [--dry-run] [--allow-mass-delete] [--parallel N]"
	return c.run(ctx, args, 0, usage, func(store tidbro.Store, t *tidbro.Tenant, _ []string) error {
		o := engine.Options{Full: *full, DryRun: *dry, AllowMassDelete: *allow}
		if *since != "" {
			d, err := time.Parse("2006-01-02", *since)
			if err != nil {
				return fmt.Errorf("--since %q: want a date such as 2026-05-01", *since)
			}
			o.Full, o.Since = true, d
		}
		var only tidbro.Kind
		if *kind != "" {
			k, ok := tidbro.ParseKind(*kind)
			if !ok || k == tidbro.KindJob {
				return fmt.Errorf("--kind %q: want events, tasks or contacts", *kind)
			}
			only = k
		}
		pairs, names, err := selectPairs(ctx, store, t, *user, *account, only)
		if err != nil {
			return err
		}
		if len(pairs) == 0 {
			fmt.Fprintln(stdout, "nothing to synchronise: no account matches")
			return nil
		}
		useStore(store)
		eng := &engine.Engine{Store: store, Connect: connect, Log: slog.New(slog.DiscardHandler),
			Progress: progressTo(stderr)}
		// Under a lease, like tidbro serve's runs: never beside one of them.
		sched := &scheduler.Scheduler{Store: store, Engine: eng, Owner: "cli/" + scheduler.NewOwner()}
		// Pairs run --parallel at a time; each one's report is printed
		// whole, in the order of the pairs.
		reports := make([]bytes.Buffer, len(pairs))
		bad := make([]bool, len(pairs))
		errs := make([]error, len(pairs))
		sem := make(chan struct{}, max(1, *parallel))
		var wg sync.WaitGroup
		for i, p := range pairs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				bad[i], errs[i] = runOne(ctx, store, sched, t, p, names[p.ID], o, &reports[i])
			})
		}
		wg.Wait()
		var failed int
		for i := range pairs {
			stdout.Write(reports[i].Bytes())
			if errs[i] != nil {
				return errs[i]
			}
			if bad[i] {
				failed++
			}
		}
		if failed > 0 {
			return fmt.Errorf("%d of %d runs failed or had item errors (see above, and the log)", failed, len(pairs))
		}
		return nil
	})
}

// runOne runs one pair and writes its report to w; bad says it failed or
// had item errors, err is a failure of the command itself.
func runOne(ctx context.Context, store tidbro.Store, sched *scheduler.Scheduler, t *tidbro.Tenant, p *tidbro.Pair, name string, o engine.Options, w io.Writer) (bad bool, err error) {
	res, err := sched.RunNow(ctx, p.ID, o)
	if errors.Is(err, scheduler.ErrBusy) {
		req := tidbro.RequestRun
		if o.Full {
			req = tidbro.RequestFull
		}
		if !o.Since.IsZero() {
			req = tidbro.RequestSince + o.Since.Format("2006-01-02")
		}
		if !o.DryRun {
			if _, err := store.RequestRuns(ctx, tidbro.PairQuery{TenantID: t.ID, PairID: p.ID}, req, false); err != nil {
				return false, err
			}
		}
		fmt.Fprintf(w, "%s: being synchronised by tidbro serve; it runs again there when done\n", name)
		return false, nil
	}
	if err != nil && tidbro.ErrorCode(err) == tidbro.ENOTFOUND && tidbro.ErrorField(err) == "mailbox" {
		// A user without a mailbox is not set up, not failing.
		fmt.Fprintf(w, "%s: not set up: %s\n", name, tidbro.ErrorMessage(err))
		return false, nil
	}
	if err != nil {
		fmt.Fprintf(w, "%s: failed: %v\n", name, err)
		return true, nil
	}
	run := res.Run
	fmt.Fprintf(w, "%s: %s\n  app:       %s\n  groupware: %s\n", name, run.Status, side(run.Counts.App), side(run.Counts.Remote))
	if run.Status == tidbro.RunStopped {
		bad = true
		fmt.Fprintf(w, "  stopped: %s\n", run.Error)
	}
	if o.DryRun {
		for _, a := range res.Actions {
			if a.Op != engine.Skip || a.AppState != engine.Unchanged || a.RemState != engine.Unchanged {
				fmt.Fprintf(w, "  would %s %s: %s\n", a.Op, a.Entry, a.Rule)
			}
		}
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  error: %v\n", e)
	}
	return bad || len(res.Errors) > 0, nil
}

func side(c tidbro.SideCounts) string {
	return fmt.Sprintf("%d created, %d updated, %d deleted, %d restored, %d skipped, %d held, %d conflicts, %d errors",
		c.Created, c.Updated, c.Deleted, c.Restored, c.Skipped, c.Held, c.Conflicts, c.Errors)
}

// selectPairs finds the pairs to run and names them user/account/kind.
func selectPairs(ctx context.Context, store tidbro.Store, t *tidbro.Tenant, username, account string, kind tidbro.Kind) ([]*tidbro.Pair, map[int64]string, error) {
	q := tidbro.PairQuery{TenantID: t.ID}
	if username != "" {
		u, err := store.User(ctx, t.ID, username)
		if err != nil {
			return nil, nil, fmt.Errorf("user %q: %w", username, err)
		}
		q.UserID = u.ID
	}
	all, err := store.Pairs(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	users := map[int64]string{}
	if us, err := store.Users(ctx, t.ID); err == nil {
		for _, u := range us {
			users[u.ID] = u.Username
		}
	}
	var out []*tidbro.Pair
	names := map[int64]string{}
	for _, p := range all {
		acc, err := store.AccountByID(ctx, p.AccountID)
		if err != nil {
			return nil, nil, err
		}
		if account != "" && acc.Name != account || kind != "" && p.Kind != kind {
			continue
		}
		out = append(out, p)
		names[p.ID] = fmt.Sprintf("%s/%s/%s", users[p.UserID], acc.Name, p.Kind.Plural())
	}
	return out, names, nil
}

// progressTo reports long runs on w, a line per tenth.
func progressTo(w io.Writer) func(pairID int64, done, total int) {
	return func(pairID int64, done, total int) {
		if total < 1000 {
			return
		}
		if step := total / 10; done%step == 0 || done == total {
			fmt.Fprintf(w, "  %s %d/%d\n", strings.Repeat("·", 10*done/total), done, total)
		}
	}
}
