package bench

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tidbro/tidbro"
)

// Markdown writes the report as BENCHMARKS.md's tables; command is how it
// was run.
func (r *Report) Markdown(w io.Writer, command string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Benchmarks\n\n")
	p("Measured on %s, on %s, with:\n\n    %s\n\n", r.Date.Format("2006-01-02"), r.Machine, command)
	p("Every figure of a table comes from the same run, so the ratios hold on a noisy machine. ")
	p("The ceiling is the server's own raw ingest: the same files PUT 8 at a time, as fast as it takes them. ")
	p("tidbro syncs the app's items (`tidbro sync`, one process per run); vdirsyncer (%s) syncs the same items as files. ", version("vdirsyncer", "--version"))
	p("Wall is end to end; CPU and peak memory are the client process's (kernel accounting); requests are those the server received (counted by a proxy before Radicale and Xandikos, and by tidbro's own metrics, with no proxy, for its server).\n\n")
	for _, kind := range []tidbro.Kind{tidbro.KindEvent, tidbro.KindContact} {
		sets := r.sets(kind)
		if len(sets) == 0 {
			continue
		}
		p("## %d %ss: initial sync\n\n", r.Config.N, kind)
		p("| server | ceiling (raw PUT) | tidbro | tidbro / ceiling | tidbro requests | tidbro CPU per item | tidbro peak memory | vdirsyncer | vdirsyncer CPU per item | vdirsyncer / tidbro (wall) | vdirsyncer / tidbro (CPU) |\n")
		p("|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, s := range sets {
			t, v := s.Tidbro[0], s.Vdir[0]
			p("| %s %s | %s (%.0f/s) | %s (%.0f/s) | %.2f | %d | %s | %s | %s | %s | %s | %s |\n", s.Server, s.Version,
				secs(s.Raw.Wall), s.Raw.Rate(), secs(t.Wall), t.Rate(), ratio(t.Wall, s.Raw.Wall), t.Requests, micros(t.PerItem()), mib(t.MaxRSS),
				orDash(s, secs(v.Wall)), orDash(s, micros(v.PerItem())), orDash(s, x(v.Wall, t.Wall)), orDash(s, x(v.CPU, t.CPU)))
		}
		p("\n## %d %ss: a run with nothing changed, and one with %d changed\n\n", r.Config.N, kind, r.Config.Changes)
		p("| server | tidbro unchanged: requests, wall, CPU | vdirsyncer unchanged: requests, wall, CPU | vdirsyncer / tidbro | tidbro %d changed: requests, wall, CPU | vdirsyncer %d changed: requests, wall, CPU | vdirsyncer / tidbro |\n", r.Config.Changes, r.Config.Changes)
		p("|---|---|---|---|---|---|---|\n")
		for _, s := range sets {
			p("| %s | %s | %s | %s | %s | %s | %s |\n", s.Server, triple(s.Tidbro[1]), orDash(s, triple(s.Vdir[1])), orDash(s, x(s.Vdir[1].Wall, s.Tidbro[1].Wall)),
				triple(s.Tidbro[2]), orDash(s, triple(s.Vdir[2])), orDash(s, x(s.Vdir[2].Wall, s.Tidbro[2].Wall)))
		}
		p("\n")
	}
	if sc := r.Scale; sc != nil {
		p("## tidbro's own server at %d items\n\n", sc.Items)
		p("Ingest rate (raw PUT, 8 at a time) per tenth of the collection, items/s:\n\n| ")
		for i := range sc.Segments {
			p("%d%% | ", (i+1)*10)
		}
		p("\n|")
		for range sc.Segments {
			p("---|")
		}
		p("\n| ")
		for _, v := range sc.Segments {
			p("%.0f | ", v)
		}
		p("\n\n`tidbro sync` of %d app events into it: %s (%.0f/s), %s CPU, peak memory %s.\n\n", sc.Items, secs(sc.Sync.Wall), sc.Sync.Rate(), secs(sc.Sync.CPU), mib(sc.Sync.MaxRSS))
	}
	if id := r.Idle; id != nil {
		p("## Idle cycle: %d users × 3 pairs against tidbro's own server\n\n", id.Users)
		p("`tidbro sync --parallel 4` over all %d pairs with nothing changed: %s wall, %s CPU, %d requests (%.1f per pair), %s per pair; ",
			id.Pairs, secs(id.Cycle.Wall), secs(id.Cycle.CPU), id.Cycle.Requests, float64(id.Cycle.Requests)/float64(id.Pairs), micros(id.Cycle.Wall/time.Duration(id.Pairs)))
		p("at that rate 10,000 users (30,000 pairs) take %s. The first cycle (binding every pair by discovery, and its first full run) took %s.\n\n",
			secs(id.Cycle.Wall*time.Duration(30000)/time.Duration(id.Pairs)), secs(id.Initial.Wall))
	}
	if len(r.GoBench) > 0 {
		p("## go test benchmarks\n\n")
		for _, name := range []string{"Plan100k", "AppToRemote"} {
			if line, ok := r.GoBench[name]; ok {
				p("    %s\n", line)
			}
		}
		p("\nPlan100k: planning a run over 100,000 linked events, 1%% changed on each side (`go test ./engine -run XXX -bench Plan100k -benchtime 5x -benchmem`). ")
		p("AppToRemote: an app change through the REST API until it is on Radicale, p50 and p99 (`go test ./cmd/tidbro -run XXX -bench AppToRemote -benchtime 50x`).\n")
	}
}

func (r *Report) sets(k tidbro.Kind) []*SetResult {
	var out []*SetResult
	for _, s := range r.Sets {
		if s.Kind == k {
			out = append(out, s)
		}
	}
	return out
}

func orDash(s *SetResult, v string) string {
	if !s.HasVdir {
		return "–"
	}
	return v
}

func secs(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

func micros(d time.Duration) string {
	if d >= time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%d µs", d.Microseconds())
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func x(a, b time.Duration) string {
	if b <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f×", float64(a)/float64(b))
}

func triple(m Measure) string {
	return strings.Join([]string{fmt.Sprint(m.Requests), secs(m.Wall), secs(m.CPU)}, ", ")
}
