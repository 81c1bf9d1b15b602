package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Measure is what one measured operation cost.
type Measure struct {
	Wall     time.Duration
	CPU      time.Duration // the client process's user and system time
	MaxRSS   int64         // the client process's peak resident memory, bytes
	Requests int64         // HTTP requests the server received
	Items    int           // items the operation moved
}

// PerItem is the client CPU per item.
func (m Measure) PerItem() time.Duration {
	if m.Items == 0 {
		return 0
	}
	return m.CPU / time.Duration(m.Items)
}

// Rate is items per second of wall time.
func (m Measure) Rate() float64 {
	if m.Wall <= 0 {
		return 0
	}
	return float64(m.Items) / m.Wall.Seconds()
}

// runChild runs a client program and measures it from outside: wall time,
// and its CPU and peak memory from the kernel's accounting.
func runChild(env []string, name string, args ...string) (Measure, string, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	m := Measure{Wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		m.MaxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	if err != nil {
		return m, out.String(), fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, tail(out.String()))
	}
	return m, out.String(), nil
}

func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}

// requestCounter counts the requests a server receives from the clients
// given url's addresses.
type requestCounter interface {
	url(serverURL string) string
	take() int64 // the requests since the last take
	close()
}

// servedCounter reads tidbro's own count of the DAV requests it served
// (its /metrics), so that no proxy takes CPU from the machine beside it.
type servedCounter struct {
	base string
	last int64
}

func newServedCounter(base string) (*servedCounter, error) {
	c := &servedCounter{base: base}
	_, err := c.served()
	return c, err
}

func (c *servedCounter) url(serverURL string) string { return serverURL }

func (c *servedCounter) take() int64 {
	n, err := c.served()
	if err != nil {
		return -1
	}
	d := n - c.last
	c.last = n
	return d
}

func (c *servedCounter) close() {}

// served sums the counts of the DAV request durations.
func (c *servedCounter) served() (int64, error) {
	res, err := http.Get(c.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, `tidbro_http_request_duration_seconds_count{area="dav",`); ok {
			v, err := strconv.ParseInt(rest[strings.LastIndexByte(rest, ' ')+1:], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("metrics: %q: %w", line, err)
			}
			n += v
		}
	}
	return n, nil
}

// counter is a reverse proxy before a server that counts the requests
// reaching it.
type counter struct {
	srv *httptest.Server
	n   atomic.Int64
}

func newCounter(target string) (*counter, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	c := &counter{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host}) // paths pass unchanged
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 64}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.n.Add(1)
		rp.ServeHTTP(w, r)
	}))
	return c, nil
}

// url maps a server URL to the same URL through the proxy.
func (c *counter) url(serverURL string) string {
	u, _ := url.Parse(serverURL)
	p, _ := url.Parse(c.srv.URL)
	u.Scheme, u.Host = p.Scheme, p.Host
	return u.String()
}

func (c *counter) take() int64 { return c.n.Swap(0) }

func (c *counter) close() { c.srv.Close() }

// putAll PUTs files into a collection, parallel requests at a time: a
// server's raw ingest, the ceiling of any client.
func putAll(collection, user, password string, files map[string][]byte, names []string, parallel int) (Measure, error) {
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	work := make(chan string)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: parallel}}
	for range parallel {
		wg.Go(func() {
			for name := range work {
				ct := "text/calendar; charset=utf-8"
				if strings.HasSuffix(name, ".vcf") {
					ct = "text/vcard; charset=utf-8"
				}
				req, _ := http.NewRequest("PUT", collection+name, bytes.NewReader(files[name]))
				req.SetBasicAuth(user, password)
				req.Header.Set("Content-Type", ct)
				req.Header.Set("If-None-Match", "*")
				res, err := client.Do(req)
				if err == nil {
					res.Body.Close()
					if res.StatusCode/100 != 2 {
						err = fmt.Errorf("PUT %s: %s", name, res.Status)
					}
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, n := range names {
		work <- n
	}
	close(work)
	wg.Wait()
	return Measure{Wall: time.Since(start), Items: len(names), Requests: int64(len(names))}, first
}
