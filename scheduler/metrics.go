package scheduler

import (
	"context"
	"time"

	"github.com/tidbro/tidbro"
	"github.com/tidbro/tidbro/metrics"
)

// Metrics are the scheduler's Prometheus series.
type Metrics struct {
	runs     *metrics.CounterVec   // status
	actions  *metrics.CounterVec   // side, action
	errors   *metrics.CounterVec   // class
	duration *metrics.HistogramVec // status
}

// NewMetrics registers the scheduler's series in reg, and queue gauges read
// from store at each scrape.
func NewMetrics(reg *metrics.Registry, store tidbro.Store) *Metrics {
	m := &Metrics{
		runs:     reg.Counter("tidbro_runs_total", "Synchronisation runs by outcome.", "status"),
		actions:  reg.Counter("tidbro_actions_total", "What runs did, by side and action.", "side", "action"),
		errors:   reg.Counter("tidbro_errors_total", "Errors by class: item (one item failed, the run went on), transient (retried with backoff), permanent (the pair is parked).", "class"),
		duration: reg.Histogram("tidbro_run_duration_seconds", "How long runs took.", metrics.DurationBuckets, "status"),
	}
	counts := func() (due, leased, parked int) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		due, leased, parked, _ = store.ScheduleCounts(ctx, time.Now())
		return
	}
	reg.Gauge("tidbro_queue_due", "Pairs due and waiting for a worker.", func() float64 { d, _, _ := counts(); return float64(d) })
	reg.Gauge("tidbro_queue_running", "Pairs being run (leased) by some instance.", func() float64 { _, l, _ := counts(); return float64(l) })
	reg.Gauge("tidbro_queue_parked", "Pairs parked until their settings change.", func() float64 { _, _, p := counts(); return float64(p) })
	return m
}

func (m *Metrics) run(status string, took time.Duration, c *tidbro.RunCounts, itemErrors int) {
	if m == nil {
		return
	}
	m.runs.Inc(status)
	m.duration.Observe(took.Seconds(), status)
	for side, sc := range map[string]tidbro.SideCounts{"app": c.App, "groupware": c.Remote} {
		for action, n := range map[string]int{"created": sc.Created, "updated": sc.Updated, "deleted": sc.Deleted, "restored": sc.Restored,
			"skipped": sc.Skipped, "held": sc.Held, "conflicts": sc.Conflicts} {
			if n > 0 {
				m.actions.Add(float64(n), side, action)
			}
		}
	}
	if itemErrors > 0 {
		m.errors.Add(float64(itemErrors), "item")
	}
}

func (m *Metrics) failed(status string, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.runs.Inc(status)
	m.duration.Observe(took.Seconds(), status)
	class := "transient"
	if permanent(err) {
		class = "permanent"
	}
	m.errors.Inc(class)
}
