package graphtest

import (
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
)

// JSON batching (learn.microsoft.com/graph/json-batching): at most 20
// requests with relative urls, run through the same handlers; the answers
// come back in reverse order, so clients must match them by id. Parts run
// at most MaxConcurrent at a time ("Graph forwards at most 4 requests at a
// time" to Outlook), or one at a time in order when any uses dependsOn; a
// part whose dependency failed gets 424.

const maxBatch = 20

type batchPart struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchAnswer struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body"`
}

func (s *Server) serveBatch(q *req) {
	if !s.method(q, http.MethodPost) {
		return
	}
	if mt, _, _ := mime.ParseMediaType(q.r.Header.Get("Content-Type")); mt != "application/json" {
		q.fail(http.StatusBadRequest, "BadRequest", "A $batch needs Content-Type: application/json.")
		return
	}
	var in struct {
		Requests []batchPart `json:"requests"`
	}
	if err := json.Unmarshal(q.body, &in); err != nil {
		q.fail(http.StatusBadRequest, "BadRequest", "Invalid batch payload format.")
		return
	}
	parts := in.Requests
	switch {
	case len(parts) == 0:
		q.fail(http.StatusBadRequest, "BadRequest", "A batch needs at least one request.")
		return
	case len(parts) > maxBatch:
		q.failf(http.StatusBadRequest, "BadRequest", "Number of batch request steps exceeds the maximum of %d.", maxBatch)
		return
	}
	sequential := false
	seen := map[string]bool{}
	for _, p := range parts {
		id := strings.ToLower(p.ID) // ids are not case-sensitive
		switch {
		case p.ID == "" || p.Method == "" || p.URL == "":
			q.fail(http.StatusBadRequest, "BadRequest", "Every batch request needs an id, a method and a url.")
			return
		case seen[id]:
			q.failf(http.StatusBadRequest, "BadRequest", "Batch request id '%s' is not unique.", p.ID)
			return
		case len(p.Body) > 0 && string(p.Body) != "null" && headerOf(p.Headers, "Content-Type") == "":
			q.failf(http.StatusBadRequest, "BadRequest", "Batch request '%s' has a body but no Content-Type header.", p.ID)
			return
		}
		for _, d := range p.DependsOn {
			// Sequential batches run in the order given, so a dependency
			// must come earlier.
			if !seen[strings.ToLower(d)] {
				q.failf(http.StatusBadRequest, "BadRequest", "Batch request '%s' depends on '%s', which does not precede it.", p.ID, d)
				return
			}
		}
		seen[id] = true
		sequential = sequential || len(p.DependsOn) > 0
	}
	answers := make([]batchAnswer, len(parts))
	if sequential {
		status := map[string]int{}
		for i, p := range parts {
			if slices.ContainsFunc(p.DependsOn, func(d string) bool { return status[strings.ToLower(d)] >= 400 }) {
				b, _ := json.Marshal(errorBody(s.newGUID(), "FailedDependency", "A request this one depends on failed."))
				answers[i] = batchAnswer{ID: p.ID, Status: http.StatusFailedDependency, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}
			} else {
				answers[i] = s.runPart(q.r, p)
			}
			status[strings.ToLower(p.ID)] = answers[i].Status
		}
	} else {
		sem := make(chan struct{}, MaxConcurrent)
		var wg sync.WaitGroup
		for i, p := range parts {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				answers[i] = s.runPart(q.r, p)
			})
		}
		wg.Wait()
	}
	slices.Reverse(answers)
	q.json(http.StatusOK, map[string]any{"responses": answers})
}

// runPart runs one part through serveGraph with the outer request's
// Authorization and the part's own headers.
func (s *Server) runPart(outer *http.Request, p batchPart) batchAnswer {
	fail := func(status int, code, msg string) batchAnswer {
		b, _ := json.Marshal(errorBody(s.newGUID(), code, msg))
		return batchAnswer{ID: p.ID, Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}
	}
	target := p.URL
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		return fail(http.StatusBadRequest, "BadRequest", "A batch request's url must be relative to the version, like /users/{id}/events.")
	}
	if !strings.HasPrefix(target, "/") {
		target = "/" + target
	}
	if strings.HasPrefix(target, "/v1.0/") || strings.HasPrefix(target, "/beta/") {
		return fail(http.StatusBadRequest, "BadRequest", "A batch request's url must not repeat the version: "+p.URL)
	}
	var body []byte
	if len(p.Body) > 0 && string(p.Body) != "null" {
		var str string
		if json.Unmarshal(p.Body, &str) == nil {
			// A non-JSON body is base64-encoded.
			b, err := base64.StdEncoding.DecodeString(str)
			if err != nil {
				return fail(http.StatusBadRequest, "BadRequest", "A string body must be base64.")
			}
			body = b
		} else {
			body = p.Body
		}
	}
	h := http.Header{}
	for k, v := range p.Headers {
		h.Set(k, v)
	}
	h.Set("Authorization", outer.Header.Get("Authorization"))
	r, err := newPartRequest(outer, strings.ToUpper(p.Method), target, h, body)
	if err != nil {
		return fail(http.StatusBadRequest, "BadRequest", "Invalid batch request url: "+p.URL)
	}
	rec := httptest.NewRecorder()
	s.serveGraph(rec, r)
	a := batchAnswer{ID: p.ID, Status: rec.Code, Headers: map[string]string{}}
	for _, k := range []string{"Content-Type", "Retry-After", "Location", "ETag", "Allow"} {
		if v := rec.Header().Get(k); v != "" {
			a.Headers[k] = v
		}
	}
	if b := rec.Body.Bytes(); len(b) > 0 {
		if json.Valid(b) {
			a.Body = b
		} else {
			a.Body, _ = json.Marshal(base64.StdEncoding.EncodeToString(b))
		}
	}
	return a
}

func headerOf(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
