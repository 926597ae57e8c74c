package access

import (
	"context"
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
		c[FindingUnknown], c[FindingMissing], c[FindingRoleDrift], c[FindingLeaver], c[FindingNotInSlack], len(r.Audit.Warnings))
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

// Privileged reports whether user may run and act on seat audits and see the
// roster: approvers and admins.
func (s *Service) Privileged(ctx context.Context, user string) (bool, error) {
	if s.IsAdmin(user) {
		return true, nil
	}
	return s.IsApprover(ctx, user)
}

func (s *Service) auditStore() (AuditStore, error) {
	as, ok := s.store.(AuditStore)
	if !ok {
		return nil, Errorf(EINTERNAL, "This store keeps no seat audits.")
	}
	return as, nil
}

// RunAudit parses UXPin's Team Members list, compares it with the ledger and
// keeps the result. lookup says what Slack knows of an email (see Reconcile).
func (s *Service) RunAudit(ctx context.Context, actor, text string, lookup func(email string) (string, PersonStatus)) (*Reconciliation, error) {
	if ok, err := s.Privileged(ctx, actor); err != nil {
		return nil, err
	} else if !ok {
		return nil, Errorf(EUNAUTHORIZED, "The seat audit is for UXPin access approvers and admins.")
	}
	as, err := s.auditStore()
	if err != nil {
		return nil, err
	}
	members, warnings, err := ParseTeamList(text)
	if err != nil {
		return nil, err
	}
	ledger, err := s.store.Roster(ctx)
	if err != nil {
		return nil, err
	}
	a := Reconcile(members, ledger, lookup)
	a.Warnings = warnings
	rec := &Reconciliation{Time: s.now(), Actor: actor, Audit: a}
	if err := as.SaveReconciliation(ctx, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// LastReconciliation returns the latest seat audit, or nil.
func (s *Service) LastReconciliation(ctx context.Context) (*Reconciliation, error) {
	as, err := s.auditStore()
	if err != nil {
		return nil, err
	}
	return as.LastReconciliation(ctx)
}

// Finding returns finding i of reconciliation id.
func (s *Service) Finding(ctx context.Context, id string, i int) (*Reconciliation, Finding, error) {
	as, err := s.auditStore()
	if err != nil {
		return nil, Finding{}, err
	}
	rec, err := as.Reconciliation(ctx, id)
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

// ActOnFinding turns one finding into the right request: a removal through
// normal approval (ActRemove), an adoption of a legitimate seat into the
// ledger with a justification (ActAdopt, needs the holder's Slack profile),
// or a task that sets UXPin back to the ledger's role (ActFixDrift, already
// approved: the ledger's role was). Repeated clicks get ECONFLICT.
func (s *Service) ActOnFinding(ctx context.Context, actor, auditID string, i int, act, justification string, holder Person) (*Request, error) {
	if ok, err := s.Privileged(ctx, actor); err != nil {
		return nil, err
	} else if !ok {
		return nil, Errorf(EUNAUTHORIZED, "Seat audit actions are for UXPin access approvers and admins.")
	}
	_, f, err := s.Finding(ctx, auditID, i)
	if err != nil {
		return nil, err
	}
	justification = Clean(justification)
	switch act {
	case ActRemove:
		if f.Kind != FindingUnknown && f.Kind != FindingLeaver && f.Kind != FindingNotInSlack {
			return nil, Errorf(EINVALID, "Only unknown seats and leavers can be removed from the audit.")
		}
		return s.auditRemoval(ctx, actor, auditID, f)
	case ActAdopt:
		if f.Kind != FindingUnknown {
			return nil, Errorf(EINVALID, "Only unknown seats can be recorded as existing.")
		}
		if justification == "" {
			return nil, &ValidationError{Fields: map[string]string{FieldJustification: "Say why this seat is legitimate."}}
		}
		return s.adopt(ctx, actor, auditID, f, holder, justification)
	case ActFixDrift:
		if f.Kind != FindingRoleDrift {
			return nil, Errorf(EINVALID, "Only role drift gets a role-change task.")
		}
		return s.fixDrift(ctx, actor, auditID, f)
	}
	return nil, Errorf(EINVALID, "Unknown seat audit action.")
}

func (s *Service) auditRemoval(ctx context.Context, actor, auditID string, f Finding) (*Request, error) {
	approvers, err := s.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	why := "holds a UXPin seat the ledger does not know about"
	switch f.Kind {
	case FindingLeaver:
		why = "left the company but still holds a UXPin seat"
	case FindingNotInSlack:
		why = "is not a Slack user (a guest, a contractor or a typo?) but holds a UXPin seat"
	}
	now := s.now()
	target := findingTarget(f)
	return s.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		if id, err := tx.OpenRequestFor(target, ActionRemove); err != nil {
			return Effects{}, err
		} else if id != "" {
			return Effects{}, Errorf(ECONFLICT, "A removal for %s is already open as %s.", f.Email, id)
		}
		*r = Request{
			ID: r.ID, CreatedAt: now, UpdatedAt: now,
			Action: ActionRemove, Requester: actor, Target: target, TargetEmail: f.Email, TargetName: f.Name,
			CurrentRole:   f.UXPinRole,
			Justification: fmt.Sprintf("Seat audit %s: %s %s.", auditID, f.Email, why),
			State:         StatePending, Origin: OriginAudit, AutoReason: auditID,
		}
		for _, a := range approvers {
			if a != actor && a != target {
				r.Approvers = append(r.Approvers, a)
			}
		}
		if s.policy.ReminderInterval > 0 {
			r.RemindAt = now.Add(s.policy.ReminderInterval)
		}
		fx := Effects{Events: []Event{s.event(r, actor, "", StatePending, "created from seat audit "+auditID)}}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeSubmitted, RequestID: r.ID, To: actor})
		for _, a := range r.Approvers {
			fx.Notices = append(fx.Notices, Notice{Kind: NoticeApprovalCard, RequestID: r.ID, To: a})
		}
		fx.Notices = append(fx.Notices, homes(tx, append([]string{actor}, r.Approvers...)...)...)
		return fx, nil
	})
}

func (s *Service) adopt(ctx context.Context, actor, auditID string, f Finding, holder Person, justification string) (*Request, error) {
	if holder.ID == "" || holder.Deleted {
		return nil, Errorf(EINVALID, "%s is not an active Slack user, so the seat can't be recorded for them; request its removal instead.", f.Email)
	}
	role := f.UXPinRole
	if !role.Valid() {
		return nil, Errorf(EINVALID, "UXPin's list shows no known role for %s; fix the row and run the audit again.", f.Email)
	}
	now := s.now()
	return s.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		if g, err := tx.GrantFor(holder.ID); err != nil {
			return Effects{}, err
		} else if g != nil {
			return Effects{}, Errorf(ECONFLICT, "The ledger already shows %s (%s, %s).", f.Email, g.Role.Label(), g.RequestID)
		}
		*r = Request{
			ID: r.ID, CreatedAt: now, UpdatedAt: now,
			Action: ActionGrant, Requester: actor, Target: holder.ID, TargetEmail: f.Email, TargetName: holder.Name,
			Role: role, Justification: justification,
			State: StateFulfilled, DecidedBy: actor, DecidedAt: now, ClosedBy: actor, ClosedAt: now,
			Origin: OriginAudit, AutoReason: auditID,
		}
		return Effects{
			Events: []Event{s.event(r, actor, "", StateFulfilled, "existing UXPin seat recorded from seat audit "+auditID+": "+justification)},
			Grant:  &Grant{UserID: holder.ID, Email: f.Email, Name: holder.Name, Role: role, Since: now, RequestID: r.ID},
		}, nil
	})
}

func (s *Service) fixDrift(ctx context.Context, actor, auditID string, f Finding) (*Request, error) {
	approvers, err := s.dir.Approvers(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve approvers: %w", err)
	}
	now := s.now()
	target := findingTarget(f)
	return s.create(ctx, func(tx Tx, r *Request) (Effects, error) {
		if id, err := tx.OpenRequestFor(target, ActionChange); err != nil {
			return Effects{}, err
		} else if id != "" {
			return Effects{}, Errorf(ECONFLICT, "A role change for %s is already open as %s.", f.Email, id)
		}
		*r = Request{
			ID: r.ID, CreatedAt: now, UpdatedAt: now,
			Action: ActionChange, Requester: actor, Target: target, TargetEmail: f.Email, TargetName: f.Name,
			Role: f.LedgerRole, CurrentRole: f.UXPinRole,
			Justification: fmt.Sprintf("Seat audit %s: UXPin shows %s, the ledger (%s) says %s.", auditID, f.UXPinRole.Label(), f.RequestID, f.LedgerRole.Label()),
			State:         StateApproved, Approvers: approvers, DecidedBy: actor, DecidedAt: now,
			Origin: OriginAudit, AutoReason: auditID,
		}
		fx := Effects{Events: []Event{s.event(r, actor, "", StateApproved, "role drift from seat audit "+auditID+": restore the ledger's role")}}
		if err := s.assign(tx, r, now, &fx); err != nil {
			return Effects{}, err
		}
		fx.Notices = append(fx.Notices, Notice{Kind: NoticeSubmitted, RequestID: r.ID, To: actor})
		return fx, nil
	})
}
