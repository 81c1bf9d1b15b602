package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tidbro/tidbro"
)

// measureScale fills one collection of tidbro's own server with cfg.Scale
// items, a tenth at a time (does ingest slow down as it grows?), then syncs
// as many app items into a fresh one (peak memory of the client).
func measureScale(cfg *Config, bin string, s *server) (*ScaleResult, error) {
	r := &ScaleResult{Items: cfg.Scale}
	files, err := Files(Events(cfg.Scale), nil)
	if err != nil {
		return nil, err
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	coll, user, pw, err := s.collection(tidbro.KindEvent)
	if err != nil {
		return nil, err
	}
	step := max(1, len(names)/10)
	for i := 0; i < len(names); i += step {
		m, err := putAll(coll, user, pw, files, names[i:min(i+step, len(names))], 8)
		if err != nil {
			return nil, err
		}
		r.Segments = append(r.Segments, m.Rate())
	}
	coll, user, pw, err = s.collection(tidbro.KindEvent)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(cfg.Work, "sync-scale")
	a, err := newApp(data, tidbro.KindEvent, coll, user, pw)
	if err != nil {
		return nil, err
	}
	if err := a.put(Events(cfg.Scale), nil, tidbro.KindEvent, 0); err != nil {
		return nil, err
	}
	m, out, err := runChild([]string{"TIDBRO_DB=", "TIDBRO_SECRET_KEY="}, bin, "sync", "--data", data)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(out, ": ok") {
		return nil, fmt.Errorf("tidbro sync at scale:\n%s", out)
	}
	m.Items = cfg.Scale
	r.Sync = m
	return r, nil
}

// measureIdle gives cfg.IdleUsers users a calendar, a task list and an
// address book on tidbro's own server, binds a second tidbro to all of
// them (3 pairs a user), and measures a cycle over every pair with
// nothing changed.
func measureIdle(cfg *Config, bin string, t *tidbroServer) (*IdleResult, error) {
	r := &IdleResult{Users: cfg.IdleUsers, Pairs: 3 * cfg.IdleUsers}
	var names []string
	for i := range cfg.IdleUsers {
		names = append(names, fmt.Sprintf("idle%d", i))
	}
	if err := t.addUsers(names...); err != nil {
		return nil, err
	}
	cnt, err := newServedCounter(t.base)
	if err != nil {
		return nil, err
	}
	defer cnt.close()
	ctx := context.Background()
	data := filepath.Join(cfg.Work, "sync-idle")
	st, err := openStore(data)
	if err != nil {
		return nil, err
	}
	tn, err := st.CreateTenant(ctx, tidbro.DefaultTenant)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, n := range names {
		u := &tidbro.User{TenantID: tn.ID, Username: n}
		if _, err := st.PutUser(ctx, u); err != nil {
			st.Close()
			return nil, err
		}
		for _, acc := range []struct {
			kind  tidbro.AccountKind
			pairs []tidbro.Kind
		}{{tidbro.AccountCalDAV, []tidbro.Kind{tidbro.KindEvent, tidbro.KindTask}}, {tidbro.AccountCardDAV, []tidbro.Kind{tidbro.KindContact}}} {
			p := tidbro.DefaultPolicy()
			a := &tidbro.Account{TenantID: tn.ID, UserID: u.ID, Name: string(acc.kind), Kind: acc.kind, URL: cnt.url(t.base + "/dav/"),
				Username: n, Password: t.passwords[n], Policy: p}
			if _, err := st.PutAccount(ctx, a); err != nil {
				st.Close()
				return nil, err
			}
			for _, k := range acc.pairs {
				if _, err := st.PutPair(ctx, &tidbro.Pair{AccountID: a.ID, Kind: k}); err != nil {
					st.Close()
					return nil, err
				}
			}
		}
	}
	st.Close()
	env := []string{"TIDBRO_DB=", "TIDBRO_SECRET_KEY="}
	if r.Initial, _, err = runChild(env, bin, "sync", "--data", data, "--parallel", "4"); err != nil {
		return nil, err
	}
	r.Initial.Requests = cnt.take()
	if r.Cycle, _, err = runChild(env, bin, "sync", "--data", data, "--parallel", "4"); err != nil {
		return nil, err
	}
	r.Cycle.Requests, r.Cycle.Items = cnt.take(), r.Pairs
	return r, nil
}
