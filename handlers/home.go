package handlers

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// maxHomeBlocks is Slack's limit for a Home tab view.
const maxHomeBlocks = 100

// PublishHome renders and publishes user's App Home tab.
func (h *Handler) PublishHome(ctx context.Context, user string) {
	blocks, err := h.homeBlocks(ctx, user)
	if err != nil {
		h.log.Error("building App Home failed", "user", user, "err", err)
		blocks = []slack.Block{section("Sorry, I couldn't load your UXPin access overview just now. Open the tab again in a moment.")}
	}
	_, err = h.api.PublishViewContext(ctx, slack.PublishViewContextRequest{
		UserID: user,
		View:   slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}},
	})
	if err != nil {
		h.log.Error("views.publish failed", "user", user, "err", err)
	}
}

func (h *Handler) homeBlocks(ctx context.Context, viewer string) ([]slack.Block, error) {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("UXPin access", 150)),
		section("Run `/uxpin-access` to ask for access, a role change or a removal."),
	}
	mine, err := h.svc.MyRequests(ctx, viewer, 10)
	if err != nil {
		return nil, err
	}
	blocks = append(blocks, slack.NewDividerBlock(), section("*Your requests*"))
	if len(mine) == 0 {
		blocks = append(blocks, contextLine("You have no requests yet."))
	}
	for _, r := range mine {
		sec := section(fmt.Sprintf("*%s* %s — *%s*", r.ID, summary(r), r.State))
		if r.State == access.StatePending {
			sec.Accessory = slack.NewAccessory(button(ActionCancel, "Cancel", r.ID, ""))
		}
		blocks = append(blocks, sec)
	}
	isApprover, err := h.svc.IsApprover(ctx, viewer)
	if err != nil {
		return nil, err
	}
	if isApprover {
		pending, err := h.svc.PendingFor(ctx, viewer, 15)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, slack.NewDividerBlock(), section("*Waiting for your approval*"))
		if len(pending) == 0 {
			blocks = append(blocks, contextLine("Nothing to approve."))
		}
		for _, r := range pending {
			blocks = append(blocks,
				section(fmt.Sprintf("*%s*: %s, asked by %s", r.ID, summary(r), user(r.Requester))),
				slack.NewActionBlock("home_decide_"+r.ID,
					button(ActionApprove, "Approve", r.ID, slack.StylePrimary),
					button(ActionDeny, "Deny", r.ID, slack.StyleDanger)))
		}
	}
	if h.svc.IsAdmin(viewer) {
		tasks, err := h.svc.OpenTasks(ctx, viewer, 15)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, slack.NewDividerBlock(), section("*Your open UXPin tasks*"))
		if len(tasks) == 0 {
			blocks = append(blocks, contextLine("No open tasks."))
		}
		for _, r := range tasks {
			blocks = append(blocks,
				section(fmt.Sprintf("*%s*: %s", r.ID, summary(r))),
				slack.NewActionBlock("home_task_"+r.ID,
					button(ActionDone, "Mark done", r.ID, slack.StylePrimary),
					button(ActionFail, "Can't complete", r.ID, slack.StyleDanger)))
		}
	}
	if isApprover || h.svc.IsAdmin(viewer) {
		grants, err := h.svc.Roster(ctx)
		if err != nil {
			return nil, err
		}
		counts := map[access.Role]int{}
		for _, g := range grants {
			counts[g.Role]++
		}
		blocks = append(blocks, slack.NewDividerBlock(), section(fmt.Sprintf("*Seats in use*: %d Admin, %d Editor, %d Viewer", counts[access.RoleAdmin], counts[access.RoleEditor], counts[access.RoleViewer])))
	}
	if len(blocks) > maxHomeBlocks {
		blocks = blocks[:maxHomeBlocks]
	}
	return blocks, nil
}
