package handlers

import (
	"context"
	"testing"
)

// TestAuditGate: one seat audit per person, maxAudits at once, and a
// waiting one starts when a slot frees.
func TestAuditGate(t *testing.T) {
	var g auditGate
	ctx := context.Background()
	leaveA, ok := g.enter(ctx, "UA")
	if !ok {
		t.Fatal("first audit of UA refused")
	}
	if _, ok := g.enter(ctx, "UA"); ok {
		t.Fatal("second audit of UA admitted while the first runs")
	}
	leaveB, ok := g.enter(ctx, "UB")
	if !ok {
		t.Fatal("audit of UB refused")
	}
	// A third person waits for a slot.
	got := make(chan bool, 1)
	go func() {
		leave, ok := g.enter(ctx, "UC")
		if ok {
			defer leave()
		}
		got <- ok
	}()
	select {
	case <-got:
		t.Fatal("a third audit ran while two did")
	default:
	}
	leaveA()
	if ok := <-got; !ok {
		t.Fatal("the waiting audit was refused when a slot freed")
	}
	leaveB()
	// A waiter gives up with its context.
	leaveD, _ := g.enter(ctx, "UD")
	leaveE, _ := g.enter(ctx, "UE")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok := g.enter(cctx, "UF"); ok {
		t.Fatal("an audit whose context ended got a slot")
	}
	leaveD()
	leaveE()
	if leave, ok := g.enter(ctx, "UF"); !ok {
		t.Fatal("UF refused after giving up once")
	} else {
		leave()
	}
}
