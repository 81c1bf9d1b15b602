package api

import (
	"context"
	"encoding/json"

	"net/http"
	"slices"
	"strconv"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/engine"
)

type logBody struct {
	Entries []tidbro.AuditEntry `json:"entries"`
	Next    string              `json:"next,omitempty"` // pass as before for older entries
}

// userLog serves a user's audit log, newest first.
func (s *Server) userLog(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	n, err := limit(r)
	if err != nil {
		return err
	}
	var before int64
	if v := r.URL.Query().Get("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return tidbro.Invalid("before", "before must be a next value from a previous page")
		}
	}
	es, err := s.store.AuditLog(r.Context(), u.TenantID, u.ID, before, n)
	if err != nil {
		return err
	}
	body := logBody{Entries: es}
	if body.Entries == nil {
		body.Entries = []tidbro.AuditEntry{}
	}
	if len(es) == n {
		body.Next = strconv.FormatInt(es[len(es)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

type holdsBody struct {
	Holds []*tidbro.Hold `json:"holds"`
}

type decisionBody struct {
	Decision string `json:"decision"` // propagate | restore
}

func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	hs, err := s.store.Holds(r.Context(), u.TenantID, u.ID)
	if err != nil {
		return err
	}
	if hs == nil {
		hs = []*tidbro.Hold{}
	}
	writeJSON(w, http.StatusOK, holdsBody{hs})
	return nil
}

// decideHold records a decision on a held deletion; the pair's next run
// carries it out.
func (s *Server) decideHold(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no held deletion %q", r.PathValue("id"))
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var b decisionBody
	if err := decodeStrict(obj, &b); err != nil {
		return err
	}
	if err := s.store.DecideHold(r.Context(), u.TenantID, u.ID, id, b.Decision); err != nil {
		return err
	}
	// Carry the decision out now rather than at the next interval.
	if _, err := s.store.RequestRuns(r.Context(), tidbro.PairQuery{TenantID: u.TenantID, UserID: u.ID}, tidbro.RequestRun, false); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getJobMapping(w http.ResponseWriter, r *http.Request) error {
	b, err := s.store.Setting(r.Context(), tenantID(r), engine.JobMappingKey)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		b, err = []byte("{}"), nil
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, json.RawMessage(b))
	return nil
}

func (s *Server) putJobMapping(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var m engine.JobMapping
	if err := decodeStrict(obj, &m); err != nil {
		return err
	}
	if err := m.Compile(); err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := s.store.PutSetting(r.Context(), tenantID(r), engine.JobMappingKey, b); err != nil {
		return err
	}
	// Jobs look different in groupware now; pairs parked by a broken
	// mapping may run again.
	if _, err := s.store.RequestRuns(r.Context(), tidbro.PairQuery{TenantID: tenantID(r)}, tidbro.RequestRun, true); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, json.RawMessage(b))
	return nil
}

// readOnly refuses app writes to a groupware-born item that groupware owns:
// the user's account for its kind keeps ownership by origin.
func (s *Server) readOnly(ctx context.Context, u *tidbro.User, it *tidbro.Item) error {
	if it.Origin != tidbro.OriginGroupware {
		return nil
	}
	accs, err := s.store.Accounts(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, a := range accs {
		p := a.Policy.WithDefaults()
		if p.Ownership == tidbro.OwnershipOrigin && p.Direction == tidbro.DirectionTwoWay && slices.Contains(p.Kinds, it.Kind) {
			return tidbro.Errorf(tidbro.ECONFLICT, "%s %q was created in groupware and belongs to it (account %q has ownership origin): change or delete it in groupware",
				it.Kind, it.AppID, a.Name)
		}
	}
	return nil
}

// pairKinds are the collections an account of kind k synchronises under
// policy p.
func pairKinds(k tidbro.AccountKind, p tidbro.Policy) []tidbro.Kind {
	var out []tidbro.Kind
	want := func(ks ...tidbro.Kind) bool {
		for _, x := range ks {
			if slices.Contains(p.Kinds, x) {
				return true
			}
		}
		return false
	}
	if (k == tidbro.AccountCalDAV || k == tidbro.AccountGraph) && want(tidbro.KindEvent, tidbro.KindJob) {
		out = append(out, tidbro.KindEvent)
	}
	if (k == tidbro.AccountCalDAV || k == tidbro.AccountGraph) && want(tidbro.KindTask) {
		out = append(out, tidbro.KindTask)
	}
	if (k == tidbro.AccountCardDAV || k == tidbro.AccountGraph) && want(tidbro.KindContact) {
		out = append(out, tidbro.KindContact)
	}
	return out
}

// syncPairs makes the account's pairs match its kind and policy: one per
// collection it synchronises. Pairs that stay keep their binding and state
// unless rebind is set.
func (s *Server) syncPairs(ctx context.Context, a *tidbro.Account, rebind bool) error {
	want := pairKinds(a.Kind, a.Policy)
	have, err := s.store.Pairs(ctx, tidbro.PairQuery{TenantID: a.TenantID, AccountID: a.ID})
	if err != nil {
		return err
	}
	kept := map[tidbro.Kind]bool{}
	for _, p := range have {
		if rebind || !slices.Contains(want, p.Kind) {
			if err := s.store.DeletePair(ctx, p.ID); err != nil {
				return err
			}
			continue
		}
		kept[p.Kind] = true
	}
	for _, k := range want {
		if kept[k] {
			continue
		}
		if _, err := s.store.PutPair(ctx, &tidbro.Pair{TenantID: a.TenantID, AccountID: a.ID, UserID: a.UserID, Kind: k}); err != nil {
			return err
		}
	}
	return nil
}
