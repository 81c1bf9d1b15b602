package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/tidbro/tidbro"
)

// accountBody is an account as the API shows and takes it. Password is
// write-only: responses carry hasPassword instead.
type accountBody struct {
	Name        string             `json:"name,omitempty"`
	Kind        tidbro.AccountKind `json:"kind"`
	URL         string             `json:"url,omitempty"`
	Username    string             `json:"username,omitempty"`
	Password    string             `json:"password,omitempty"`
	HasPassword bool               `json:"hasPassword,omitempty"`
	Policy      *tidbro.Policy     `json:"policy,omitempty"`
	Created     *time.Time         `json:"created,omitempty"`
	Updated     *time.Time         `json:"updated,omitempty"`
}

type accountsBody struct {
	Accounts []accountBody `json:"accounts"`
}

func accountOut(a *tidbro.Account) accountBody {
	p := a.Policy
	c, u := a.Created.UTC(), a.Updated.UTC()
	return accountBody{Name: a.Name, Kind: a.Kind, URL: a.URL, Username: a.Username,
		HasPassword: a.Password != "", Policy: &p, Created: &c, Updated: &u}
}

func (s *Server) putAccount(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	policy, err := parsePolicy(obj["policy"])
	if err != nil {
		return err
	}
	for _, key := range []string{"name", "hasPassword", "policy", "created", "updated"} {
		delete(obj, key)
	}
	var b accountBody
	if err := decodeStrict(obj, &b); err != nil {
		return err
	}
	a := &tidbro.Account{TenantID: u.TenantID, UserID: u.ID, Name: r.PathValue("name"), Kind: b.Kind,
		URL: b.URL, Username: b.Username, Password: b.Password, Policy: policy}
	if err := a.Validate(); err != nil {
		return err
	}
	prev, err := s.store.Account(r.Context(), u.ID, a.Name)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		prev, err = nil, nil
	}
	if err != nil {
		return err
	}
	created, err := s.store.PutAccount(r.Context(), a)
	if err != nil {
		return err
	}
	stored, err := s.store.Account(r.Context(), u.ID, a.Name)
	if err != nil {
		return err
	}
	// Another server or kind is another binding: its pairs start afresh
	// (their first run matches what both sides hold, duplicating nothing).
	rebind := prev != nil && (prev.URL != stored.URL || prev.Kind != stored.Kind)
	err = s.syncPairs(r.Context(), stored, rebind)
	if err != nil {
		return err
	}
	// New settings: run now, and let pairs parked by the old ones try again.
	if _, err := s.store.RequestRuns(r.Context(), tidbro.PairQuery{TenantID: u.TenantID, AccountID: stored.ID}, tidbro.RequestRun, true); err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, accountOut(stored))
	return nil
}

// parsePolicy reads a policy object: missing fields take the defaults, a
// missing window the default window, and "window": null means unlimited.
func parsePolicy(raw json.RawMessage) (tidbro.Policy, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return tidbro.DefaultPolicy(), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return tidbro.Policy{}, tidbro.Invalid("policy", "policy must be an object")
	}
	var p tidbro.Policy
	if err := decodeStrict(obj, &p); err != nil {
		if f := tidbro.ErrorField(err); f != "" {
			return p, tidbro.Invalid("policy."+f, "%s", tidbro.ErrorMessage(err))
		}
		return p, err
	}
	if _, ok := obj["window"]; !ok {
		w := tidbro.DefaultWindow
		p.Window = &w
	}
	for i, k := range p.Kinds {
		if pk, ok := tidbro.ParseKind(string(k)); ok {
			p.Kinds[i] = pk
		}
	}
	p = p.WithDefaults()
	return p, p.Validate()
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	a, err := s.store.Account(r.Context(), u.ID, r.PathValue("name"))
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return tidbro.Errorf(tidbro.ENOTFOUND, "account %q of user %q not found", r.PathValue("name"), u.Username)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountOut(a))
	return nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	as, err := s.store.Accounts(r.Context(), u.ID)
	if err != nil {
		return err
	}
	body := accountsBody{Accounts: []accountBody{}}
	for _, a := range as {
		body.Accounts = append(body.Accounts, accountOut(a))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	err = s.store.DeleteAccount(r.Context(), u.ID, r.PathValue("name"))
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return tidbro.Errorf(tidbro.ENOTFOUND, "account %q of user %q not found", r.PathValue("name"), u.Username)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
