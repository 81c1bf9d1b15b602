package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/scheduler"
)

// syncRequestBody asks for runs: of all pairs, a user's, an account's, or
// one pair (user, account and kind).
type syncRequestBody struct {
	User    string `json:"user,omitempty"`
	Account string `json:"account,omitempty"` // with user
	Kind    string `json:"kind,omitempty"`    // events | tasks | contacts, with user and account
	Full    bool   `json:"full,omitempty"`    // relist both sides and rematch ("Full sync now")
	Since   string `json:"since,omitempty"`   // YYYY-MM-DD: a full run limited to items changed since ("sync from date")
}

type syncRequestedBody struct {
	Requested int `json:"requested"` // how many pairs will run
}

// requestSync asks tidbro serve's scheduler for runs; they start within a
// moment on whichever instance has a worker free.
func (s *Server) requestSync(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var b syncRequestBody
	if err := decodeStrict(obj, &b); err != nil {
		return err
	}
	req := tidbro.RequestRun
	switch {
	case b.Since != "":
		if _, err := time.Parse("2006-01-02", b.Since); err != nil {
			return tidbro.Invalid("since", "%q is not a date such as 2026-05-01", b.Since)
		}
		req = tidbro.RequestSince + b.Since
	case b.Full:
		req = tidbro.RequestFull
	}
	q := tidbro.PairQuery{TenantID: tenantID(r)}
	if b.User == "" && (b.Account != "" || b.Kind != "") {
		return tidbro.Invalid("user", "account and kind narrow a user's pairs: name the user")
	}
	var pairs []int64 // when narrowed past the query
	if b.User != "" {
		u, err := s.store.User(r.Context(), q.TenantID, b.User)
		if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
			return tidbro.Errorf(tidbro.ENOTFOUND, "user %q not found", b.User)
		}
		if err != nil {
			return err
		}
		q.UserID = u.ID
		if b.Account != "" {
			a, err := s.store.Account(r.Context(), u.ID, b.Account)
			if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
				return tidbro.Errorf(tidbro.ENOTFOUND, "account %q of user %q not found", b.Account, b.User)
			}
			if err != nil {
				return err
			}
			q.AccountID = a.ID
		}
		if b.Kind != "" {
			k, ok := tidbro.ParseKind(b.Kind)
			if !ok || k == tidbro.KindJob {
				return tidbro.Invalid("kind", "%q is not a collection (events, tasks, contacts)", b.Kind)
			}
			ps, err := s.store.Pairs(r.Context(), q)
			if err != nil {
				return err
			}
			for _, p := range ps {
				if p.Kind == k {
					pairs = append(pairs, p.ID)
				}
			}
			if len(pairs) == 0 {
				return tidbro.Errorf(tidbro.ENOTFOUND, "no %s pair matches", k.Plural())
			}
		}
	}
	n := 0
	if pairs == nil {
		// A person asked: past any backoff, and parked pairs try again.
		if n, err = s.store.RequestRuns(r.Context(), q, req, true); err != nil {
			return err
		}
	}
	for _, id := range pairs {
		q.PairID = id
		m, err := s.store.RequestRuns(r.Context(), q, req, true)
		if err != nil {
			return err
		}
		n += m
	}
	writeJSON(w, http.StatusAccepted, syncRequestedBody{Requested: n})
	return nil
}

type userStatusBody struct {
	User     string          `json:"user"`
	SetUp    bool            `json:"setUp"` // has an account to synchronise
	Accounts []accountStatus `json:"accounts"`
}

type accountStatus struct {
	Name  string             `json:"name"`
	Kind  tidbro.AccountKind `json:"kind"`
	Pairs []pairStatus       `json:"pairs"`
}

type pairStatus struct {
	Collection       string            `json:"collection"`           // events | tasks | contacts
	RemoteID         string            `json:"remoteId,omitempty"`   // the remote collection, once bound
	RemoteName       string            `json:"remoteName,omitempty"` // its display name
	LastRun          *time.Time        `json:"lastRun,omitempty"`
	LastStatus       string            `json:"lastStatus,omitempty"` // ok | errors | stopped | failed | running
	LastCounts       *tidbro.RunCounts `json:"lastCounts,omitempty"`
	LastError        string            `json:"lastError,omitempty"`
	NextRun          *time.Time        `json:"nextRun,omitempty"`
	Requested        string            `json:"requested,omitempty"` // a run asked for and not yet done
	Running          bool              `json:"running"`
	Parked           string            `json:"parked,omitempty"` // why it waits for a settings change
	FailedAttempts   int               `json:"failedAttempts,omitempty"`
	PendingDecisions int               `json:"pendingDecisions"` // held deletions waiting for a decision
	ItemsInScope     int               `json:"itemsInScope"`     // items linked on both sides
	// NotifiedUntil is when the groupware's promise to notify tidbro of
	// changes runs out (it is renewed well before); absent when the pair
	// is polled only.
	NotifiedUntil *time.Time `json:"notifiedUntil,omitempty"`
}

// userStatus tells what synchronisation does for a user: per account and
// pair, the last run, the next, errors and decisions waiting.
func (s *Server) userStatus(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	accs, err := s.store.Accounts(ctx, u.ID)
	if err != nil {
		return err
	}
	holds, err := s.store.Holds(ctx, u.TenantID, u.ID)
	if err != nil {
		return err
	}
	waiting := map[int64]int{}
	for _, h := range holds {
		if h.Decision == "" {
			waiting[h.PairID]++
		}
	}
	body := userStatusBody{User: u.Username, Accounts: []accountStatus{}}
	for _, a := range accs {
		as := accountStatus{Name: a.Name, Kind: a.Kind, Pairs: []pairStatus{}}
		ps, err := s.store.Pairs(ctx, tidbro.PairQuery{TenantID: u.TenantID, AccountID: a.ID})
		if err != nil {
			return err
		}
		for _, p := range ps {
			st, err := s.pairStatus(ctx, p)
			if err != nil {
				return err
			}
			st.PendingDecisions = waiting[p.ID]
			as.Pairs = append(as.Pairs, st)
		}
		body.SetUp = body.SetUp || len(ps) > 0
		body.Accounts = append(body.Accounts, as)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) pairStatus(ctx context.Context, p *tidbro.Pair) (pairStatus, error) {
	st := pairStatus{Collection: p.Kind.Plural(), RemoteID: p.RemoteID, RemoteName: p.RemoteName, LastError: p.LastError}
	runs, err := s.store.Runs(ctx, p.ID, 1)
	if err != nil {
		return st, err
	}
	if len(runs) > 0 {
		run := runs[0]
		t := run.Started.UTC()
		if !run.Finished.IsZero() {
			t = run.Finished.UTC()
		}
		st.LastRun, st.LastStatus, st.LastCounts = &t, run.Status, &run.Counts
		if run.Error != "" {
			st.LastError = run.Error
		}
	}
	// Runs that found nothing to do are not recorded; the pair's lastRun
	// tells of the latest.
	if !p.LastRun.IsZero() && (st.LastRun == nil || p.LastRun.After(*st.LastRun)) {
		t := p.LastRun.UTC()
		st.LastRun, st.LastStatus, st.LastCounts, st.LastError = &t, tidbro.RunOK, &tidbro.RunCounts{}, ""
	}
	sch, err := s.store.Schedule(ctx, p.ID)
	if err != nil && tidbro.ErrorCode(err) != tidbro.ENOTFOUND {
		return st, err
	}
	if sch != nil {
		now := time.Now()
		st.Running = sch.LeaseOwner != "" && sch.LeaseUntil.After(now)
		st.Requested, st.Parked, st.FailedAttempts = sch.Request, sch.Parked, sch.Attempts
		if st.Parked == "" {
			next := sch.NextRun.UTC()
			if sch.Request != "" || next.Before(now) {
				next = now.UTC()
			}
			st.NextRun = &next
		}
	}
	if st.ItemsInScope, err = s.store.CountLinks(ctx, p.ID); err != nil {
		return st, err
	}
	sub, err := s.store.Subscription(ctx, p.ID)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
	case err != nil:
		return st, err
	case sub.Expires.After(time.Now()):
		until := sub.Expires.UTC()
		st.NotifiedUntil = &until
	}
	return st, nil
}

func (s *Server) getSchedule(w http.ResponseWriter, r *http.Request) error {
	st := scheduler.Settings{Interval: scheduler.DefaultInterval.String()}
	b, err := s.store.Setting(r.Context(), tenantID(r), scheduler.SettingKey)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &st); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) putSchedule(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var st scheduler.Settings
	if err := decodeStrict(obj, &st); err != nil {
		return err
	}
	if d, err := time.ParseDuration(st.Interval); err != nil || d < 30*time.Second {
		return tidbro.Invalid("interval", "%q is not a duration of 30s or more (such as 10m)", st.Interval)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.store.PutSetting(r.Context(), tenantID(r), scheduler.SettingKey, b); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
