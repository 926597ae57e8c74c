package access_test

import (
	"fmt"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// A CSV export from UXPin's Team Members page, compared with the ledger.
func ExampleReconcile() {
	members, warnings, _ := access.ParseTeamList("Name,Email,Role\nJane,jane@example.com,Admin\nNew Hire,new@example.com,Editor\n")
	ledger := []access.Grant{
		{UserID: "U1", Email: "jane@example.com", Role: access.RoleEditor, RequestID: "R-1"},
		{UserID: "U2", Email: "old@example.com", Role: access.RoleViewer, RequestID: "R-2"},
	}
	audit := access.Reconcile(members, ledger, nil)
	for _, f := range audit.Findings {
		fmt.Printf("%s %s uxpin=%q ledger=%q\n", f.Kind, f.Email, f.UXPinRole, f.LedgerRole)
	}
	fmt.Println(len(warnings), "warnings")
	// Output:
	// unknown_seat new@example.com uxpin="editor" ledger=""
	// role_drift jane@example.com uxpin="admin" ledger="editor"
	// missing old@example.com uxpin="" ledger="viewer"
	// 0 warnings
}
