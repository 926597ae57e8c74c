package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// Distinctive fake secrets: no error, String or log line may contain them.
const (
	fakeAppToken   = "xapp-1-SECRET-APP-456"
	fakeBotToken   = "xoxb-SECRET-123"
	fakeAdminToken = "admin-SECRET-789-abcdefghijkl"
)

// unset in an override map removes the variable from the environment.
const unset = "\x00unset"

// specVars are the variables of SPEC §3, in its order.
var specVars = []string{
	"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "SLACK_API_URL",
	"UXPIN_APPROVERS", "UXPIN_ADMINS", "UXPIN_AUDIT_CHANNEL",
	"UXPIN_DB_PATH", "UXPIN_HTTP_ADDR",
	"UXPIN_REMINDER_INTERVAL", "UXPIN_ESCALATE_AFTER",
	"UXPIN_ALLOWED_EMAIL_DOMAINS", "UXPIN_LOG_FORMAT", "UXPIN_LOG_LEVEL",
	"UXPIN_ADMIN_TOKEN", "UXPIN_SEATS_EDITOR", "UXPIN_SEATS_ADMIN", "UXPIN_MAX_ACCESS_DAYS", "UXPIN_LEAVER_AUTO_MAX",
	"UXPIN_APPROVALS_REQUIRED", "UXPIN_APPROVERS_VIEWER", "UXPIN_APPROVERS_EDITOR", "UXPIN_APPROVERS_ADMIN", "UXPIN_AUTO_APPROVE_ROLES",
	"UXPIN_REVIEW_EVERY", "UXPIN_REVIEW_DAYS",
	"UXPIN_SOCKET_CONNECTIONS",
}

var secretVars = []string{"SLACK_APP_TOKEN", "SLACK_BOT_TOKEN", "UXPIN_ADMIN_TOKEN"}

// minimalEnv is the smallest valid configuration.
func minimalEnv() map[string]string {
	return map[string]string{
		"SLACK_APP_TOKEN": fakeAppToken,
		"SLACK_BOT_TOKEN": fakeBotToken,
		"UXPIN_APPROVERS": "U0APPROVER",
		"UXPIN_ADMINS":    "U0ADMIN",
	}
}

// envWith returns minimalEnv with overrides applied (unset removes a key).
func envWith(overrides map[string]string) map[string]string {
	env := minimalEnv()
	for k, v := range overrides {
		if v == unset {
			delete(env, k)
		} else {
			env[k] = v
		}
	}
	return env
}

// lookupIn returns a lookup function over env, like os.LookupEnv.
func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestLoadConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string // overrides on minimalEnv
		wantVar string
		wantMsg string // optional substring of the message
	}{
		// Required variables missing or empty.
		{"app token unset", map[string]string{"SLACK_APP_TOKEN": unset}, "SLACK_APP_TOKEN", "not set"},
		{"app token empty", map[string]string{"SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN", "empty"},
		{"bot token unset", map[string]string{"SLACK_BOT_TOKEN": unset}, "SLACK_BOT_TOKEN", "not set"},
		{"bot token blank", map[string]string{"SLACK_BOT_TOKEN": "  \t"}, "SLACK_BOT_TOKEN", "empty"},
		{"approvers unset", map[string]string{"UXPIN_APPROVERS": unset}, "UXPIN_APPROVERS", "not set"},
		{"approvers empty", map[string]string{"UXPIN_APPROVERS": ""}, "UXPIN_APPROVERS", "empty"},
		{"approvers only commas", map[string]string{"UXPIN_APPROVERS": " , ,"}, "UXPIN_APPROVERS", "lists nothing"},
		{"admins unset", map[string]string{"UXPIN_ADMINS": unset}, "UXPIN_ADMINS", "not set"},
		{"admins empty", map[string]string{"UXPIN_ADMINS": ""}, "UXPIN_ADMINS", "empty"},

		// Tokens of the wrong kind.
		{"app token is bot token", map[string]string{"SLACK_APP_TOKEN": "xoxb-SECRET-999"}, "SLACK_APP_TOKEN", "swapped"},
		{"bot token is app token", map[string]string{"SLACK_BOT_TOKEN": "xapp-1-SECRET-999"}, "SLACK_BOT_TOKEN", "swapped"},
		{"tokens swapped", map[string]string{"SLACK_APP_TOKEN": fakeBotToken, "SLACK_BOT_TOKEN": fakeAppToken}, "SLACK_APP_TOKEN", "swapped"},
		{"bot token is user token", map[string]string{"SLACK_BOT_TOKEN": "xoxp-SECRET-999"}, "SLACK_BOT_TOKEN", "user token"},
		{"bot token garbage", map[string]string{"SLACK_BOT_TOKEN": "SECRET-garbage"}, "SLACK_BOT_TOKEN", `"xoxb-"`},
		{"bot token prefix only", map[string]string{"SLACK_BOT_TOKEN": "xoxb-"}, "SLACK_BOT_TOKEN", "nothing after"},
		{"bot token inner space", map[string]string{"SLACK_BOT_TOKEN": "xoxb-SECRET 123"}, "SLACK_BOT_TOKEN", "spaces"},
		{"bot token placeholder", map[string]string{"SLACK_BOT_TOKEN": "xoxb-0-0-replace-me"}, "SLACK_BOT_TOKEN", "placeholder"},

		// Malformed IDs.
		{"approver name", map[string]string{"UXPIN_APPROVERS": "bob"}, "UXPIN_APPROVERS", `"bob"`},
		{"approver lower-case", map[string]string{"UXPIN_APPROVERS": "u0abc"}, "UXPIN_APPROVERS", ""},
		{"approver mention", map[string]string{"UXPIN_APPROVERS": "U0OK,<@U0ABC>"}, "UXPIN_APPROVERS", ""},
		{"approver channel", map[string]string{"UXPIN_APPROVERS": "C0ABC"}, "UXPIN_APPROVERS", ""},
		{"approver too short", map[string]string{"UXPIN_APPROVERS": "U1"}, "UXPIN_APPROVERS", ""},
		{"admin group", map[string]string{"UXPIN_ADMINS": "S123"}, "UXPIN_ADMINS", "user group"},
		{"admin name", map[string]string{"UXPIN_ADMINS": "U0ADMIN, alice"}, "UXPIN_ADMINS", `"alice"`},
		{"audit channel name", map[string]string{"UXPIN_AUDIT_CHANNEL": "#uxpin-audit"}, "UXPIN_AUDIT_CHANNEL", ""},
		{"audit channel user", map[string]string{"UXPIN_AUDIT_CHANNEL": "U0ABC"}, "UXPIN_AUDIT_CHANNEL", ""},

		// Durations.
		{"reminder words", map[string]string{"UXPIN_REMINDER_INTERVAL": "1 day"}, "UXPIN_REMINDER_INTERVAL", "duration"},
		{"reminder no unit", map[string]string{"UXPIN_REMINDER_INTERVAL": "24"}, "UXPIN_REMINDER_INTERVAL", "duration"},
		{"reminder zero", map[string]string{"UXPIN_REMINDER_INTERVAL": "0s"}, "UXPIN_REMINDER_INTERVAL", "positive"},
		{"escalate negative", map[string]string{"UXPIN_ESCALATE_AFTER": "-1h"}, "UXPIN_ESCALATE_AFTER", "positive"},
		{"escalate garbage", map[string]string{"UXPIN_ESCALATE_AFTER": "soon"}, "UXPIN_ESCALATE_AFTER", "duration"},
		{"review every garbage", map[string]string{"UXPIN_REVIEW_EVERY": "quarterly"}, "UXPIN_REVIEW_EVERY", "duration"},
		{"review every negative", map[string]string{"UXPIN_REVIEW_EVERY": "-90h"}, "UXPIN_REVIEW_EVERY", "at least"},
		{"review every shorter than a review", map[string]string{"UXPIN_REVIEW_EVERY": "24h"}, "UXPIN_REVIEW_EVERY", "overlap"},
		{"review days zero", map[string]string{"UXPIN_REVIEW_DAYS": "0"}, "UXPIN_REVIEW_DAYS", "1 to 90"},
		{"review days too many", map[string]string{"UXPIN_REVIEW_DAYS": "400"}, "UXPIN_REVIEW_DAYS", "1 to 90"},

		// URLs and addresses.
		{"api url scheme", map[string]string{"SLACK_API_URL": "ftp://slack.com/api/"}, "SLACK_API_URL", ""},
		{"api url relative", map[string]string{"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL", ""},
		{"api url query", map[string]string{"SLACK_API_URL": "https://slack.com/api/?x=1"}, "SLACK_API_URL", ""},
		{"api url user info", map[string]string{"SLACK_API_URL": "https://user:SECRET-PW@slack.com/api/"}, "SLACK_API_URL", ""},
		{"http addr no port", map[string]string{"UXPIN_HTTP_ADDR": "localhost"}, "UXPIN_HTTP_ADDR", ""},
		{"http addr bad port", map[string]string{"UXPIN_HTTP_ADDR": "127.0.0.1:99999"}, "UXPIN_HTTP_ADDR", ""},

		// Enumerations, domains, numbers, admin token.
		{"log format", map[string]string{"UXPIN_LOG_FORMAT": "xml"}, "UXPIN_LOG_FORMAT", `"xml"`},
		{"log level", map[string]string{"UXPIN_LOG_LEVEL": "verbose"}, "UXPIN_LOG_LEVEL", `"verbose"`},
		{"email domain space", map[string]string{"UXPIN_ALLOWED_EMAIL_DOMAINS": "example.com, not a domain"}, "UXPIN_ALLOWED_EMAIL_DOMAINS", ""},
		{"email domain single label", map[string]string{"UXPIN_ALLOWED_EMAIL_DOMAINS": "localhost"}, "UXPIN_ALLOWED_EMAIL_DOMAINS", ""},
		{"email address", map[string]string{"UXPIN_ALLOWED_EMAIL_DOMAINS": "bob@example.com"}, "UXPIN_ALLOWED_EMAIL_DOMAINS", ""},
		{"seats negative", map[string]string{"UXPIN_SEATS_EDITOR": "-1"}, "UXPIN_SEATS_EDITOR", ""},
		{"seats not a number", map[string]string{"UXPIN_SEATS_ADMIN": "ten"}, "UXPIN_SEATS_ADMIN", ""},
		{"max access days zero", map[string]string{"UXPIN_MAX_ACCESS_DAYS": "0"}, "UXPIN_MAX_ACCESS_DAYS", ""},
		{"leaver auto max negative", map[string]string{"UXPIN_LEAVER_AUTO_MAX": "-1"}, "UXPIN_LEAVER_AUTO_MAX", ""},
		{"approvals unknown role", map[string]string{"UXPIN_APPROVALS_REQUIRED": "Owner:2"}, "UXPIN_APPROVALS_REQUIRED", `"Owner"`},
		{"approvals not a number", map[string]string{"UXPIN_APPROVALS_REQUIRED": "Admin:two"}, "UXPIN_APPROVALS_REQUIRED", ""},
		{"approvals more than approvers", map[string]string{"UXPIN_APPROVALS_REQUIRED": "Admin:2"}, "UXPIN_APPROVALS_REQUIRED", "names 1"},
		{"role approvers by name", map[string]string{"UXPIN_APPROVERS_ADMIN": "security-team"}, "UXPIN_APPROVERS_ADMIN", `"security-team"`},
		{"auto approve unknown role", map[string]string{"UXPIN_AUTO_APPROVE_ROLES": "Guest"}, "UXPIN_AUTO_APPROVE_ROLES", `"Guest"`},
		{"no socket connections", map[string]string{"UXPIN_SOCKET_CONNECTIONS": "0"}, "UXPIN_SOCKET_CONNECTIONS", ""},
		{"too many socket connections", map[string]string{"UXPIN_SOCKET_CONNECTIONS": "11"}, "UXPIN_SOCKET_CONNECTIONS", ""},
		{"socket connections not a number", map[string]string{"UXPIN_SOCKET_CONNECTIONS": "two"}, "UXPIN_SOCKET_CONNECTIONS", ""},
		{"admin token short", map[string]string{"UXPIN_ADMIN_TOKEN": "SECRET-short"}, "UXPIN_ADMIN_TOKEN", "16"},
		{"admin token space", map[string]string{"UXPIN_ADMIN_TOKEN": "SECRET with spaces inside"}, "UXPIN_ADMIN_TOKEN", ""},
		{"admin token placeholder", map[string]string{"UXPIN_ADMIN_TOKEN": "replace-me-with-a-long-random-string"}, "UXPIN_ADMIN_TOKEN", "placeholder"},

		// A token pasted into a non-secret variable is not echoed either.
		{"token in approvers", map[string]string{"UXPIN_APPROVERS": "xoxb-SECRET-123"}, "UXPIN_APPROVERS", "hidden"},
		{"token in audit channel", map[string]string{"UXPIN_AUDIT_CHANNEL": "xapp-1-SECRET-456"}, "UXPIN_AUDIT_CHANNEL", "hidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := envWith(tt.env)
			c, err := LoadConfig(lookupIn(env))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("LoadConfig(%v) = %v, %v; want *ConfigError for %s", env, c, err, tt.wantVar)
			}
			if ce.Var != tt.wantVar {
				t.Errorf("LoadConfig(%v) error var = %q; want %q (error: %v)", env, ce.Var, tt.wantVar, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("LoadConfig(%v) error = %q; want it to contain %q", env, msg, tt.wantMsg)
			}
			if !strings.HasPrefix(msg, "config: "+tt.wantVar+" ") {
				t.Errorf("LoadConfig(%v) error = %q; want it to start with %q", env, msg, "config: "+tt.wantVar+" ")
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("LoadConfig(%v) error = %q; want one line", env, msg)
			}
			if strings.Contains(msg, "SECRET") {
				t.Errorf("LoadConfig(%v) error = %q; it leaks a secret value", env, msg)
			}
			for _, k := range secretVars {
				// A bare prefix such as "xoxb-" is no secret and is named in messages.
				if v := env[k]; len(v) > len("xoxb-") && strings.Contains(msg, v) {
					t.Errorf("LoadConfig(%v) error = %q; it contains the value of %s", env, msg, k)
				}
			}
		})
	}
}

func TestLoadConfigMinimal(t *testing.T) {
	t.Parallel()
	env := minimalEnv()
	c, err := LoadConfig(lookupIn(env))
	if err != nil {
		t.Fatalf("LoadConfig(%v) error = %v; want nil", env, err)
	}
	want := &Config{
		AppToken:          fakeAppToken,
		BotToken:          fakeBotToken,
		APIURL:            "https://slack.com/api/",
		Approvers:         []string{"U0APPROVER"},
		Admins:            []string{"U0ADMIN"},
		DBPath:            "data/uxpin-access.db",
		HTTPAddr:          "127.0.0.1:8080",
		ReminderInterval:  24 * time.Hour,
		EscalateAfter:     48 * time.Hour,
		LogFormat:         "text",
		LogLevel:          "info",
		MaxAccessDays:     365,
		LeaverAutoMax:     5,
		ReviewDays:        14,
		SocketConnections: 2,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("LoadConfig(%v) = %#v; want %#v", env, *c, *want)
	}
	if got := c.SlogLevel(); got != slog.LevelInfo {
		t.Errorf("SlogLevel() = %v; want %v", got, slog.LevelInfo)
	}
}

func TestLoadConfigValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		check func(*Config) (got, want any)
	}{
		{"tokens trimmed", map[string]string{"SLACK_BOT_TOKEN": " " + fakeBotToken + "\n"},
			func(c *Config) (any, any) { return c.BotToken, fakeBotToken }},
		{"approvers trimmed", map[string]string{"UXPIN_APPROVERS": " U1A , S2B ,, W3C ,"},
			func(c *Config) (any, any) { return c.Approvers, []string{"U1A", "S2B", "W3C"} }},
		{"approvers deduplicated", map[string]string{"UXPIN_APPROVERS": "U1A,U1A, S2B,S2B"},
			func(c *Config) (any, any) { return c.Approvers, []string{"U1A", "S2B"} }},
		{"approver users", map[string]string{"UXPIN_APPROVERS": "U1A,S2B,W3C,S4D"},
			func(c *Config) (any, any) { return c.ApproverUsers(), []string{"U1A", "W3C"} }},
		{"approver groups", map[string]string{"UXPIN_APPROVERS": "U1A,S2B,W3C,S4D"},
			func(c *Config) (any, any) { return c.ApproverGroups(), []string{"S2B", "S4D"} }},
		{"approver groups none", nil,
			func(c *Config) (any, any) { return len(c.ApproverGroups()), 0 }},
		{"admins trimmed", map[string]string{"UXPIN_ADMINS": " U01 , U02 ,"},
			func(c *Config) (any, any) { return c.Admins, []string{"U01", "U02"} }},
		{"audit channel", map[string]string{"UXPIN_AUDIT_CHANNEL": " C0AUDIT "},
			func(c *Config) (any, any) { return c.AuditChannel, "C0AUDIT" }},
		{"private audit channel", map[string]string{"UXPIN_AUDIT_CHANNEL": "G0AUDIT"},
			func(c *Config) (any, any) { return c.AuditChannel, "G0AUDIT" }},
		{"api url slash added", map[string]string{"SLACK_API_URL": "http://127.0.0.1:4321/api"},
			func(c *Config) (any, any) { return c.APIURL, "http://127.0.0.1:4321/api/" }},
		{"api url host only", map[string]string{"SLACK_API_URL": "https://slack-gov.com"},
			func(c *Config) (any, any) { return c.APIURL, "https://slack-gov.com/" }},
		{"api url slash kept", map[string]string{"SLACK_API_URL": "https://slack-gov.com/api/"},
			func(c *Config) (any, any) { return c.APIURL, "https://slack-gov.com/api/" }},
		{"api url empty is default", map[string]string{"SLACK_API_URL": ""},
			func(c *Config) (any, any) { return c.APIURL, "https://slack.com/api/" }},
		{"http addr unset", map[string]string{"UXPIN_HTTP_ADDR": unset},
			func(c *Config) (any, any) { return c.HTTPAddr, "127.0.0.1:8080" }},
		{"http addr empty disables", map[string]string{"UXPIN_HTTP_ADDR": ""},
			func(c *Config) (any, any) { return c.HTTPAddr, "" }},
		{"http addr blank disables", map[string]string{"UXPIN_HTTP_ADDR": "  "},
			func(c *Config) (any, any) { return c.HTTPAddr, "" }},
		{"http addr any host", map[string]string{"UXPIN_HTTP_ADDR": ":9090"},
			func(c *Config) (any, any) { return c.HTTPAddr, ":9090" }},
		{"db path", map[string]string{"UXPIN_DB_PATH": "/data/x.db"},
			func(c *Config) (any, any) { return c.DBPath, "/data/x.db" }},
		{"db path empty is default", map[string]string{"UXPIN_DB_PATH": ""},
			func(c *Config) (any, any) { return c.DBPath, "data/uxpin-access.db" }},
		{"reminder", map[string]string{"UXPIN_REMINDER_INTERVAL": "90m"},
			func(c *Config) (any, any) { return c.ReminderInterval, 90 * time.Minute }},
		{"escalate", map[string]string{"UXPIN_ESCALATE_AFTER": "72h"},
			func(c *Config) (any, any) { return c.EscalateAfter, 72 * time.Hour }},
		{"email domains normalized", map[string]string{"UXPIN_ALLOWED_EMAIL_DOMAINS": " @Example.COM, corp.example.org ,example.com"},
			func(c *Config) (any, any) { return c.AllowedEmailDomains, []string{"example.com", "corp.example.org"} }},
		{"email domains empty", map[string]string{"UXPIN_ALLOWED_EMAIL_DOMAINS": " , "},
			func(c *Config) (any, any) { return len(c.AllowedEmailDomains), 0 }},
		{"log format json", map[string]string{"UXPIN_LOG_FORMAT": "JSON"},
			func(c *Config) (any, any) { return c.LogFormat, "json" }},
		{"log level debug", map[string]string{"UXPIN_LOG_LEVEL": "Debug"},
			func(c *Config) (any, any) { return c.SlogLevel(), slog.LevelDebug }},
		{"log level warn", map[string]string{"UXPIN_LOG_LEVEL": "warn"},
			func(c *Config) (any, any) { return c.SlogLevel(), slog.LevelWarn }},
		{"log level error", map[string]string{"UXPIN_LOG_LEVEL": "error"},
			func(c *Config) (any, any) { return c.SlogLevel(), slog.LevelError }},
		{"admin token", map[string]string{"UXPIN_ADMIN_TOKEN": fakeAdminToken},
			func(c *Config) (any, any) { return c.AdminToken, fakeAdminToken }},
		{"seats", map[string]string{"UXPIN_SEATS_EDITOR": "25", "UXPIN_SEATS_ADMIN": " 3 "},
			func(c *Config) (any, any) { return [2]int{c.SeatsEditor, c.SeatsAdmin}, [2]int{25, 3} }},
		{"seats zero", map[string]string{"UXPIN_SEATS_EDITOR": "0"},
			func(c *Config) (any, any) { return c.SeatsEditor, 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := envWith(tt.env)
			c, err := LoadConfig(lookupIn(env))
			if err != nil {
				t.Fatalf("LoadConfig(%v) error = %v; want nil", env, err)
			}
			if got, want := tt.check(c); !reflect.DeepEqual(got, want) {
				t.Errorf("LoadConfig(%v): got %#v; want %#v", env, got, want)
			}
		})
	}
}

// TestConfigVariables checks that Config covers exactly the variables of
// SPEC §3, so none is forgotten in parsing, Usage or the example file.
func TestConfigVariables(t *testing.T) {
	t.Parallel()
	if got := configVars(); !slices.Equal(got, specVars) {
		t.Errorf("Config variables = %v; want %v", got, specVars)
	}
	// Secret fields must be the token ones, and hidden from JSON.
	typ := reflect.TypeFor[Config]()
	var secrets []string
	for f := range typ.Fields() {
		if f.Tag.Get("secret") == "true" {
			secrets = append(secrets, f.Tag.Get("envconfig"))
			if f.Tag.Get("json") != "-" {
				t.Errorf("secret field %s has json tag %q; want \"-\"", f.Name, f.Tag.Get("json"))
			}
		}
	}
	if !slices.Equal(secrets, secretVars) {
		t.Errorf("secret variables = %v; want %v", secrets, secretVars)
	}
}

func configVars() []string {
	var names []string
	for f := range reflect.TypeFor[Config]().Fields() {
		if n := f.Tag.Get("envconfig"); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// TestConfigRedaction checks that no way of printing or logging a Config
// shows a secret.
func TestConfigRedaction(t *testing.T) {
	t.Parallel()
	env := envWith(map[string]string{
		"UXPIN_ADMIN_TOKEN":   fakeAdminToken,
		"UXPIN_AUDIT_CHANNEL": "C0AUDIT",
	})
	c, err := LoadConfig(lookupIn(env))
	if err != nil {
		t.Fatalf("LoadConfig(%v) error = %v; want nil", env, err)
	}

	outputs := map[string]string{
		"%v":       fmt.Sprintf("%v", c),
		"%+v":      fmt.Sprintf("%+v", c),
		"%#v":      fmt.Sprintf("%#v", c),
		"%v value": fmt.Sprintf("%v", *c),
		"String":   c.String(),
		"nested":   fmt.Sprintf("%+v", struct{ C *Config }{c}),
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(j)
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("starting", "config", c)
		outputs[name] = buf.String()
	}

	for name, out := range outputs {
		if strings.Contains(out, "SECRET") {
			t.Errorf("%s of Config = %s; it leaks a secret", name, out)
		}
		if name == "json" {
			continue
		}
		for _, want := range []string{"[redacted]", "C0AUDIT", "UXPIN_AUDIT_CHANNEL", "U0APPROVER"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s of Config = %s; want it to contain %q", name, out, want)
			}
		}
	}

	// An unset secret shows as empty, not as redacted.
	if s := (Config{}).String(); strings.Contains(s, "[redacted]") {
		t.Errorf("Config{}.String() = %s; want no [redacted] for unset secrets", s)
	}
}

// TestUsage checks that --help lists every variable, and never a value from
// the environment. It sets process environment variables, so it is not
// parallel.
func TestUsage(t *testing.T) {
	t.Setenv("SLACK_BOT_TOKEN", fakeBotToken)
	t.Setenv("UXPIN_APPROVERS", "U0FROMENV")
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, v := range specVars {
		if !strings.Contains(out, v+" (") {
			t.Errorf("Usage() does not mention %s:\n%s", v, out)
		}
	}
	for _, want := range []string{
		"SLACK_APP_TOKEN (required, secret)",
		"UXPIN_APPROVERS (required)",
		`SLACK_API_URL (default "https://slack.com/api/")`,
		`UXPIN_HTTP_ADDR (default "127.0.0.1:8080")`,
		`UXPIN_REMINDER_INTERVAL (default "24h")`,
		"UXPIN_AUDIT_CHANNEL (optional)",
		"UXPIN_ADMIN_TOKEN (optional, secret)",
		"set it empty to disable",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Usage() does not contain %q:\n%s", want, out)
		}
	}
	for _, leak := range []string{fakeBotToken, "SECRET", "U0FROMENV", "usage:"} {
		if strings.Contains(out, leak) {
			t.Errorf("Usage() contains %q:\n%s", leak, out)
		}
	}
	// Every variable has a description line.
	for _, v := range configVars() {
		i := strings.Index(out, v+" (")
		rest, _, _ := strings.Cut(out[i:], "\n\n")
		if lines := strings.Split(rest, "\n"); len(lines) < 2 || strings.TrimSpace(lines[1]) == "" {
			t.Errorf("Usage() has no description for %s:\n%s", v, rest)
		}
	}
}

// TestExampleEnv checks config.example.env: it documents every variable with
// a comment, and what it sets loads once the placeholder tokens are replaced.
func TestExampleEnv(t *testing.T) {
	t.Parallel()
	const path = "../../config.example.env"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	env := map[string]string{}
	mentioned := map[string]bool{}
	prevComment := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		assignment := strings.TrimSpace(strings.TrimPrefix(line, "#"))
		k, v, ok := strings.Cut(assignment, "=")
		if ok && slices.Contains(specVars, k) {
			if !mentioned[k] && !prevComment {
				t.Errorf("%s:%d: %s has no comment line before it", path, n, k)
			}
			mentioned[k] = true
			if !strings.HasPrefix(line, "#") {
				if _, dup := env[k]; dup {
					t.Errorf("%s:%d: %s set twice", path, n, k)
				}
				env[k] = v
			}
		}
		prevComment = strings.HasPrefix(line, "#")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, v := range specVars {
		if !mentioned[v] {
			t.Errorf("%s does not mention %s", path, v)
		}
	}

	// As shipped, the placeholder token is refused.
	_, err = LoadConfig(lookupIn(env))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Var != "SLACK_APP_TOKEN" {
		t.Errorf("LoadConfig(%v) error = %v; want the SLACK_APP_TOKEN placeholder refused", env, err)
	}
	// With real-looking tokens it loads.
	filled := maps.Clone(env)
	filled["SLACK_APP_TOKEN"] = fakeAppToken
	filled["SLACK_BOT_TOKEN"] = fakeBotToken
	if _, err := LoadConfig(lookupIn(filled)); err != nil {
		t.Errorf("LoadConfig(%v) error = %v; want nil", filled, err)
	}
	// The commented-out optional values are valid too.
	all := maps.Clone(filled)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#")), "=")
		if ok && slices.Contains(specVars, k) && k != "SLACK_APP_TOKEN" && k != "SLACK_BOT_TOKEN" && k != "UXPIN_ADMIN_TOKEN" {
			all[k] = v
		}
	}
	if _, err := LoadConfig(lookupIn(all)); err != nil {
		t.Errorf("LoadConfig(%v) error = %v; want nil", all, err)
	}
}
