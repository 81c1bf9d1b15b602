package api

import (
	"encoding/json"
	"net/http"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/graph"
)

// graphSettingsBody is the tenant's Graph set-up as the API shows it: the
// secrets are write-only.
type graphSettingsBody struct {
	graph.Settings
	HasClientSecret bool `json:"hasClientSecret,omitempty"`
	HasKey          bool `json:"hasKey,omitempty"`
}

func (s *Server) graphSettings(r *http.Request) (*graph.Settings, error) {
	b, err := s.store.SealedSetting(r.Context(), tenantID(r), graph.SettingKey)
	if err != nil {
		return nil, err
	}
	var st graph.Settings
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (s *Server) getGraphSettings(w http.ResponseWriter, r *http.Request) error {
	st, err := s.graphSettings(r)
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return tidbro.Errorf(tidbro.ENOTFOUND, "the tenant has no Graph app set up")
	}
	if err != nil {
		return err
	}
	out := graphSettingsBody{Settings: *st, HasClientSecret: st.ClientSecret != "", HasKey: st.Key != ""}
	out.ClientSecret, out.Key = "", ""
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putGraphSettings stores the tenant's app registration, sealed; omitted
// secrets keep the stored ones.
func (s *Server) putGraphSettings(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(r)
	if err != nil {
		return err
	}
	delete(obj, "hasClientSecret")
	delete(obj, "hasKey")
	var st graph.Settings
	if err := decodeStrict(obj, &st); err != nil {
		return err
	}
	if old, err := s.graphSettings(r); err == nil {
		if st.ClientSecret == "" && st.Certificate == "" {
			st.ClientSecret = old.ClientSecret
		}
		if st.Key == "" && st.Certificate == old.Certificate {
			st.Key = old.Key
		}
	}
	if err := st.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.store.PutSealedSetting(r.Context(), tenantID(r), graph.SettingKey, b); err != nil {
		return err
	}
	// New credentials: parked Graph pairs may run again.
	if _, err := s.store.RequestRuns(r.Context(), tidbro.PairQuery{TenantID: tenantID(r)}, tidbro.RequestRun, true); err != nil {
		return err
	}
	out := graphSettingsBody{Settings: st, HasClientSecret: st.ClientSecret != "", HasKey: st.Key != ""}
	out.ClientSecret, out.Key = "", ""
	writeJSON(w, http.StatusOK, out)
	return nil
}
