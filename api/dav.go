package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tidbro/tidbro"
)

// appPasswordBody is an app password as the API shows it; Password only
// in the answer that makes it.
type appPasswordBody struct {
	ID       string    `json:"id"`
	Name     string    `json:"name,omitempty"`
	Password string    `json:"password,omitempty"`
	Created  time.Time `json:"created"`
}

type appPasswordsBody struct {
	AppPasswords []appPasswordBody `json:"appPasswords"`
}

type newAppPasswordBody struct {
	Name string `json:"name,omitempty"`
}

func appPasswordOut(a *tidbro.AppPassword) appPasswordBody {
	return appPasswordBody{ID: strconv.FormatInt(a.ID, 10), Name: a.Name, Created: a.Created.UTC()}
}

// createAppPassword makes an app password for the user's DAV clients; the
// secret is in this answer only.
func (s *Server) createAppPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	var b newAppPasswordBody
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) > 0 { // the body is optional
		r.Body = io.NopCloser(bytes.NewReader(raw))
		obj, err := readObject(r)
		if err != nil {
			return err
		}
		if err := decodeStrict(obj, &b); err != nil {
			return err
		}
	}
	if err := tidbro.ValidText("name", b.Name, tidbro.MaxIDLen); err != nil {
		return err
	}
	password, hash := tidbro.NewAppPassword()
	ap, err := s.store.CreateAppPassword(r.Context(), u.TenantID, u.ID, b.Name, hash)
	if err != nil {
		return err
	}
	out := appPasswordOut(ap)
	out.Password = password
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) listAppPasswords(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	aps, err := s.store.AppPasswords(r.Context(), u.TenantID, u.ID)
	if err != nil {
		return err
	}
	body := appPasswordsBody{AppPasswords: []appPasswordBody{}}
	for _, a := range aps {
		body.AppPasswords = append(body.AppPasswords, appPasswordOut(a))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

func (s *Server) revokeAppPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := s.user(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return tidbro.Errorf(tidbro.ENOTFOUND, "no app password %q", r.PathValue("id"))
	}
	if err := s.store.RevokeAppPassword(r.Context(), u.TenantID, u.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getDAVPolicy(w http.ResponseWriter, r *http.Request) error {
	var p tidbro.DAVPolicy
	b, err := s.store.Setting(r.Context(), tenantID(r), tidbro.DAVPolicyKey)
	switch {
	case tidbro.ErrorCode(err) == tidbro.ENOTFOUND:
	case err != nil:
		return err
	default:
		if err := json.Unmarshal(b, &p); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, p.WithDefaults())
	return nil
}

func (s *Server) putDAVPolicy(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	var p tidbro.DAVPolicy
	if err := decodeStrict(obj, &p); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	p = p.WithDefaults()
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.store.PutSetting(r.Context(), tenantID(r), tidbro.DAVPolicyKey, b); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
