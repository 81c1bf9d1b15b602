// Command tidbro-bench measures tidbro against Radicale, Xandikos and its
// own DAV server, beside vdirsyncer, and writes BENCHMARKS.md. Run it from
// the source tree (it builds cmd/tidbro):
//
//	go run ./cmd/tidbro-bench -n 2000 -out BENCHMARKS.md
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/tidbro/tidbro/bench"
)

func main() {
	n := flag.Int("n", 2000, "events and contacts per data set")
	servers := flag.String("servers", "radicale,xandikos,tidbro", "servers to measure")
	idle := flag.Int("idle-users", 1000, "users (3 pairs each) in the idle cycle against tidbro's server; 0 skips it")
	scale := flag.Int("scale", 100000, "items for tidbro's own server at scale; 0 skips it")
	noVdir := flag.Bool("no-vdirsyncer", false, "leave vdirsyncer out")
	goBench := flag.Bool("go-bench", true, "also run the go test benchmarks")
	out := flag.String("out", "", "write the report here (BENCHMARKS.md); standard output otherwise")
	flag.Parse()
	work, err := os.MkdirTemp("", "tidbro-bench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(work)
	cfg := bench.Config{N: *n, Servers: strings.Split(*servers, ","), Vdirsyncer: !*noVdir, IdleUsers: *idle, Scale: *scale,
		GoBench: *goBench, Work: work, Log: os.Stderr}
	rep, err := bench.Run(cfg)
	if err != nil {
		fail(err)
	}
	w := os.Stdout
	if *out != "" {
		if w, err = os.Create(*out); err != nil {
			fail(err)
		}
		defer w.Close()
	}
	rep.Markdown(w, "go run ./cmd/tidbro-bench "+strings.Join(os.Args[1:], " "))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tidbro-bench:", err)
	os.Exit(1)
}
