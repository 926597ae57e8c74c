package fakeslack

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

type tokenKind int

const (
	tokenBot tokenKind = iota
	tokenApp
)

// result is a Web API JSON answer.
type result map[string]any

func apiError(code string) result { return result{"ok": false, "error": code} }

type apiMethod struct {
	kind tokenKind
	fn   func(s *Server, p *params) result
}

var apiMethods = map[string]apiMethod{
	"auth.test":             {tokenBot, (*Server).authTest},
	"apps.connections.open": {tokenApp, (*Server).appsConnectionsOpen},
	"chat.postMessage":      {tokenBot, (*Server).chatPostMessage},
	"chat.update":           {tokenBot, (*Server).chatUpdate},
	"chat.delete":           {tokenBot, (*Server).chatDelete},
	"chat.postEphemeral":    {tokenBot, (*Server).chatPostEphemeral},
	"conversations.open":    {tokenBot, (*Server).conversationsOpen},
	"conversations.history": {tokenBot, (*Server).conversationsHistory},
	"users.info":            {tokenBot, (*Server).usersInfo},
	"users.lookupByEmail":   {tokenBot, (*Server).usersLookupByEmail},
	"usergroups.users.list": {tokenBot, (*Server).usergroupsUsersList},
	"views.open":            {tokenBot, (*Server).viewsOpen},
	"views.push":            {tokenBot, (*Server).viewsPush},
	"views.update":          {tokenBot, (*Server).viewsUpdate},
	"views.publish":         {tokenBot, (*Server).viewsPublish},
}

// methodScopes lists the bot scope each method needs when Options.Scopes is set.
var methodScopes = map[string]string{
	"chat.postMessage":      "chat:write",
	"chat.update":           "chat:write",
	"chat.delete":           "chat:write",
	"chat.postEphemeral":    "chat:write",
	"conversations.open":    "im:write",
	"users.info":            "users:read",
	"users.lookupByEmail":   "users:read.email",
	"usergroups.users.list": "usergroups:read",
}

// historyScope is the scope conversations.history needs for a channel: it
// depends on the kind of conversation.
func historyScope(channel string) string {
	switch {
	case strings.HasPrefix(channel, "D"):
		return "im:history"
	case strings.HasPrefix(channel, "G"):
		return "groups:history"
	}
	return "channels:history"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// params gives uniform access to form, query and JSON body arguments.
type params struct {
	form   url.Values
	js     map[string]json.RawMessage
	bearer string
}

const maxBodyBytes = 4 << 20

func parseParams(w http.ResponseWriter, r *http.Request) (*params, string) {
	p := &params{form: url.Values{}}
	if auth := r.Header.Get("Authorization"); auth != "" {
		if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
			p.bearer = strings.TrimSpace(tok)
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, "request_timeout"
		}
		p.form = r.URL.Query()
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &p.js); err != nil {
				return nil, "invalid_json"
			}
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			return nil, "invalid_form_data"
		}
		p.form = r.Form
	default:
		if err := r.ParseForm(); err != nil {
			return nil, "invalid_form_data"
		}
		p.form = r.Form
	}
	return p, ""
}

func (p *params) has(key string) bool {
	if _, ok := p.form[key]; ok {
		return true
	}
	_, ok := p.js[key]
	return ok
}

// str returns a scalar argument as a string.
func (p *params) str(key string) string {
	if v, ok := p.form[key]; ok && len(v) > 0 {
		return v[0]
	}
	raw, ok := p.js[key]
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// raw returns a JSON-valued argument (blocks, view, metadata), accepting both
// a JSON-encoded string (form style) and an inline JSON value.
func (p *params) raw(key string) json.RawMessage {
	if v, ok := p.form[key]; ok && len(v) > 0 {
		if v[0] == "" {
			return nil
		}
		return json.RawMessage(v[0])
	}
	raw, ok := p.js[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return nil
		}
		return json.RawMessage(s)
	}
	return raw
}

func (p *params) bool(key string) bool {
	switch strings.ToLower(p.str(key)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

func (p *params) token() string {
	if p.bearer != "" {
		return p.bearer
	}
	return p.str("token")
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	s.mu.Lock()
	s.calls[method]++
	s.mu.Unlock()
	var p *params
	var perr string
	if s.limiter != nil {
		p, perr = parseParams(w, r) // chat.postMessage is limited per channel
		if s.rateLimited(w, method, p) {
			return
		}
	}
	s.mu.Lock()
	f := s.takeFaultLocked(method)
	s.mu.Unlock()
	if f != nil && !f.AfterEffect && s.applyFault(w, r, method, f) {
		return
	}
	m, ok := apiMethods[method]
	if !ok || m.fn == nil {
		writeJSON(w, http.StatusNotFound, apiError("unknown_method"))
		return
	}
	if p == nil && perr == "" {
		p, perr = parseParams(w, r)
	}
	if perr != "" {
		writeJSON(w, http.StatusOK, apiError(perr))
		return
	}
	var res result
	switch tok := p.token(); {
	case tok == "":
		res = apiError("not_authed")
	case tok != s.opts.AppToken && tok != s.opts.BotToken:
		res = apiError("invalid_auth")
	case (m.kind == tokenApp) != (tok == s.opts.AppToken):
		res = apiError("not_allowed_token_type")
	default:
		sc := methodScopes[method]
		if method == "conversations.history" {
			sc = historyScope(p.str("channel"))
		}
		if sc != "" {
			if r := s.scopeCheck(sc); r != nil {
				res = r
				break
			}
		}
		res = m.fn(s, p)
	}
	if okv, _ := res["ok"].(bool); !okv {
		s.logf("%s -> %v", method, res["error"])
	}
	if f != nil && f.AfterEffect && s.applyFault(w, r, method, f) {
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// scopeCheck returns a missing_scope error when Options.Scopes is set and lacks scope.
func (s *Server) scopeCheck(scope string) result {
	if s.opts.Scopes == nil || s.hasScope(scope) {
		return nil
	}
	return result{"ok": false, "error": "missing_scope", "needed": scope, "provided": strings.Join(s.opts.Scopes, ",")}
}

func (s *Server) hasScope(scope string) bool {
	if s.opts.Scopes == nil {
		return true
	}
	for _, sc := range s.opts.Scopes {
		if sc == scope {
			return true
		}
	}
	return false
}

func (s *Server) authTest(_ *params) result {
	return result{
		"ok": true, "url": "https://fake-workspace.slack.com/", "team": "Fake Workspace",
		"user": BotName, "team_id": s.opts.TeamID, "user_id": BotUserID, "bot_id": BotID,
		"is_enterprise_install": false,
	}
}

func (s *Server) appsConnectionsOpen(_ *params) result {
	s.mu.Lock()
	ticket := randHex(16)
	s.tickets[ticket] = false
	s.mu.Unlock()
	return result{"ok": true, "url": s.wsURL + "?ticket=" + ticket}
}

// --- chat.* ---------------------------------------------------------------

// checkMessageContent validates text, blocks and metadata of a message-like
// call. It returns a non-nil error result when Slack would refuse the call.
func (s *Server) checkMessageContent(method, subject, text string, blocks, metadata json.RawMessage, requireContent bool) result {
	if requireContent && text == "" && isEmptyBlocks(blocks) {
		return apiError("no_text")
	}
	if runeLen(text) > MaxMessageText {
		s.mu.Lock()
		s.rejectLocked(method)
		s.violationForLocked(subject, "%s: msg_too_long: text has %d characters (max %d)", method, runeLen(text), MaxMessageText)
		s.mu.Unlock()
		return apiError("msg_too_long")
	}
	if len(blocks) > 0 && !isJSONArray(blocks) {
		s.mu.Lock()
		s.rejectLocked(method)
		s.violationForLocked(subject, "%s: invalid_blocks_format: blocks is not a JSON array", method)
		s.mu.Unlock()
		return apiError("invalid_blocks_format")
	}
	if len(blocks) > 0 {
		if errs, _ := validateBlocks(blocks, surfaceMessage, "/blocks"); len(errs) > 0 {
			s.mu.Lock()
			s.rejectLocked(method)
			s.violationForLocked(subject, "%s: invalid_blocks: %s", method, strings.Join(errs, "; "))
			s.mu.Unlock()
			return result{"ok": false, "error": "invalid_blocks", "errors": errs}
		}
	}
	if len(metadata) > 0 {
		if msg := checkMetadata(metadata); msg != "" {
			s.mu.Lock()
			s.rejectLocked(method)
			s.violationForLocked(subject, "%s: invalid_metadata_format: %s", method, msg)
			s.mu.Unlock()
			return result{"ok": false, "error": "invalid_metadata_format", "response_metadata": map[string]any{"messages": []string{msg}}}
		}
	}
	return nil
}

func isJSONArray(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return json.Valid(t) && len(t) > 0 && t[0] == '['
}

func isEmptyBlocks(b json.RawMessage) bool {
	t := bytes.TrimSpace(b)
	return len(t) == 0 || string(t) == "[]" || string(t) == "null"
}

// normalizeMetadata returns nil for absent or empty metadata. slack-go always
// sends {"event_type":"","event_payload":null} in response_url posts.
func normalizeMetadata(raw json.RawMessage) json.RawMessage {
	raw = compactJSON(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" ||
		string(raw) == `{"event_type":"","event_payload":null}` {
		return nil
	}
	return raw
}

func checkMetadata(raw json.RawMessage) string {
	var md struct {
		EventType    *string         `json:"event_type"`
		EventPayload json.RawMessage `json:"event_payload"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		return "metadata must be a JSON object: " + err.Error()
	}
	if md.EventType == nil || *md.EventType == "" {
		return "metadata.event_type is required"
	}
	if p := bytes.TrimSpace(md.EventPayload); len(p) == 0 || p[0] != '{' {
		return "metadata.event_payload must be an object"
	}
	return ""
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return append(json.RawMessage(nil), raw...)
	}
	return b.Bytes()
}

// resolveChannelLocked maps a channel argument to a channel ID and, for IMs,
// the counterpart user. With openDM, a user ID opens the bot's IM with that user.
func (s *Server) resolveChannelLocked(ch string, openDM bool) (id, dmUser, errCode string) {
	if ch == "" {
		return "", "", "channel_not_found"
	}
	switch ch[0] {
	case 'C', 'G':
		if s.channels[ch] {
			return ch, "", ""
		}
	case 'D':
		if u, ok := s.userByDM[ch]; ok {
			return ch, u, ""
		}
	case 'U', 'W':
		if _, ok := s.users[ch]; ok {
			if d, ok := s.dmByUser[ch]; ok {
				return d, ch, ""
			}
			if openDM {
				return s.openDMLocked(ch), ch, ""
			}
		}
	}
	return "", "", "channel_not_found"
}

func (s *Server) openDMLocked(userID string) string {
	if d, ok := s.dmByUser[userID]; ok {
		return d
	}
	d := "D" + strings.ToUpper(randHex(5))
	for s.userByDM[d] != "" {
		d = "D" + strings.ToUpper(randHex(5))
	}
	s.dmByUser[userID] = d
	s.userByDM[d] = userID
	return d
}

// messageJSON renders a stored message as Slack returns it.
func (s *Server) messageJSON(m *Message, withMetadata bool) map[string]any {
	out := map[string]any{
		"type": "message", "text": m.Text, "user": BotUserID, "bot_id": BotID,
		"app_id": s.opts.AppID, "ts": m.TS, "team": s.opts.TeamID,
		"bot_profile": map[string]any{"id": BotID, "app_id": s.opts.AppID, "name": BotName, "team_id": s.opts.TeamID, "deleted": false},
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if withMetadata && len(m.Metadata) > 0 {
		out["metadata"] = m.Metadata
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Updates > 0 {
		out["edited"] = map[string]any{"user": BotUserID, "ts": m.editedTS}
	}
	return out
}

func (s *Server) chatPostMessage(p *params) result {
	const method = "chat.postMessage"
	text := p.str("text")
	blocks := compactJSON(p.raw("blocks"))
	metadata := normalizeMetadata(p.raw("metadata"))
	if r := s.checkMessageContent(method, s.channelSubject(p.str("channel")), text, blocks, metadata, !p.has("attachments")); r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, dmUser, code := s.resolveChannelLocked(p.str("channel"), true)
	if code != "" {
		return apiError(code)
	}
	// Posting to a deactivated user's IM succeeds on Slack too (the history is kept).
	m := &Message{
		Channel: ch, TS: s.nextTSLocked(), User: dmUser, Text: text,
		Blocks: blocks, Metadata: metadata, ThreadTS: p.str("thread_ts"),
	}
	s.addMessageLocked(m)
	return result{"ok": true, "channel": ch, "ts": m.TS, "message": s.messageJSON(m, true)}
}

func (s *Server) chatUpdate(p *params) result {
	const method = "chat.update"
	text := p.str("text")
	blocks := compactJSON(p.raw("blocks"))
	metadata := normalizeMetadata(p.raw("metadata"))
	if r := s.checkMessageContent(method, s.channelSubject(p.str("channel")), text, blocks, metadata, !p.has("attachments") && !p.has("blocks")); r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, _, code := s.resolveChannelLocked(p.str("channel"), false)
	if code != "" {
		return apiError(code)
	}
	m := s.msgIndex[msgKey{ch, p.str("ts")}]
	if m == nil || m.Deleted {
		return apiError("message_not_found")
	}
	m.Text = text
	if p.has("blocks") {
		m.Blocks = blocks
	}
	if len(metadata) > 0 {
		m.Metadata = metadata
	}
	m.Updates++
	m.editedTS = s.nextTSLocked()
	return result{"ok": true, "channel": ch, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m, true)}
}

func (s *Server) chatDelete(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, _, code := s.resolveChannelLocked(p.str("channel"), false)
	if code != "" {
		return apiError(code)
	}
	m := s.msgIndex[msgKey{ch, p.str("ts")}]
	if m == nil || m.Deleted {
		return apiError("message_not_found")
	}
	m.Deleted = true
	return result{"ok": true, "channel": ch, "ts": m.TS}
}

func (s *Server) chatPostEphemeral(p *params) result {
	const method = "chat.postEphemeral"
	text := p.str("text")
	blocks := compactJSON(p.raw("blocks"))
	if r := s.checkMessageContent(method, p.str("user"), text, blocks, nil, !p.has("attachments")); r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	userID := p.str("user")
	u, ok := s.users[userID]
	if !ok {
		return apiError("user_not_found")
	}
	if u.Deleted {
		return apiError("user_not_in_channel")
	}
	ch, _, code := s.resolveChannelLocked(p.str("channel"), false)
	if code != "" {
		return apiError(code)
	}
	ts := s.nextTSLocked()
	s.ephemerals[userID] = append(s.ephemerals[userID], Ephemeral{Channel: ch, User: userID, Text: text, Blocks: blocks, TS: ts})
	return result{"ok": true, "message_ts": ts}
}

// --- conversations.* --------------------------------------------------------

func (s *Server) conversationsOpen(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := p.str("channel"); ch != "" && p.str("users") == "" {
		if _, ok := s.userByDM[ch]; ok {
			return result{"ok": true, "no_op": true, "already_open": true, "channel": map[string]any{"id": ch}}
		}
		return apiError("channel_not_found")
	}
	users := strings.Split(p.str("users"), ",")
	if len(users) == 1 && strings.TrimSpace(users[0]) == "" {
		return apiError("users_list_not_supplied")
	}
	if len(users) > 1 {
		// Multi-person IMs are not modelled.
		return apiError("method_not_supported_for_channel_type")
	}
	uid := strings.TrimSpace(users[0])
	u, ok := s.users[uid]
	if !ok {
		return apiError("user_not_found")
	}
	if u.Deleted {
		return apiError("user_disabled")
	}
	_, existed := s.dmByUser[uid]
	d := s.openDMLocked(uid)
	res := result{"ok": true, "channel": map[string]any{"id": d}}
	if existed {
		res["no_op"] = true
		res["already_open"] = true
	}
	return res
}

func (s *Server) conversationsHistory(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, _, code := s.resolveChannelLocked(p.str("channel"), false)
	if code != "" {
		return apiError(code)
	}
	scope := "channels:history"
	switch ch[0] {
	case 'D':
		scope = "im:history"
	case 'G':
		scope = "groups:history"
	}
	if r := s.scopeCheck(scope); r != nil {
		return r
	}
	limit := 100
	if l, err := strconv.Atoi(p.str("limit")); err == nil && l > 0 {
		limit = min(l, 999)
	}
	oldest, _ := parseTS(p.str("oldest"))
	latest, hasLatest := parseTS(p.str("latest"))
	inclusive := p.bool("inclusive")
	withMeta := p.bool("include_all_metadata")
	offset := 0
	if c := p.str("cursor"); c != "" {
		n, ok := decodeCursor(c)
		if !ok {
			return apiError("invalid_cursor")
		}
		offset = n
	}
	var matched []*Message
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.Channel != ch || m.Deleted || (m.ThreadTS != "" && m.ThreadTS != m.TS) {
			continue
		}
		t, _ := parseTS(m.TS)
		if t < oldest || (t == oldest && !inclusive && oldest != 0) {
			continue
		}
		if hasLatest && (t > latest || (t == latest && !inclusive)) {
			continue
		}
		matched = append(matched, m)
	}
	if offset > len(matched) {
		offset = len(matched)
	}
	page := matched[offset:]
	hasMore := len(page) > limit
	if hasMore {
		page = page[:limit]
	}
	msgs := make([]map[string]any, 0, len(page))
	for _, m := range page {
		msgs = append(msgs, s.messageJSON(m, withMeta))
	}
	next := ""
	if hasMore {
		next = encodeCursor(offset + limit)
	}
	return result{"ok": true, "messages": msgs, "has_more": hasMore, "pin_count": 0,
		"response_metadata": map[string]any{"next_cursor": next}}
}

// --- users.* / usergroups.* -------------------------------------------------

func (s *Server) userJSON(u *User) map[string]any {
	profile := map[string]any{
		"real_name": u.RealName, "real_name_normalized": u.RealName,
		"display_name": u.Name, "display_name_normalized": u.Name, "team": s.opts.TeamID,
	}
	if s.hasScope("users:read.email") && u.Email != "" {
		profile["email"] = u.Email
	}
	out := map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "deleted": u.Deleted,
		"real_name": u.RealName, "is_bot": u.IsBot, "is_app_user": false,
		"is_admin": false, "is_owner": false, "is_restricted": false, "is_ultra_restricted": false,
		"updated": 1700000000, "profile": profile,
	}
	if u.TZ != "" {
		out["tz"] = u.TZ
		if loc, err := time.LoadLocation(u.TZ); err == nil {
			name, offset := s.opts.Now().In(loc).Zone()
			out["tz_label"], out["tz_offset"] = name, offset
		}
	}
	return out
}

func (s *Server) usersInfo(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[p.str("user")]
	switch {
	case !ok:
		return apiError("user_not_found")
	case u.NotVisible:
		return apiError("user_not_visible")
	}
	return result{"ok": true, "user": s.userJSON(u)}
}

func (s *Server) usersLookupByEmail(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	email := strings.ToLower(p.str("email"))
	for _, u := range s.users {
		if email != "" && strings.ToLower(u.Email) == email && !u.NotVisible {
			return result{"ok": true, "user": s.userJSON(u)}
		}
	}
	return apiError("users_not_found")
}

func (s *Server) usergroupsUsersList(p *params) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	members, ok := s.groups[p.str("usergroup")]
	if !ok {
		return apiError("no_such_subteam")
	}
	users := make([]string, 0, len(members))
	for _, id := range members {
		if u := s.users[id]; u != nil && u.Deleted && !p.bool("include_disabled") {
			continue
		}
		users = append(users, id)
	}
	return result{"ok": true, "users": users}
}

// --- response_url -------------------------------------------------------------

// responseURL is a response_url issued in a slash command or message action.
type responseURL struct {
	user        string
	channel     string
	messageTS   string // set for actions on a posted message
	ephemeralTS string // set for actions on an ephemeral message
	uses        int
}

const maxResponseURLUses = 5

type responsePost struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
	Metadata        json.RawMessage `json:"metadata"`
}

func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	const method = "response_url"
	id := strings.TrimPrefix(r.URL.Path, "/response/")
	s.mu.Lock()
	s.calls[method]++
	f := s.takeFaultLocked(method)
	s.mu.Unlock()
	if f != nil && s.applyFault(w, r, method, f) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	s.mu.Lock()
	ru := s.responses[id]
	s.mu.Unlock()
	if ru == nil {
		http.Error(w, "no_such_url", http.StatusNotFound)
		return
	}
	var post responsePost
	if err == nil {
		err = json.Unmarshal(body, &post)
	}
	if err != nil {
		s.violationFor(ru.user, "response_url: body is not JSON: %v", err)
		textError(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	blocks := compactJSON(post.Blocks)
	if isEmptyBlocks(blocks) {
		blocks = nil
	}
	if !post.DeleteOriginal {
		if post.Text == "" && blocks == nil {
			s.violationFor(ru.user, "response_url: no_text")
			textError(w, http.StatusBadRequest, "no_text")
			return
		}
		if r := s.checkMessageContent(method, ru.user, post.Text, blocks, normalizeMetadata(post.Metadata), false); r != nil {
			textError(w, http.StatusBadRequest, r["error"].(string))
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ru.uses++
	if ru.uses > maxResponseURLUses {
		s.violationForLocked(ru.user, "response_url: used more than %d times", maxResponseURLUses)
		textError(w, http.StatusNotFound, "used_url")
		return
	}
	var orig *Message
	if ru.messageTS != "" {
		orig = s.msgIndex[msgKey{ru.channel, ru.messageTS}]
	}
	switch {
	case ru.ephemeralTS != "" && (post.ReplaceOriginal || post.DeleteOriginal) && s.ephemeralLocked(ru.user, ru.channel, ru.ephemeralTS) != nil:
		// A reply to a click on an ephemeral message replaces it in place.
		e := s.ephemeralLocked(ru.user, ru.channel, ru.ephemeralTS)
		e.Text, e.Blocks, e.Deleted = post.Text, blocks, post.DeleteOriginal
		e.Updates++
	case post.DeleteOriginal:
		if orig == nil {
			s.violationForLocked(ru.user, "response_url: delete_original without an original message")
		} else {
			orig.Deleted = true
		}
	case post.ReplaceOriginal && post.ResponseType != "ephemeral" && orig != nil && !orig.Deleted:
		orig.Text = post.Text
		orig.Blocks = blocks
		orig.Updates++
		orig.editedTS = s.nextTSLocked()
	case post.ResponseType == "in_channel" && !post.ReplaceOriginal:
		_, dmUser, _ := s.resolveChannelLocked(ru.channel, false)
		m := &Message{Channel: ru.channel, TS: s.nextTSLocked(), User: dmUser, Text: post.Text,
			Blocks: blocks, Metadata: normalizeMetadata(post.Metadata), ThreadTS: post.ThreadTS}
		s.addMessageLocked(m)
	default:
		s.ephemerals[ru.user] = append(s.ephemerals[ru.user], Ephemeral{
			Channel: ru.channel, User: ru.user, Text: post.Text, Blocks: blocks, TS: s.nextTSLocked(),
			ReplaceOriginal: post.ReplaceOriginal, ViaResponseURL: true,
		})
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok"))
}

func textError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
}

// newResponseURLLocked issues a fresh response URL. s.mu must be held.
func (s *Server) newResponseURLLocked(user, channel, messageTS string) string {
	id := randHex(12)
	s.responses[id] = &responseURL{user: user, channel: channel, messageTS: messageTS}
	return s.hs.URL + "/response/" + id
}

func encodeCursor(offset int) string {
	return base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(offset)))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), "offset:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
