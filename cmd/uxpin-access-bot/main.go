// Command uxpin-access-bot runs the UXPin access-request bot for Slack over
// Socket Mode. Configuration comes from the environment; run it with --help
// for the variables.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(args[1:], lookup, stdout, stderr)
		}
	}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-h" || a == "-help" || a == "--help" || a == "help":
			fmt.Fprintln(stdout, "uxpin-access-bot: govern UXPin access from Slack.")
			fmt.Fprintln(stdout)
			fmt.Fprintln(stdout, "Usage:")
			fmt.Fprintln(stdout, "  uxpin-access-bot playground [--addr 127.0.0.1:8090] [--db data/playground.db] [--reset]")
			fmt.Fprintln(stdout, "                                       try the bot in a browser against a simulated Slack; no tokens needed")
			fmt.Fprintln(stdout, "  uxpin-access-bot [--env-file FILE]   run the bot; FILE is in config.example.env format and the environment wins")
			fmt.Fprintln(stdout, "  uxpin-access-bot export --format csv|jsonl [--since DATE] [--until DATE] [--out FILE] [--db FILE]")
			fmt.Fprintln(stdout, "  uxpin-access-bot backup --out FILE [--db FILE]   copy a stopped bot's database")
			fmt.Fprintln(stdout, "  uxpin-access-bot healthcheck [HOST:PORT]         exit 0 if /healthz answers")
			fmt.Fprintln(stdout)
			Usage(stdout)
			return 0
		case a == "--env-file" || a == "-env-file" || strings.HasPrefix(a, "--env-file="):
			path, ok := strings.CutPrefix(a, "--env-file=")
			if !ok {
				if i+1 >= len(args) {
					fmt.Fprintln(stderr, "uxpin-access-bot: --env-file needs a file name")
					return 2
				}
				i++
				path = args[i]
			}
			vars, err := readEnvFile(path)
			if err != nil {
				fmt.Fprintln(stderr, "uxpin-access-bot:", err)
				return 2
			}
			lookup = withEnvFile(lookup, vars)
		default:
			fmt.Fprintf(stderr, "uxpin-access-bot: unknown argument %q; run with --help\n", a)
			return 2
		}
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
		fmt.Fprintln(stderr, "uxpin-access-bot:", redactErr(err))
		return 1
	}
	log.Info("stopped cleanly")
	return 0
}
