package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds the program once per test run, as the README's command would.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "uxpin-access-bot-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "uxpin-access-bot")
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// proc is the bot running as a child process.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

func startProc(t *testing.T, env map[string]string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	cmd.Stdout = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("process did not exit; output:\n%s", p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

func processEnv(f *fakeslack.Server, dir string) map[string]string {
	env := baseEnv(f, filepath.Join(dir, "uxpin.db"))
	env["UXPIN_LOG_FORMAT"] = "json"
	return env
}

func newFake(t *testing.T) *fakeslack.Server {
	f := fakeslack.New(fakeslack.Options{AppToken: testAppToken, BotToken: testBotToken})
	t.Cleanup(f.Close)
	for _, u := range testUsers() {
		f.AddUser(u)
	}
	f.SetGroup(groupID, uGina)
	f.AddChannel(auditCh)
	return f
}

func TestProcessConfigErrors(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	tests := []struct {
		name    string
		change  map[string]string
		wantVar string
	}{
		{"missing bot token", map[string]string{"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"},
		{"swapped tokens", map[string]string{"SLACK_BOT_TOKEN": testAppToken, "SLACK_APP_TOKEN": testBotToken}, "SLACK_"},
		{"malformed approver", map[string]string{"UXPIN_APPROVERS": "bob"}, "UXPIN_APPROVERS"},
		{"bad duration", map[string]string{"UXPIN_REMINDER_INTERVAL": "soon"}, "UXPIN_REMINDER_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := processEnv(f, dir)
			for k, v := range tt.change {
				env[k] = v
			}
			p := startProc(t, env)
			if code := p.wait(t); code != 2 {
				t.Errorf("exit code = %d; want 2", code)
			}
			out := strings.TrimSpace(p.stderr.String())
			if strings.Count(out, "\n") != 0 || !strings.Contains(out, tt.wantVar) {
				t.Errorf("output = %q; want one line naming %s", out, tt.wantVar)
			}
			if strings.Contains(out, testBotToken) || strings.Contains(out, testAppToken) {
				t.Errorf("output %q contains a token", out)
			}
		})
	}
}

func TestProcessHelp(t *testing.T) {
	p := startProc(t, map[string]string{"SLACK_BOT_TOKEN": testBotToken}, "--help")
	if code := p.wait(t); code != 0 {
		t.Fatalf("--help exit code = %d", code)
	}
	out := p.stderr.String()
	for _, v := range []string{"SLACK_APP_TOKEN", "UXPIN_APPROVERS", "UXPIN_ESCALATE_AFTER", "--env-file"} {
		if !strings.Contains(out, v) {
			t.Errorf("--help does not mention %s", v)
		}
	}
	if strings.Contains(out, testBotToken) {
		t.Errorf("--help printed the token from the environment")
	}
}

func TestProcessRefusedToken(t *testing.T) {
	f := newFake(t)
	tests := []struct{ name, variable, other, token string }{
		{"bot token", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "xoxb-9999-revoked-token"},
		{"app token", "SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "xapp-1-A9-9999-revoked-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := processEnv(f, t.TempDir())
			env[tt.variable] = tt.token
			p := startProc(t, env)
			if code := p.wait(t); code != 1 {
				t.Errorf("exit code = %d; want 1", code)
			}
			out := p.stderr.String()
			if !strings.Contains(out, tt.variable) || strings.Contains(out, tt.other) || !strings.Contains(out, "invalid_auth") {
				t.Errorf("output = %q; want it to name %s and invalid_auth", out, tt.variable)
			}
			if strings.Contains(out, tt.token) {
				t.Errorf("output contains the token")
			}
		})
	}
}

func TestProcessRunsStopsAndLocksDatabase(t *testing.T) {
	f := newFake(t)
	dir := t.TempDir()
	env := processEnv(f, dir)
	env["UXPIN_HTTP_ADDR"] = freeAddr(t)
	p := startProc(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.WaitConnected(ctx); err != nil {
		t.Fatalf("bot did not connect: %v\n%s", err, p.stderr.String())
	}
	// It works end to end: a slash command is answered.
	if _, err := f.SlashCommand(ctx, uAlice, "help"); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitFor(ctx, func() bool { return len(f.Ephemerals(uAlice)) == 1 }); err != nil {
		t.Fatalf("no answer to /uxpin-access help")
	}

	info, err := os.Stat(filepath.Join(dir, "uxpin.db"))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("database mode = %o; want 600", mode)
	}

	// healthcheck, as Docker's HEALTHCHECK runs it.
	hc := startProc(t, map[string]string{"UXPIN_HTTP_ADDR": env["UXPIN_HTTP_ADDR"]}, "healthcheck")
	if code := hc.wait(t); code != 0 {
		t.Errorf("healthcheck exit code = %d; output %q", code, hc.stderr.String())
	}
	// export refuses a running bot's file and points at the endpoints.
	ex := startProc(t, env, "export")
	if code := ex.wait(t); code != 1 || !strings.Contains(ex.stderr.String(), "/audit.csv") {
		t.Errorf("export on a running bot = %d %q", code, ex.stderr.String())
	}

	// A second instance on the same file fails fast and says why.
	second := startProc(t, env)
	if code := second.wait(t); code != 1 {
		t.Errorf("second instance exit code = %d; want 1", code)
	}
	if out := second.stderr.String(); !strings.Contains(out, "database is in use by another process") {
		t.Errorf("second instance said %q", out)
	}

	// SIGTERM stops it cleanly.
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d; want 0\n%s", code, p.stderr.String())
	}
	if !strings.Contains(p.stderr.String(), "stopped cleanly") {
		t.Errorf("no clean-stop log line")
	}
	for _, tok := range []string{testAppToken, testBotToken} {
		if strings.Contains(p.stderr.String(), tok) {
			t.Errorf("a token appears in the output")
		}
	}

	// Stopped: export and backup work on the file; healthcheck now fails.
	ex = startProc(t, env, "export", "--format", "jsonl")
	if code := ex.wait(t); code != 0 {
		t.Errorf("export exit code = %d: %s", code, ex.stderr.String())
	}
	copyPath := filepath.Join(dir, "copy.db")
	bk := startProc(t, env, "backup", "--out", copyPath)
	if code := bk.wait(t); code != 0 {
		t.Fatalf("backup exit code = %d: %s", code, bk.stderr.String())
	}
	if info, err := os.Stat(copyPath); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, %v; want mode 600", info, err)
	}
	hc = startProc(t, map[string]string{"UXPIN_HTTP_ADDR": env["UXPIN_HTTP_ADDR"]}, "healthcheck")
	if code := hc.wait(t); code != 1 {
		t.Errorf("healthcheck on a stopped bot exit code = %d; want 1", code)
	}
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
