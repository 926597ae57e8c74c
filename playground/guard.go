package playground

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The page and its API drive a whole simulated workspace, with no sign-in:
// they trust whoever can reach the address. That must not include other
// web sites the same browser visits. A site cannot read or post to
// 127.0.0.1:8090 itself, but with DNS rebinding it can: its own name
// (evil.example) is made to resolve to 127.0.0.1, and the browser then
// treats the playground as part of evil.example. Such requests still say
// Host: evil.example:8090, so every request whose Host is not one of the
// playground's own names is refused. A cross-site request that is not
// rebound (a fetch, an EventSource or a WebSocket from another page) has
// the right Host but carries that page's Origin, so any request with an
// Origin other than the page's own is refused too. Requests without an
// Origin (curl, a browser's own navigation) are served when the Host is
// right.

// hostGuard knows the Host headers that name the playground's listener.
type hostGuard struct {
	port  string
	names []string // lower-case host names
	ips   []net.IP
	anyIP bool // bound to every interface: any IP literal names it
}

// newHostGuard returns the guard for a listener bound to bound, configured
// as configured (the --addr value, which may name the host). The bound
// address is accepted as it is; a loopback one also as localhost,
// 127.0.0.1 and [::1]; one on every interface (as in the container, whose
// port Docker publishes on the host's 127.0.0.1) as localhost and any IP
// literal, since an IP literal cannot be a rebound name.
func newHostGuard(bound net.Addr, configured string) *hostGuard {
	g := &hostGuard{}
	tcp, ok := bound.(*net.TCPAddr)
	if !ok {
		return g // nothing is accepted
	}
	g.port = strconv.Itoa(tcp.Port)
	g.ips = []net.IP{tcp.IP}
	switch {
	case tcp.IP.IsLoopback():
		g.names = append(g.names, "localhost")
		g.ips = append(g.ips, net.IPv4(127, 0, 0, 1), net.IPv6loopback)
	case tcp.IP.IsUnspecified():
		g.names = append(g.names, "localhost")
		g.anyIP = true
	}
	if host, _, err := net.SplitHostPort(configured); err == nil && host != "" && net.ParseIP(host) == nil {
		g.names = append(g.names, strings.ToLower(host))
	}
	return g
}

// allows reports whether a Host header names the listener. A Host without
// a port means port 80, as browsers leave it out there.
func (g *hostGuard) allows(hostport string) bool {
	if hostport == "" || g.port == "" {
		return false
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), "80"
	}
	if port != g.port {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return g.anyIP || slices.ContainsFunc(g.ips, ip.Equal)
	}
	return slices.Contains(g.names, strings.ToLower(host))
}

// sameOrigin reports whether origin is the page's own, as served at host
// (a Host the guard allows): http, that host, nothing else.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "http" && u.User == nil && u.Path == "" && u.RawQuery == "" &&
		strings.EqualFold(u.Host, host)
}

// guard refuses, with 403, requests that do not come from the playground's
// own page (see above): a foreign Host, or a foreign Origin. The Origin is
// checked wherever a browser sends one, which covers every state-changing
// request, event streams and WebSocket upgrades, and costs the page
// nothing: its own requests carry its own origin or none.
func (g *hostGuard) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.allows(r.Host) {
			http.Error(w, "misdirected request: this playground answers only at its own address, not "+strconv.Quote(r.Host), http.StatusForbidden)
			return
		}
		if origin, sent := r.Header["Origin"]; sent && (len(origin) != 1 || !sameOrigin(origin[0], r.Host)) {
			http.Error(w, "cross-origin request refused: only the playground's own page may use its API", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
