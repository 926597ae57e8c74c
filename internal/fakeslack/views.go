package fakeslack

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// View is a snapshot of a modal or Home tab view the bot opened, pushed,
// updated or published, in its current state.
type View struct {
	ID, Type, CallbackID, PrivateMetadata, Hash, Title string
	ExternalID                                         string
	User                                               string
	RootViewID, PreviousViewID                         string
	Blocks                                             json.RawMessage
	// Raw is the whole view object as Slack returns it from views.* calls.
	Raw     json.RawMessage
	Closed  bool
	Updates int
}

// maxViewStack is how many modals may be stacked (views.open + 2 pushes).
const maxViewStack = 3

type viewRec struct {
	v      View
	fields map[string]json.RawMessage
}

// trigger is a trigger_id issued in an interaction envelope.
type trigger struct {
	user   string
	viewID string // set when issued from an interaction inside a view
	issued time.Time
	used   bool
}

func (s *Server) newTriggerLocked(user, viewID string) string {
	id := fmt.Sprintf("%d.%d.%s", 1000000000+s.nextIDLocked(), s.opts.Now().Unix(), randHex(16))
	s.triggers.put(id, &trigger{user: user, viewID: viewID, issued: s.opts.Now()})
	return id
}

// useTriggerLocked exchanges a trigger_id, enforcing Slack's single use and
// 3-second validity.
func (s *Server) useTriggerLocked(method, id string) (*trigger, result) {
	t, _ := s.triggers.get(id)
	switch {
	case t == nil:
		s.rejectLocked(method)
		s.violationLocked("%s: invalid trigger_id %q", method, id)
		return nil, result{"ok": false, "error": "invalid_arguments",
			"response_metadata": map[string]any{"messages": []string{"invalid `trigger_id`"}}}
	case t.used:
		s.rejectLocked(method)
		s.violationLocked("%s: exchanged_trigger_id: trigger_id %q already used", method, id)
		return nil, apiError("exchanged_trigger_id")
	case s.opts.Now().Sub(t.issued) > s.opts.TriggerTTL:
		s.rejectLocked(method)
		s.violationLocked("%s: expired_trigger_id: trigger_id used %v after issue (limit %v)",
			method, s.opts.Now().Sub(t.issued).Round(time.Millisecond), s.opts.TriggerTTL)
		return nil, apiError("expired_trigger_id")
	}
	t.used = true
	return t, nil
}

// checkView validates a view payload for the surface and returns its fields.
func (s *Server) checkView(method, subject string, raw json.RawMessage, sf surface) (map[string]json.RawMessage, result) {
	if len(raw) == 0 {
		return nil, s.invalidArgs(method, subject, []string{"missing required field: view"})
	}
	if len(raw) > MaxViewBytes {
		s.mu.Lock()
		s.rejectLocked(method)
		s.violationForLocked(subject, "%s: view_too_large: %d bytes (max %d)", method, len(raw), MaxViewBytes)
		s.mu.Unlock()
		return nil, apiError("view_too_large")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, s.invalidArgs(method, subject, []string{"view must be a JSON object: " + err.Error() + " [json-pointer:/view]"})
	}
	if errs := viewErrors(raw, fields, sf); len(errs) > 0 {
		return nil, s.invalidArgs(method, subject, errs)
	}
	return fields, nil
}

// viewErrors returns Slack-style validation errors for a view object.
func viewErrors(raw json.RawMessage, fields map[string]json.RawMessage, sf surface) []string {
	var vm map[string]any
	if err := decodeJSON(raw, &vm); err != nil {
		return []string{"view must be a JSON object [json-pointer:/view]"}
	}
	v := &blockValidator{surface: sf, blockIDs: map[string]bool{}}
	typ, _ := strField(vm, "type")
	want := "modal"
	if sf == surfaceHome {
		want = "home"
	}
	if typ != want {
		v.add("/view/type", "must be %q, got %q", want, typ)
	}
	if sf == surfaceModal {
		v.plainText("/view/title", vm["title"], true, MaxViewTitle)
		if sub, ok := vm["submit"]; ok && sub != nil {
			v.plainText("/view/submit", sub, false, MaxViewTitle)
		}
		if cl, ok := vm["close"]; ok && cl != nil {
			v.plainText("/view/close", cl, false, MaxViewTitle)
		}
	}
	v.maxLen("/view", vm, "private_metadata", MaxPrivateMetadata)
	v.maxLen("/view", vm, "callback_id", MaxCallbackID)
	v.maxLen("/view", vm, "external_id", MaxIDLen)
	blocks, ok := fields["blocks"]
	if !ok {
		v.add("/view/blocks", "is required")
	} else {
		errs, hasInput := validateBlocks(blocks, sf, "/view/blocks")
		v.errs = append(v.errs, errs...)
		if sf == surfaceModal && hasInput && (vm["submit"] == nil) {
			v.add("/view/submit", "submit is required when an input block is present")
		}
	}
	return v.errs
}

func (s *Server) invalidArgs(method, subject string, errs []string) result {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = "[ERROR] " + e
	}
	s.mu.Lock()
	s.rejectLocked(method)
	s.violationForLocked(subject, "%s: invalid_arguments: %s", method, strings.Join(errs, "; "))
	s.mu.Unlock()
	return result{"ok": false, "error": "invalid_arguments", "response_metadata": map[string]any{"messages": msgs}}
}

func rawString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func textOf(raw json.RawMessage) string {
	var t struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &t)
	return t.Text
}

// setFieldsLocked replaces a view's content and renders its Raw form.
func (s *Server) setFieldsLocked(rec *viewRec, fields map[string]json.RawMessage) {
	rec.fields = fields
	rec.v.Type = rawString(fields["type"])
	rec.v.CallbackID = rawString(fields["callback_id"])
	rec.v.PrivateMetadata = rawString(fields["private_metadata"])
	rec.v.ExternalID = rawString(fields["external_id"])
	rec.v.Title = textOf(fields["title"])
	rec.v.Blocks = compactJSON(fields["blocks"])
	rec.v.Hash = fmt.Sprintf("%d.%s", s.opts.Now().Unix(), randHex(4))
	rec.v.Raw = s.renderLocked(rec, nil)
}

// renderLocked builds the view object as Slack sends it, with the given state values.
func (s *Server) renderLocked(rec *viewRec, values any) json.RawMessage {
	if values == nil {
		values = map[string]any{}
	}
	out := map[string]any{
		"private_metadata": "", "callback_id": "", "external_id": "",
		"clear_on_close": false, "notify_on_close": false,
	}
	if rec.v.Type == "modal" {
		out["close"] = nil
		out["submit"] = nil
	}
	for k, v := range rec.fields {
		out[k] = v
	}
	var prev any
	if rec.v.PreviousViewID != "" {
		prev = rec.v.PreviousViewID
	}
	out["id"] = rec.v.ID
	out["team_id"] = s.opts.TeamID
	out["state"] = map[string]any{"values": values}
	out["hash"] = rec.v.Hash
	out["root_view_id"] = rec.v.RootViewID
	out["previous_view_id"] = prev
	out["app_id"] = s.opts.AppID
	out["app_installed_team_id"] = s.opts.TeamID
	out["bot_id"] = BotID
	return mustJSON(out)
}

func (s *Server) newViewIDLocked() string {
	for {
		id := "V" + strings.ToUpper(randHex(5))
		if _, ok := s.views[id]; !ok {
			return id
		}
	}
}

func (s *Server) externalIDTakenLocked(ext string, except *viewRec) bool {
	if ext == "" {
		return false
	}
	for _, r := range s.views {
		if r != except && !r.v.Closed && r.v.ExternalID == ext {
			return true
		}
	}
	return false
}

// openStackLocked returns the open views sharing root, bottom first.
func (s *Server) openStackLocked(user, root string) []*viewRec {
	var out []*viewRec
	for _, r := range s.userViews[user] {
		if !r.v.Closed && r.v.RootViewID == root {
			out = append(out, r)
		}
	}
	return out
}

// addModalLocked opens a modal for user, pushed on top of parent when parent is non-nil.
func (s *Server) addModalLocked(user string, parent *viewRec, fields map[string]json.RawMessage) *viewRec {
	rec := &viewRec{v: View{ID: s.newViewIDLocked(), User: user}}
	rec.v.RootViewID = rec.v.ID
	if parent != nil {
		rec.v.RootViewID = parent.v.RootViewID
		rec.v.PreviousViewID = parent.v.ID
	}
	s.setFieldsLocked(rec, fields)
	s.views[rec.v.ID] = rec
	s.userViews[user] = append(s.userViews[user], rec)
	return rec
}

func (s *Server) viewsOpen(p *params) result {
	const method = "views.open"
	fields, r := s.checkView(method, s.triggerSubject(p.str("trigger_id")), p.raw("view"), surfaceModal)
	if r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.externalIDTakenLocked(rawString(fields["external_id"]), nil) {
		return apiError("duplicate_external_id")
	}
	t, r := s.useTriggerLocked(method, p.str("trigger_id"))
	if r != nil {
		return r
	}
	rec := s.addModalLocked(t.user, nil, fields)
	return result{"ok": true, "view": rec.v.Raw}
}

// topOfStackLocked returns the top open view of the stack containing viewID,
// or of the user's most recent open stack when viewID is empty.
func (s *Server) topOfStackLocked(user, viewID string) *viewRec {
	root := ""
	if r := s.views[viewID]; r != nil && !r.v.Closed {
		root = r.v.RootViewID
	} else {
		vs := s.userViews[user]
		for i := len(vs) - 1; i >= 0; i-- {
			if !vs[i].v.Closed {
				root = vs[i].v.RootViewID
				break
			}
		}
	}
	if root == "" {
		return nil
	}
	stack := s.openStackLocked(user, root)
	if len(stack) == 0 {
		return nil
	}
	return stack[len(stack)-1]
}

func (s *Server) viewsPush(p *params) result {
	const method = "views.push"
	fields, r := s.checkView(method, s.triggerSubject(p.str("trigger_id")), p.raw("view"), surfaceModal)
	if r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.externalIDTakenLocked(rawString(fields["external_id"]), nil) {
		return apiError("duplicate_external_id")
	}
	t, r := s.useTriggerLocked(method, p.str("trigger_id"))
	if r != nil {
		return r
	}
	parent := s.topOfStackLocked(t.user, t.viewID)
	if parent != nil && len(s.openStackLocked(t.user, parent.v.RootViewID)) >= maxViewStack {
		s.rejectLocked(method)
		s.violationLocked("%s: push_limit_reached: already %d views in the stack", method, maxViewStack)
		return apiError("push_limit_reached")
	}
	rec := s.addModalLocked(t.user, parent, fields)
	return result{"ok": true, "view": rec.v.Raw}
}

func (s *Server) viewsUpdate(p *params) result {
	const method = "views.update"
	s.mu.Lock()
	var rec *viewRec
	if id := p.str("view_id"); id != "" {
		rec = s.views[id]
	} else if ext := p.str("external_id"); ext != "" {
		for _, r := range s.views {
			if r.v.ExternalID == ext && !r.v.Closed {
				rec = r
				break
			}
		}
	}
	if rec == nil || rec.v.Closed {
		s.mu.Unlock()
		return apiError("not_found")
	}
	sf := surfaceModal
	if rec.v.Type == "home" {
		sf = surfaceHome
	}
	s.mu.Unlock()

	fields, r := s.checkView(method, rec.v.User, p.raw("view"), sf)
	if r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.v.Closed {
		return apiError("not_found")
	}
	if h := p.str("hash"); h != "" && h != rec.v.Hash {
		return apiError("hash_conflict")
	}
	if s.externalIDTakenLocked(rawString(fields["external_id"]), rec) {
		return apiError("duplicate_external_id")
	}
	rec.v.Updates++
	s.setFieldsLocked(rec, fields)
	return result{"ok": true, "view": rec.v.Raw}
}

func (s *Server) viewsPublish(p *params) result {
	const method = "views.publish"
	fields, r := s.checkView(method, p.str("user_id"), p.raw("view"), surfaceHome)
	if r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user := p.str("user_id")
	if _, ok := s.users[user]; !ok {
		return result{"ok": false, "error": "invalid_arguments",
			"response_metadata": map[string]any{"messages": []string{"invalid `user_id`"}}}
	}
	rec := s.homes[user]
	if h := p.str("hash"); h != "" && rec != nil && h != rec.v.Hash {
		return apiError("hash_conflict")
	}
	if s.externalIDTakenLocked(rawString(fields["external_id"]), rec) {
		return apiError("duplicate_external_id")
	}
	if rec == nil {
		rec = &viewRec{v: View{ID: s.newViewIDLocked(), User: user}}
		rec.v.RootViewID = rec.v.ID
		s.homes[user] = rec
		s.views[rec.v.ID] = rec
	} else {
		rec.v.Updates++
	}
	s.setFieldsLocked(rec, fields)
	return result{"ok": true, "view": rec.v.Raw}
}

// Views returns the modals opened or pushed for userID, in opening order,
// in their current state (closed ones included, with Closed set).
func (s *Server) Views(userID string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs := s.userViews[userID]
	out := make([]View, len(vs))
	for i, r := range vs {
		out[i] = r.v
	}
	return out
}

// OpenViews returns the modals currently open for userID, bottom of the stack first.
func (s *Server) OpenViews(userID string) []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []View
	for _, r := range s.userViews[userID] {
		if !r.v.Closed {
			out = append(out, r.v)
		}
	}
	return out
}

// View returns the current state of the view with the given ID.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.views[id]
	if !ok {
		return View{}, false
	}
	return r.v, true
}

// Home returns the Home tab view last published for userID.
func (s *Server) Home(userID string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.homes[userID]
	if !ok {
		return View{}, false
	}
	return r.v, true
}

// CloseView simulates the user closing a modal (the X / Close button); the
// stack above it closes too. It does not send view_closed.
func (s *Server) CloseView(viewID string) {
	defer s.changed()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.views[viewID]
	if r == nil {
		return
	}
	s.closeFromLocked(r)
}

// closeFromLocked closes r and every view pushed above it.
func (s *Server) closeFromLocked(r *viewRec) {
	stack := s.openStackLocked(r.v.User, r.v.RootViewID)
	found := false
	for _, x := range stack {
		if x == r {
			found = true
		}
		if found {
			x.v.Closed = true
		}
	}
	r.v.Closed = true
}
