package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Config is the bot's configuration, read from the environment (SPEC §3).
//
// The struct tags are the single source of truth for variable names,
// defaults and help text: LoadConfig reads them to parse the environment and
// Usage prints them. Fields tagged secret:"true" are never printed, logged,
// marshalled to JSON or echoed in an error.
type Config struct {
	AppToken string `envconfig:"SLACK_APP_TOKEN" required:"true" secret:"true" json:"-" desc:"Slack app-level token (xapp-...) with the connections:write scope, for Socket Mode."`
	BotToken string `envconfig:"SLACK_BOT_TOKEN" required:"true" secret:"true" json:"-" desc:"Slack bot token (xoxb-...) of the installed app."`
	APIURL   string `envconfig:"SLACK_API_URL" default:"https://slack.com/api/" desc:"Slack Web API base URL (GovSlack and tests set another); a trailing / is added if missing."`

	Approvers    []string `envconfig:"UXPIN_APPROVERS" required:"true" desc:"Comma-separated Slack user IDs (U.../W...) and/or user-group IDs (S...) who approve or deny requests."`
	Admins       []string `envconfig:"UXPIN_ADMINS" required:"true" desc:"Comma-separated Slack user IDs (U.../W...) of the UXPin admins who do the work in UXPin's UI."`
	AuditChannel string   `envconfig:"UXPIN_AUDIT_CHANNEL" desc:"Channel ID (C.../G...) that gets one line per completed, denied or failed request; unset posts none."`

	DBPath   string `envconfig:"UXPIN_DB_PATH" default:"data/uxpin-access.db" desc:"Path of the bbolt database file (created 0600)."`
	HTTPAddr string `envconfig:"UXPIN_HTTP_ADDR" default:"127.0.0.1:8080" emptydisables:"true" desc:"host:port of the listener for /healthz, /readyz and /metrics; set it empty to disable the listener."`

	ReminderInterval time.Duration `envconfig:"UXPIN_REMINDER_INTERVAL" default:"24h" desc:"Go duration; approvers of a pending request are reminded this often."`
	EscalateAfter    time.Duration `envconfig:"UXPIN_ESCALATE_AFTER" default:"48h" desc:"Go duration; an admin task open this long is escalated to another admin and the approvers."`

	AllowedEmailDomains []string `envconfig:"UXPIN_ALLOWED_EMAIL_DOMAINS" desc:"Comma-separated email domains (example.com); a target whose email is outside them is refused. Unset allows any."`

	LogFormat string `envconfig:"UXPIN_LOG_FORMAT" default:"text" desc:"Log format: text or json."`
	LogLevel  string `envconfig:"UXPIN_LOG_LEVEL" default:"info" desc:"Log level: debug, info, warn or error."`

	AdminToken string `envconfig:"UXPIN_ADMIN_TOKEN" secret:"true" json:"-" desc:"Bearer token (at least 16 characters) that unlocks /audit.* and /backup on the HTTP listener; unset keeps them locked."`

	SeatsEditor int `envconfig:"UXPIN_SEATS_EDITOR" desc:"Purchased UXPin Editor seats, for the seat budget; 0 or unset means not tracked."`
	SeatsAdmin  int `envconfig:"UXPIN_SEATS_ADMIN" desc:"Purchased UXPin Admin seats, for the seat budget; 0 or unset means not tracked."`

	MaxAccessDays int `envconfig:"UXPIN_MAX_ACCESS_DAYS" default:"365" desc:"Latest end date a request may ask for, in days from today (1-3650)."`
	LeaverAutoMax int `envconfig:"UXPIN_LEAVER_AUTO_MAX" default:"5" desc:"Most leavers one check removes without asking the approvers; more at once and nothing is removed until an approver acts (0 always asks)."`

	ApprovalsRequired map[string]int `envconfig:"UXPIN_APPROVALS_REQUIRED" desc:"Distinct approvals a grant or change to a role needs, as Role:N pairs (Admin:2,Editor:1); a role not listed needs one."`
	ApproversViewer   []string       `envconfig:"UXPIN_APPROVERS_VIEWER" desc:"Who may approve Viewer grants and changes (IDs as in UXPIN_APPROVERS); unset means UXPIN_APPROVERS."`
	ApproversEditor   []string       `envconfig:"UXPIN_APPROVERS_EDITOR" desc:"Who may approve Editor grants and changes (IDs as in UXPIN_APPROVERS); unset means UXPIN_APPROVERS."`
	ApproversAdmin    []string       `envconfig:"UXPIN_APPROVERS_ADMIN" desc:"Who may approve Admin grants and changes (IDs as in UXPIN_APPROVERS); unset means UXPIN_APPROVERS."`
	AutoApproveRoles  []string       `envconfig:"UXPIN_AUTO_APPROVE_ROLES" desc:"Comma-separated roles granted without an approver (e.g. Viewer), still inside the allowed domains and the seat budget; unset means none."`

	ReviewEvery time.Duration `envconfig:"UXPIN_REVIEW_EVERY" desc:"Go duration between access reviews of every seat, e.g. 2160h (90 days); at least UXPIN_REVIEW_DAYS. Unset: reviews run only on demand (/uxpin-access review)."`
	ReviewDays  int           `envconfig:"UXPIN_REVIEW_DAYS" default:"14" desc:"Days an access review stays open (1-90)."`

	SocketConnections int `envconfig:"UXPIN_SOCKET_CONNECTIONS" default:"2" desc:"Socket Mode connections to hold open, 1-10; with two or more, a refresh or drop of one leaves no gap."`
}

// ConfigError reports one bad configuration variable. Msg never contains a
// secret value, so the error can be printed as it is.
type ConfigError struct {
	Var string // the environment variable, e.g. "SLACK_BOT_TOKEN"
	Msg string // what is wrong, e.g. `must be a bot token starting with "xoxb-"`
}

// Error returns one line that names the variable.
func (e *ConfigError) Error() string {
	return "config: " + e.Var + " " + e.Msg
}

func configErrorf(name, format string, args ...any) *ConfigError {
	return &ConfigError{Var: name, Msg: fmt.Sprintf(format, args...)}
}

var (
	userIDRe    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupIDRe   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	channelIDRe = regexp.MustCompile(`^[CG][A-Z0-9]{2,}$`)
	domainRe    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

	tokenLikeRe = regexp.MustCompile(`(?i)xox[a-z]-|xapp-`)

	durationType = reflect.TypeFor[time.Duration]()
)

const minAdminTokenLen = 16

// LoadConfig reads the configuration through lookup (os.LookupEnv in
// production, a map in tests) and validates it. It never changes the process
// environment. Surrounding spaces are trimmed from every value, list items
// are trimmed and empty items dropped, and an empty value counts as unset:
// a required variable is missing and an optional one takes its default,
// except UXPIN_HTTP_ADDR, which set empty disables the HTTP listener.
//
// The error, if any, is a *ConfigError naming one bad variable (missing or
// unparsable values are reported before invalid ones).
func LoadConfig(lookup func(string) (string, bool)) (*Config, error) {
	c := new(Config)
	if err := c.parse(lookup); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// parse fills c from lookup by the struct tags, converting each value to its
// field's type.
func (c *Config) parse(lookup func(string) (string, bool)) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		raw, set := lookup(name)
		raw = strings.TrimSpace(raw)
		if raw == "" {
			switch {
			case f.Tag.Get("required") == "true":
				if set {
					return configErrorf(name, "is required but empty")
				}
				return configErrorf(name, "is required but not set")
			case set && f.Tag.Get("emptydisables") == "true":
				continue // keep the zero value: disabled
			}
			raw = f.Tag.Get("default")
			if raw == "" {
				continue
			}
		}
		secret := f.Tag.Get("secret") == "true"
		fv := v.Field(i)
		switch {
		case f.Type == durationType:
			d, err := time.ParseDuration(raw)
			if err != nil {
				return configErrorf(name, `must be a Go duration such as "24h" or "90m"; got %s`, quote(raw, secret))
			}
			fv.SetInt(int64(d))
		case f.Type.Kind() == reflect.String:
			fv.SetString(raw)
		case f.Type.Kind() == reflect.Int:
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				return configErrorf(name, "must be a whole number of 0 or more; got %s", quote(raw, secret))
			}
			fv.SetInt(int64(n))
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.String:
			items := splitList(raw)
			if len(items) == 0 && f.Tag.Get("required") == "true" {
				return configErrorf(name, "is required but lists nothing")
			}
			fv.Set(reflect.ValueOf(items))
		case f.Type.Kind() == reflect.Map && f.Type.Key().Kind() == reflect.String && f.Type.Elem().Kind() == reflect.Int:
			// Key:N pairs, as envconfig reads maps.
			m := map[string]int{}
			for _, item := range splitList(raw) {
				k, nv, ok := strings.Cut(item, ":")
				n, err := strconv.Atoi(strings.TrimSpace(nv))
				if !ok || err != nil || strings.TrimSpace(k) == "" {
					return configErrorf(name, "must be Key:N pairs separated by commas (Admin:2,Editor:1); got %s", quote(item, secret))
				}
				m[strings.TrimSpace(k)] = n
			}
			fv.Set(reflect.ValueOf(m))
		default:
			// A programming error in the Config struct, caught by the tests.
			return configErrorf(name, "has unsupported type %s", f.Type)
		}
	}
	return nil
}

// validate checks the meaning of the parsed values and normalizes them.
func (c *Config) validate() error {
	if err := checkToken("SLACK_APP_TOKEN", c.AppToken, "xapp-", "an app-level token"); err != nil {
		return err
	}
	if err := checkToken("SLACK_BOT_TOKEN", c.BotToken, "xoxb-", "a bot token"); err != nil {
		return err
	}

	u, err := url.Parse(c.APIURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return configErrorf("SLACK_API_URL", "must be an http or https URL such as %q; got %s", "https://slack.com/api/", quote(c.APIURL, false))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return configErrorf("SLACK_API_URL", "must be a plain base URL without user info, query or fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	c.APIURL = u.String()

	c.Approvers = dedupe(c.Approvers)
	for _, id := range c.Approvers {
		if !userIDRe.MatchString(id) && !groupIDRe.MatchString(id) {
			return configErrorf("UXPIN_APPROVERS", "must list Slack user IDs (U.../W...) or user-group IDs (S...), not names; %s is neither", quote(id, false))
		}
	}
	c.Admins = dedupe(c.Admins)
	for _, id := range c.Admins {
		if groupIDRe.MatchString(id) {
			return configErrorf("UXPIN_ADMINS", "must list Slack user IDs (U.../W...); %s is a user group, list its members instead", quote(id, false))
		}
		if !userIDRe.MatchString(id) {
			return configErrorf("UXPIN_ADMINS", "must list Slack user IDs (U.../W...), not names; %s is not one", quote(id, false))
		}
	}
	if c.AuditChannel != "" && !channelIDRe.MatchString(c.AuditChannel) {
		return configErrorf("UXPIN_AUDIT_CHANNEL", "must be a channel ID (C... or G..., shown in the channel's details), not a name; got %s", quote(c.AuditChannel, false))
	}

	if c.HTTPAddr != "" {
		_, port, err := net.SplitHostPort(c.HTTPAddr)
		n, perr := strconv.Atoi(port)
		if err != nil || perr != nil || n < 0 || n > 65535 {
			return configErrorf("UXPIN_HTTP_ADDR", "must be host:port such as %q (or set empty to disable); got %s", "127.0.0.1:8080", quote(c.HTTPAddr, false))
		}
	}

	if c.ReminderInterval <= 0 {
		return configErrorf("UXPIN_REMINDER_INTERVAL", "must be a positive duration; got %s", c.ReminderInterval)
	}
	if c.EscalateAfter <= 0 {
		return configErrorf("UXPIN_ESCALATE_AFTER", "must be a positive duration; got %s", c.EscalateAfter)
	}
	if err := c.validatePolicies(); err != nil {
		return err
	}
	if c.MaxAccessDays < 1 || c.MaxAccessDays > 3650 {
		return configErrorf("UXPIN_MAX_ACCESS_DAYS", "must be a number of days from 1 to 3650; got %d", c.MaxAccessDays)
	}
	if c.LeaverAutoMax < 0 {
		return configErrorf("UXPIN_LEAVER_AUTO_MAX", "must be 0 or more; got %d", c.LeaverAutoMax)
	}
	if c.ReviewDays < 1 || c.ReviewDays > 90 {
		return configErrorf("UXPIN_REVIEW_DAYS", "must be a number of days from 1 to 90; got %d", c.ReviewDays)
	}
	if length := time.Duration(c.ReviewDays) * 24 * time.Hour; c.ReviewEvery != 0 && c.ReviewEvery < length {
		return configErrorf("UXPIN_REVIEW_EVERY", "must be at least the review's length (UXPIN_REVIEW_DAYS=%d, %s) so reviews do not overlap, or unset for reviews on demand only; got %s", c.ReviewDays, length, c.ReviewEvery)
	}

	domains := make([]string, 0, len(c.AllowedEmailDomains))
	for _, d := range c.AllowedEmailDomains {
		d = strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(d), "@"), ".")
		if len(d) > 253 || !domainRe.MatchString(d) {
			return configErrorf("UXPIN_ALLOWED_EMAIL_DOMAINS", "must list email domains such as %q; %s is not one", "example.com", quote(d, false))
		}
		domains = append(domains, d)
	}
	c.AllowedEmailDomains = dedupe(domains)

	c.LogFormat = strings.ToLower(c.LogFormat)
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return configErrorf("UXPIN_LOG_FORMAT", "must be text or json; got %s", quote(c.LogFormat, false))
	}
	c.LogLevel = strings.ToLower(c.LogLevel)
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return configErrorf("UXPIN_LOG_LEVEL", "must be debug, info, warn or error; got %s", quote(c.LogLevel, false))
	}

	if c.AdminToken != "" {
		if len(c.AdminToken) < minAdminTokenLen {
			return configErrorf("UXPIN_ADMIN_TOKEN", "must be at least %d characters long", minAdminTokenLen)
		}
		if strings.ContainsFunc(c.AdminToken, isSpaceOrControl) {
			return configErrorf("UXPIN_ADMIN_TOKEN", "must not contain spaces or control characters")
		}
		if strings.Contains(c.AdminToken, placeholder) {
			return configErrorf("UXPIN_ADMIN_TOKEN", "still holds the placeholder from config.example.env; set a random token")
		}
	}
	if c.SocketConnections < 1 || c.SocketConnections > 10 {
		return configErrorf("UXPIN_SOCKET_CONNECTIONS", "must be from 1 to 10 (Slack allows up to 10 connections); got %d", c.SocketConnections)
	}
	return nil
}

// checkToken checks that a Slack token has the wanted prefix, naming the
// kind it has instead (so swapped tokens are obvious) without echoing it.
func checkToken(name, token, prefix, kind string) error {
	if !strings.HasPrefix(token, prefix) {
		msg := fmt.Sprintf("must be %s starting with %q", kind, prefix)
		if p, got := tokenKind(token); got != "" {
			msg += "; it looks like " + got
			if (prefix == "xapp-" && p == "xoxb-") || (prefix == "xoxb-" && p == "xapp-") {
				msg += " (are SLACK_APP_TOKEN and SLACK_BOT_TOKEN swapped?)"
			}
		}
		return configErrorf(name, "%s", msg)
	}
	if len(token) == len(prefix) {
		return configErrorf(name, "must be %s starting with %q; it has nothing after the prefix", kind, prefix)
	}
	if strings.ContainsFunc(token, isSpaceOrControl) {
		return configErrorf(name, "must not contain spaces or control characters")
	}
	if strings.Contains(token, placeholder) {
		return configErrorf(name, "still holds the placeholder from config.example.env; set the real token")
	}
	return nil
}

// placeholder marks the made-up values in config.example.env.
const placeholder = "replace-me"

// tokenKinds maps Slack token prefixes to what they are.
var tokenKinds = []struct{ prefix, kind string }{
	{"xapp-", "an app-level token"},
	{"xoxb-", "a bot token"},
	{"xoxp-", "a user token"},
	{"xoxe-", "a refresh or configuration token"},
	{"xoxc-", "a browser session token"},
	{"xoxa-", "a workspace app token"},
}

// tokenKind returns the prefix and kind of Slack token s looks like, or "".
func tokenKind(s string) (prefix, kind string) {
	for _, k := range tokenKinds {
		if strings.HasPrefix(s, k.prefix) {
			return k.prefix, k.kind
		}
	}
	return "", ""
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}

// quote returns s quoted for an error message, hiding it if it is secret or
// looks like a token (a token pasted into the wrong variable must not leak).
func quote(s string, secret bool) string {
	if secret || looksSecret(s) {
		return "(value hidden)"
	}
	const maxLen = 64
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strconv.Quote(s)
}

// looksSecret reports whether s contains something like a Slack token.
func looksSecret(s string) bool {
	return tokenLikeRe.MatchString(s)
}

// splitList splits a comma-separated value, trims the items and drops the
// empty ones.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// dedupe removes repeated items, keeping the first of each in order.
func dedupe(items []string) []string {
	seen := make(map[string]bool, len(items))
	out := items[:0]
	for _, it := range items {
		if !seen[it] {
			seen[it] = true
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// roleVars names each role's approver variable.
var roleVars = []struct {
	role access.Role
	name string
}{{access.RoleViewer, "UXPIN_APPROVERS_VIEWER"}, {access.RoleEditor, "UXPIN_APPROVERS_EDITOR"}, {access.RoleAdmin, "UXPIN_APPROVERS_ADMIN"}}

// roleApprovers returns the configured IDs of role's own approvers, or nil.
func (c *Config) roleApprovers(role access.Role) []string {
	switch role {
	case access.RoleViewer:
		return c.ApproversViewer
	case access.RoleEditor:
		return c.ApproversEditor
	case access.RoleAdmin:
		return c.ApproversAdmin
	}
	return nil
}

// parseRole reads a role name as a person would write it.
func parseRole(s string) (access.Role, bool) {
	r := access.Role(strings.ToLower(strings.TrimSpace(s)))
	return r, r.Valid()
}

// validatePolicies checks the approval policy variables (SPEC §10).
func (c *Config) validatePolicies() error {
	for _, rv := range roleVars {
		ids := dedupe(c.roleApprovers(rv.role))
		for _, id := range ids {
			if !userIDRe.MatchString(id) && !groupIDRe.MatchString(id) {
				return configErrorf(rv.name, "must list Slack user IDs (U.../W...) or user-group IDs (S...), not names; %s is neither", quote(id, false))
			}
		}
		switch rv.role {
		case access.RoleViewer:
			c.ApproversViewer = ids
		case access.RoleEditor:
			c.ApproversEditor = ids
		case access.RoleAdmin:
			c.ApproversAdmin = ids
		}
	}
	for k, n := range c.ApprovalsRequired {
		role, ok := parseRole(k)
		if !ok {
			return configErrorf("UXPIN_APPROVALS_REQUIRED", "must be Role:N pairs with Viewer, Editor or Admin (Admin:2,Editor:1); %s is not a role", quote(k, false))
		}
		if n < 1 || n > 10 {
			return configErrorf("UXPIN_APPROVALS_REQUIRED", "must ask for 1 to 10 approvals per role; %s:%d is not", role.Label(), n)
		}
		ids := c.roleApprovers(role)
		name := "UXPIN_APPROVERS_" + strings.ToUpper(string(role))
		if ids == nil {
			ids, name = c.Approvers, "UXPIN_APPROVERS"
		}
		groups := false
		for _, id := range ids {
			groups = groups || groupIDRe.MatchString(id)
		}
		if !groups && n > len(ids) {
			return configErrorf("UXPIN_APPROVALS_REQUIRED", "%s:%d needs %d different approvers but %s names %d", role.Label(), n, n, name, len(ids))
		}
	}
	for i, s := range c.AutoApproveRoles {
		role, ok := parseRole(s)
		if !ok {
			return configErrorf("UXPIN_AUTO_APPROVE_ROLES", "must list roles (Viewer, Editor, Admin); %s is not one", quote(s, false))
		}
		c.AutoApproveRoles[i] = role.Label()
	}
	c.AutoApproveRoles = dedupe(c.AutoApproveRoles)
	return nil
}

// Required returns UXPIN_APPROVALS_REQUIRED by role.
func (c *Config) Required() map[access.Role]int {
	out := map[access.Role]int{}
	for k, n := range c.ApprovalsRequired {
		if role, ok := parseRole(k); ok {
			out[role] = n
		}
	}
	return out
}

// AutoRoles returns UXPIN_AUTO_APPROVE_ROLES as roles.
func (c *Config) AutoRoles() []access.Role {
	var out []access.Role
	for _, s := range c.AutoApproveRoles {
		if role, ok := parseRole(s); ok {
			out = append(out, role)
		}
	}
	return out
}

// RoleApprovers returns, for each role with its own approvers, their user
// IDs and user-group IDs.
func (c *Config) RoleApprovers() map[access.Role][2][]string {
	out := map[access.Role][2][]string{}
	for _, rv := range roleVars {
		ids := c.roleApprovers(rv.role)
		if ids == nil {
			continue
		}
		var users, groups []string
		for _, id := range ids {
			if groupIDRe.MatchString(id) {
				groups = append(groups, id)
			} else {
				users = append(users, id)
			}
		}
		out[rv.role] = [2][]string{users, groups}
	}
	return out
}

// ApproverUsers returns the user IDs (U.../W...) in UXPIN_APPROVERS.
func (c *Config) ApproverUsers() []string {
	var out []string
	for _, id := range c.Approvers {
		if userIDRe.MatchString(id) {
			out = append(out, id)
		}
	}
	return out
}

// ApproverGroups returns the user-group IDs (S...) in UXPIN_APPROVERS, whose
// members the bot resolves at run time.
func (c *Config) ApproverGroups() []string {
	var out []string
	for _, id := range c.Approvers {
		if groupIDRe.MatchString(id) {
			out = append(out, id)
		}
	}
	return out
}

// SlogLevel returns UXPIN_LOG_LEVEL as a slog.Level.
func (c *Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

const redacted = "[redacted]"

// fields calls fn for every variable with a printable value: secrets become
// "[redacted]" when set and "" when not.
func (c Config) fields(fn func(name string, v any)) {
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("envconfig")
		if name == "" {
			continue
		}
		fv := v.Field(i)
		switch {
		case f.Tag.Get("secret") == "true":
			if fv.IsZero() {
				fn(name, "")
			} else {
				fn(name, redacted)
			}
		case f.Type == durationType:
			fn(name, time.Duration(fv.Int()).String())
		default:
			fn(name, fv.Interface())
		}
	}
}

// String returns the configuration with secrets redacted, so that printing a
// Config never shows a token.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("Config{")
	first := true
	c.fields(func(name string, v any) {
		if !first {
			b.WriteString(" ")
		}
		first = false
		if s, ok := v.([]string); ok {
			v = strings.Join(s, ",")
		}
		fmt.Fprintf(&b, "%s=%q", name, fmt.Sprint(v))
	})
	b.WriteString("}")
	return b.String()
}

// GoString is String, so that %#v redacts secrets too.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with secrets redacted.
func (c Config) LogValue() slog.Value {
	var attrs []slog.Attr
	c.fields(func(name string, v any) {
		attrs = append(attrs, slog.Any(name, v))
	})
	return slog.GroupValue(attrs...)
}

const usageFormat = `Configuration is read from these environment variables. Surrounding spaces
are trimmed; an empty value counts as unset, except for UXPIN_HTTP_ADDR.
{{range .}}
{{usage_key .}} ({{if usage_required .}}required{{else if usage_default .}}default {{printf "%q" (usage_default .)}}{{else}}optional{{end}}{{if .Tags.Get "secret"}}, secret{{end}})
    {{usage_description .}}
{{end}}`

// Usage writes every configuration variable with whether it is required or
// its default, and its meaning. It prints nothing from the environment.
func Usage(w io.Writer) {
	// Usagef fails only on a bad template or spec, which the tests catch.
	if err := envconfig.Usagef("", &Config{}, w, usageFormat); err != nil {
		fmt.Fprintf(w, "usage: %v\n", err)
	}
}
