package metrics

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestExposition(t *testing.T) {
	reg := &Registry{}
	runs := reg.Counter("tidbro_runs_total", "Runs.", "status")
	reg.Counter("tidbro_plain_total", "No labels.")
	h := reg.Histogram("tidbro_run_duration_seconds", "Durations.", []float64{0.1, 1}, "status")
	reg.Gauge("tidbro_queue_due", "Due.", func() float64 { return 7 })
	runs.Inc("ok")
	runs.Add(2, `we"ird\`)
	for _, v := range []float64{0.05, 0.1, 0.5, 3} {
		h.Observe(v, "ok")
	}
	var nilCounter *CounterVec
	nilCounter.Inc("ignored") // a nil metric is a no-op
	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		"# TYPE tidbro_runs_total counter\n",
		`tidbro_runs_total{status="ok"} 1` + "\n",
		`tidbro_runs_total{status="we\"ird\\"} 2` + "\n",
		"tidbro_plain_total 0\n",
		`tidbro_run_duration_seconds_bucket{status="ok",le="0.1"} 2` + "\n",
		`tidbro_run_duration_seconds_bucket{status="ok",le="1"} 3` + "\n",
		`tidbro_run_duration_seconds_bucket{status="ok",le="+Inf"} 4` + "\n",
		`tidbro_run_duration_seconds_sum{status="ok"} 3.65` + "\n",
		`tidbro_run_duration_seconds_count{status="ok"} 4` + "\n",
		"# TYPE tidbro_queue_due gauge\ntidbro_queue_due 7\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
}

func TestTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/busy" {
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	reg := &Registry{}
	tr := &Transport{Latency: reg.Histogram("lat", "l", DurationBuckets, "method", "status"), Throttled: reg.Counter("thr", "t", "host")}
	c := &http.Client{Transport: tr}
	for _, p := range []string{"/", "/busy", "/busy"} {
		res, err := c.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, nil)
	out := rec.Body.String()
	host := strings.TrimPrefix(srv.URL, "http://")
	if !strings.Contains(out, `thr{host="`+host+`"} 2`) || !strings.Contains(out, `lat_count{method="GET",status="4xx"} 2`) || !strings.Contains(out, `lat_count{method="GET",status="2xx"} 1`) {
		t.Errorf("instrumented requests:\n%s", out)
	}
}

func TestServed(t *testing.T) {
	reg := &Registry{}
	h := reg.Histogram("tidbro_http_request_duration_seconds", "Served.", DurationBuckets, "area", "method", "status")
	srv := h.Served("dav", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/created":
			w.WriteHeader(http.StatusCreated)
		case "/missing":
			http.NotFound(w, r)
		case "/body":
			w.Write([]byte("hello"))
		}
	}))
	for _, c := range []struct{ method, path string }{
		{"PUT", "/created"}, {"PUT", "/created"}, {"GET", "/missing"}, {"PROPFIND", "/body"}, {"BREW", "/"},
	} {
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(c.method, c.path, nil))
	}
	rec := httptest.NewRecorder()
	reg.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`tidbro_http_request_duration_seconds_count{area="dav",method="PUT",status="2xx"} 2`,
		`tidbro_http_request_duration_seconds_count{area="dav",method="GET",status="4xx"} 1`,
		`tidbro_http_request_duration_seconds_count{area="dav",method="PROPFIND",status="2xx"} 1`,
		`tidbro_http_request_duration_seconds_count{area="dav",method="OTHER",status="2xx"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("no %s in\n%s", want, rec.Body.String())
		}
	}
	if strings.Contains(rec.Body.String(), "BREW") {
		t.Error("an unknown method has a series of its own")
	}
}
