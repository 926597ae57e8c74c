package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/delivery"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// The bench runs itself as the bot's process when botEnv is set, so that
// the bot's CPU is measured apart from the fake Slack and the simulated
// users.
const (
	botEnv        = "UXPIN_BENCH_BOT"         // the fake's Web API URL
	botDBEnv      = "UXPIN_BENCH_BOT_DB"      // database file
	botProfileEnv = "UXPIN_BENCH_BOT_PROFILE" // CPU profile to write, optional
)

// serveBot runs the bot wired as openStack wires it, paced to the scaled
// limits, until SIGTERM or SIGINT.
func serveBot(stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if path := os.Getenv(botProfileEnv); path != "" {
		fh, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(stderr, "bench bot:", err)
			return 2
		}
		if err := pprof.StartCPUProfile(fh); err != nil {
			fmt.Fprintln(stderr, "bench bot:", err)
			return 2
		}
		defer func() { pprof.StopCPUProfile(); fh.Close() }()
	}
	st, err := openStack(nil, stackConfig{
		APIURL: os.Getenv(botEnv), DBPath: os.Getenv(botDBEnv), Approvers: approvers, Admins: admins,
		Log: slog.New(slog.DiscardHandler), Delivery: delivery.Options{Limits: botLimits},
	})
	if err != nil {
		fmt.Fprintln(stderr, "bench bot:", err)
		return 2
	}
	if err := st.start(); err != nil {
		fmt.Fprintln(stderr, "bench bot:", err)
		return 2
	}
	<-ctx.Done()
	if err := st.stop(); err != nil {
		fmt.Fprintln(stderr, "bench bot:", err)
		return 1
	}
	return 0
}

// processCPU returns the user and system CPU time a process has used so far,
// from /proc (Linux).
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: utime and stime are the 14th and 15th fields of the line.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat line")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond, nil
}

// benchBotCPU is section 8: lifecycles driven through the fake Slack, with
// the scaled rate limits enforced and the bot pacing itself, against a bot
// in its own process: its CPU time per lifecycle, measured from /proc.
func benchBotCPU(ctx context.Context, cfg benchConfig, rep *Report, profile string) error {
	const sec = "8. bot CPU"
	const workers = 20
	total := 200
	if cfg.small {
		total = 40
	}
	f := newFake(&drainLimits)
	defer f.Close()
	requesters := userIDs("UCPUREQ", 0, workers)
	targets := userIDs("UCPUTGT", 0, total)
	for _, ids := range [][]string{approvers, admins, requesters, targets} {
		addUsers(f, ids...)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), botEnv+"="+f.APIURL(), botDBEnv+"="+filepath.Join(cfg.dir, "cpu.db"))
	if profile != "" {
		cmd.Env = append(cmd.Env, botProfileEnv+"="+profile)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stopBot := func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				return fmt.Errorf("bot process: %w: %s", err, stderr.String())
			}
			return nil
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("bot process did not stop")
		}
	}
	defer stopBot()
	if err := f.WaitFor(ctx, f.Connected); err != nil {
		return fmt.Errorf("bot process did not connect: %w: %s", err, stderr.String())
	}
	for _, u := range append(append([]string{}, approvers...), admins...) {
		if _, err := f.AppHomeOpened(ctx, u); err != nil {
			return err
		}
	}

	// dmAbout waits for a DM to one of users whose text starts with prefix.
	dmAbout := func(ctx context.Context, prefix string, users ...string) (fakeslack.Message, string, error) {
		var found fakeslack.Message
		var to string
		err := f.WaitFor(ctx, func() bool {
			for _, u := range users {
				for _, m := range f.DMs(u) {
					if strings.HasPrefix(m.Text, prefix) {
						found, to = m, u
						return true
					}
				}
			}
			return false
		})
		return found, to, err
	}
	var mu sync.Mutex
	var errs []string
	ids := make([]string, total)
	one := func(ctx context.Context, w, j int) error {
		requester, target, approver := requesters[w], targets[w*(total/workers)+j], approvers[w%len(approvers)]
		before := len(f.Views(requester))
		if _, err := f.SlashCommand(ctx, requester, ""); err != nil {
			return err
		}
		if err := f.WaitFor(ctx, func() bool { return len(f.Views(requester)) > before }); err != nil {
			return fmt.Errorf("no modal for %s: %w", requester, err)
		}
		v := f.Views(requester)[before]
		a, err := f.Submit(ctx, requester, v, requestValues(access.ActionGrant, target, access.RoleEditor, "bench: needs the design system"))
		if err != nil {
			return err
		}
		id, err := submissionID(a)
		if err != nil {
			return err
		}
		ids[w*(total/workers)+j] = id
		card, _, err := dmAbout(ctx, "UXPin access request "+id+":", approver)
		if err != nil {
			return fmt.Errorf("no card for %s: %w", id, err)
		}
		if _, err := f.Click(ctx, approver, card, handlers.ActionApprove); err != nil {
			return err
		}
		task, admin, err := dmAbout(ctx, "UXPin task "+id+":", admins...)
		if err != nil {
			return fmt.Errorf("no task for %s: %w", id, err)
		}
		if _, err := f.Click(ctx, admin, task, handlers.ActionDone); err != nil {
			return err
		}
		return f.WaitFor(ctx, func() bool { return len(f.DMs(target)) > 0 })
	}
	cpu0, err := processCPU(cmd.Process.Pid)
	if err != nil {
		rep.note("bot CPU: /proc is not readable here (%v); section skipped", err)
		return nil
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range total / workers {
				lctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
				err := one(lctx, w, j)
				cancel()
				if err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for i, e := range errs {
		if i == 5 {
			break
		}
		rep.fail("bot CPU: %s", e)
	}
	// The refreshes trail the outcomes: wait until every card and task
	// shows the request done, so their CPU is counted too.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := f.WaitFor(wctx, func() bool {
		for _, u := range append(append([]string{}, approvers...), admins...) {
			for _, m := range f.DMs(u) {
				if !strings.Contains(fakeslack.BlocksText(m.Blocks), "Done. Approved by") {
					return false
				}
			}
		}
		return true
	}); err != nil {
		rep.fail("bot CPU: cards and tasks did not all show the outcome: %v", err)
	}
	elapsed := time.Since(start)
	cpu1, err := processCPU(cmd.Process.Pid)
	if err != nil {
		return err
	}
	if err := stopBot(); err != nil {
		rep.fail("bot CPU: %v", err)
	}
	checkViolations(f, rep, "bot CPU")
	per := (cpu1 - cpu0).Seconds() * 1000 / float64(total)
	rep.num(sec, fmt.Sprintf("%d lifecycles, paced: wall time", total), elapsed.Seconds(), "s", fmt.Sprintf("%.1f s", elapsed.Seconds()), "", nil)
	rep.num(sec, "bot process CPU per lifecycle (fake Slack in another process)", per, "ms",
		fmt.Sprintf("%.1f ms", per), "≤ 15 ms", ptr(per <= 15))
	return nil
}
