// Package graph is tidbro's Microsoft Exchange / Outlook connector over
// Microsoft Graph, with app-only access (OAuth 2.0 client credentials) per
// tenant: a user's calendar as a tidbro.Remote.
//
// It speaks to Graph with net/http and its own typed structs for the few
// endpoints it needs, rather than msgraph-sdk-go (some 15,000 files, minutes
// of build and tens of MB of binary for a handful of calls). Every request
// asks for immutable ids and UTC times, stays within Outlook's limit of 4
// concurrent requests per mailbox, honours 429's Retry-After, and backs off
// with jitter on 5xx.
package graph

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
)

// Config is a tenant's app registration in Microsoft Entra ID.
type Config struct {
	TenantID string `json:"tenantId"` // the directory (GUID or domain)
	ClientID string `json:"clientId"`
	// ClientSecret, or Certificate and Key (PEM): the app's credential.
	ClientSecret string `json:"clientSecret,omitempty"`
	Certificate  string `json:"certificate,omitempty"`
	Key          string `json:"key,omitempty"`
	// GraphURL and TokenURL: the national cloud's hosts (global by default;
	// US Government: https://graph.microsoft.us/v1.0 and
	// https://login.microsoftonline.us/TENANT/oauth2/v2.0/token).
	GraphURL string `json:"graphUrl,omitempty"` // default https://graph.microsoft.com/v1.0
	TokenURL string `json:"tokenUrl,omitempty"` // default https://login.microsoftonline.com/TENANT/oauth2/v2.0/token
}

// DefaultGraphURL is Graph's global endpoint.
const DefaultGraphURL = "https://graph.microsoft.com/v1.0"

func (c *Config) graphURL() string {
	if c.GraphURL != "" {
		return strings.TrimSuffix(c.GraphURL, "/")
	}
	return DefaultGraphURL
}

func (c *Config) tokenURL() string {
	if c.TokenURL != "" {
		return c.TokenURL
	}
	return "https://login.microsoftonline.com/" + url.PathEscape(c.TenantID) + "/oauth2/v2.0/token"
}

// scope is the .default scope of the Graph host in use.
func (c *Config) scope() string {
	u, err := url.Parse(c.graphURL())
	if err != nil {
		return "https://graph.microsoft.com/.default"
	}
	return u.Scheme + "://" + u.Host + "/.default"
}

// tokens gets and caches access tokens of one app registration.
type tokens struct {
	cfg  *Config
	http *http.Client
	now  func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// refreshMargin renews a token this long before it expires, so that a
// request never carries one that expires on the way.
const refreshMargin = 2 * time.Minute

// get returns a live access token, asking for a new one when needed.
func (t *tokens) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Add(refreshMargin).Before(t.expires) {
		return t.token, nil
	}
	form := url.Values{"client_id": {t.cfg.ClientID}, "scope": {t.cfg.scope()}, "grant_type": {"client_credentials"}}
	switch {
	case t.cfg.ClientSecret != "":
		form.Set("client_secret", t.cfg.ClientSecret)
	case t.cfg.Certificate != "" && t.cfg.Key != "":
		assertion, err := t.assertion()
		if err != nil {
			return "", err
		}
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", assertion)
	default:
		return "", tidbro.Errorf(tidbro.EUNAUTHORIZED, "the Graph app has no client secret and no certificate")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.tokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", tidbro.Errorf(tidbro.EINVALID, "token endpoint %q: %v", t.cfg.tokenURL(), err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := t.now()
	res, err := t.http.Do(req)
	if err != nil {
		return "", tidbro.Errorf(tidbro.EUNAVAILABLE, "token endpoint: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var body struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
		Error       string  `json:"error"`
		Description string  `json:"error_description"`
	}
	_ = json.Unmarshal(b, &body)
	switch {
	case res.StatusCode == http.StatusOK && body.AccessToken != "":
	case res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests:
		return "", tidbro.Errorf(tidbro.EUNAVAILABLE, "token endpoint: %s", res.Status)
	default:
		// The description names the AADSTS code; it holds no secret.
		return "", tidbro.Errorf(tidbro.EUNAUTHORIZED, "the Graph app's credentials were refused: %s %s", body.Error, firstLine(body.Description))
	}
	t.token, t.expires = body.AccessToken, start.Add(time.Duration(body.ExpiresIn)*time.Second)
	return t.token, nil
}

// forget drops the cached token (the API refused it).
func (t *tokens) forget() {
	t.mu.Lock()
	t.token = ""
	t.mu.Unlock()
}

// assertion signs the JWT that proves the certificate's key (Entra's
// certificate credentials: PS256, x5t#S256 thumbprint).
func (t *tokens) assertion() (string, error) {
	cb, _ := pem.Decode([]byte(t.cfg.Certificate))
	if cb == nil {
		return "", tidbro.Invalid("certificate", "not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return "", tidbro.Invalid("certificate", "%v", err)
	}
	kb, _ := pem.Decode([]byte(t.cfg.Key))
	if kb == nil {
		return "", tidbro.Invalid("key", "not a PEM private key")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(kb.Bytes); err == nil {
		key, _ = k.(*rsa.PrivateKey)
	} else if k, err := x509.ParsePKCS1PrivateKey(kb.Bytes); err == nil {
		key = k
	}
	if key == nil {
		return "", tidbro.Invalid("key", "an RSA private key (PKCS #1 or #8) is needed")
	}
	thumb := sha256.Sum256(cert.Raw)
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "PS256", "typ": "JWT", "x5t#S256": enc.EncodeToString(thumb[:])})
	now := t.now()
	claims, _ := json.Marshal(map[string]any{
		"aud": t.cfg.tokenURL(), "iss": t.cfg.ClientID, "sub": t.cfg.ClientID, "jti": rand.Text(),
		"nbf": now.Unix(), "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	})
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		return "", fmt.Errorf("graph: signing the client assertion: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s, _, _ = strings.Cut(s, "\r")
	return s
}
