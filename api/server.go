// Package api serves tidbro's REST API v1 (JSON over HTTP, bearer tokens per
// tenant) and its OpenAPI description. It maps domain error codes to HTTP
// status codes; nothing below it knows about HTTP.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// DefaultMaxBody is the largest request body accepted (413 above it).
const DefaultMaxBody = 10 << 20

// Server is the REST API. Create it with New; it is an http.Handler.
type Server struct {
	store   tidbro.Store
	log     *slog.Logger
	maxBody int64
	version string
	mux     *http.ServeMux
	routes  []route
}

// Options configure a Server.
type Options struct {
	Logger  *slog.Logger
	MaxBody int64  // DefaultMaxBody when 0
	Version string // shown in the OpenAPI document
}

// New returns a Server over store with every route registered.
func New(store tidbro.Store, o Options) *Server {
	s := &Server{store: store, log: o.Logger, maxBody: o.MaxBody, version: o.Version, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBody
	}
	if s.version == "" {
		s.version = "dev"
	}
	s.registerRoutes()
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.pattern, s.wrap(rt))
	}
	s.mux.HandleFunc("/", s.noRoute)
	return s
}

// noRoute answers paths no route matches with a JSON error, naming the
// collection when it is an unknown kind (/v1/users/alice/widgets/1).
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) >= 4 && parts[0] == "v1" && parts[1] == "users" {
		if _, ok := tidbro.ParseKind(parts[3]); !ok && parts[3] != "accounts" {
			s.writeError(w, r, tidbro.Invalid("kind", "%q is not a collection: use events, jobs, tasks, contacts or accounts", parts[3]))
			return
		}
	}
	s.writeError(w, r, tidbro.Errorf(tidbro.ENOTFOUND, "%s %s: %s", r.Method, r.URL.Path, noRouteMessage))
}

// noRouteMessage marks answers from the fallback handler.
const noRouteMessage = "no such API route (see /v1/openapi.json)"

// route is one documented operation. Every handler is registered through
// the route table, which is also what the OpenAPI document is built from.
type route struct {
	method, pattern string
	summary         string
	public          bool    // no bearer token needed
	upsert          bool    // answers 201 when it created the resource
	query           []param // query parameters
	headers         []param // request headers
	request         any     // a value of the request body's type, nil for none
	response        any     // a value of the response body's type, nil for none
	status          int     // success status
	handle          func(w http.ResponseWriter, r *http.Request) error
}

type param struct{ name, description string }

func (s *Server) add(rt route) {
	if rt.status == 0 {
		rt.status = http.StatusOK
	}
	s.routes = append(s.routes, rt)
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

type ctxKey int

const tenantKey ctxKey = 0

// tenantID returns the caller's tenant, set by authentication.
func tenantID(r *http.Request) int64 {
	id, _ := r.Context().Value(tenantKey).(int64)
	return id
}

// wrap adds authentication, body limits, error mapping and request logging.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		err := s.serve(sw, r, rt)
		if err != nil {
			s.writeError(sw, r, err)
		}
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelError
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("took", time.Since(start)),
		}
		if sw.status >= 500 && err != nil {
			attrs = append(attrs, slog.String("err", err.Error()))
		}
		s.log.LogAttrs(r.Context(), level, "http", attrs...)
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rt route) error {
	if !rt.public {
		t, err := s.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="tidbro"`)
			return err
		}
		r = r.WithContext(context.WithValue(r.Context(), tenantKey, t.TenantID))
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	return rt.handle(w, r)
}

func (s *Server) authenticate(r *http.Request) (*tidbro.Token, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return nil, tidbro.Errorf(tidbro.EUNAUTHORIZED, "an Authorization: Bearer TOKEN header is required")
	}
	t, err := s.store.TokenByHash(r.Context(), tidbro.HashToken(strings.TrimSpace(tok)))
	if tidbro.ErrorCode(err) == tidbro.ENOTFOUND {
		return nil, tidbro.Errorf(tidbro.EUNAUTHORIZED, "the bearer token is unknown or revoked")
	}
	return t, err
}

var statusOf = map[string]int{
	tidbro.EINVALID:      http.StatusBadRequest,
	tidbro.ENOTFOUND:     http.StatusNotFound,
	tidbro.ECONFLICT:     http.StatusConflict,
	tidbro.EPRECONDITION: http.StatusPreconditionFailed,
	tidbro.EUNAUTHORIZED: http.StatusUnauthorized,
	tidbro.EFORBIDDEN:    http.StatusForbidden,
	tidbro.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	tidbro.EUNAVAILABLE:  http.StatusServiceUnavailable,
	tidbro.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the JSON shape of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		err = tidbro.Errorf(tidbro.ETOOLARGE, "the request body is over the limit of %d bytes", mbe.Limit)
	}
	code := tidbro.ErrorCode(err)
	var body errorBody
	body.Error.Code = code
	body.Error.Message = tidbro.ErrorMessage(err)
	body.Error.Field = tidbro.ErrorField(err)
	if code == tidbro.EINTERNAL && !errors.Is(err, context.Canceled) {
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, statusOf[code], body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client may be gone; nothing useful to do then
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
