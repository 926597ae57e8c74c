package playground

import (
	"github.com/uxpin-access-bot/uxpin-access-bot/internal/fakeslack"
)

// Domain is the sample workspace's email domain, the one the playground's
// bot allows.
const Domain = "northwind.example"

// The sample workspace's people. The first five get a column each.
const (
	Requester = "U0PRIYA01" // Priya Natarajan, a product designer who asks for access
	Approver1 = "U0MARCUS1" // Marcus Lee, design lead, approves
	Approver2 = "U0SOFIA01" // Sofía Ramírez, head of product, approves
	Admin1    = "U0KENJI01" // Kenji Watanabe, IT, a UXPin admin
	Admin2    = "U0AMARA01" // Amara Okafor, IT, a UXPin admin
	Colleague = "U0LUCAS01" // Lucas Martin, a front-end engineer
	Leaver    = "U0TOMAS01" // Tomás Novak, deactivated in Slack
)

// Workspace returns the sample workspace: a requester, two approvers, two
// UXPin admins, a few colleagues and one deactivated person.
func Workspace() []Person {
	return []Person{
		{ID: Requester, Name: "Priya Natarajan", Email: "priya.natarajan@" + Domain, Title: "Product designer", Role: "requester"},
		{ID: Approver1, Name: "Marcus Lee", Email: "marcus.lee@" + Domain, Title: "Design lead", Role: "approver"},
		{ID: Approver2, Name: "Sofía Ramírez", Email: "sofia.ramirez@" + Domain, Title: "Head of product", Role: "approver"},
		{ID: Admin1, Name: "Kenji Watanabe", Email: "kenji.watanabe@" + Domain, Title: "IT operations", Role: "UXPin admin"},
		{ID: Admin2, Name: "Amara Okafor", Email: "amara.okafor@" + Domain, Title: "IT operations", Role: "UXPin admin"},
		{ID: Colleague, Name: "Lucas Martin", Email: "lucas.martin@" + Domain, Title: "Front-end engineer", Role: "colleague"},
		{ID: "U0HANNA01", Name: "Hanna Berg", Email: "hanna.berg@" + Domain, Title: "UX researcher", Role: "colleague"},
		{ID: "U0DIEGO01", Name: "Diego Fernández", Email: "diego.fernandez@" + Domain, Title: "Product manager", Role: "colleague"},
		{ID: "U0MEIXU01", Name: "Mei Xu", Email: "mei.xu@" + Domain, Title: "Content designer", Role: "colleague"},
		{ID: Leaver, Name: "Tomás Novak", Email: "tomas.novak@" + Domain, Title: "Former visual designer", Role: "left the company", Deleted: true},
	}
}

// mainPeople get a column each on the page.
var mainPeople = []string{Requester, Approver1, Approver2, Admin1, Admin2}

// fakeUser is p as the fake Slack knows them; the user name is the part of
// the email before the @, as Slack would suggest.
func fakeUser(p Person) fakeslack.User {
	name := p.Email
	for i := range len(name) {
		if name[i] == '@' {
			name = name[:i]
			break
		}
	}
	return fakeslack.User{ID: p.ID, Name: name, RealName: p.Name, Email: p.Email, Deleted: p.Deleted, IsBot: p.IsBot}
}

// Scopes are the bot scopes of slack-app-manifest.yaml (a test keeps the two
// equal), so the simulated Slack refuses any call the published app could
// not make.
var Scopes = []string{
	"commands", "chat:write", "im:write", "im:history", "channels:history", "groups:history",
	"users:read", "users:read.email", "usergroups:read", "files:read", "files:write",
}
