package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"

	"github.com/uxpin-access-bot/uxpin-access-bot/playground"
)

// runPlayground runs the bot against the simulated Slack and serves the
// page (SPEC §12). It needs no tokens or variables.
//
// Of the bot's variables it reads only UXPIN_HTTP_ADDR, and only when it is
// set: the container sets it so that its health check finds /healthz.
func runPlayground(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("playground", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "host:port to serve the page on")
	db := fs.String("db", "data/playground.db", "the playground bot's database file")
	reset := fs.Bool("reset", false, "start clean: delete the playground's database first")
	verbose := fs.Bool("v", false, "log what the bot and the simulated Slack do")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "playground: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	opsAddr, _ := lookup("UXPIN_HTTP_ADDR")
	p, err := playground.New(playground.Options{Addr: *addr, DBPath: *db, Reset: *reset, OpsAddr: opsAddr, Log: log})
	if err != nil {
		fmt.Fprintln(stderr, "playground:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = p.Run(ctx, func(url string) {
		fmt.Fprintf(stdout, "UXPin access bot playground: open %s\n", url)
		fmt.Fprintf(stdout, "(the real bot against a simulated Slack; database %s; Ctrl-C stops)\n", *db)
	})
	if err != nil {
		fmt.Fprintln(stderr, "playground:", err)
		return 1
	}
	fmt.Fprintln(stdout, "playground stopped")
	return 0
}
