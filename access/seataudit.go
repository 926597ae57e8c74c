package access

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reconciliation is one seat audit as kept: who ran it, when, and what it
// found. Its ID ("A-3") is what the report's buttons carry.
type Reconciliation struct {
	ID    string    `json:"id"`
	Time  time.Time `json:"time"`
	Actor string    `json:"actor"`
	Audit Audit     `json:"audit"`
}

// Summary is the one line the audit log keeps for a reconciliation.
func (r *Reconciliation) Summary() string {
	c := r.Audit.Counts()
	return fmt.Sprintf("%d members in UXPin (%d Admin, %d Editor, %d Viewer); %d unknown seats, %d missing, %d role drift, %d leavers still seated, %d not in Slack; %d rows skipped",
		r.Audit.Members, r.Audit.SeatsByRole[RoleAdmin], r.Audit.SeatsByRole[RoleEditor], r.Audit.SeatsByRole[RoleViewer],
		c[FindingUnknown], c[FindingMissing], c[FindingRoleDrift], c[FindingLeaver], c[FindingNotInSlack], r.Audit.WarningCount())
}

// AuditStore keeps reconciliations and pasted drafts.
type AuditStore interface {
	// SaveReconciliation assigns rec.ID and stores it with an audit-log
	// line, as the latest reconciliation.
	SaveReconciliation(ctx context.Context, rec *Reconciliation) error
	Reconciliation(ctx context.Context, id string) (*Reconciliation, error)
	// LastReconciliation returns the latest, or nil.
	LastReconciliation(ctx context.Context) (*Reconciliation, error)
}

// Finding actions, carried by the report's buttons.
const (
	ActRemove   = "remove"   // request removal (normal approval)
	ActAdopt    = "adopt"    // record an unknown seat as existing
	ActFixDrift = "fixdrift" // task to set UXPin back to the ledger's role
)

// SeatAudit compares UXPin's Team Members list with the ledger (SPEC §8)
// and turns findings into requests like any other: raising access through
// the seat audit needs another approver, as everywhere (SPEC §9.1).
type SeatAudit struct{ *core }

func (sa *SeatAudit) privileged(ctx context.Context, actor string) error {
	who, err := sa.actor(ctx, actor, nil, true)
	if err != nil {
		return err
	}
	return Check(ActAudit, who, nil, nil)
}

// RunAudit parses UXPin's Team Members list, compares it with the ledger and
// keeps the result. lookup says what Slack knows of an email (see Reconcile).
func (sa *SeatAudit) RunAudit(ctx context.Context, actor, text string, lookup func(email string) (string, PersonStatus)) (*Reconciliation, error) {
	if err := sa.privileged(ctx, actor); err != nil {
		return nil, err
	}
	list, err := ReadTeamList(text)
	if err != nil {
		return nil, err
	}
	ledger, err := sa.store.Roster(ctx)
	if err != nil {
		return nil, err
	}
	a := Reconcile(list.Members, ledger, lookup)
	a.Warnings, a.WarningsTotal = list.Warnings, list.WarningsTotal
	rec := &Reconciliation{Time: sa.now(), Actor: actor, Audit: a}
	if err := sa.store.SaveReconciliation(ctx, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LastReconciliation returns the latest seat audit, or nil.
func (sa *SeatAudit) LastReconciliation(ctx context.Context) (*Reconciliation, error) {
	return sa.store.LastReconciliation(ctx)
}

// Finding returns finding i of reconciliation id.
func (sa *SeatAudit) Finding(ctx context.Context, id string, i int) (*Reconciliation, Finding, error) {
	rec, err := sa.store.Reconciliation(ctx, id)
	if err != nil {
		return nil, Finding{}, err
	}
	if i < 0 || i >= len(rec.Audit.Findings) {
		return nil, Finding{}, Errorf(ENOTFOUND, "That finding is not in seat audit %s.", id)
	}
	return rec, rec.Audit.Findings[i], nil
}

// findingTarget is the Slack user a finding is about, or a stand-in keyed by
// email for a seat whose holder is not in Slack at all.
func findingTarget(f Finding) string {
	if f.UserID != "" {
		return f.UserID
	}
	return "email:" + strings.ToLower(f.Email)
}

// ActOnFinding turns one finding into the right request (SPEC §8, §9.1):
//   - ActRemove: a removal through normal approval;
//   - ActAdopt: a grant request that records an existing seat, decided by
//     another approver and checked like any grant (allowed domains, seat
//     budget); an admin confirms the seat in UXPin and marks it done;
//   - ActFixDrift: a role change that sets UXPin back to the ledger's role.
//     One that raises the role in UXPin needs approval; one that lowers it
//     goes straight to an admin.
//
// Repeated clicks meet the open request and are refused.
func (sa *SeatAudit) ActOnFinding(ctx context.Context, actor, auditID string, i int, act, justification string, holder Person) (*Request, error) {
	if err := sa.privileged(ctx, actor); err != nil {
		return nil, err
	}
	_, f, err := sa.Finding(ctx, auditID, i)
	if err != nil {
		return nil, err
	}
	justification = Clean(justification)
	switch act {
	case ActRemove:
		if f.Kind != FindingUnknown && f.Kind != FindingLeaver && f.Kind != FindingNotInSlack {
			return nil, Errorf(EINVALID, "Only unknown seats and leavers can be removed from the audit.")
		}
		return sa.auditRemoval(ctx, actor, auditID, f)
	case ActAdopt:
		if f.Kind != FindingUnknown {
			return nil, Errorf(EINVALID, "Only unknown seats can be recorded as existing.")
		}
		if justification == "" {
			return nil, &ValidationError{Fields: map[string]string{FieldJustification: "Say why this seat is legitimate."}}
		}
		return sa.adopt(ctx, actor, auditID, f, holder, justification)
	case ActFixDrift:
		if f.Kind != FindingRoleDrift {
			return nil, Errorf(EINVALID, "Only role drift gets a role-change task.")
		}
		return sa.fixDrift(ctx, actor, auditID, f)
	}
	return nil, Errorf(EINVALID, "Unknown seat audit action.")
}

// findingBasis is the ledger entry a finding saw, as a Draft's Basis.
func findingBasis(f Finding) string {
	if f.RequestID != "" {
		return f.RequestID
	}
	return NoGrant
}

func (sa *SeatAudit) auditRemoval(ctx context.Context, actor, auditID string, f Finding) (*Request, error) {
	why := "holds a UXPin seat the ledger does not know about"
	switch f.Kind {
	case FindingLeaver:
		why = "left the company but still holds a UXPin seat"
	case FindingNotInSlack:
		why = "is not a Slack user (a guest, a contractor or a typo?) but holds a UXPin seat"
	}
	r, _, err := sa.born(ctx, Draft{
		Action: ActionRemove, Requester: actor,
		Target:        Person{ID: findingTarget(f), Email: f.Email, Name: f.Name},
		Justification: fmt.Sprintf("Seat audit %s: %s %s.", auditID, f.Email, why),
		Origin:        OriginAudit, AutoReason: auditID, Basis: findingBasis(f),
		Detail: "created from seat audit " + auditID, Receipt: true, HeldRole: f.UXPinRole,
	})
	return r, err
}

// adopt asks for the existing seat to be recorded: a grant request like any
// other, so another approver decides it and the allowed domains and seat
// budget apply.
func (sa *SeatAudit) adopt(ctx context.Context, actor, auditID string, f Finding, holder Person, justification string) (*Request, error) {
	if holder.ID == "" || holder.Deleted {
		return nil, Errorf(EINVALID, "%s is not an active Slack user, so the seat can't be recorded for them; request its removal instead.", f.Email)
	}
	role := f.UXPinRole
	if !role.Valid() {
		return nil, Errorf(EINVALID, "UXPin's list shows no known role for %s; fix the row and run the audit again.", f.Email)
	}
	// The seat is UXPin's: its email is what the domains are checked on.
	target := holder
	target.Email = f.Email
	lc := &Lifecycle{sa.core}
	r, err := lc.submit(ctx, Submission{
		Action: ActionGrant, Requester: actor, Target: target, Role: role,
		Justification: fmt.Sprintf("Existing UXPin seat found by seat audit %s: %s", auditID, justification),
	}, Draft{Origin: OriginAudit, AutoReason: auditID, Basis: NoGrant, Receipt: true})
	if v, ok := errors.AsType[*ValidationError](err); ok {
		// The audit has no form to show field errors in: say it in one line.
		return nil, Errorf(EINVALID, "%s can't be recorded: %s", f.Email, v.Message())
	}
	return r, err
}

// fixDrift asks to set UXPin back to the ledger's role. Raising a role in
// UXPin gives access, so it goes to the role's approvers like any change;
// lowering it is done without one, by an admin other than the one who
// asked. Either way the fix keeps the entry's end date, and an audit whose
// snapshot of the person no longer holds is refused.
func (sa *SeatAudit) fixDrift(ctx context.Context, actor, auditID string, f Finding) (*Request, error) {
	d := Draft{
		Action: ActionChange, Requester: actor,
		Target:        Person{ID: findingTarget(f), Email: f.Email, Name: f.Name},
		Role:          f.LedgerRole,
		Justification: fmt.Sprintf("Seat audit %s: UXPin shows %s, the ledger (%s) says %s.", auditID, f.UXPinRole.Label(), f.RequestID, f.LedgerRole.Label()),
		Origin:        OriginAudit, AutoReason: auditID, Basis: findingBasis(f), Receipt: true,
		Detail: "role drift from seat audit " + auditID + ": raising UXPin to the ledger's role needs approval",
	}
	if f.LedgerRole.Rank() <= f.UXPinRole.Rank() {
		d.Evidence = OriginAudit
		d.Detail = "role drift from seat audit " + auditID + ": lowering UXPin to the ledger's role needs no approval"
	}
	d.driftFrom = f.UXPinRole
	r, _, err := sa.born(ctx, d)
	return r, err
}

// RemoveAll asks, as one request group (SPEC §10), for the removal of every
// seat of kind (leavers, seats not in Slack, unknown seats) in seat audit
// auditID: one approval card, one decision, one checklist per admin.
func (sa *SeatAudit) RemoveAll(ctx context.Context, actor, auditID string, kind FindingKind) (GroupResult, error) {
	if err := sa.privileged(ctx, actor); err != nil {
		return GroupResult{}, err
	}
	if kind != FindingLeaver && kind != FindingNotInSlack && kind != FindingUnknown {
		return GroupResult{}, Errorf(EINVALID, "Only leavers, seats not in Slack and unknown seats can be removed from the audit.")
	}
	rec, err := sa.store.Reconciliation(ctx, auditID)
	if err != nil {
		return GroupResult{}, err
	}
	var rows []GroupRow
	basis := map[string]string{}
	for _, f := range rec.Audit.Findings {
		if f.Kind != kind {
			continue
		}
		if kind == FindingUnknown && f.UserID != "" {
			// Recorded in the ledger since the audit: no longer unknown.
			if g, err := sa.store.GrantFor(ctx, f.UserID); err != nil {
				return GroupResult{}, err
			} else if g != nil {
				continue
			}
		}
		rows = append(rows, GroupRow{Target: findingTarget(f), Email: f.Email, Name: f.Name, Role: f.UXPinRole})
		basis[findingTarget(f)] = findingBasis(f)
	}
	if len(rows) == 0 {
		return GroupResult{}, Errorf(ENOTFOUND, "Seat audit %s has no such seats left to remove.", auditID)
	}
	why := map[FindingKind]string{
		FindingLeaver:     "left the company but still hold UXPin seats",
		FindingNotInSlack: "are not Slack users (guests, contractors or typos?) but hold UXPin seats",
		FindingUnknown:    "hold UXPin seats the ledger does not know about",
	}[kind]
	lc := &Lifecycle{sa.core}
	return lc.SubmitGroup(ctx, GroupSubmission{
		Requester: actor, Rows: rows, Origin: OriginAudit, AutoReason: auditID, RowBasis: basis,
		Justification: fmt.Sprintf("Seat audit %s: %d people %s.", auditID, len(rows), why),
	})
}
