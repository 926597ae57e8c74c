package fakeslack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits from Slack's Block Kit reference.
const (
	MaxMessageBlocks     = 50
	MaxViewBlocks        = 100
	MaxSectionText       = 3000
	MaxSectionFields     = 10
	MaxFieldText         = 2000
	MaxHeaderText        = 150
	MaxIDLen             = 255
	MaxButtonText        = 75
	MaxButtonValue       = 2000
	MaxURLLen            = 3000
	MaxViewTitle         = 24
	MaxPrivateMetadata   = 3000
	MaxCallbackID        = 255
	MaxInputLength       = 3000
	MaxSelectOptions     = 100
	MaxMessageText       = 40000
	MaxViewBytes         = 250 * 1024
	MaxAckBytes          = 20 * 1024
	maxActionsElements   = 25
	maxContextElements   = 10
	maxOptionText        = 75
	maxOptionValue       = 150
	maxPlaceholder       = 150
	maxLabel             = 2000
	maxConfirmTitle      = 100
	maxConfirmText       = 300
	maxConfirmButton     = 30
	maxImageAlt          = 2000
	maxRadioOptions      = 10
	maxOverflowOptions   = 5
	maxMarkdownBlockText = 12000
)

type surface int

const (
	surfaceMessage surface = iota
	surfaceModal
	surfaceHome
)

// blockValidator collects Slack-style error strings for one surface.
type blockValidator struct {
	surface  surface
	errs     []string
	blockIDs map[string]bool
	hasInput bool
}

func (v *blockValidator) add(ptr, format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// decodeJSON decodes with numbers kept as json.Number.
func decodeJSON(raw []byte, dst any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(dst); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after JSON value")
	}
	return nil
}

// validateBlocks checks a JSON array of blocks for the given surface; ptr is
// the JSON pointer of the array (e.g. "/blocks" or "/view/blocks").
func validateBlocks(raw json.RawMessage, sf surface, ptr string) (errs []string, hasInput bool) {
	var blocks []any
	if err := decodeJSON(raw, &blocks); err != nil {
		return []string{"blocks must be a JSON array: " + err.Error() + " [json-pointer:" + ptr + "]"}, false
	}
	v := &blockValidator{surface: sf, blockIDs: map[string]bool{}}
	limit := MaxMessageBlocks
	if sf != surfaceMessage {
		limit = MaxViewBlocks
	}
	if len(blocks) > limit {
		v.add(ptr, "no more than %d items allowed", limit)
	}
	for i, b := range blocks {
		v.block(fmt.Sprintf("%s/%d", ptr, i), b)
	}
	return v.errs, v.hasInput
}

func strField(m map[string]any, key string) (string, bool) {
	s, ok := m[key].(string)
	return s, ok
}

func runeLen(s string) int { return utf8.RuneCountInString(s) }

func (v *blockValidator) maxLen(ptr string, m map[string]any, key string, max int) {
	val, present := m[key]
	if !present || val == nil {
		return
	}
	s, ok := val.(string)
	if !ok {
		v.add(ptr+"/"+key, "must be a string")
		return
	}
	if runeLen(s) > max {
		v.add(ptr+"/"+key, "must be less than %d characters", max+1)
	}
}

func (v *blockValidator) block(ptr string, b any) {
	m, ok := b.(map[string]any)
	if !ok {
		v.add(ptr, "must be an object")
		return
	}
	if id, present := m["block_id"]; present {
		s, ok := id.(string)
		switch {
		case !ok:
			v.add(ptr+"/block_id", "must be a string")
		case runeLen(s) > MaxIDLen:
			v.add(ptr+"/block_id", "must be less than %d characters", MaxIDLen+1)
		case s == "":
			v.add(ptr+"/block_id", "must be more than 0 characters")
		case v.blockIDs[s]:
			v.add(ptr+"/block_id", "duplicate block_id %q", s)
		default:
			v.blockIDs[s] = true
		}
	}
	typ, _ := strField(m, "type")
	actionIDs := map[string]bool{}
	switch typ {
	case "section":
		_, hasText := m["text"]
		_, hasFields := m["fields"]
		if !hasText && !hasFields {
			v.add(ptr, "must provide either text or fields")
		}
		if hasText {
			v.textObject(ptr+"/text", m["text"], true, 1, MaxSectionText)
		}
		if hasFields {
			fields, ok := m["fields"].([]any)
			if !ok {
				v.add(ptr+"/fields", "must be an array")
			} else {
				if len(fields) > MaxSectionFields {
					v.add(ptr+"/fields", "no more than %d items allowed", MaxSectionFields)
				}
				if len(fields) == 0 {
					v.add(ptr+"/fields", "must provide at least 1 item")
				}
				for i, f := range fields {
					v.textObject(fmt.Sprintf("%s/fields/%d", ptr, i), f, true, 1, MaxFieldText)
				}
			}
		}
		if acc, ok := m["accessory"]; ok {
			v.element(ptr+"/accessory", acc, elemAccessory, actionIDs)
		}
	case "divider":
	case "header":
		v.plainText(ptr+"/text", m["text"], true, MaxHeaderText)
	case "image":
		v.imageFields(ptr, m)
		if t, ok := m["title"]; ok {
			v.plainText(ptr+"/title", t, false, maxLabel)
		}
	case "actions":
		els, ok := m["elements"].([]any)
		if !ok {
			v.add(ptr+"/elements", "must be an array")
			break
		}
		if len(els) == 0 {
			v.add(ptr+"/elements", "must provide at least 1 item")
		}
		if len(els) > maxActionsElements {
			v.add(ptr+"/elements", "no more than %d items allowed", maxActionsElements)
		}
		for i, e := range els {
			v.element(fmt.Sprintf("%s/elements/%d", ptr, i), e, elemActions, actionIDs)
		}
	case "context":
		els, ok := m["elements"].([]any)
		if !ok {
			v.add(ptr+"/elements", "must be an array")
			break
		}
		if len(els) == 0 {
			v.add(ptr+"/elements", "must provide at least 1 item")
		}
		if len(els) > maxContextElements {
			v.add(ptr+"/elements", "no more than %d items allowed", maxContextElements)
		}
		for i, e := range els {
			ep := fmt.Sprintf("%s/elements/%d", ptr, i)
			em, ok := e.(map[string]any)
			if !ok {
				v.add(ep, "must be an object")
				continue
			}
			if t, _ := strField(em, "type"); t == "image" {
				v.imageFields(ep, em)
			} else {
				v.textObject(ep, e, true, 1, MaxSectionText)
			}
		}
	case "input":
		v.hasInput = true
		v.plainText(ptr+"/label", m["label"], true, maxLabel)
		if h, ok := m["hint"]; ok {
			v.plainText(ptr+"/hint", h, false, maxLabel)
		}
		el, ok := m["element"]
		if !ok {
			v.add(ptr+"/element", "is required")
		} else {
			v.element(ptr+"/element", el, elemInput, actionIDs)
		}
	case "rich_text":
		if _, ok := m["elements"].([]any); !ok {
			v.add(ptr+"/elements", "must be an array")
		}
	case "markdown":
		s, ok := strField(m, "text")
		if !ok || s == "" {
			v.add(ptr+"/text", "is required")
		} else if runeLen(s) > maxMarkdownBlockText {
			v.add(ptr+"/text", "must be less than %d characters", maxMarkdownBlockText+1)
		}
		if v.surface != surfaceMessage {
			v.add(ptr+"/type", "markdown blocks are only supported in messages")
		}
	case "file":
		if v.surface != surfaceMessage {
			v.add(ptr+"/type", "file blocks are only supported in messages")
		}
	case "video", "table", "context_actions", "call":
		// Accepted without further checks.
	case "":
		v.add(ptr+"/type", "is required")
	default:
		v.add(ptr+"/type", "unsupported block type %q", typ)
	}
}

type elemPlace int

const (
	elemAccessory elemPlace = iota
	elemActions
	elemInput
)

var (
	datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timePattern = regexp.MustCompile(`^\d{2}:\d{2}$`)
)

func (v *blockValidator) element(ptr string, e any, place elemPlace, actionIDs map[string]bool) {
	m, ok := e.(map[string]any)
	if !ok {
		v.add(ptr, "must be an object")
		return
	}
	if id, present := m["action_id"]; present {
		s, ok := id.(string)
		switch {
		case !ok:
			v.add(ptr+"/action_id", "must be a string")
		case s == "":
			v.add(ptr+"/action_id", "must be more than 0 characters")
		case runeLen(s) > MaxIDLen:
			v.add(ptr+"/action_id", "must be less than %d characters", MaxIDLen+1)
		case actionIDs[s]:
			v.add(ptr+"/action_id", "duplicate action_id %q in block", s)
		default:
			actionIDs[s] = true
		}
	}
	typ, _ := strField(m, "type")
	inputOnly := false
	switch typ {
	case "button":
		if place == elemInput {
			v.add(ptr+"/type", "button is not allowed in input blocks")
		}
		v.plainText(ptr+"/text", m["text"], true, MaxButtonText)
		v.maxLen(ptr, m, "value", MaxButtonValue)
		v.maxLen(ptr, m, "url", MaxURLLen)
		v.maxLen(ptr, m, "accessibility_label", MaxButtonText)
		if st, ok := m["style"]; ok {
			if s, _ := st.(string); s != "primary" && s != "danger" {
				v.add(ptr+"/style", "must be one of primary, danger")
			}
		}
	case "static_select", "multi_static_select":
		v.placeholder(ptr, m)
		opts, hasOpts := m["options"]
		groups, hasGroups := m["option_groups"]
		if hasOpts == hasGroups {
			v.add(ptr, "must provide exactly one of options or option_groups")
		}
		if hasOpts {
			v.options(ptr+"/options", opts, 1, MaxSelectOptions, false)
		}
		if hasGroups {
			gs, ok := groups.([]any)
			if !ok {
				v.add(ptr+"/option_groups", "must be an array")
			} else {
				if len(gs) > MaxSelectOptions {
					v.add(ptr+"/option_groups", "no more than %d items allowed", MaxSelectOptions)
				}
				for i, g := range gs {
					gp := fmt.Sprintf("%s/option_groups/%d", ptr, i)
					gm, ok := g.(map[string]any)
					if !ok {
						v.add(gp, "must be an object")
						continue
					}
					v.plainText(gp+"/label", gm["label"], true, maxOptionText)
					v.options(gp+"/options", gm["options"], 1, MaxSelectOptions, false)
				}
			}
		}
		if io, ok := m["initial_option"]; ok {
			v.option(ptr+"/initial_option", io, false)
		}
		if ios, ok := m["initial_options"]; ok {
			v.options(ptr+"/initial_options", ios, 0, MaxSelectOptions, false)
		}
	case "external_select", "multi_external_select",
		"users_select", "multi_users_select",
		"conversations_select", "multi_conversations_select",
		"channels_select", "multi_channels_select":
		v.placeholder(ptr, m)
	case "overflow":
		if place == elemInput {
			v.add(ptr+"/type", "overflow is not allowed in input blocks")
		}
		v.options(ptr+"/options", m["options"], 1, maxOverflowOptions, false)
	case "radio_buttons", "checkboxes":
		v.options(ptr+"/options", m["options"], 1, maxRadioOptions, true)
	case "datepicker":
		v.placeholder(ptr, m)
		if d, ok := m["initial_date"]; ok {
			if s, _ := d.(string); !datePattern.MatchString(s) {
				v.add(ptr+"/initial_date", "must be YYYY-MM-DD")
			}
		}
	case "timepicker":
		v.placeholder(ptr, m)
		if d, ok := m["initial_time"]; ok {
			if s, _ := d.(string); !timePattern.MatchString(s) {
				v.add(ptr+"/initial_time", "must be HH:mm")
			}
		}
	case "datetimepicker", "workflow_button":
	case "image":
		if place != elemAccessory {
			v.add(ptr+"/type", "image elements are only allowed as accessories or in context blocks")
		}
		v.imageFields(ptr, m)
	case "plain_text_input":
		inputOnly = true
		v.placeholder(ptr, m)
		maxL := MaxInputLength
		if raw, ok := m["max_length"]; ok {
			n, ok := jsonInt(raw)
			switch {
			case !ok:
				v.add(ptr+"/max_length", "must be an integer")
			case n < 1 || n > MaxInputLength:
				v.add(ptr+"/max_length", "must be between 1 and %d", MaxInputLength)
			default:
				maxL = n
			}
		}
		if raw, ok := m["min_length"]; ok {
			n, ok := jsonInt(raw)
			if !ok || n < 0 || n > MaxInputLength || n > maxL {
				v.add(ptr+"/min_length", "must be between 0 and max_length")
			}
		}
		v.maxLen(ptr, m, "initial_value", maxL)
	case "email_text_input", "url_text_input", "number_input", "file_input", "rich_text_input":
		inputOnly = true
		v.placeholder(ptr, m)
		if typ == "number_input" {
			if _, ok := m["is_decimal_allowed"].(bool); !ok {
				v.add(ptr+"/is_decimal_allowed", "is required")
			}
		}
	case "":
		v.add(ptr+"/type", "is required")
	default:
		v.add(ptr+"/type", "unsupported element type %q", typ)
	}
	if inputOnly && place != elemInput {
		v.add(ptr+"/type", "%s is only allowed in input blocks", typ)
	}
	if c, ok := m["confirm"]; ok {
		v.confirm(ptr+"/confirm", c)
	}
}

func jsonInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false
	}
	return int(i), true
}

func (v *blockValidator) placeholder(ptr string, m map[string]any) {
	if p, ok := m["placeholder"]; ok {
		v.plainText(ptr+"/placeholder", p, false, maxPlaceholder)
	}
}

func (v *blockValidator) imageFields(ptr string, m map[string]any) {
	_, hasURL := m["image_url"]
	_, hasFile := m["slack_file"]
	if !hasURL && !hasFile {
		v.add(ptr, "must provide either image_url or slack_file")
	}
	v.maxLen(ptr, m, "image_url", MaxURLLen)
	alt, ok := strField(m, "alt_text")
	if !ok || alt == "" {
		v.add(ptr+"/alt_text", "is required")
	} else if runeLen(alt) > maxImageAlt {
		v.add(ptr+"/alt_text", "must be less than %d characters", maxImageAlt+1)
	}
}

func (v *blockValidator) confirm(ptr string, c any) {
	m, ok := c.(map[string]any)
	if !ok {
		v.add(ptr, "must be an object")
		return
	}
	v.plainText(ptr+"/title", m["title"], true, maxConfirmTitle)
	v.textObject(ptr+"/text", m["text"], true, 1, maxConfirmText)
	v.plainText(ptr+"/confirm", m["confirm"], true, maxConfirmButton)
	v.plainText(ptr+"/deny", m["deny"], true, maxConfirmButton)
}

func (v *blockValidator) options(ptr string, raw any, min, max int, mrkdwnOK bool) {
	opts, ok := raw.([]any)
	if !ok {
		v.add(ptr, "must be an array")
		return
	}
	if len(opts) < min {
		v.add(ptr, "must provide at least %d items", min)
	}
	if len(opts) > max {
		v.add(ptr, "no more than %d items allowed", max)
	}
	for i, o := range opts {
		v.option(fmt.Sprintf("%s/%d", ptr, i), o, mrkdwnOK)
	}
}

func (v *blockValidator) option(ptr string, o any, mrkdwnOK bool) {
	m, ok := o.(map[string]any)
	if !ok {
		v.add(ptr, "must be an object")
		return
	}
	if mrkdwnOK {
		v.textObject(ptr+"/text", m["text"], true, 1, maxOptionText)
	} else {
		v.plainText(ptr+"/text", m["text"], true, maxOptionText)
	}
	val, ok := strField(m, "value")
	if !ok {
		v.add(ptr+"/value", "is required")
	} else if runeLen(val) > maxOptionValue {
		v.add(ptr+"/value", "must be less than %d characters", maxOptionValue+1)
	}
	if d, ok := m["description"]; ok {
		v.textObject(ptr+"/description", d, true, 1, maxOptionText)
	}
	v.maxLen(ptr, m, "url", MaxURLLen)
}

func (v *blockValidator) plainText(ptr string, t any, required bool, max int) {
	if t == nil {
		if required {
			v.add(ptr, "is required")
		}
		return
	}
	m, ok := t.(map[string]any)
	if !ok {
		v.add(ptr, "must be a text object")
		return
	}
	if typ, _ := strField(m, "type"); typ != "plain_text" {
		v.add(ptr+"/type", "must be plain_text")
		return
	}
	v.textObject(ptr, t, required, 1, max)
}

func (v *blockValidator) textObject(ptr string, t any, required bool, min, max int) {
	if t == nil {
		if required {
			v.add(ptr, "is required")
		}
		return
	}
	m, ok := t.(map[string]any)
	if !ok {
		v.add(ptr, "must be a text object")
		return
	}
	typ, _ := strField(m, "type")
	if typ != "plain_text" && typ != "mrkdwn" {
		v.add(ptr+"/type", "must be one of plain_text, mrkdwn")
	}
	if _, ok := m["emoji"]; ok && typ == "mrkdwn" {
		v.add(ptr+"/emoji", "emoji is only allowed on plain_text")
	}
	if _, ok := m["verbatim"]; ok && typ == "plain_text" {
		v.add(ptr+"/verbatim", "verbatim is only allowed on mrkdwn")
	}
	s, ok := strField(m, "text")
	if !ok {
		v.add(ptr+"/text", "is required")
		return
	}
	n := runeLen(s)
	if n < min {
		v.add(ptr+"/text", "must be more than %d characters", min-1)
	}
	if n > max {
		v.add(ptr+"/text", "must be less than %d characters", max+1)
	}
}

// BlocksText returns all text found in a JSON array of blocks (text objects,
// button labels, option texts, fields, rich text), joined by newlines. It is
// meant for test assertions such as strings.Contains(BlocksText(m.Blocks), "Approved").
func BlocksText(blocks json.RawMessage) string {
	if len(blocks) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(blocks, &v); err != nil {
		return ""
	}
	var parts []string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			if s, ok := t["text"].(string); ok {
				parts = append(parts, s)
			}
			for k, val := range sortedMap(t) {
				if k == "text" {
					if _, isStr := val.(string); isStr {
						continue
					}
				}
				walk(val)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return strings.Join(parts, "\n")
}

// sortedMap iterates a map in a stable order: "text" first, then keys in the
// order Slack lays blocks out (fields, accessory, elements, …), then the rest sorted.
func sortedMap(m map[string]any) func(yield func(string, any) bool) {
	return func(yield func(string, any) bool) {
		order := []string{"text", "title", "label", "fields", "element", "elements", "accessory", "options", "option_groups", "hint"}
		seen := map[string]bool{}
		for _, k := range order {
			if val, ok := m[k]; ok {
				seen[k] = true
				if !yield(k, val) {
					return
				}
			}
		}
		var rest []string
		for k := range m {
			if !seen[k] {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		for _, k := range rest {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// foundElement is an interactive element located in a surface's blocks.
type foundElement struct {
	blockID string
	elem    map[string]any
}

// findElements returns every element whose action_id equals actionID, with
// the block_id of the top-level block that contains it.
func findElements(blocks json.RawMessage, actionID string) []foundElement {
	var arr []map[string]any
	if err := decodeJSON(blocks, &arr); err != nil {
		return nil
	}
	var out []foundElement
	for _, b := range arr {
		blockID, _ := strField(b, "block_id")
		var walk func(any)
		walk = func(x any) {
			switch t := x.(type) {
			case map[string]any:
				if id, _ := strField(t, "action_id"); id == actionID {
					out = append(out, foundElement{blockID: blockID, elem: t})
					return
				}
				for _, val := range t {
					walk(val)
				}
			case []any:
				for _, e := range t {
					walk(e)
				}
			}
		}
		for k, val := range b {
			if k == "accessory" || k == "element" || k == "elements" {
				walk(val)
			}
		}
	}
	return out
}

// FindAction finds the interactive element with actionID in blocks and returns
// its value (a button's value, or the value of a select's initial option).
// ok is false when no such element exists.
func FindAction(blocks json.RawMessage, actionID string) (value string, ok bool) {
	els := findElements(blocks, actionID)
	if len(els) == 0 {
		return "", false
	}
	e := els[0].elem
	if s, ok := strField(e, "value"); ok {
		return s, true
	}
	if io, ok := e["initial_option"].(map[string]any); ok {
		s, _ := strField(io, "value")
		return s, true
	}
	return "", true
}

// ValidateMessageBlocks checks a message's blocks against Slack's Block Kit
// rules and limits as chat.postMessage does, returning Slack-style errors
// (none means Slack would accept them).
func ValidateMessageBlocks(blocks json.RawMessage) []string {
	errs, _ := validateBlocks(blocks, surfaceMessage, "/blocks")
	return errs
}

// ValidateHomeBlocks checks a Home tab's blocks as views.publish does.
func ValidateHomeBlocks(blocks json.RawMessage) []string {
	errs, _ := validateBlocks(blocks, surfaceHome, "/view/blocks")
	return errs
}
