package playground

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestAPIRefusesForeignHostAndOrigin sends the real page's handler requests
// as a DNS-rebinding page would: a Host that is not the playground's own
// address, or an Origin that is not its page. Both are refused with 403;
// the page's own requests, and curl's without an Origin, are served.
func TestAPIRefusesForeignHostAndOrigin(t *testing.T) {
	p := newIdle(t)
	h := p.Handler()
	own := p.ln.Addr().String() // 127.0.0.1:port
	_, port, _ := net.SplitHostPort(own)
	evil := "evil.example:" + port
	clock := `{"advance":"1h"}`
	for _, c := range []struct {
		name, method, path, host, origin string
		upgrade                          bool
		want                             int
	}{
		{"own address", "GET", "/api/state", own, "", false, http.StatusOK},
		{"localhost", "GET", "/api/state", "localhost:" + port, "", false, http.StatusOK},
		{"localhost in capitals", "GET", "/api/state", "LocalHost:" + port, "", false, http.StatusOK},
		{"IPv6 loopback", "GET", "/api/state", "[::1]:" + port, "", false, http.StatusOK},
		{"the page", "GET", "/", own, "", false, http.StatusOK},
		{"forged host, page", "GET", "/", evil, "", false, http.StatusForbidden},
		{"forged host, state", "GET", "/api/state", evil, "", false, http.StatusForbidden},
		{"forged host, team", "GET", "/api/team.csv", evil, "", false, http.StatusForbidden},
		{"forged host, events", "GET", "/events", evil, "", false, http.StatusForbidden},
		{"forged host, post", "POST", "/api/clock", evil, "", false, http.StatusForbidden},
		{"forged host with its origin", "POST", "/api/clock", evil, "http://" + evil, false, http.StatusForbidden},
		{"other port", "GET", "/api/state", "127.0.0.1:1", "", false, http.StatusForbidden},
		{"no port", "GET", "/api/state", "127.0.0.1", "", false, http.StatusForbidden},
		{"another loopback name", "GET", "/api/state", "127.0.0.2:" + port, "", false, http.StatusForbidden},
		{"forged origin, post", "POST", "/api/clock", own, "http://" + evil, false, http.StatusForbidden},
		{"forged origin, events", "GET", "/events", own, "http://evil.example", false, http.StatusForbidden},
		{"forged origin, websocket", "GET", "/", own, "http://evil.example", true, http.StatusForbidden},
		{"https origin", "POST", "/api/clock", own, "https://" + own, false, http.StatusForbidden},
		{"null origin", "POST", "/api/clock", own, "null", false, http.StatusForbidden},
		{"origin with a path", "POST", "/api/clock", own, "http://" + own + "/x", false, http.StatusForbidden},
		{"origin of the other name", "POST", "/api/clock", own, "http://localhost:" + port, false, http.StatusForbidden},
		{"page's origin, post", "POST", "/api/clock", own, "http://" + own, false, http.StatusOK},
		{"localhost page's origin, post", "POST", "/api/clock", "localhost:" + port, "http://localhost:" + port, false, http.StatusOK},
		{"curl, post", "POST", "/api/clock", own, "", false, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			var body *strings.Reader
			if c.method == "POST" {
				body = strings.NewReader(clock)
			} else {
				body = strings.NewReader("")
			}
			req := httptest.NewRequest(c.method, "http://"+own+c.path, body)
			req.Host = c.host
			if c.method == "POST" {
				req.Header.Set("Content-Type", "application/json")
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			if c.upgrade {
				req.Header.Set("Connection", "Upgrade")
				req.Header.Set("Upgrade", "websocket")
			}
			// An event stream that is served runs until its request ends:
			// bound it, so a guard that lets one through fails the test
			// rather than hanging it.
			ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
			defer cancel()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req.WithContext(ctx))
			if rec.Code != c.want {
				t.Errorf("%s %s (Host %q, Origin %q) = %d %s; want %d", c.method, c.path, c.host, c.origin, rec.Code, rec.Body.String(), c.want)
			}
		})
	}
}

// TestHostGuardAddresses checks which Host headers each kind of bound
// address accepts.
func TestHostGuardAddresses(t *testing.T) {
	for _, c := range []struct {
		name       string
		bound      *net.TCPAddr
		configured string
		ok, not    []string
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8090}, "127.0.0.1:8090",
			[]string{"127.0.0.1:8090", "localhost:8090", "[::1]:8090"},
			[]string{"evil.example:8090", "192.168.1.5:8090", "localhost:8091", "localhost", "localhost.:8090", ""}},
		{"IPv6 loopback", &net.TCPAddr{IP: net.IPv6loopback, Port: 8090}, "[::1]:8090",
			[]string{"[::1]:8090", "[0:0:0:0:0:0:0:1]:8090", "localhost:8090", "127.0.0.1:8090"},
			[]string{"evil.example:8090"}},
		{"all interfaces (the container)", &net.TCPAddr{IP: net.IPv4zero, Port: 8090}, "0.0.0.0:8090",
			[]string{"127.0.0.1:8090", "localhost:8090", "192.168.1.5:8090", "[::1]:8090"},
			[]string{"evil.example:8090", "127.0.0.1:9999", "attacker.localhost.example:8090"}},
		{"one interface", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 8090}, "192.168.1.5:8090",
			[]string{"192.168.1.5:8090"},
			[]string{"localhost:8090", "127.0.0.1:8090", "192.168.1.6:8090", "evil.example:8090"}},
		{"a configured name", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 8090}, "devbox.lan:8090",
			[]string{"devbox.lan:8090", "DEVBOX.LAN:8090", "192.168.1.5:8090"},
			[]string{"evil.example:8090", "devbox.lan:8091"}},
		{"port 80", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "127.0.0.1:80",
			[]string{"127.0.0.1", "localhost", "localhost:80"},
			[]string{"evil.example"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newHostGuard(c.bound, c.configured)
			for _, h := range c.ok {
				if !g.allows(h) {
					t.Errorf("bound to %s: Host %q refused; want it served", c.bound, h)
				}
			}
			for _, h := range c.not {
				if g.allows(h) {
					t.Errorf("bound to %s: Host %q served; want it refused", c.bound, h)
				}
			}
		})
	}
}
