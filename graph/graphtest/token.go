package graphtest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// app is a registered application of a tenant with its client credentials.
type app struct {
	tenant, clientID string
	secrets          []string
	certs            []*x509.Certificate
}

type accessToken struct {
	tenant, clientID string
	expires          time.Time
}

func appKey(tenant, clientID string) string {
	return strings.ToLower(tenant) + "\x00" + strings.ToLower(clientID)
}

// AddApp registers an app that authenticates with a client secret (an app
// may have several secrets and certificates).
func (s *Server) AddApp(tenantID, clientID, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(tenantID, clientID)
	a.secrets = append(a.secrets, secret)
}

// AddCertApp registers an app that authenticates with a client assertion
// signed by the certificate's private key.
func (s *Server) AddCertApp(tenantID, clientID string, cert *x509.Certificate) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.app(tenantID, clientID)
	a.certs = append(a.certs, cert)
}

func (s *Server) app(tenant, clientID string) *app {
	if s.home == "" {
		s.home = tenant
		s.TokenURL = s.TokenURLFor(tenant)
	}
	k := appKey(tenant, clientID)
	if s.apps[k] == nil {
		s.apps[k] = &app{tenant: tenant, clientID: clientID}
	}
	return s.apps[k]
}

// tokenError is the identity platform's error answer. The brief documents
// the shape and AADSTS70011 (invalid_scope); the other AADSTS codes are our
// choice, the ones Entra is commonly seen to use for these cases.
type tokenError struct {
	status int
	err    string
	code   int
	desc   string
}

func (e *tokenError) write(w http.ResponseWriter, s *Server) {
	trace, corr := s.newGUID(), s.newGUID()
	now := time.Now().UTC()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]any{
		"error":             e.err,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", e.code, e.desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{e.code},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
	})
}

// serveToken is POST /{tenant}/oauth2/v2.0/token, the client credentials
// grant (learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	s.mu.Lock()
	s.tokenRequests++
	s.mu.Unlock()
	tok, life, terr := s.grant(r, tenant)
	if terr != nil {
		terr.write(w, s)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	secs := int(life / time.Second)
	json.NewEncoder(w).Encode(map[string]any{
		"token_type": "Bearer", "expires_in": secs, "ext_expires_in": secs, "access_token": tok,
	})
}

func (s *Server) grant(r *http.Request, tenant string) (string, time.Duration, *tokenError) {
	if r.Method != http.MethodPost {
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 900561, "The endpoint only accepts POST requests."}
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."}
	}
	if err := r.ParseForm(); err != nil {
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 900144, "The request body is not a valid form."}
	}
	f := r.PostForm
	s.mu.Lock()
	defer s.mu.Unlock()
	known := false
	for _, a := range s.apps {
		known = known || strings.EqualFold(a.tenant, tenant)
	}
	if !known {
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant)}
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'."}
		}
		return "", 0, &tokenError{http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '" + gt + "'."}
	}
	// The secret may come in the form or as HTTP Basic credentials.
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = cmpOr(clientID, u), cmpOr(secret, p)
	}
	a := s.apps[appKey(tenant, clientID)]
	if clientID == "" {
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'."}
	}
	if a == nil {
		return "", 0, &tokenError{http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant)}
	}
	// Every scope must be the Graph resource's .default; this fake is the
	// only resource, so that is one scope.
	scopes := strings.Fields(f.Get("scope"))
	if len(scopes) != 1 || scopes[0] != s.Scope {
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_scope", 70011, fmt.Sprintf("The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %q is not valid; client credentials need %q.", f.Get("scope"), s.Scope)}
	}
	assertion, atype := f.Get("client_assertion"), f.Get("client_assertion_type")
	switch {
	case secret != "" && assertion != "":
		return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 900023, "Only one client credential may be given: client_secret or client_assertion."}
	case secret != "":
		if !slices.ContainsFunc(a.secrets, func(x string) bool { return subtle.ConstantTimeCompare([]byte(x), []byte(secret)) == 1 }) {
			return "", 0, &tokenError{http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientID + "'."}
		}
	case assertion != "":
		if atype != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return "", 0, &tokenError{http.StatusBadRequest, "invalid_request", 70002, "client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."}
		}
		if terr := checkAssertion(assertion, a, s.TokenURLFor(tenant)); terr != nil {
			return "", 0, terr
		}
	default:
		return "", 0, &tokenError{http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
	}
	tok := "eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0." + randomToken() + "." + randomToken()
	s.tokens[tok] = &accessToken{tenant: a.tenant, clientID: a.clientID, expires: time.Now().Add(s.tokenLife)}
	return tok, s.tokenLife, nil
}

// checkAssertion verifies a certificate client assertion
// (learn.microsoft.com/entra/identity-platform/certificate-credentials).
// Both documented headers are accepted: the current one (PS256 with
// x5t#S256, the SHA-256 thumbprint) and the older one (RS256 with x5t, the
// SHA-1 thumbprint).
func checkAssertion(jwt string, a *app, aud string) *tokenError {
	bad := func(code int, format string, args ...any) *tokenError {
		return &tokenError{http.StatusUnauthorized, "invalid_client", code, fmt.Sprintf(format, args...)}
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return bad(50027, "JWT token is invalid or is malformed.")
	}
	var hdr struct {
		Alg     string `json:"alg"`
		Typ     string `json:"typ"`
		X5t     string `json:"x5t"`
		X5tS256 string `json:"x5t#S256"`
	}
	var claims struct {
		Aud json.RawMessage `json:"aud"`
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Exp *float64        `json:"exp"`
		Nbf *float64        `json:"nbf"`
	}
	hb, err1 := base64.RawURLEncoding.DecodeString(parts[0])
	cb, err2 := base64.RawURLEncoding.DecodeString(parts[1])
	sig, err3 := base64.RawURLEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(cb, &claims) != nil {
		return bad(50027, "JWT token is invalid or is malformed (base64url JSON header and claims expected).")
	}
	var thumb func(*x509.Certificate) string
	var want string
	switch hdr.Alg {
	case "RS256":
		want = hdr.X5t
		thumb = func(c *x509.Certificate) string {
			h := sha1.Sum(c.Raw)
			return base64.RawURLEncoding.EncodeToString(h[:])
		}
	case "PS256":
		want = hdr.X5tS256
		thumb = func(c *x509.Certificate) string {
			h := sha256.Sum256(c.Raw)
			return base64.RawURLEncoding.EncodeToString(h[:])
		}
	default:
		return bad(5002738, "The client assertion's alg %q is not supported (RS256 with x5t or PS256 with x5t#S256).", hdr.Alg)
	}
	if want == "" {
		return bad(700027, "The client assertion's header has no certificate thumbprint for %s (x5t for RS256, x5t#S256 for PS256).", hdr.Alg)
	}
	var cert *x509.Certificate
	for _, c := range a.certs {
		if thumb(c) == strings.TrimRight(want, "=") {
			cert = c
		}
	}
	if cert == nil {
		return bad(700027, "Client assertion contains an invalid signature. [Reason - The key was not found., Thumbprint of key used by client: '%s']", want)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return bad(700027, "The certificate's key is not RSA.")
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	var err error
	if hdr.Alg == "RS256" {
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
	} else {
		err = rsa.VerifyPSS(pub, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	}
	if err != nil {
		return bad(700027, "Client assertion failed signature validation.")
	}
	var auds []string
	var one string
	if json.Unmarshal(claims.Aud, &one) == nil {
		auds = []string{one}
	} else {
		json.Unmarshal(claims.Aud, &auds)
	}
	if !slices.Contains(auds, aud) {
		return bad(700212, "No matching federated identity record found for presented assertion audience '%s'; the audience must be %s.", strings.Join(auds, ","), aud)
	}
	if claims.Iss != a.clientID || claims.Sub != a.clientID {
		return bad(700021, "Client assertion application identifier doesn't match 'client_id' parameter (iss %q, sub %q, client_id %q).", claims.Iss, claims.Sub, a.clientID)
	}
	now := float64(time.Now().Unix())
	if claims.Exp == nil || claims.Nbf == nil {
		return bad(700024, "Client assertion must have exp and nbf claims.")
	}
	if *claims.Exp <= now || *claims.Nbf > now {
		return bad(700024, "Client assertion is not within its valid time range (nbf %.0f, exp %.0f, now %.0f).", *claims.Nbf, *claims.Exp, now)
	}
	return nil
}
