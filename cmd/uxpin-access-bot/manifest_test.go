package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
)

const (
	manifestPath = "../../slack-app-manifest.yaml"
	// Slack's manifest schema for major version 1, copied from
	// slackapi/manifest-schema so a fresh clone needs no network.
	manifestSchemaPath = "../../testdata/slack-manifest-schema/manifest.schema.1.0.0.json"
)

// manifestSchema compiles Slack's app manifest JSON schema.
func manifestSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	data, err := os.ReadFile(manifestSchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse %s: %v", manifestSchemaPath, err)
	}
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(ecmaRegexp)
	const url = "https://slack.example/manifest.schema.1.0.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compile %s: %v", manifestSchemaPath, err)
	}
	return sch
}

// ecmaRegexp compiles JSON-schema patterns as ECMAScript regular
// expressions, as the spec says: Slack's schema uses lookaheads, which Go's
// regexp package lacks.
func ecmaRegexp(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*ecmaRe)(re), nil
}

type ecmaRe regexp2.Regexp

func (re *ecmaRe) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecmaRe) String() string { return (*regexp2.Regexp)(re).String() }

// yamlToJSONValue turns YAML into the value the JSON-schema validator
// expects (maps, slices, json.Number, strings, bools, nil).
func yamlToJSONValue(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse YAML: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("YAML to JSON: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// manifest is the part of the app manifest that the bot relies on.
type manifest struct {
	Metadata struct {
		MajorVersion int `yaml:"major_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name string `yaml:"name"`
	} `yaml:"display_information"`
	Features struct {
		AppHome struct {
			HomeTabEnabled             bool `yaml:"home_tab_enabled"`
			MessagesTabEnabled         bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnlyEnabled bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser struct {
			DisplayName string `yaml:"display_name"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command      string  `yaml:"command"`
			URL          *string `yaml:"url"`
			UsageHint    string  `yaml:"usage_hint"`
			ShouldEscape bool    `yaml:"should_escape"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot []string `yaml:"bot"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			RequestURL *string  `yaml:"request_url"`
			BotEvents  []string `yaml:"bot_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled  bool    `yaml:"is_enabled"`
			RequestURL *string `yaml:"request_url"`
		} `yaml:"interactivity"`
		SocketModeEnabled    bool `yaml:"socket_mode_enabled"`
		TokenRotationEnabled bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

func TestManifestSchema(t *testing.T) {
	t.Parallel()
	sch := manifestSchema(t)
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		if err := sch.Validate(yamlToJSONValue(t, data)); err != nil {
			t.Errorf("%s does not match Slack's manifest schema:\n%v", manifestPath, err)
		}
	})

	// Broken copies must fail, or the validation above proves nothing.
	broken := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"unknown top-level key", func(m map[string]any) { m["not_a_manifest_key"] = true }},
		{"wrong type", func(m map[string]any) {
			m["settings"].(map[string]any)["socket_mode_enabled"] = "yes"
		}},
		{"missing display_information", func(m map[string]any) { delete(m, "display_information") }},
		{"unknown slash command field", func(m map[string]any) {
			cmds := m["features"].(map[string]any)["slash_commands"].([]any)
			cmds[0].(map[string]any)["handler"] = "x"
		}},
		{"command without slash", func(m map[string]any) {
			cmds := m["features"].(map[string]any)["slash_commands"].([]any)
			cmds[0].(map[string]any)["command"] = "uxpin-access"
		}},
		{"name too long", func(m map[string]any) {
			m["display_information"].(map[string]any)["name"] = "UXPin Access with a name far too long for Slack"
		}},
	}
	for _, tt := range broken {
		t.Run("broken/"+tt.name, func(t *testing.T) {
			t.Parallel()
			inst := yamlToJSONValue(t, data) // a fresh copy to change
			m, ok := inst.(map[string]any)
			if !ok {
				t.Fatalf("manifest is %T; want a mapping", inst)
			}
			tt.mutate(m)
			if err := sch.Validate(m); err == nil {
				t.Errorf("Validate(manifest with %s) = nil; want a schema error", tt.name)
			}
		})
	}
}

// TestManifestContent checks what the bot needs from the app beyond the
// schema: Socket Mode, the slash command, scopes and events.
func TestManifestContent(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("parse %s: %v", manifestPath, err)
	}

	if m.Metadata.MajorVersion != 1 {
		t.Errorf("_metadata.major_version = %d; want 1 (the schema tested against)", m.Metadata.MajorVersion)
	}
	if m.DisplayInformation.Name != "UXPin Access" {
		t.Errorf("display_information.name = %q; want %q", m.DisplayInformation.Name, "UXPin Access")
	}
	if !m.Settings.SocketModeEnabled {
		t.Error("settings.socket_mode_enabled = false; want true")
	}
	if m.Settings.TokenRotationEnabled {
		t.Error("settings.token_rotation_enabled = true; want false (the bot token is static)")
	}
	if !m.Settings.Interactivity.IsEnabled {
		t.Error("settings.interactivity.is_enabled = false; want true (buttons and modals)")
	}
	if m.Settings.Interactivity.RequestURL != nil || m.Settings.EventSubscriptions.RequestURL != nil {
		t.Error("manifest has a request_url; want none with Socket Mode")
	}
	ah := m.Features.AppHome
	if !ah.HomeTabEnabled || !ah.MessagesTabEnabled || ah.MessagesTabReadOnlyEnabled {
		t.Errorf("features.app_home = %+v; want home and messages tabs on, messages not read-only", ah)
	}
	if m.Features.BotUser.DisplayName != "uxpin-access" {
		t.Errorf("features.bot_user.display_name = %q; want %q", m.Features.BotUser.DisplayName, "uxpin-access")
	}

	if n := len(m.Features.SlashCommands); n != 1 {
		t.Fatalf("features.slash_commands has %d commands; want 1", n)
	}
	cmd := m.Features.SlashCommands[0]
	if cmd.Command != "/uxpin-access" {
		t.Errorf("slash command = %q; want %q", cmd.Command, "/uxpin-access")
	}
	if cmd.URL != nil {
		t.Errorf("slash command url = %q; want none with Socket Mode", *cmd.URL)
	}
	// "offboard @user" needs the user's ID, which Slack only sends (as
	// <@U123|name>) when the command escapes mentions.
	if !cmd.ShouldEscape {
		t.Error("slash command should_escape = false; want true")
	}
	const hint = "[offboard @user … | status | pending | roster | reconcile | review | help]"
	if cmd.UsageHint != hint {
		t.Errorf("slash command usage_hint = %q; want %q", cmd.UsageHint, hint)
	}
	// Every subcommand the bot understands is in the hint.
	for _, sub := range []string{"offboard", "status", "pending", "roster", "reconcile", "review", "help"} {
		if handlers.ParseCommand(sub).Name != sub {
			t.Errorf("ParseCommand(%q) does not know it; the hint lists it", sub)
		}
	}

	for _, scope := range []string{
		"commands", "chat:write", "im:write", "im:history", "channels:history", "groups:history", "files:read", "files:write",
		"users:read", "users:read.email", "usergroups:read",
	} {
		if !slices.Contains(m.OAuthConfig.Scopes.Bot, scope) {
			t.Errorf("oauth_config.scopes.bot = %v; want it to contain %q", m.OAuthConfig.Scopes.Bot, scope)
		}
	}
	for _, event := range []string{"app_home_opened", "user_change", "message.im"} {
		if !slices.Contains(m.Settings.EventSubscriptions.BotEvents, event) {
			t.Errorf("settings.event_subscriptions.bot_events = %v; want it to contain %q", m.Settings.EventSubscriptions.BotEvents, event)
		}
	}
}
