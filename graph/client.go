package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidbro/tidbro"
)

// Outlook's limits per app and mailbox (Microsoft Graph throttling limits).
const (
	mailboxConcurrency = 4
	maxBatch           = 20
	maxAttempts        = 6
	maxBody            = 64 << 20
)

// Client sends Graph requests for one app registration.
type Client struct {
	cfg  *Config
	http *http.Client
	tok  *tokens
	now  func() time.Time

	mu    sync.Mutex
	boxes map[string]*mailbox
}

// mailbox is what the client keeps per mailbox: the concurrency slots and
// the time before which a 429 asked it to wait.
type mailbox struct {
	slots chan struct{}
	// many serialises the requests that take several slots: two taking
	// them one by one could each hold some and wait for the rest forever.
	many      sync.Mutex
	mu        sync.Mutex
	notBefore time.Time
	writes    *batcher
}

// NewClient returns a client for cfg; hc may be nil.
func NewClient(cfg Config, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	c := &Client{cfg: &cfg, http: hc, now: time.Now, boxes: map[string]*mailbox{}}
	c.tok = &tokens{cfg: c.cfg, http: hc, now: c.now}
	return c
}

func (c *Client) box(id string) *mailbox {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.boxes[id]
	if b == nil {
		b = &mailbox{slots: make(chan struct{}, mailboxConcurrency)}
		b.writes = &batcher{c: c, mailbox: id}
		c.boxes[id] = b
	}
	return b
}

// apiError is Graph's error body.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// request is one Graph call. Path is relative to the Graph URL, or a
// nextLink/deltaLink Graph gave.
type request struct {
	Method  string
	Path    string
	Body    any
	Headers map[string]string
	// Unsafe: sent again after a 5xx or a lost answer, it may be done twice
	// (a POST without transactionId). Such a request is not retried then;
	// the engine's recorded intent finds what it made on the next run.
	Unsafe bool
}

// eachPage GETs link and the pages after it (@odata.nextLink), giving fn
// each page's values until it returns false.
func eachPage[T any](ctx context.Context, c *Client, mailbox, link string, fn func([]T) bool) error {
	for link != "" {
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"@odata.nextLink"`
		}
		if _, err := c.do(ctx, mailbox, request{Method: http.MethodGet, Path: link}, &page); err != nil {
			return err
		}
		if !fn(page.Value) {
			return nil
		}
		link = page.NextLink
	}
	return nil
}

// do sends r for mailbox (a user id) and decodes a 2xx answer into out
// (when not nil). It waits out 429s and retries 5xx with backoff; other
// failures become typed errors.
func (c *Client) do(ctx context.Context, mailbox string, r request, out any) (int, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = json.Marshal(r.Body); err != nil {
			return 0, fmt.Errorf("graph: encoding %s %s: %w", r.Method, r.Path, err)
		}
	}
	return c.send(ctx, mailbox, r, body, 1, out)
}

// send makes the attempts; slots is how many of the mailbox's concurrency
// slots the request takes (a $batch takes them all: Graph forwards its
// parts to Outlook four at a time).
func (c *Client) send(ctx context.Context, mailbox string, r request, body []byte, slots int, out any) (int, error) {
	box := c.box(mailbox)
	var last error
	refreshed := false
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err := box.wait(ctx, c.now); err != nil {
			return 0, err
		}
		status, hdr, b, err := c.once(ctx, box, r, body, slots)
		switch {
		case err != nil && (!tidbro.Transient(err) || r.Unsafe):
			return 0, err // refused credentials, a bad URL, a cancelled run; or an unsafe request that may have arrived
		case err != nil:
			last = err
			if sleepCtx(ctx, backoff(attempt)) != nil {
				return 0, ctx.Err()
			}
			continue
		case status/100 == 2:
			if out != nil && len(b) > 0 {
				if err := json.Unmarshal(b, out); err != nil {
					return status, tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: %s %s: the answer is not JSON: %v", r.Method, r.Path, err)
				}
			}
			return status, nil
		case status == http.StatusUnauthorized && !refreshed:
			c.tok.forget() // expired or revoked early: one fresh token
			refreshed = true
			attempt--
			continue
		case status >= 500 && r.Unsafe:
			return status, graphError(r, status, b)
		case status == http.StatusTooManyRequests || status >= 500:
			wait := retryAfter(hdr)
			if wait == 0 {
				wait = backoff(attempt)
			}
			box.delay(c.now().Add(wait))
			last = graphError(r, status, b)
			continue
		}
		return status, graphError(r, status, b)
	}
	return 0, tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: %s %s: giving up after %d attempts: %v", r.Method, shortPath(r.Path), maxAttempts, last)
}

// once sends one attempt.
func (c *Client) once(ctx context.Context, box *mailbox, r request, body []byte, slots int) (int, http.Header, []byte, error) {
	if slots > 1 {
		box.many.Lock()
	}
	taken := 0
	release := func() {
		for range taken {
			<-box.slots
		}
	}
	for taken < slots {
		select {
		case box.slots <- struct{}{}:
			taken++
		case <-ctx.Done():
			if slots > 1 {
				box.many.Unlock()
			}
			release()
			return 0, nil, nil, ctx.Err()
		}
	}
	if slots > 1 {
		box.many.Unlock()
	}
	defer release()
	token, err := c.tok.get(ctx)
	if err != nil {
		return 0, nil, nil, err
	}
	u := r.Path
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		u = c.cfg.graphURL() + u
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, tidbro.Errorf(tidbro.EINVALID, "graph: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// Ids that survive moves, and times in UTC, on every request.
	req.Header.Add("Prefer", `IdType="ImmutableId"`)
	req.Header.Add("Prefer", `outlook.timezone="UTC"`)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.Headers {
		if k == "Prefer" {
			req.Header.Add(k, v)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		return 0, nil, nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: %s %s: %v", r.Method, shortPath(r.Path), err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return 0, nil, nil, tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: reading the answer: %v", err)
	}
	return res.StatusCode, res.Header, b, nil
}

// graphError maps a failed answer to a domain error.
func graphError(r request, status int, body []byte) error {
	var e apiError
	_ = json.Unmarshal(body, &e)
	code, msg := e.Error.Code, e.Error.Message
	what := fmt.Sprintf("graph: %s %s: %d %s: %s", r.Method, shortPath(r.Path), status, code, msg)
	switch {
	case strings.EqualFold(code, "MailboxNotEnabledForRESTAPI") || strings.EqualFold(code, "MailboxNotSupportedForRESTAPI"):
		return &tidbro.Error{Code: tidbro.ENOTFOUND, Message: "the user has no Exchange Online mailbox (" + code + ")", Field: "mailbox"}
	case strings.EqualFold(code, "ErrorInvalidIdMalformed") || strings.EqualFold(code, "ErrorItemNotFound"):
		// An id Outlook cannot read names nothing there.
		return tidbro.Errorf(tidbro.ENOTFOUND, "%s", what)
	case status == http.StatusGone || strings.EqualFold(code, "syncStateNotFound") || strings.EqualFold(code, "resyncRequired"):
		return tidbro.Errorf(tidbro.EINVALID, "%s (the delta token is no longer valid)", what)
	case status == http.StatusPreconditionFailed:
		return tidbro.Errorf(tidbro.EPRECONDITION, "%s", what)
	case status == http.StatusNotFound:
		return tidbro.Errorf(tidbro.ENOTFOUND, "%s", what)
	case status == http.StatusUnauthorized:
		return tidbro.Errorf(tidbro.EUNAUTHORIZED, "%s", what)
	case status == http.StatusForbidden:
		return tidbro.Errorf(tidbro.EFORBIDDEN, "%s (check the app's permissions: Calendars.ReadWrite, Tasks.ReadWrite.All, Contacts.ReadWrite)", what)
	case status == http.StatusTooManyRequests || status >= 500:
		return tidbro.Errorf(tidbro.EUNAVAILABLE, "%s", what)
	}
	return tidbro.Errorf(tidbro.EINVALID, "%s", what)
}

// shortPath keeps tokens of links out of messages and logs.
func shortPath(p string) string {
	if i := strings.IndexAny(p, "?"); i >= 0 {
		return p[:i]
	}
	return p
}

func (b *mailbox) wait(ctx context.Context, now func() time.Time) error {
	b.mu.Lock()
	d := b.notBefore.Sub(now())
	b.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return sleepCtx(ctx, d)
}

// delay holds every request to the mailbox until t (a 429's Retry-After
// concerns the mailbox, not the one request).
func (b *mailbox) delay(t time.Time) {
	b.mu.Lock()
	if t.After(b.notBefore) {
		b.notBefore = t
	}
	b.mu.Unlock()
}

// retryAfter reads Retry-After in seconds (Graph may send fractions).
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, time.Until(t))
	}
	return 0
}

// backoff is 1 s × 2^(attempt-1), up to 30 s, ±25% jitter.
func backoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 5)
	d = min(d, 30*time.Second)
	n, _ := rand.Int(rand.Reader, big.NewInt(int64(d/2)+1))
	return d - d/4 + time.Duration(n.Int64())
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// batchPart is one request of a $batch, and batchAnswer its response.
type batchPart struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// batch sends requests as $batch calls of up to 20, and retries the parts
// that were throttled or failed transiently after their Retry-After. The
// answers come back in the order of reqs; the call fails only when a whole
// batch does.
func (c *Client) batch(ctx context.Context, mailbox string, reqs []request) ([]batchAnswer, error) {
	out := make([]batchAnswer, len(reqs))
	todo := make([]int, len(reqs))
	for i := range reqs {
		todo[i] = i
	}
	for attempt := 1; len(todo) > 0; attempt++ {
		var again []int
		for start := 0; start < len(todo); start += maxBatch {
			chunk := todo[start:min(start+maxBatch, len(todo))]
			parts := make([]batchPart, len(chunk))
			unsafe := false
			for j, i := range chunk {
				r := reqs[i]
				unsafe = unsafe || r.Unsafe
				p := batchPart{ID: strconv.Itoa(i), Method: r.Method, URL: r.Path, Headers: map[string]string{}}
				for k, v := range r.Headers {
					p.Headers[k] = v
				}
				p.Headers["Prefer"] = `IdType="ImmutableId", outlook.timezone="UTC"`
				if r.Body != nil {
					b, err := json.Marshal(r.Body)
					if err != nil {
						return nil, fmt.Errorf("graph: encoding %s %s: %w", r.Method, r.Path, err)
					}
					p.Body, p.Headers["Content-Type"] = b, "application/json"
				}
				parts[j] = p
			}
			body, _ := json.Marshal(map[string]any{"requests": parts})
			var res struct {
				Responses []batchAnswer `json:"responses"`
			}
			if _, err := c.send(ctx, mailbox, request{Method: http.MethodPost, Path: "/$batch", Unsafe: unsafe}, body, mailboxConcurrency, &res); err != nil {
				return nil, err
			}
			got := map[string]batchAnswer{}
			for _, a := range res.Responses {
				got[a.ID] = a
			}
			var wait time.Duration
			for _, i := range chunk {
				a, ok := got[strconv.Itoa(i)]
				if !ok {
					a = batchAnswer{Status: http.StatusBadGateway}
				}
				// A throttled part was not done; a failed unsafe one may have been.
				if (a.Status == http.StatusTooManyRequests || a.Status >= 500 && !reqs[i].Unsafe) && attempt < maxAttempts {
					again = append(again, i)
					wait = max(wait, retryAfter(headerOf(a.Headers)))
					continue
				}
				out[i] = a
			}
			if wait > 0 {
				c.box(mailbox).delay(c.now().Add(wait))
			}
		}
		if len(again) > 0 && attempt >= maxAttempts {
			break
		}
		if len(again) > 0 {
			if err := sleepCtx(ctx, backoff(attempt)/4); err != nil {
				return nil, err
			}
		}
		todo = again
	}
	return out, nil
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

// answer decodes a batch answer like do does a response.
func (a *batchAnswer) answer(r request, out any) error {
	if a.Status/100 != 2 {
		return graphError(r, a.Status, a.Body)
	}
	if out != nil && len(a.Body) > 0 {
		if err := json.Unmarshal(a.Body, out); err != nil {
			return tidbro.Errorf(tidbro.EUNAVAILABLE, "graph: %s %s: the answer is not JSON: %v", r.Method, shortPath(r.Path), err)
		}
	}
	return nil
}

// batcher gathers the writes to one mailbox that arrive together (the
// engine writes several items at once) into $batch calls.
type batcher struct {
	c       *Client
	mailbox string
	mu      sync.Mutex
	pending []*write
}

type write struct {
	r    request
	done chan struct{}
	a    batchAnswer
	err  error
}

// gatherWindow is how long the first write waits for others to join it.
const gatherWindow = 5 * time.Millisecond

// do sends r in the next batch and returns its answer.
func (b *batcher) do(ctx context.Context, r request) (batchAnswer, error) {
	w := &write{r: r, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, w)
	n := len(b.pending)
	b.mu.Unlock()
	switch {
	case n >= maxBatch:
		go b.flush()
	case n == 1:
		time.AfterFunc(gatherWindow, b.flush)
	}
	select {
	case <-w.done:
		return w.a, w.err
	case <-ctx.Done():
		// The write may still happen; the engine's recorded intent covers it.
		return batchAnswer{}, ctx.Err()
	}
}

func (b *batcher) flush() {
	b.mu.Lock()
	ws := b.pending
	if len(ws) > maxBatch {
		ws, b.pending = ws[:maxBatch], ws[maxBatch:]
		time.AfterFunc(0, b.flush)
	} else {
		b.pending = nil
	}
	b.mu.Unlock()
	if len(ws) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	reqs := make([]request, len(ws))
	for i, w := range ws {
		reqs[i] = w.r
	}
	as, err := b.c.batch(ctx, b.mailbox, reqs)
	for i, w := range ws {
		if err != nil {
			w.err = err
		} else {
			w.a = as[i]
		}
		close(w.done)
	}
}
