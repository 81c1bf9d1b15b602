// Package metrics exposes counters, gauges and histograms in Prometheus's
// text format (version 0.0.4). It is a few dozen lines rather than the
// Prometheus client library, which would bring a dozen modules for what
// tidbro needs: labelled counters, histograms, and gauges read at scrape.
package metrics

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Registry holds metrics and serves them.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

type metric interface {
	write(w io.Writer)
}

// ServeHTTP writes every metric.
func (r *Registry) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	r.mu.Lock()
	ms := slices.Clone(r.metrics)
	r.mu.Unlock()
	for _, m := range ms {
		m.write(w)
	}
}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// labelKey joins label values; values never contain the separator in
// practice, and escaping happens on output.
func labelKey(values []string) string { return strings.Join(values, "\xff") }

func labels(names []string, key string) string {
	if len(names) == 0 {
		return ""
	}
	values := strings.Split(key, "\xff")
	var b strings.Builder
	b.WriteString("{")
	for i, n := range names {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(n + `="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(values[i]) + `"`)
	}
	b.WriteString("}")
	return b.String()
}

// CounterVec is a counter per label values.
type CounterVec struct {
	name, help string
	labels     []string
	mu         sync.Mutex
	values     map[string]float64
}

// Counter registers a counter with the given label names.
func (r *Registry) Counter(name, help string, labelNames ...string) *CounterVec {
	c := &CounterVec{name: name, help: help, labels: labelNames, values: map[string]float64{}}
	r.add(c)
	return c
}

// Add adds v to the counter of the label values.
func (c *CounterVec) Add(v float64, labelValues ...string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.values[labelKey(labelValues)] += v
	c.mu.Unlock()
}

// Inc adds one.
func (c *CounterVec) Inc(labelValues ...string) { c.Add(1, labelValues...) }

func (c *CounterVec) write(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s counter\n", c.name, c.help, c.name)
	if len(c.labels) == 0 && len(c.values) == 0 {
		fmt.Fprintf(w, "%s 0\n", c.name)
	}
	for _, k := range sortedKeys(c.values) {
		fmt.Fprintf(w, "%s%s %s\n", c.name, labels(c.labels, k), num(c.values[k]))
	}
}

// GaugeFunc is a gauge read when scraped.
type GaugeFunc struct {
	name, help string
	fn         func() float64
}

// Gauge registers a gauge whose value fn gives at scrape time.
func (r *Registry) Gauge(name, help string, fn func() float64) {
	r.add(&GaugeFunc{name: name, help: help, fn: fn})
}

func (g *GaugeFunc) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %s\n", g.name, g.help, g.name, g.name, num(g.fn()))
}

// HistogramVec is a histogram per label values.
type HistogramVec struct {
	name, help string
	labels     []string
	buckets    []float64
	mu         sync.Mutex
	series     map[string]*histogram
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	count  uint64
	sum    float64
}

// DurationBuckets suit request and run durations in seconds.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300}

// Histogram registers a histogram with the given buckets (upper bounds).
func (r *Registry) Histogram(name, help string, buckets []float64, labelNames ...string) *HistogramVec {
	h := &HistogramVec{name: name, help: help, labels: labelNames, buckets: buckets, series: map[string]*histogram{}}
	r.add(h)
	return h
}

// Observe records v for the label values.
func (h *HistogramVec) Observe(v float64, labelValues ...string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	k := labelKey(labelValues)
	s := h.series[k]
	if s == nil {
		s = &histogram{counts: make([]uint64, len(h.buckets))}
		h.series[k] = s
	}
	if i, _ := slices.BinarySearch(h.buckets, v); i < len(h.buckets) {
		s.counts[i]++
	}
	s.count++
	s.sum += v
}

// Since observes the seconds since start.
func (h *HistogramVec) Since(start time.Time, labelValues ...string) {
	h.Observe(time.Since(start).Seconds(), labelValues...)
}

func (h *HistogramVec) write(w io.Writer) {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s histogram\n", h.name, h.help, h.name)
	for _, k := range sortedKeys(h.series) {
		s := h.series[k]
		lbl := labels(h.labels, k)
		var cum uint64
		for i, ub := range h.buckets {
			cum += s.counts[i]
			fmt.Fprintf(w, "%s_bucket%s %d\n", h.name, withLE(lbl, num(ub)), cum)
		}
		fmt.Fprintf(w, "%s_bucket%s %d\n%s_sum%s %s\n%s_count%s %d\n", h.name, withLE(lbl, "+Inf"), s.count, h.name, lbl, num(s.sum), h.name, lbl, s.count)
	}
}

func withLE(lbl, le string) string {
	if lbl == "" {
		return `{le="` + le + `"}`
	}
	return lbl[:len(lbl)-1] + `,le="` + le + `"}`
}

func num(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Transport instruments a client's requests to remotes: their latency by
// method and status class, and how often a remote throttled (429).
type Transport struct {
	Base      http.RoundTripper
	Latency   *HistogramVec // labels: method, status ("2xx", "error")
	Throttled *CounterVec   // labels: host
}

func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	start := time.Now()
	res, err := base.RoundTrip(r)
	status := "error"
	if err == nil {
		status = statusClass(res.StatusCode)
		if res.StatusCode == http.StatusTooManyRequests {
			t.Throttled.Inc(r.URL.Host)
		}
	}
	t.Latency.Since(start, r.Method, status)
	return res, err
}

// Served wraps next, observing each request it serves: its duration, by
// area (which part of the server), method and status class. Methods
// outside the HTTP and WebDAV sets count as OTHER, so a client cannot
// grow the series without bound.
func (h *HistogramVec) Served(area string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		h.Since(start, area, knownMethod(r.Method), statusClass(sw.status))
	})
}

// statusClass is a status's label: "2xx" for 200 to 299, and so on.
func statusClass(code int) string { return strconv.Itoa(code/100) + "xx" }

// statusWriter remembers the status a handler wrote. Unwrap lets
// http.ResponseController reach the connection's own writer.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var methods = map[string]bool{
	"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true,
	"PROPFIND": true, "PROPPATCH": true, "REPORT": true, "MKCOL": true, "MKCALENDAR": true,
	"COPY": true, "MOVE": true, "LOCK": true, "UNLOCK": true,
}

func knownMethod(m string) string {
	if methods[m] {
		return m
	}
	return "OTHER"
}
