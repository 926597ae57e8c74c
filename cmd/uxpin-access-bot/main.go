// Command uxpin-access-bot runs the UXPin access-request bot for Slack over
// Socket Mode. Configuration comes from the environment; run it with --help
// for the variables.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/uxpin-access-bot/uxpin-access-bot/bot"
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "help":
			fmt.Fprintln(stdout, "uxpin-access-bot: govern UXPin access from Slack.")
			fmt.Fprintln(stdout)
			Usage(stdout)
			return 0
		}
	}
	if len(args) > 0 {
		fmt.Fprintf(stderr, "uxpin-access-bot: unknown argument %q; run with --help\n", args[0])
		return 2
	}
	cfg, err := LoadConfig(lookup)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	log := newLogger(cfg, stderr)
	m := &Main{Config: cfg, Log: log}
	if err := m.Open(); err != nil {
		fmt.Fprintln(stderr, "uxpin-access-bot:", redactErr(err))
		return 1
	}
	defer func() {
		if err := m.Close(); err != nil {
			log.Error("closing database failed", "err", err)
		}
	}()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := m.Run(ctx); err != nil {
		if errors.Is(err, bot.ErrAuth) {
			fmt.Fprintln(stderr, "uxpin-access-bot: Slack refused the token:", redactErr(err), "- check SLACK_BOT_TOKEN and SLACK_APP_TOKEN")
		} else {
			fmt.Fprintln(stderr, "uxpin-access-bot:", redactErr(err))
		}
		return 1
	}
	log.Info("stopped cleanly")
	return 0
}
