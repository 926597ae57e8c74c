package bot

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDropField(t *testing.T) {
	tests := []struct {
		in, field, want string
		ok              bool
	}{
		{`{"ok":true,"channel":"D1","ts":"1.2","message":{"text":"a \"}\" b","blocks":[{"type":"section","x":[1,{"y":"]"}]}]}}`, "message", `{"ok":true,"channel":"D1","ts":"1.2"}`, true},
		{`{"ok":true,"message":{"a":1},"ts":"1.2"}`, "message", `{"ok":true,"ts":"1.2"}`, true},
		{`{"message":{"a":1}}`, "message", `{}`, true},
		{` { "ok" : true , "view" : {"id":"V1"} } `, "view", ` { "ok" : true } `, true},
		{`{"ok":true,"messages":[1],"x":"message"}`, "message", ``, false},
		{`{"ok":false,"error":"channel_not_found"}`, "message", ``, false},
		{`[1,2]`, "message", ``, false},
		{`{"ok":true,"message":{"a":`, "message", ``, false},
		{`{"a\"message":1,"message":2,"b":null}`, "message", `{"a\"message":1,"b":null}`, true},
	}
	for _, tt := range tests {
		got, ok := dropField([]byte(tt.in), tt.field)
		if ok != tt.ok || (ok && string(got) != tt.want) {
			t.Errorf("dropField(%s, %q) = %s, %v; want %s, %v", tt.in, tt.field, got, ok, tt.want, tt.ok)
			continue
		}
		if ok {
			var a, b map[string]any
			if err := json.Unmarshal(got, &b); err != nil {
				t.Errorf("dropField(%s) = %s: not JSON: %v", tt.in, got, err)
				continue
			}
			_ = json.Unmarshal([]byte(tt.in), &a)
			delete(a, tt.field)
			if !reflect.DeepEqual(a, b) {
				t.Errorf("dropField(%s) = %s; want the other members kept", tt.in, got)
			}
		}
	}
}
