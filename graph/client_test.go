package graph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/remotetest"
)

// Throttled and failing requests are retried after Retry-After (the fake
// records a retry that comes too early as a violation, and so fails the
// test), and a token serves many requests.
func TestThrottling(t *testing.T) {
	f := newFake(t)
	cal := NewCalendar(f.client, f.user, "")
	ctx := t.Context()
	f.srv.Throttle(f.user, 3, 300*time.Millisecond)
	start := time.Now()
	if _, err := cal.Changes(ctx, "", nil); err != nil {
		t.Fatalf("Changes through 429s: %v", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("done in %v: the 429's Retry-After was not waited for", d)
	}
	f.srv.FailNextRetryAfter(f.user, 2, http.StatusServiceUnavailable, 100*time.Millisecond)
	if _, err := cal.Create(ctx, "k-503", remotetest.Sample(tidbro.KindEvent, 1)); err != nil {
		t.Fatalf("Create through 503s: %v", err)
	}
	if n := f.srv.TokenRequests(); n != 1 {
		t.Errorf("%d token requests for one client, want 1 (tokens are cached)", n)
	}
}

// Many writes at once stay within 4 concurrent requests per mailbox (the
// fake fails the test beyond), batched.
func TestConcurrency(t *testing.T) {
	f := newFake(t)
	f.srv.SetLatency(20 * time.Millisecond)
	cal := NewCalendar(f.client, f.user, "")
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Go(func() {
			it := remotetest.Sample(tidbro.KindEvent, i)
			it.Event.RRule, it.Event.Overrides, it.Event.ExDates = "", nil, nil
			if _, err := cal.Create(ctx, fmt.Sprintf("k-%d", i), it); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ch, err := cal.Changes(ctx, "", nil)
	if err != nil || len(ch.Changed) != 40 {
		t.Fatalf("after 40 creates: %d items, %v", len(ch.Changed), err)
	}
	// 40 creates in batches of up to 20 need far fewer than 40 requests.
	if n := f.srv.Requests(f.user); n > 40+5 {
		t.Logf("%d mailbox requests (batch parts count singly)", n)
	}
}

// An expired delta token is refused as invalid: the engine relists.
func TestExpiredDeltaToken(t *testing.T) {
	f := newFake(t)
	cal := NewCalendar(f.client, f.user, "")
	ctx := t.Context()
	ch, err := cal.Changes(ctx, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.ExpireDeltaTokens(f.user)
	if _, err := cal.Changes(ctx, ch.Token, nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Fatalf("Changes from an expired token: %v, want invalid", err)
	}
	if _, err := cal.Changes(ctx, "garbage", nil); tidbro.ErrorCode(err) != tidbro.EINVALID {
		t.Fatalf("Changes from a garbage token: %v, want invalid", err)
	}
}

// A certificate instead of a secret; a user without a mailbox is "not set
// up"; a wrong secret is a permanent failure.
func TestCredentialsAndMailboxes(t *testing.T) {
	f := newFake(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tidbro"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	f.srv.AddCertApp("contoso.example", "app-cert", cert)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	ctx := context.Background()
	c := &Connector{
		Settings: func(context.Context, int64) (*Settings, error) {
			return &Settings{Config: Config{TenantID: "contoso.example", ClientID: "app-cert", Certificate: certPEM, Key: keyPEM,
				GraphURL: f.srv.URL, TokenURL: f.srv.TokenURL}}, nil
		},
		User: func(_ context.Context, a *tidbro.Account) (*tidbro.User, error) {
			return &tidbro.User{Username: a.Name, Email: a.Name + "@contoso.example"}, nil
		},
	}
	f.srv.AddUser("nobox@contoso.example", "nobox@contoso.example", false)
	mailboxOf := map[string]string{}
	for _, u := range []string{"carol", "nobox"} {
		f.srv.AddUser(u+"@contoso.example", u+"@contoso.example", u != "nobox")
		mailboxOf[u] = u
	}
	p := &tidbro.Pair{Kind: tidbro.KindEvent}
	r, err := c.Connect(ctx, &tidbro.Account{Kind: tidbro.AccountGraph, Name: "carol"}, p, true)
	if err != nil {
		t.Fatalf("connect with a certificate: %v", err)
	}
	if _, err := r.Changes(ctx, "", nil); err != nil {
		t.Fatal(err)
	}
	if p.RemoteID == "" || p.RemoteName == "" {
		t.Errorf("the pair is bound to %q (%q)", p.RemoteID, p.RemoteName)
	}
	_, err = c.Connect(ctx, &tidbro.Account{Kind: tidbro.AccountGraph, Name: "nobox"}, &tidbro.Pair{Kind: tidbro.KindEvent}, true)
	if tidbro.ErrorCode(err) != tidbro.ENOTFOUND || tidbro.ErrorField(err) != "mailbox" {
		t.Errorf("a user without a mailbox: %v, want not found (mailbox)", err)
	}
	_, err = c.Connect(ctx, &tidbro.Account{Kind: tidbro.AccountGraph, Name: "nobody"}, &tidbro.Pair{Kind: tidbro.KindEvent}, true)
	if tidbro.ErrorField(err) != "mailbox" {
		t.Errorf("a user not in the directory: %v", err)
	}
	bad := NewClient(Config{TenantID: "contoso.example", ClientID: "app-1", ClientSecret: "wrong", GraphURL: f.srv.URL, TokenURL: f.srv.TokenURL}, nil)
	if _, err := NewCalendar(bad, f.user, "").Changes(ctx, "", nil); tidbro.ErrorCode(err) != tidbro.EUNAUTHORIZED {
		t.Errorf("a wrong secret: %v, want unauthorized", err)
	}
}

// A request that may not be repeated (a POST without transactionId) is not
// retried after a 5xx, in a batch or not: the failure goes to the engine,
// whose recorded intent finds what it made. A 429 was not done, so it is
// retried.
func TestUnsafeNotRetried(t *testing.T) {
	f := newFake(t)
	ctx := t.Context()
	folder := "/users/" + f.user + "/contactFolders/contacts/contacts"
	post := func(name string) request {
		return request{Method: http.MethodPost, Path: folder, Body: map[string]any{"givenName": name}, Unsafe: true}
	}
	f.srv.FailNext(f.user, 1, http.StatusServiceUnavailable)
	before := f.srv.Requests(f.user)
	if _, err := f.client.do(ctx, f.user, post("Ada"), nil); !tidbro.Transient(err) {
		t.Fatalf("unsafe POST after a 503: %v, want a transient error", err)
	}
	if n := f.srv.Requests(f.user) - before; n != 1 {
		t.Errorf("unsafe POST sent %d times, want once", n)
	}
	f.srv.FailNext(f.user, 1, http.StatusServiceUnavailable)
	as, err := f.client.batch(ctx, f.user, []request{post("Grace")})
	if err != nil || as[0].answer(post("Grace"), nil) == nil {
		t.Fatalf("unsafe batch part after a 503: %v, %+v; want its 503", err, as)
	}
	f.srv.Throttle(f.user, 1, 50*time.Millisecond)
	if _, err := f.client.do(ctx, f.user, post("Edsger"), nil); err != nil {
		t.Fatalf("unsafe POST after a 429: %v", err)
	}
	if got := len(f.srv.Contacts(f.user)); got != 1 {
		t.Errorf("%d contacts, want 1 (the one after the 429)", got)
	}
}
