package access_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// The cast of the policy table test: one fixture per relation, each
// standing in that relation and no stronger one.
const (
	uReq = "UREQ"
	uTgt = "UTGT"
	uApp = "UAPP"
	uApo = "UAPO"
	uAsg = "UASG"
	uAdm = "UADM"
	uAny = "UANY"
	uApd = "UAPD" // an approver who already approved
)

// actorFor returns the actor standing in rel, and whether the request must
// have no assignee (a plain admin, with no task owner to be "another" to).
func actorFor(rel access.Relation) (access.Actor, bool) {
	switch rel {
	case access.RelRequester:
		return access.Actor{ID: uReq}, false
	case access.RelTarget:
		return access.Actor{ID: uTgt}, false
	case access.RelApproverSelf:
		return access.Actor{ID: uReq, Approver: true, RoleApprover: true}, false
	case access.RelApprover:
		return access.Actor{ID: uApp, Approver: true, RoleApprover: true}, false
	case access.RelApprovedAlready:
		return access.Actor{ID: uApd, Approver: true, RoleApprover: true}, false
	case access.RelApproverOther:
		return access.Actor{ID: uApo, Approver: true}, false
	case access.RelAdminTarget:
		return access.Actor{ID: uTgt, Admin: true}, false
	case access.RelOwnUnreviewed:
		return access.Actor{ID: uReq, Admin: true}, false
	case access.RelAssignee:
		return access.Actor{ID: uAsg, Admin: true}, false
	case access.RelOtherAdmin:
		return access.Actor{ID: uAdm, Admin: true}, false
	case access.RelAdmin:
		return access.Actor{ID: uAdm, Admin: true}, true
	case access.RelSystem:
		return access.System, false
	case access.RelAnyone:
		return access.Actor{ID: uAny}, false
	}
	panic("no fixture for relation " + string(rel))
}

// requestAt returns a request, and the target's ledger entry, that is
// current for act, or has moved on.
func requestAt(act access.Act, current bool) (*access.Request, *access.Grant) {
	r := &access.Request{ID: "R-7", Action: access.ActionGrant, Requester: uReq, Target: uTgt, Role: access.RoleEditor, Assignee: uAsg}
	mine := &access.Grant{UserID: uTgt, Role: access.RoleEditor, RequestID: r.ID}
	later := &access.Grant{UserID: uTgt, Role: access.RoleAdmin, RequestID: "R-9"}
	switch act {
	case access.ActApprove, access.ActDeny, access.ActCancel, access.ActRemind, access.ActApproveByPolicy:
		r.State, r.Assignee = access.StatePending, ""
		if !current {
			r.State = access.StateDenied
		}
		return r, nil
	case access.ActComplete, access.ActFail, access.ActTakeOver, access.ActEscalate, access.ActReassign:
		r.State = access.StateApproved
		if !current {
			r.State = access.StateFulfilled
		}
		return r, nil
	case access.ActConfirm, access.ActReopen, access.ActExpiryWarn, access.ActExpire:
		r.State = access.StateFulfilled
		if !current {
			return r, later // changed since by a later request
		}
		return r, mine
	case access.ActOffboard:
		r.Action, r.State = access.ActionRemove, access.StateApproved
		if !current {
			return r, nil // no seat to remove
		}
		return r, mine
	case access.ActAudit, access.ActReview:
		return nil, nil
	case access.ActReviewAnswer, access.ActReviewDecide:
		// The seat as the policy sees it: pending while the review is
		// open, moved on once it ended.
		r.State = access.StatePending
		if !current {
			r.State = access.StateCancelled
		}
		return r, mine
	}
	panic("no fixture for act " + string(act))
}

// want is the table in words: for each act and relation, the answer in the
// current stage and once the request moved on ("ok" or the reason).
var want = map[access.Act]map[access.Relation][2]string{
	access.ActApprove: decide(),
	access.ActDeny:    decide(),
	access.ActCancel: {
		access.RelRequester: {"ok", "moved_on"}, access.RelTarget: {"not_requester", "not_requester"},
		access.RelApproverSelf: {"ok", "moved_on"}, access.RelApprover: {"not_requester", "not_requester"},
		access.RelApproverOther: {"not_requester", "not_requester"}, access.RelAdminTarget: {"not_requester", "not_requester"},
		access.RelAssignee: {"not_requester", "not_requester"}, access.RelOtherAdmin: {"not_requester", "not_requester"},
		access.RelAdmin: {"not_requester", "not_requester"}, access.RelSystem: {"not_requester", "not_requester"},
		access.RelAnyone: {"not_requester", "not_requester"},
	},
	access.ActComplete: closeTask(),
	access.ActFail:     closeTask(),
	access.ActTakeOver: {
		access.RelRequester: {"not_admin", "moved_on"}, access.RelTarget: {"not_admin", "moved_on"},
		access.RelApproverSelf: {"not_admin", "moved_on"}, access.RelApprover: {"not_admin", "moved_on"},
		access.RelApproverOther: {"not_admin", "moved_on"}, access.RelAdminTarget: {"about_self", "moved_on"},
		access.RelAssignee: {"already_assignee", "moved_on"}, access.RelOtherAdmin: {"ok", "moved_on"},
		access.RelAdmin: {"ok", "moved_on"}, access.RelSystem: {"not_admin", "moved_on"},
		access.RelAnyone: {"not_admin", "moved_on"},
	},
	access.ActConfirm: answer(),
	access.ActReopen:  answer(),
	access.ActAudit: {
		access.RelRequester: {"not_privileged", "not_privileged"}, access.RelTarget: {"not_privileged", "not_privileged"},
		access.RelApproverSelf: {"ok", "ok"}, access.RelApprover: {"ok", "ok"},
		access.RelApproverOther: {"ok", "ok"}, access.RelAdminTarget: {"ok", "ok"},
		access.RelAssignee: {"ok", "ok"}, access.RelOtherAdmin: {"ok", "ok"},
		access.RelAdmin: {"ok", "ok"}, access.RelSystem: {"not_privileged", "not_privileged"},
		access.RelAnyone: {"not_privileged", "not_privileged"},
	},
	access.ActReview: {
		access.RelRequester: {"not_privileged", "not_privileged"}, access.RelTarget: {"not_privileged", "not_privileged"},
		access.RelApproverSelf: {"ok", "ok"}, access.RelApprover: {"ok", "ok"},
		access.RelApproverOther: {"ok", "ok"}, access.RelAdminTarget: {"ok", "ok"},
		access.RelAssignee: {"ok", "ok"}, access.RelOtherAdmin: {"ok", "ok"},
		access.RelAdmin: {"ok", "ok"}, access.RelSystem: {"not_privileged", "not_privileged"},
		access.RelAnyone: {"not_privileged", "not_privileged"},
	},
	// Only the holder answers their own question, while the review is open.
	access.ActReviewAnswer: {
		access.RelRequester: {"not_holder", "not_holder"}, access.RelTarget: {"ok", "moved_on"},
		access.RelApproverSelf: {"not_holder", "not_holder"}, access.RelApprover: {"not_holder", "not_holder"},
		access.RelApproverOther: {"not_holder", "not_holder"}, access.RelAdminTarget: {"ok", "moved_on"},
		access.RelAssignee: {"not_holder", "not_holder"}, access.RelOtherAdmin: {"not_holder", "not_holder"},
		access.RelAdmin: {"not_holder", "not_holder"}, access.RelSystem: {"not_holder", "not_holder"},
		access.RelAnyone: {"not_holder", "not_holder"},
	},
	// Any approver but the holder decides a seat, until the review ends.
	access.ActReviewDecide: {
		access.RelRequester: {"not_approver", "moved_on"}, access.RelTarget: {"not_approver", "moved_on"},
		access.RelApproverSelf: {"own_seat", "moved_on"}, access.RelApprover: {"ok", "moved_on"},
		access.RelApproverOther: {"ok", "moved_on"}, access.RelAdminTarget: {"not_approver", "moved_on"},
		access.RelAssignee: {"ok", "moved_on"}, access.RelOtherAdmin: {"not_approver", "moved_on"},
		access.RelAdmin: {"not_approver", "moved_on"}, access.RelSystem: {"not_approver", "moved_on"},
		access.RelAnyone: {"not_approver", "moved_on"},
	},
	access.ActRemind:          bot(),
	access.ActEscalate:        bot(),
	access.ActExpiryWarn:      bot(),
	access.ActExpire:          bot(),
	access.ActOffboard:        bot(),
	access.ActReassign:        bot(),
	access.ActApproveByPolicy: bot(),
}

// ownUnreviewed is how an admin stands to what they asked for and no
// approver decided: like the requester, except that they never close or
// take over its task (SPEC §9.1: a second person is always involved).
var ownUnreviewed = map[access.Act][2]string{
	access.ActApprove: {"not_approver", "moved_on"}, access.ActDeny: {"not_approver", "moved_on"},
	access.ActCancel: {"ok", "moved_on"}, access.ActComplete: {"own_unreviewed", "moved_on"},
	access.ActFail: {"own_unreviewed", "moved_on"}, access.ActTakeOver: {"own_unreviewed", "moved_on"},
	access.ActConfirm: {"not_target", "not_target"}, access.ActReopen: {"not_target", "not_target"},
	access.ActAudit: {"ok", "ok"}, access.ActReview: {"ok", "ok"},
	access.ActReviewAnswer: {"not_holder", "not_holder"}, access.ActReviewDecide: {"not_approver", "moved_on"},
}

// An approver who already approved stands like any other approver, except
// that they can't approve again (SPEC §10).
func init() {
	for act, rows := range want {
		if w, ok := ownUnreviewed[act]; ok {
			rows[access.RelOwnUnreviewed] = w
		} else {
			rows[access.RelOwnUnreviewed] = [2]string{"system_only", "system_only"}
		}
		if _, ok := rows[access.RelApprovedAlready]; !ok {
			rows[access.RelApprovedAlready] = rows[access.RelApprover]
		}
		want[act] = rows
	}
	want[access.ActApprove][access.RelApprovedAlready] = [2]string{"already_approved", "moved_on"}
}

// decide: only an approver of the role who neither asked nor is the
// subject decides, and only while the request is pending.
func decide() map[access.Relation][2]string {
	return map[access.Relation][2]string{
		access.RelRequester: {"not_approver", "moved_on"}, access.RelTarget: {"not_approver", "moved_on"},
		access.RelApproverSelf: {"own_request", "moved_on"}, access.RelApprover: {"ok", "moved_on"},
		access.RelApproverOther: {"not_role_approver", "moved_on"}, access.RelAdminTarget: {"not_approver", "moved_on"},
		access.RelAssignee: {"not_approver", "moved_on"}, access.RelOtherAdmin: {"not_approver", "moved_on"},
		access.RelAdmin: {"not_approver", "moved_on"}, access.RelSystem: {"not_approver", "moved_on"},
		access.RelAnyone: {"not_approver", "moved_on"},
	}
}

// closeTask: only the assignee closes, never the person it is about.
func closeTask() map[access.Relation][2]string {
	return map[access.Relation][2]string{
		access.RelRequester: {"not_admin", "moved_on"}, access.RelTarget: {"not_admin", "moved_on"},
		access.RelApproverSelf: {"not_admin", "moved_on"}, access.RelApprover: {"not_admin", "moved_on"},
		access.RelApproverOther: {"not_admin", "moved_on"}, access.RelAdminTarget: {"about_self", "moved_on"},
		access.RelAssignee: {"ok", "moved_on"}, access.RelOtherAdmin: {"not_assignee", "moved_on"},
		access.RelAdmin: {"not_assignee", "moved_on"}, access.RelSystem: {"not_admin", "moved_on"},
		access.RelAnyone: {"not_admin", "moved_on"},
	}
}

// answer: only the person the grant is for says whether it works, while
// the ledger still holds that grant.
func answer() map[access.Relation][2]string {
	return map[access.Relation][2]string{
		access.RelRequester: {"not_target", "not_target"}, access.RelTarget: {"ok", "moved_on"},
		access.RelApproverSelf: {"not_target", "not_target"}, access.RelApprover: {"not_target", "not_target"},
		access.RelApproverOther: {"not_target", "not_target"}, access.RelAdminTarget: {"ok", "moved_on"},
		access.RelAssignee: {"not_target", "not_target"}, access.RelOtherAdmin: {"not_target", "not_target"},
		access.RelAdmin: {"not_target", "not_target"}, access.RelSystem: {"not_target", "not_target"},
		access.RelAnyone: {"not_target", "not_target"},
	}
}

// bot: timers and events are the bot's own, and do nothing once the
// request moved on.
func bot() map[access.Relation][2]string {
	m := map[access.Relation][2]string{}
	for _, rel := range access.Relations {
		m[rel] = [2]string{"system_only", "system_only"}
	}
	m[access.RelSystem] = [2]string{"ok", "moved_on"}
	return m
}

func TestPolicyTable(t *testing.T) {
	for act := range access.Table {
		if _, ok := want[act]; !ok {
			t.Errorf("act %q has rows in access.Table but none in this test", act)
		}
	}
	for _, act := range access.Acts {
		rows, ok := want[act]
		if !ok {
			t.Errorf("act %q has no expected rows: add them to this test", act)
			continue
		}
		if len(access.Table[act]) == 0 {
			t.Errorf("act %q has no rows in access.Table", act)
		}
		for _, rel := range access.Relations {
			w, ok := rows[rel]
			if !ok {
				t.Errorf("%s: no expectation for relation %q", act, rel)
				continue
			}
			for i, current := range []bool{true, false} {
				actor, unassigned := actorFor(rel)
				r, g := requestAt(act, current)
				if r != nil && unassigned {
					r.Assignee = ""
				}
				if r != nil {
					// One approval of two is in: uApd's.
					r.Approvals, r.ApprovalsRequired = []access.Approval{{By: uApd}}, 2
					if rel == access.RelOwnUnreviewed {
						r.Approvals = nil // approved by policy or on evidence
					}
				}
				got := verdict(access.Check(act, actor, r, g))
				if got != w[i] {
					stage := "current"
					if !current {
						stage = "moved on"
					}
					t.Errorf("Check(%s, %s, %s) = %s; want %s", act, rel, stage, got, w[i])
				}
			}
		}
	}
}

func verdict(err error) string {
	if err == nil {
		return "ok"
	}
	var ref *access.Refusal
	if !errors.As(err, &ref) {
		return fmt.Sprintf("non-refusal error %v", err)
	}
	return string(ref.Reason)
}

func TestRefusalCodes(t *testing.T) {
	moved := access.Check(access.ActApprove, access.Actor{ID: uApp, Approver: true, RoleApprover: true}, &access.Request{ID: "R-1", State: access.StateDenied}, nil)
	if got := access.ErrorCode(moved); got != access.ECONFLICT {
		t.Errorf("ErrorCode(moved on) = %q; want %q", got, access.ECONFLICT)
	}
	denied := access.Check(access.ActApprove, access.Actor{ID: uAny}, &access.Request{ID: "R-1", State: access.StatePending}, nil)
	if got := access.ErrorCode(denied); got != access.EUNAUTHORIZED {
		t.Errorf("ErrorCode(not an approver) = %q; want %q", got, access.EUNAUTHORIZED)
	}
}

// groupActs are the acts that reach request groups, and whether they are
// judged per row (a row view) as well as on the whole group.
var groupActs = map[access.Act]bool{
	access.ActApprove: false, access.ActDeny: false, access.ActCancel: false,
	access.ActRemind: false, access.ActApproveByPolicy: false,
	access.ActComplete: true, access.ActFail: true, access.ActTakeOver: true,
	access.ActEscalate: true, access.ActReassign: true,
}

// asGroup turns a single fixture into a group of two removals: the
// target's row with the assignee, and another person's row with another
// admin. Everyone stands to the group as they stood to the single request.
func asGroup(r *access.Request) *access.Request {
	g := *r
	g.Action, g.Target, g.Assignee = access.ActionRemove, "", ""
	g.Rows = []access.GroupRow{
		{Target: r.Target, Email: "t@example.com", Assignee: r.Assignee},
		{Target: uOth, Email: "o@example.com", Assignee: uAs2},
	}
	if r.Assignee == "" {
		g.Rows[1].Assignee = ""
	}
	return &g
}

const (
	uOth = "UOTH" // the person of a group's second row
	uAs2 = "UAS2" // the admin of a group's second row
)

// TestPolicyTableGroups: every act that reaches a request group answers as
// for a single request, on the whole group and on a row view, and a person
// of any row is about themselves for deciding, closing, failing and taking
// over (findings H2, H3).
func TestPolicyTableGroups(t *testing.T) {
	for act, perRow := range groupActs {
		for _, rel := range access.Relations {
			w := want[act][rel]
			for i, current := range []bool{true, false} {
				actor, unassigned := actorFor(rel)
				single, g := requestAt(act, current)
				if unassigned {
					single.Assignee = ""
				}
				single.Approvals, single.ApprovalsRequired = []access.Approval{{By: uApd}}, 2
				if rel == access.RelOwnUnreviewed {
					single.Approvals = nil
				}
				grp := asGroup(single)
				views := map[string]*access.Request{"group": grp}
				if perRow {
					views["row 0"] = grp.RowView(0)
				}
				for name, r := range views {
					if got := verdict(access.Check(act, actor, r, g)); got != w[i] {
						t.Errorf("Check(%s, %s, %s, current=%v) = %s; want %s", act, rel, name, current, got, w[i])
					}
				}
			}
		}
	}
	// The second row's person, as an approver and as an admin.
	pending, _ := requestAt(access.ActApprove, true)
	grp := asGroup(pending)
	for _, act := range []access.Act{access.ActApprove, access.ActDeny} {
		if got := verdict(access.Check(act, access.Actor{ID: uOth, Approver: true, RoleApprover: true}, grp, nil)); got != "own_request" {
			t.Errorf("%s by a person of the group's other row = %s; want own_request", act, got)
		}
	}
	approved, _ := requestAt(access.ActComplete, true)
	grp = asGroup(approved)
	grp.Rows[0].Assignee = uOth // the other row's person holds this row
	for _, act := range []access.Act{access.ActComplete, access.ActFail, access.ActTakeOver} {
		for name, r := range map[string]*access.Request{"group": grp, "row 0": grp.RowView(0), "row 1": grp.RowView(1)} {
			if got := verdict(access.Check(act, access.Actor{ID: uOth, Admin: true}, r, nil)); got != "about_self" {
				t.Errorf("%s on %s by an admin who is a person of the group = %s; want about_self", act, name, got)
			}
		}
	}
}
