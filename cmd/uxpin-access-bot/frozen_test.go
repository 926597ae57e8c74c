package main

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// TestStalledBackupFreezesNothing opens GET /backup with a client that
// stops reading after the first byte and keeps it stalled while 50
// lifecycles run from submission to done: every one completes, and no read
// transaction stays open for the stalled download.
func TestStalledBackupFreezesNothing(t *testing.T) {
	h := newHarness(t, opsEnv())
	for i := range 50 {
		h.fake.AddUser(fakeslack.User{ID: fmt.Sprintf("U0LIFE%03d", i), Name: fmt.Sprintf("life%03d", i), Email: fmt.Sprintf("life%03d@example.com", i)})
	}
	conn, err := net.Dial("tcp", h.m.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	if _, err := fmt.Fprintf(conn, "GET /backup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", adminToken); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// From here on the client reads nothing.

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Go(func() {
			r, err := h.m.Service.Submit(ctx, access.Submission{
				Action: access.ActionGrant, Requester: uAlice, Role: access.RoleViewer, Justification: "stalled backup",
				Target: access.Person{ID: fmt.Sprintf("U0LIFE%03d", i), Email: fmt.Sprintf("life%03d@example.com", i)},
			})
			if err == nil {
				r, err = h.m.Service.Decide(ctx, r.ID, uCarol, access.Decision{Approve: true})
			}
			if err == nil {
				_, err = h.m.Service.Complete(ctx, r.ID, r.Assignee)
			}
			if err != nil {
				errs <- fmt.Errorf("lifecycle %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	h.outboxEmpty()
	// The bot's own reads come and go; the download's must not stay.
	h.waitFor("no read transaction open while the download stalls", func() bool { return h.m.DB.OpenReads() == 0 })
}
