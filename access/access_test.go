package access_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

func fixedNow() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }

func TestValidate(t *testing.T) {
	svc := access.NewService(nil, nil, access.Config{AllowedDomains: []string{"Example.com", "@corp.example"}}, fixedNow)
	alice := access.Person{ID: "U1", Email: "alice@example.com", Name: "Alice"}
	tests := []struct {
		name  string
		sub   access.Submission
		field string // "" means valid
	}{
		{"grant ok", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleEditor, Justification: "design system"}, ""},
		{"grant with end date ok", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleViewer, Justification: "x", EndDate: "2026-11-30"}, ""},
		{"remove needs no role or reason", access.Submission{Action: access.ActionRemove, Target: alice}, ""},
		{"second domain ok", access.Submission{Action: access.ActionRemove, Target: access.Person{ID: "U2", Email: "b@CORP.example"}}, ""},
		{"unknown action", access.Submission{Action: "steal", Target: alice}, access.FieldAction},
		{"no target", access.Submission{Action: access.ActionRemove}, access.FieldTarget},
		{"bot target", access.Submission{Action: access.ActionRemove, Target: access.Person{ID: "UB", Email: "b@example.com", IsBot: true}}, access.FieldTarget},
		{"deactivated target", access.Submission{Action: access.ActionRemove, Target: access.Person{ID: "UD", Email: "d@example.com", Deleted: true}}, access.FieldTarget},
		{"target without email", access.Submission{Action: access.ActionRemove, Target: access.Person{ID: "UE"}}, access.FieldTarget},
		{"email outside domains", access.Submission{Action: access.ActionRemove, Target: access.Person{ID: "UX", Email: "x@evil.test"}}, access.FieldTarget},
		{"grant without role", access.Submission{Action: access.ActionGrant, Target: alice, Justification: "x"}, access.FieldRole},
		{"change with bogus role", access.Submission{Action: access.ActionChange, Target: alice, Role: "owner", Justification: "x"}, access.FieldRole},
		{"grant without justification", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleEditor, Justification: "  "}, access.FieldJustification},
		{"justification too long", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleEditor, Justification: strings.Repeat("x", access.MaxJustification+1)}, access.FieldJustification},
		{"end date today", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleEditor, Justification: "x", EndDate: "2026-11-29"}, access.FieldEndDate},
		{"end date in the past", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleEditor, Justification: "x", EndDate: "2025-01-01"}, access.FieldEndDate},
		{"end date garbage", access.Submission{Action: access.ActionGrant, Target: alice, Role: access.RoleEditor, Justification: "x", EndDate: "tomorrow"}, access.FieldEndDate},
		{"end date on removal", access.Submission{Action: access.ActionRemove, Target: alice, EndDate: "2027-01-01"}, access.FieldEndDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := svc.Validate(tt.sub)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v; want nil", tt.sub, err)
				}
				return
			}
			v, ok := errors.AsType[*access.ValidationError](err)
			if !ok {
				t.Fatalf("Validate(%+v) = %v; want a *ValidationError on %q", tt.sub, err, tt.field)
			}
			if _, ok := v.Fields[tt.field]; !ok {
				t.Fatalf("Validate(%+v) fields = %v; want one on %q", tt.sub, v.Fields, tt.field)
			}
			if got := access.ErrorCode(err); got != access.EINVALID {
				t.Errorf("ErrorCode = %q; want %q", got, access.EINVALID)
			}
		})
	}
}

func TestPickAdmin(t *testing.T) {
	tests := []struct {
		admins []string
		open   map[string]int
		target string
		want   string
	}{
		{[]string{"UA", "UB"}, nil, "", "UA"},
		{[]string{"UA", "UB"}, map[string]int{"UA": 2, "UB": 1}, "", "UB"},
		{[]string{"UA", "UB", "UC"}, map[string]int{"UA": 1, "UB": 1, "UC": 1}, "", "UA"},
		{[]string{"UA", "UB"}, map[string]int{"UB": 5}, "UA", "UB"},
		{[]string{"UA"}, nil, "UA", ""},
		{nil, nil, "", ""},
	}
	for _, tt := range tests {
		if got := access.PickAdmin(tt.admins, tt.open, tt.target); got != tt.want {
			t.Errorf("PickAdmin(%v, %v, %q) = %q; want %q", tt.admins, tt.open, tt.target, got, tt.want)
		}
	}
}

func TestParseID(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"R-1", 1, true}, {"R-42", 42, true}, {"R-0", 0, false}, {"r-1", 0, false},
		{"R-", 0, false}, {"R--1", 0, false}, {"R-1x", 0, false}, {"", 0, false},
		{"R-99999999999999999999999", 0, false}, {"../../etc", 0, false},
	}
	for _, tt := range tests {
		got, err := access.ParseID(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseID(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if tt.ok && access.FormatID(got) != tt.in {
			t.Errorf("FormatID(%d) = %q; want %q", got, access.FormatID(got), tt.in)
		}
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  hello  ", "hello"},
		{"a\x00b\x07c", "abc"},
		{"line1\nline2\tx", "line1\nline2\tx"},
		{"\u202e\x1b[31mred", "[31mred"},
		{"bad \xff utf8", "bad  utf8"},
		// Bidirectional controls: a right-to-left override makes
		// "approved \u202edenied" display as "approved deined".
		{"approved \u202edenied\u202c", "approved denied"},
		{"a\u202ab\u202bc\u202cd\u202de", "abcde"},
		{"\u2066isolated\u2069 \u2067x\u2068y", "isolated xy"},
		{"mark\u200e\u200f\u061c", "mark"},
		// Zero-width and invisible characters, which hide text or make
		// two strings look the same; trimming sees through them.
		{"\ufeff  padded\u200b  ", "padded"},
		{"in\u200bvis\u200cible\u2060 te\u180ext", "invisible text"},
		// Dropping the joiner splits a ZWJ emoji sequence: accepted.
		{"\U0001F469\u200d\U0001F4BB dev", "\U0001F469\U0001F4BB dev"},
		// Neighbouring characters that are visible or meaningful stay.
		{"caf\u00e9 \u05e9\u05dc\u05d5\u05dd \u00a0x", "caf\u00e9 \u05e9\u05dc\u05d5\u05dd \u00a0x"},
		{"\U0001F44D\U0001F3FD ok", "\U0001F44D\U0001F3FD ok"},
	}
	for _, tt := range tests {
		if got := access.Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	internal := errors.New("bolt: disk on fire at /secret/path")
	tests := []struct {
		err      error
		code     string
		showsMsg bool
	}{
		{nil, "", false},
		{access.Errorf(access.ECONFLICT, "R-1 is already approved."), access.ECONFLICT, true},
		{fmt.Errorf("wrapped: %w", access.Errorf(access.EUNAUTHORIZED, "no")), access.EUNAUTHORIZED, true},
		{&access.ValidationError{Fields: map[string]string{"role": "Choose"}}, access.EINVALID, true},
		{internal, access.EINTERNAL, false},
	}
	for _, tt := range tests {
		if got := access.ErrorCode(tt.err); got != tt.code {
			t.Errorf("ErrorCode(%v) = %q; want %q", tt.err, got, tt.code)
		}
		msg := access.ErrorMessage(tt.err)
		if tt.err != nil && !tt.showsMsg && msg == tt.err.Error() {
			t.Errorf("ErrorMessage(%v) leaks the internal error", tt.err)
		}
	}
}
