package stack_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
	"github.com/uxpin-access-bot/uxpin-access-bot/stack"
)

const module = "github.com/uxpin-access-bot/uxpin-access-bot/"

// users are the programs that must build the bot through stack.Open.
var users = []string{"cmd/uxpin-access-bot", "cmd/uxpin-access-bench", "playground"}

// constructors build a part of the stack; only this package may call them,
// so the bot, the bench and the playground cannot wire differently.
var constructors = map[string][]string{
	module + "access":           {"NewService"},
	module + "handlers":         {"New"},
	module + "bot":              {"New", "NewDirectory"},
	module + "delivery":         {"New"},
	module + "ops":              {"NewServer", "NewMetrics"},
	"github.com/slack-go/slack": {"New"},
}

// TestOneWiring proves the bot, the bench and the playground get the same
// handlers: each of them calls stack.Open, and none of them builds a part
// of the stack itself.
func TestOneWiring(t *testing.T) {
	for _, dir := range users {
		t.Run(dir, func(t *testing.T) {
			opens := 0
			files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no Go files in %s: %v", dir, err)
			}
			for _, name := range files {
				if strings.HasSuffix(name, "_test.go") {
					continue
				}
				fset := token.NewFileSet()
				f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
				if err != nil {
					t.Fatal(err)
				}
				imports := map[string]string{} // local name → path
				for _, imp := range f.Imports {
					p, _ := strconv.Unquote(imp.Path.Value)
					local := p[strings.LastIndexByte(p, '/')+1:]
					if imp.Name != nil {
						local = imp.Name.Name
					}
					imports[local] = p
				}
				ast.Inspect(f, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok {
						return true
					}
					pkg, ok := sel.X.(*ast.Ident)
					if !ok {
						return true
					}
					path := imports[pkg.Name]
					if path == module+"stack" && sel.Sel.Name == "Open" {
						opens++
					}
					for _, c := range constructors[path] {
						if sel.Sel.Name == c {
							t.Errorf("%s: %s.%s: build the stack with stack.Open instead", fset.Position(call.Pos()), pkg.Name, c)
						}
					}
					return true
				})
			}
			if opens == 0 {
				t.Errorf("%s never calls stack.Open", dir)
			}
		})
	}
}

// TestRun builds a stack against the fake Slack, runs it and asks it for
// help, then stops it as SIGTERM would.
func TestRun(t *testing.T) {
	const app, bot = "xapp-1-A0001-1111-stack-test", "xoxb-2222-stack-test"
	f := fakeslack.New(fakeslack.Options{AppToken: app, BotToken: bot, Logf: t.Logf})
	t.Cleanup(f.Close)
	f.AddUser(fakeslack.User{ID: "U0ALICE1", Name: "alice", RealName: "Alice Archer", Email: "alice@example.com"})
	s, err := stack.Open(stack.Config{
		AppToken: app, BotToken: bot,
		ApproverUsers: []string{"U0CAROL1"}, Admins: []string{"U0ERIN01"},
		DBPath: filepath.Join(t.TempDir(), "stack.db"),
	}, f.APIURL(), stack.Options{NoLeaverSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	wait, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if err := f.WaitFor(wait, func() bool { return f.Connected() && s.Bot.Connected() }); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SlashCommand(wait, "U0ALICE1", "help"); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitFor(wait, func() bool { return len(f.Ephemerals("U0ALICE1")) > 0 }); err != nil {
		t.Fatal("no help reply")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil after cancel", err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if fi, err := os.Stat(s.Config.DBPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file: %v, %v; want mode 0600", fi, err)
	}
}

// TestRunRefusedBotToken checks that a refused bot token is reported as an
// *AuthTestError naming Slack's error.
func TestRunRefusedBotToken(t *testing.T) {
	f := fakeslack.New(fakeslack.Options{AppToken: "xapp-1-A1-right", BotToken: "xoxb-right"})
	t.Cleanup(f.Close)
	s, err := stack.Open(stack.Config{AppToken: "xapp-1-A1-right", BotToken: "xoxb-wrong", DBPath: filepath.Join(t.TempDir(), "s.db")},
		f.APIURL(), stack.Options{NoLeaverSweep: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Run(context.Background())
	ae, ok := err.(*stack.AuthTestError)
	if !ok || ae.Refused != "invalid_auth" {
		t.Errorf("Run = %v; want an *AuthTestError refused with invalid_auth", err)
	}
}
