package playground

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
)

func testRenderer() *Renderer {
	return &Renderer{
		Name: func(id string) string {
			return map[string]string{"U0PRIYA01": "Priya Natarajan", "U0LUCAS01": "Lucas Martin"}[id]
		},
		People: []Person{
			{ID: "U0PRIYA01", Name: "Priya Natarajan"},
			{ID: "U0LUCAS01", Name: "Lucas Martin"},
			{ID: "U0TOMAS01", Name: "Tomás Novak", Deleted: true},
		},
	}
}

// TestRenderBlocks renders each block and element type the bot uses and
// checks what the page needs of it: the text, the interactive element with
// its block and action IDs, and the details (style, confirm, options,
// initial values).
func TestRenderBlocks(t *testing.T) {
	for _, c := range []struct {
		name  string
		block string
		want  []string
	}{
		{"section text", `{"type":"section","block_id":"s","text":{"type":"mrkdwn","text":"*R-1* for <@U0LUCAS01>"}}`,
			[]string{`class="bk-block bk-section"`, `<b>R-1</b>`, `@Lucas Martin`}},
		{"section fields", `{"type":"section","fields":[{"type":"mrkdwn","text":"*Action*\nGrant"},{"type":"plain_text","text":"Editor"}]}`,
			[]string{`class="bk-fields"`, `<div class="bk-field"><b>Action</b><br>Grant</div>`, `<div class="bk-field">Editor</div>`}},
		{"section accessory", `{"type":"section","block_id":"b","text":{"type":"mrkdwn","text":"x"},"accessory":{"type":"button","action_id":"a","value":"R-1","text":{"type":"plain_text","text":"Open"}}}`,
			[]string{`class="bk-accessory"`, `data-block-id="b" data-action-id="a"`, `data-value="R-1"`, `>Open</button>`}},
		{"header", `{"type":"header","text":{"type":"plain_text","text":"UXPin access request R-1"}}`,
			[]string{`<h3 class="bk-header-text">UXPin access request R-1</h3>`}},
		{"context", `{"type":"context","elements":[{"type":"mrkdwn","text":":hourglass: Waiting"},{"type":"plain_text","text":"plain"}]}`,
			[]string{`bk-context-item`, `⌛`, `Waiting`, `plain`}},
		{"divider", `{"type":"divider"}`, []string{`<hr class="bk-hr">`}},
		{"actions with styled buttons", `{"type":"actions","block_id":"decide_R-1","elements":[
			{"type":"button","action_id":"uxpin_approve","value":"R-1","style":"primary","text":{"type":"plain_text","text":"Approve"}},
			{"type":"button","action_id":"uxpin_deny","value":"R-1","style":"danger","text":{"type":"plain_text","text":"Deny"}}]}`,
			[]string{`bk-button bk-button-primary`, `bk-button bk-button-danger`, `data-block-id="decide_R-1" data-action-id="uxpin_approve"`, `>Deny</button>`}},
		{"button with confirm", `{"type":"actions","elements":[{"type":"button","action_id":"x","text":{"type":"plain_text","text":"Approve anyway"},
			"confirm":{"title":{"type":"plain_text","text":"Past the seat budget"},"text":{"type":"mrkdwn","text":"*No* seats left"},"confirm":{"type":"plain_text","text":"Approve"},"deny":{"type":"plain_text","text":"Back"},"style":"danger"}}]}`,
			[]string{`data-confirm="{&#34;confirm&#34;:&#34;Approve&#34;,&#34;deny&#34;:&#34;Back&#34;,&#34;style&#34;:&#34;danger&#34;,&#34;text&#34;:&#34;\u003cb\u003eNo\u003c/b\u003e seats left&#34;,&#34;title&#34;:&#34;Past the seat budget&#34;}"`}},
		{"static select", `{"type":"actions","elements":[{"type":"static_select","action_id":"pick","placeholder":{"type":"plain_text","text":"Choose"},
			"options":[{"text":{"type":"plain_text","text":"Grant access"},"value":"grant"},{"text":{"type":"plain_text","text":"Remove access"},"value":"remove"}],
			"initial_option":{"text":{"type":"plain_text","text":"Remove access"},"value":"remove"}}]}`,
			[]string{`<select class="bk-select" data-type="static_select"`, `<option value="">Choose</option>`, `<option value="remove" selected>Remove access</option>`}},
		{"users select", `{"type":"input","block_id":"target","label":{"type":"plain_text","text":"For whom?"},"element":{"type":"users_select","action_id":"target","initial_user":"U0PRIYA01"}}`,
			[]string{`data-type="users_select" data-block-id="target" data-action-id="target" data-form="1"`, `<option value="U0PRIYA01" selected>Priya Natarajan</option>`, `<option value="U0LUCAS01">Lucas Martin</option>`}},
		{"datepicker", `{"type":"input","block_id":"end_date","optional":true,"label":{"type":"plain_text","text":"End date"},"element":{"type":"datepicker","action_id":"end_date","initial_date":"2026-12-31"}}`,
			[]string{`<input type="date"`, `value="2026-12-31"`, `(optional)`, `data-error-for="end_date"`}},
		{"radio buttons", `{"type":"input","block_id":"r","label":{"type":"plain_text","text":"Action"},"element":{"type":"radio_buttons","action_id":"a",
			"options":[{"text":{"type":"plain_text","text":"Keep"},"value":"keep"},{"text":{"type":"plain_text","text":"Remove"},"value":"remove"}],
			"initial_option":{"text":{"type":"plain_text","text":"Keep"},"value":"keep"}}}`,
			[]string{`data-type="radio_buttons"`, `<input type="radio" name="r-r-a" value="keep" checked> Keep`, `value="remove"> Remove`}},
		{"plain text input", `{"type":"input","block_id":"j","label":{"type":"plain_text","text":"Why"},"hint":{"type":"plain_text","text":"Required"},"element":{"type":"plain_text_input","action_id":"j","initial_value":"a & b","max_length":300}}`,
			[]string{`<input type="text" class="bk-textinput"`, `value="a &amp; b"`, `maxlength="300"`, `<div class="bk-hint">Required</div>`}},
		{"multiline input", `{"type":"input","block_id":"j","label":{"type":"plain_text","text":"Why"},"element":{"type":"plain_text_input","action_id":"j","multiline":true,"placeholder":{"type":"plain_text","text":"Which project?"}}}`,
			[]string{`<textarea class="bk-textinput"`, `placeholder="Which project?"`}},
		{"overflow menu", `{"type":"section","block_id":"f","text":{"type":"mrkdwn","text":"finding"},"accessory":{"type":"overflow","action_id":"more",
			"options":[{"text":{"type":"plain_text","text":"Request removal"},"value":"rm"},{"text":{"type":"plain_text","text":"Record as existing"},"value":"rec"}]}}`,
			[]string{`<details class="bk-overflow" data-type="overflow" data-block-id="f" data-action-id="more">`, `data-value="rm">Request removal</button>`, `data-value="rec">Record as existing</button>`}},
		{"unknown block", `{"type":"rich_text","elements":[]}`,
			[]string{`class="bk-unknown" data-unknown="rich_text"`, `Unsupported block type <code>rich_text</code>`, `bk-raw`}},
		{"unknown element", `{"type":"actions","elements":[{"type":"workflow_button","action_id":"w"}]}`,
			[]string{`data-unknown="workflow_button"`, `Unsupported element type`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := testRenderer().Blocks(json.RawMessage("["+c.block+"]"), nil)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("Blocks(%s)\n= %s\nwant it to contain %s", c.block, got, w)
				}
			}
		})
	}
}

// TestRenderPlainTextLiterally checks that plain_text is shown as Slack
// shows it: as typed, with only Slack's three entities decoded, its lines
// kept, and :shortcodes: left alone when emoji is false; and that verbatim
// mrkdwn still formats (verbatim only stops Slack linking bare URLs).
func TestRenderPlainTextLiterally(t *testing.T) {
	r := testRenderer()
	for _, c := range []struct {
		name, block string
		want, not   []string
	}{
		{"forged text", `{"type":"section","text":{"type":"plain_text","emoji":false,"text":"*APPROVED BY CISO* &lt;https://evil.example|click&gt; https://evil.example _x_ ~y~ ` + "`z`" + `"}}`,
			[]string{`*APPROVED BY CISO* &lt;https://evil.example|click&gt; https://evil.example _x_ ~y~ ` + "`z`"},
			[]string{"<b>", "<i>", "<s>", "<code>", "<a "}},
		{"shortcodes stay with emoji false", `{"type":"context","elements":[{"type":"plain_text","emoji":false,"text":":white_check_mark: approved"}]}`,
			[]string{":white_check_mark: approved"}, []string{"✅"}},
		{"shortcodes become emoji by default", `{"type":"section","text":{"type":"plain_text","text":":white_check_mark: ok"}}`,
			[]string{"✅ ok"}, nil},
		{"lines", `{"type":"section","text":{"type":"plain_text","emoji":false,"text":"Why: one\ntwo"}}`,
			[]string{"Why: one<br>two"}, nil},
		{"mentions are not parsed", `{"type":"section","text":{"type":"plain_text","emoji":false,"text":"&lt;@U0PRIYA01&gt; &lt;!channel&gt;"}}`,
			[]string{"&lt;@U0PRIYA01&gt; &lt;!channel&gt;"}, []string{"bk-mention", "Priya"}},
		{"verbatim mrkdwn formats", `{"type":"section","text":{"type":"mrkdwn","verbatim":true,"text":"*R-1* for <@U0LUCAS01>"}}`,
			[]string{"<b>R-1</b>", "@Lucas Martin"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := r.Blocks(json.RawMessage("["+c.block+"]"), nil)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("Blocks(%s)\n= %s\nwant it to contain %s", c.block, got, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(got, n) {
					t.Errorf("Blocks(%s)\n= %s\nwant it not to contain %s", c.block, got, n)
				}
			}
		})
	}
}

// TestRenderForgedCard renders the bot's own approval card for a request
// whose justification and deny reason are forged: the page shows the text
// as typed, with no bold, italics or link made of it.
func TestRenderForgedCard(t *testing.T) {
	const forged = "*APPROVED BY CISO* <https://evil.example|click> https://evil.example _x_"
	req := &access.Request{ID: "R-9", Action: access.ActionGrant, Requester: "U0PRIYA01", Target: "U0LUCAS01",
		TargetEmail: "lucas@example.com", Role: access.RoleEditor, Justification: forged,
		State: access.StateDenied, DecidedBy: "U0PRIYA01", DenyReason: forged}
	_, blocks := handlers.Render(access.Notice{Kind: access.NoticeApprovalCard, RequestID: req.ID}, req)
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	got := testRenderer().Blocks(raw, nil)
	shown := "*APPROVED BY CISO* &lt;https://evil.example|click&gt; https://evil.example _x_"
	if n := strings.Count(got, shown); n != 2 {
		t.Errorf("the justification and the reason are shown as typed %d times; want 2:\n%s", n, got)
	}
	for _, bad := range []string{"<b>APPROVED", `href="https://evil.example"`, "<i>x</i>"} {
		if strings.Contains(got, bad) {
			t.Errorf("the page formats forged text (%s):\n%s", bad, got)
		}
	}
}

func TestRenderInputErrorsAndDeactivatedUsers(t *testing.T) {
	got := testRenderer().Blocks(json.RawMessage(`[{"type":"input","block_id":"role","label":{"type":"plain_text","text":"Role"},"element":{"type":"users_select","action_id":"u"}}]`),
		map[string]string{"role": "Choose a role <now>"})
	if !strings.Contains(got, `data-error-for="role">Choose a role &lt;now&gt;</div>`) {
		t.Errorf("the error is not shown under its input: %s", got)
	}
	if strings.Contains(got, "Tomás") {
		t.Errorf("a deactivated person is offered in a users select: %s", got)
	}
}

func TestMrkdwn(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"*bold* and _italics_ and ~gone~", "<b>bold</b> and <i>italics</i> and <s>gone</s>"},
		{"run `/uxpin-access status`", "run <code>/uxpin-access status</code>"},
		{"`*not bold*`", "<code>*not bold*</code>"},
		{"ask <@U0PRIYA01>", `ask <span class="bk-mention" data-user="U0PRIYA01">@Priya Natarajan</span>`},
		{"<@U0NOBODY|nobody>", `@nobody</span>`},
		{"<https://app.uxpin.com|UXPin>", `<a href="https://app.uxpin.com" target="_blank" rel="noopener noreferrer">UXPin</a>`},
		{"<mailto:a@b.example>", `>a@b.example</a>`},
		{"<javascript:alert(1)|click>", "click"},
		{"<#C0AUDIT|uxpin-audit>", "#uxpin-audit"},
		{"<!here>", "@here"},
		{":white_check_mark: done :not_an_emoji:", `✅</span> done :not_an_emoji:`},
		{"a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"},
		// Unescaped < starts a Slack token; it never becomes HTML.
		{"<b>raw html</b>", "braw html/b"},
		{"<img src=x onerror=alert(1)>", "img src=x onerror=alert(1)"},
		{"line one\nline two", "line one<br>line two"},
		{"&gt; quoted\nafter", "<blockquote>quoted</blockquote>after"},
		{"```\ncode *x*\n```", `<pre class="bk-pre">code *x*</pre>`},
		{"snake_case_name stays", "snake_case_name stays"},
	} {
		if got := Mrkdwn(c.in, testRenderer().Name); !strings.Contains(got, c.want) {
			t.Errorf("Mrkdwn(%q) = %q; want it to contain %q", c.in, got, c.want)
		}
	}
}

// TestScopesMatchManifest keeps the simulated Slack's scopes equal to the
// published app's, so the playground refuses what real Slack would.
func TestScopesMatchManifest(t *testing.T) {
	data, err := os.ReadFile("../slack-app-manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	got, want := slices.Sorted(slices.Values(Scopes)), slices.Sorted(slices.Values(m.OAuth.Scopes.Bot))
	if !slices.Equal(got, want) {
		t.Errorf("Scopes = %v; the manifest has %v", got, want)
	}
}

// TestTeam checks that Mark done changes the simulated team as the task
// says and that its CSV is what the seat audit reads.
func TestTeam(t *testing.T) {
	var team Team
	team.set(seedTeam())
	team.Apply(&access.Request{Action: access.ActionGrant, TargetEmail: "lucas.martin@" + Domain, TargetName: "Lucas Martin", Role: access.RoleEditor})
	team.Apply(&access.Request{Action: access.ActionChange, TargetEmail: "HANNA.BERG@" + Domain, Role: access.RoleViewer})
	team.Apply(&access.Request{Action: access.ActionRemove, TargetEmail: "tomas.novak@" + Domain})
	members, warnings, err := access.ParseTeamList(team.CSV())
	if err != nil || len(warnings) > 0 {
		t.Fatalf("ParseTeamList(team CSV) = %v, %v", warnings, err)
	}
	got := map[string]access.Role{}
	for _, m := range members {
		got[m.Email] = m.Role
	}
	want := map[string]access.Role{
		"kenji.watanabe@" + Domain: access.RoleAdmin, "amara.okafor@" + Domain: access.RoleAdmin,
		"hanna.berg@" + Domain: access.RoleViewer, "lucas.martin@" + Domain: access.RoleEditor,
		"jordan.blake@studio-freelance.example": access.RoleViewer,
	}
	if len(got) != len(want) {
		t.Errorf("team = %v; want %v", got, want)
	}
	for e, r := range want {
		if got[e] != r {
			t.Errorf("team[%s] = %q; want %q (team %v)", e, got[e], r, got)
		}
	}
}
