// Command uxpin-access-bench measures uxpin-access-bot end to end: the real
// bot (Socket Mode client, handlers, lifecycle, bbolt storage, outbox worker)
// against the in-repo fake Slack, on real database files.
//
//	go run ./cmd/uxpin-access-bench            # full run, a few minutes
//	go run ./cmd/uxpin-access-bench -small     # CI: correctness, quick
//
// It prints one table and writes the same results as JSON. It exits non-zero
// only when something was incorrect (a lifecycle that did not complete, a
// lost or doubled message, a second task, a Slack protocol violation), never
// because of a timing: timings are compared to the targets of issue 6 and
// marked PASS or MISS.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// benchConfig is what every section reads.
type benchConfig struct {
	small bool
	dir   string
	log   *slog.Logger
	// smallQueries are section 4's times at the smaller size, to compare
	// the larger one with.
	smallQueries map[string]queryTimes
	smallSize    int
}

func main() {
	if os.Getenv(botEnv) != "" {
		os.Exit(serveBot(os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("uxpin-access-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	small := fs.Bool("small", false, "CI mode: a few hundred operations, a 10,000-request seed, a smaller backlog")
	jsonPath := fs.String("json", "bench-results.json", "write the results as JSON to this `file`")
	dir := fs.String("dir", "", "`directory` for the database files (default: a temporary one, removed afterwards)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this `file`")
	blockProfile := fs.String("blockprofile", "", "write a profile of where goroutines waited (blocking and mutexes) to this `file`")
	botProfile := fs.String("botprofile", "", "write a CPU profile of the bot process of section 8 to this `file`")
	verbose := fs.Bool("v", false, "log the bot's warnings and errors to standard error")
	only := fs.String("only", "", "run only these comma-separated `sections` (1-8), e.g. to profile one")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: uxpin-access-bench [-small] [-json FILE] [-dir DIR] [-cpuprofile FILE] [-blockprofile FILE] [-only 1,2] [-v]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}

	cfg := benchConfig{small: *small, dir: *dir, log: slog.New(slog.DiscardHandler)}
	if *verbose {
		cfg.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "uxpin-access-bench-")
		if err != nil {
			fmt.Fprintln(stderr, "uxpin-access-bench:", err)
			return 2
		}
		defer os.RemoveAll(d)
		cfg.dir = d
	} else {
		if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
			fmt.Fprintln(stderr, "uxpin-access-bench:", err)
			return 2
		}
		// Start from empty databases.
		for _, name := range []string{"acks.db", "lifecycles.db", "bare.db", "drain.db", "workfirst.db", "conns-*.db", "cpu.db", "seed-*.db"} {
			matches, _ := filepath.Glob(filepath.Join(cfg.dir, name))
			for _, m := range matches {
				_ = os.Remove(m)
			}
		}
	}
	if *cpuProfile != "" {
		fh, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(stderr, "uxpin-access-bench:", err)
			return 2
		}
		if err := pprof.StartCPUProfile(fh); err != nil {
			fmt.Fprintln(stderr, "uxpin-access-bench:", err)
			return 2
		}
		defer func() { pprof.StopCPUProfile(); fh.Close() }()
	}

	if *blockProfile != "" {
		runtime.SetBlockProfileRate(int(time.Millisecond))
		runtime.SetMutexProfileFraction(10)
		defer func() {
			fh, err := os.Create(*blockProfile)
			if err != nil {
				fmt.Fprintln(stderr, "uxpin-access-bench:", err)
				return
			}
			defer fh.Close()
			_ = pprof.Lookup("mutex").WriteTo(fh, 0)
			if bf, err := os.Create(*blockProfile + ".block"); err == nil {
				_ = pprof.Lookup("block").WriteTo(bf, 0)
				bf.Close()
			}
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	mode := "full"
	if cfg.small {
		mode = "small"
	}
	rep := &Report{Mode: mode, Started: time.Now().UTC().Round(time.Second), GoVersion: runtime.Version(), CPUs: runtime.NumCPU()}
	began := time.Now()
	phase := func(section, name string, fn func() error) {
		if ctx.Err() != nil || (*only != "" && !slices.Contains(strings.Split(*only, ","), section)) {
			return
		}
		fmt.Fprintf(stderr, "uxpin-access-bench: %s… (%.0f s so far)\n", name, time.Since(began).Seconds())
		if err := fn(); err != nil {
			rep.fail("%s: %v", name, err)
		}
	}

	phase("1", "ack latency", func() error { return benchAcks(ctx, cfg, rep) })
	var lc lifecycleResult
	phase("2", "lifecycles", func() error {
		var err error
		lc, err = benchLifecycles(ctx, cfg, rep)
		return err
	})
	phase("3", "bare bbolt commits", func() error { return benchBareCommits(cfg, rep, lc) })
	sizes := []int{1_000, 1_000_000}
	if cfg.small {
		sizes = []int{1_000, 10_000}
	}
	cfg.smallSize = sizes[0]
	runs := 1000 // per query and size
	if cfg.small {
		runs = 200
	}
	for _, n := range sizes {
		phase("4", fmt.Sprintf("queries with %s stored", fmtCount(n)), func() error {
			q, err := benchQueries(ctx, cfg, rep, n, runs)
			if n == sizes[0] {
				cfg.smallQueries = q
			}
			return err
		})
		_ = os.Remove(filepath.Join(cfg.dir, fmt.Sprintf("seed-%d.db", n)))
	}
	phase("5", "backlog drain", func() error { return benchDrain(ctx, cfg, rep) })
	phase("6", "work first", func() error { return benchWorkFirst(ctx, cfg, rep) })
	phase("7", "acks over several connections", func() error { return benchConnections(ctx, cfg, rep) })
	phase("8", "bot CPU per lifecycle, bot in its own process", func() error { return benchBotCPU(ctx, cfg, rep, *botProfile) })
	if ctx.Err() != nil {
		rep.fail("interrupted")
	}

	rep.Seconds = time.Since(began).Round(time.Second).Seconds()
	rep.note("every number but section 8's comes from one process on %d CPUs that also runs the fake Slack and the simulated users; section 8's bot runs in a process of its own", runtime.NumCPU())
	rep.print(stdout)
	if err := rep.writeJSON(*jsonPath); err != nil {
		fmt.Fprintln(stderr, "uxpin-access-bench: write results:", err)
		return 2
	}
	if len(rep.Failures) > 0 {
		return 1
	}
	return 0
}
