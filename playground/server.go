package playground

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/handlers"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

//go:embed static
var static embed.FS

// actTimeout bounds one interaction: Slack's 3 s ack and a little more.
const actTimeout = 10 * time.Second

// Handler returns the page and its API:
//
//	GET  /                the page (static/index.html, app.js, app.css)
//	GET  /events          server-sent events: "change" whenever anything shown may have changed
//	GET  /api/state       everything the page shows, rendered (?extra=U… adds a column)
//	POST /api/slash       {user, text}: /uxpin-access text, as a slash_commands envelope
//	POST /api/action      {user, channel, ts | home | view_id, block_id, action_id, value, form}: block_actions
//	POST /api/submit      {user, view_id, form}: view_submission; answers {errors} when the bot refuses
//	POST /api/close       {user, view_id}: the user closes a modal
//	POST /api/home        {user}: the user opens the Home tab (app_home_opened)
//	POST /api/clock       {advance: "1h" | "24h" | "168h"}: move the clock ahead
//	POST /api/deactivate  {user}: deactivate the person in Slack (a user_change event)
//	GET  /api/team.csv    the simulated UXPin team as UXPin's CSV export
//
// Every request must name the playground's own address as its Host and,
// if it has an Origin, come from its own page (see guard.go); others get
// 403.
func (p *Playground) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("GET /events", p.events)
	mux.HandleFunc("GET /api/state", p.state)
	mux.HandleFunc("POST /api/slash", p.post(p.slash))
	mux.HandleFunc("POST /api/action", p.post(p.action))
	mux.HandleFunc("POST /api/submit", p.post(p.submit))
	mux.HandleFunc("POST /api/close", p.post(p.closeView))
	mux.HandleFunc("POST /api/home", p.post(p.home))
	mux.HandleFunc("POST /api/clock", p.post(p.clock))
	mux.HandleFunc("POST /api/deactivate", p.post(p.deactivate))
	mux.HandleFunc("GET /api/team.csv", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="uxpin-team-members.csv"`)
		_, _ = w.Write([]byte(p.Team.CSV()))
	})
	return newHostGuard(p.ln.Addr(), p.opts.Addr).guard(mux)
}

// apiRequest is the body of every POST; each call uses its part.
type apiRequest struct {
	User     string                       `json:"user"`
	Text     string                       `json:"text"`
	Channel  string                       `json:"channel"`
	TS       string                       `json:"ts"`
	Home     bool                         `json:"home"`
	ViewID   string                       `json:"view_id"`
	BlockID  string                       `json:"block_id"`
	ActionID string                       `json:"action_id"`
	Value    string                       `json:"value"`
	Form     map[string]map[string]string `json:"form"`
	Advance  string                       `json:"advance"`
}

// post decodes an apiRequest, checks its user and answers fn's result as
// JSON, or {"error": …} with 400.
func (p *Playground) post(fn func(ctx context.Context, r apiRequest) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		// JSON only: a cross-site form cannot send it without a CORS
		// preflight, which this server never answers.
		if ct := req.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send application/json"})
			return
		}
		var r apiRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&r); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request: " + err.Error()})
			return
		}
		if r.User != "" && p.person(r.User) == nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown user " + r.User})
			return
		}
		ctx, cancel := context.WithTimeout(req.Context(), actTimeout)
		defer cancel()
		out, err := fn(ctx, r)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if out == nil {
			out = map[string]bool{"ok": true}
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Playground) slash(ctx context.Context, r apiRequest) (any, error) {
	_, err := p.Fake.SlashCommand(ctx, r.User, strings.TrimSpace(r.Text))
	return nil, err
}

func (p *Playground) action(ctx context.Context, r apiRequest) (any, error) {
	in := fakeslack.Interaction{
		User: r.User, Channel: r.Channel, TS: r.TS, Home: r.Home, ViewID: r.ViewID,
		BlockID: r.BlockID, ActionID: r.ActionID, Value: r.Value,
	}
	if r.ViewID != "" && len(r.Form) > 0 {
		v, ok := p.Fake.View(r.ViewID)
		if !ok {
			return nil, fmt.Errorf("no view %s", r.ViewID)
		}
		st, err := fakeslack.StateValues(v.Blocks, r.Form)
		if err != nil {
			return nil, err
		}
		in.State = st
	}
	// A Mark done on a task still open changes the simulated UXPin team
	// once the bot has closed it; one on a stale message changes nothing.
	follow := false
	id := r.Value
	switch r.ActionID {
	case handlers.ActionDone, handlers.ActionRowsAllDone:
	case handlers.ActionRowDone:
		id, _, _ = strings.Cut(r.Value, "|")
	default:
		id = ""
	}
	var before *access.Request
	if id != "" {
		if req, err := p.request(id); err == nil && req.State != access.StateFulfilled {
			follow, before = true, req
		}
	}
	if _, err := p.Fake.Interact(ctx, in); err != nil {
		return nil, err
	}
	if follow {
		p.afterDone(id, before)
	}
	return nil, nil
}

func (p *Playground) submit(ctx context.Context, r apiRequest) (any, error) {
	v, ok := p.Fake.View(r.ViewID)
	if !ok || v.Closed || v.User != r.User {
		return nil, fmt.Errorf("modal %s is not open for %s", r.ViewID, r.User)
	}
	values, err := fakeslack.StateValues(v.Blocks, r.Form)
	if err != nil {
		return nil, err
	}
	ack, err := p.Fake.Submit(ctx, r.User, v, values)
	if err != nil {
		return nil, err
	}
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if len(ack.Payload) > 0 {
		_ = json.Unmarshal(ack.Payload, &resp)
	}
	return map[string]any{"response_action": resp.ResponseAction, "errors": resp.Errors}, nil
}

func (p *Playground) closeView(_ context.Context, r apiRequest) (any, error) {
	v, ok := p.Fake.View(r.ViewID)
	if !ok || v.User != r.User {
		return nil, fmt.Errorf("modal %s is not open for %s", r.ViewID, r.User)
	}
	p.Fake.CloseView(r.ViewID)
	return nil, nil
}

func (p *Playground) home(ctx context.Context, r apiRequest) (any, error) {
	_, err := p.Fake.AppHomeOpened(ctx, r.User)
	return nil, err
}

// clockSteps are the jumps the page offers.
var clockSteps = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "168h": 7 * 24 * time.Hour}

func (p *Playground) clock(_ context.Context, r apiRequest) (any, error) {
	d, ok := clockSteps[r.Advance]
	if !ok {
		return nil, fmt.Errorf("advance must be 1h, 24h or 168h, not %q", r.Advance)
	}
	p.Clock.Advance(d)
	p.changed()
	if err := p.save(); err != nil {
		return nil, err
	}
	return map[string]string{"now": p.Clock.Now().UTC().Format(time.RFC3339)}, nil
}

func (p *Playground) deactivate(ctx context.Context, r apiRequest) (any, error) {
	u, ok := p.Fake.User(r.User)
	if !ok {
		return nil, errors.New("unknown user")
	}
	if slices.Contains(mainPeople, r.User) {
		return nil, errors.New("the people with a column stay; deactivate a colleague")
	}
	u.Deleted = true
	_, err := p.Fake.UserChange(ctx, u)
	return nil, err
}

// events streams a "change" event whenever the simulated Slack, the clock
// or the team changed, coalescing bursts.
func (p *Playground) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	for {
		v, fakeCh := p.Fake.Changes()
		own := p.changes()
		select {
		case <-r.Context().Done():
			return
		case <-p.stopping:
			return
		case <-keep.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
			continue
		case <-fakeCh:
		case <-own:
		}
		fmt.Fprintf(w, "event: change\ndata: %d\n\n", v)
		fl.Flush()
	}
}

// person returns the sample workspace's person with id, or nil.
func (p *Playground) person(id string) *Person {
	for i := range p.people {
		if p.people[i].ID == id {
			return &p.people[i]
		}
	}
	return nil
}

// --- the page's state ---------------------------------------------------

// pageState is everything the page shows.
type pageState struct {
	Now        string        `json:"now"`
	NowISO     string        `json:"now_iso"`
	Ahead      string        `json:"ahead"`
	People     []personState `json:"people"`
	Main       []string      `json:"main"`
	Columns    []column      `json:"columns"`
	Violations []feedItem    `json:"violations"`
	Team       []Member      `json:"team"`
	TeamCSV    string        `json:"team_csv"`
}

type personState struct {
	Person
	Active bool `json:"active"` // false once deactivated in Slack
}

type column struct {
	User   string      `json:"user"`
	Name   string      `json:"name"`
	Title  string      `json:"title"`
	Role   string      `json:"role"`
	Active bool        `json:"active"`
	Feed   []feedItem  `json:"feed"`
	Home   *viewState  `json:"home"`
	Modals []viewState `json:"modals"`
}

// feedItem is one entry of a person's Slack: a DM from the bot, an
// ephemeral reply, or a refusal by Slack (a violation).
type feedItem struct {
	Kind    string     `json:"kind"` // dm, ephemeral, violation
	Channel string     `json:"channel,omitempty"`
	TS      string     `json:"ts,omitempty"`
	Time    string     `json:"time"`
	HTML    string     `json:"html"`
	Edited  bool       `json:"edited,omitempty"`
	Replies []feedItem `json:"replies,omitempty"`
	sortKey int64
}

type viewState struct {
	ID     string `json:"id"`
	Hash   string `json:"hash"`
	Title  string `json:"title"`
	Submit string `json:"submit"`
	Close  string `json:"close"`
	HTML   string `json:"html"`
	Depth  int    `json:"depth"`
}

func (p *Playground) state(w http.ResponseWriter, r *http.Request) {
	users := slices.Clone(mainPeople)
	if x := r.URL.Query().Get("extra"); x != "" && p.person(x) != nil && !slices.Contains(users, x) {
		users = append(users, x)
	}
	now := p.Clock.Now()
	st := pageState{
		Now:    now.UTC().Format("Mon 2 Jan 2006, 15:04 UTC"),
		NowISO: now.UTC().Format(time.RFC3339),
		Main:   mainPeople,
		Team:   p.Team.Members(),
	}
	if off := p.Clock.Offset(); off > 0 {
		st.Ahead = fmt.Sprintf("%s ahead of real time", roundDuration(off))
	}
	st.TeamCSV = p.Team.CSV()
	rd := p.renderer()
	for _, person := range p.people {
		u, _ := p.Fake.User(person.ID)
		st.People = append(st.People, personState{Person: person, Active: !u.Deleted})
	}
	for _, v := range p.Fake.ViolationLog() {
		if v.User == "" || p.person(v.User) == nil {
			st.Violations = append(st.Violations, violationItem(v))
		}
	}
	for _, id := range users {
		st.Columns = append(st.Columns, p.column(id, rd))
	}
	writeJSON(w, http.StatusOK, st)
}

// renderer renders with the workspace's names.
func (p *Playground) renderer() *Renderer {
	rd := &Renderer{People: p.people}
	rd.Name = func(id string) string {
		if id == fakeslack.BotUserID {
			return "UXPin Access"
		}
		if pp := p.person(id); pp != nil {
			return pp.Name
		}
		return ""
	}
	return rd
}

func (p *Playground) column(id string, rd *Renderer) column {
	person := p.person(id)
	u, _ := p.Fake.User(id)
	c := column{User: id, Name: person.Name, Title: person.Title, Role: person.Role, Active: !u.Deleted}
	var feed []feedItem
	byTS := map[string]int{}
	for _, m := range p.Fake.DMs(id) {
		if m.Deleted {
			continue
		}
		it := feedItem{Kind: "dm", Channel: m.Channel, TS: m.TS, Edited: m.Updates > 0, HTML: messageHTML(rd, m.Text, m.Blocks)}
		it.sortKey, it.Time = tsTime(m.TS)
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			if i, ok := byTS[m.ThreadTS]; ok {
				feed[i].Replies = append(feed[i].Replies, it)
				continue
			}
		}
		byTS[m.TS] = len(feed)
		feed = append(feed, it)
	}
	for _, e := range p.Fake.Ephemerals(id) {
		if e.Deleted {
			continue
		}
		it := feedItem{Kind: "ephemeral", Channel: e.Channel, TS: e.TS, Edited: e.Updates > 0, HTML: messageHTML(rd, e.Text, e.Blocks)}
		it.sortKey, it.Time = tsTime(e.TS)
		feed = append(feed, it)
	}
	for _, v := range p.Fake.ViolationLog() {
		if v.User == id {
			feed = append(feed, violationItem(v))
		}
	}
	slices.SortStableFunc(feed, func(a, b feedItem) int {
		switch {
		case a.sortKey < b.sortKey:
			return -1
		case a.sortKey > b.sortKey:
			return 1
		}
		return 0
	})
	c.Feed = feed
	if h, ok := p.Fake.Home(id); ok {
		c.Home = &viewState{ID: h.ID, Hash: h.Hash, HTML: rd.Blocks(h.Blocks, nil)}
	}
	open := p.Fake.OpenViews(id)
	for i, v := range open {
		vs := viewState{ID: v.ID, Hash: v.Hash, Title: v.Title, HTML: rd.Blocks(v.Blocks, nil), Depth: i + 1}
		var raw struct {
			Submit *struct{ Text string } `json:"submit"`
			Close  *struct{ Text string } `json:"close"`
		}
		_ = json.Unmarshal(v.Raw, &raw)
		if raw.Submit != nil {
			vs.Submit = raw.Submit.Text
		}
		vs.Close = "Cancel"
		if raw.Close != nil && raw.Close.Text != "" {
			vs.Close = raw.Close.Text
		}
		c.Modals = append(c.Modals, vs)
	}
	return c
}

// messageHTML renders a message: its blocks, or its text when it has none
// (Slack shows the text only as the notification then).
func messageHTML(rd *Renderer, text string, blocks json.RawMessage) string {
	if len(blocks) > 0 && string(blocks) != "null" && string(blocks) != "[]" {
		return rd.Blocks(blocks, nil)
	}
	return `<div class="bk-text">` + Mrkdwn(text, rd.Name) + `</div>`
}

func violationItem(v fakeslack.Violation) feedItem {
	return feedItem{
		Kind:    "violation",
		Time:    v.Time.UTC().Format("Mon 2 Jan 15:04"),
		HTML:    `<div class="violation-text"><b>Slack refused this:</b> ` + esc(v.Text) + `</div>`,
		sortKey: v.Time.UnixMicro(),
	}
}

// tsTime turns a Slack timestamp into a sort key (microseconds) and a
// display time.
func tsTime(ts string) (int64, string) {
	sec, frac, _ := strings.Cut(ts, ".")
	s, _ := strconv.ParseInt(sec, 10, 64)
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	return s*1e6 + f, time.Unix(s, 0).UTC().Format("Mon 2 Jan 15:04")
}

func roundDuration(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	hours := int((d % (24 * time.Hour)) / time.Hour)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%d d %d h", days, hours)
	case days > 0:
		return fmt.Sprintf("%d d", days)
	}
	return fmt.Sprintf("%d h", hours)
}
