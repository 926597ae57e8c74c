package handlers

import (
	"context"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// Home tab sizes: what fits well under Slack's 100-block limit with every
// section shown; the rest is summarised with a pointer to the commands.
const (
	homeOwn     = 10
	homePending = 15
	homeTasks   = 15
)

// openedHome handles app_home_opened: remember the viewer, then publish.
func (h *Handler) openedHome(ctx context.Context, user string) {
	if h.homes != nil {
		if _, err := h.homes.MarkHomeSeen(ctx, user); err != nil {
			h.log.Warn("could not record Home viewer", "user", user, "err", err)
		}
	}
	h.PublishHome(ctx, user)
}

// RefreshHome republishes user's Home tab; the outbox calls it when
// something the tab shows has changed. The lifecycle owes refreshes only to
// users who opened the tab, so there is no need to check that again here.
func (h *Handler) RefreshHome(ctx context.Context, user string) error {
	blocks, err := h.HomeBlocks(ctx, user)
	if err != nil {
		return err
	}
	return h.publish(ctx, user, blocks)
}

// PublishHome renders and publishes user's App Home tab.
func (h *Handler) PublishHome(ctx context.Context, user string) {
	blocks, err := h.HomeBlocks(ctx, user)
	if err != nil {
		h.log.Error("building App Home failed", "user", user, "err", err)
		blocks = []slack.Block{section("Sorry, I couldn't load your UXPin access overview just now. Open the tab again in a moment.")}
	}
	if err := h.publish(ctx, user, blocks); err != nil {
		h.log.Error("views.publish failed", "user", user, "err", err)
	}
}

func (h *Handler) publish(ctx context.Context, user string, blocks []slack.Block) error {
	_, err := h.api.PublishViewContext(ctx, slack.PublishViewContextRequest{
		UserID: user,
		View:   slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: blocks}},
	})
	return err
}

// HomeBlocks builds viewer's App Home tab: their requests and, for approvers
// and admins, what waits for them and the seats in use.
func (h *Handler) HomeBlocks(ctx context.Context, viewer string) ([]slack.Block, error) {
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain("UXPin access", 150)),
		section("Run `/uxpin-access` to ask for access, a role change or a removal."),
	}
	review, err := h.homeReview(ctx, viewer)
	if err != nil {
		return nil, err
	}
	blocks = append(blocks, review...)
	mine, err := h.svc.MyRequests(ctx, viewer, homeOwn+1)
	if err != nil {
		return nil, err
	}
	blocks = append(blocks, slack.NewDividerBlock(), section("*Your requests*"))
	if len(mine) == 0 {
		blocks = append(blocks, contextLine("You have no requests yet."))
	}
	for i, r := range mine {
		if i == homeOwn {
			blocks = append(blocks, contextLine("Older requests: `/uxpin-access status`."))
			break
		}
		sec := section(fmt.Sprintf("*%s* %s — *%s*\n%s", r.ID, summary(r), r.State, outcome(r)))
		if r.State == access.StatePending {
			sec.Accessory = slack.NewAccessory(button(ActionCancel, "Cancel", r.ID, ""))
		}
		blocks = append(blocks, sec)
	}
	isApprover, err := h.svc.IsApprover(ctx, viewer)
	if err != nil {
		return nil, err
	}
	isAdmin := h.svc.IsAdmin(viewer)
	if isApprover {
		pending, err := h.svc.PendingFor(ctx, viewer, homePending+1)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, slack.NewDividerBlock(), section("*Waiting for your approval*"))
		if len(pending) == 0 {
			blocks = append(blocks, contextLine("Nothing to approve."))
		}
		for i, r := range pending {
			if i == homePending {
				blocks = append(blocks, contextLine("More are waiting: `/uxpin-access pending` lists them oldest first."))
				break
			}
			blocks = append(blocks,
				section(fmt.Sprintf("*%s*: %s, asked by %s on %s", r.ID, summary(r), requester(r), formatDate(r.CreatedAt))),
				slack.NewActionBlock("home_decide_"+r.ID,
					button(ActionApprove, "Approve", r.ID, slack.StylePrimary),
					button(ActionDeny, "Deny", r.ID, slack.StyleDanger)))
		}
	}
	if isAdmin {
		tasks, err := h.svc.OpenTasks(ctx, viewer, homeTasks+1)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, slack.NewDividerBlock(), section("*Your open UXPin tasks*"))
		if len(tasks) == 0 {
			blocks = append(blocks, contextLine("No open tasks."))
		}
		for i, r := range tasks {
			if i == homeTasks {
				blocks = append(blocks, contextLine("More tasks: `/uxpin-access pending` lists them oldest first."))
				break
			}
			blocks = append(blocks,
				section(fmt.Sprintf("*%s*: %s (assigned %s)", r.ID, summary(r), formatDate(r.AssignedAt))),
				slack.NewActionBlock("home_task_"+r.ID,
					button(ActionDone, "Mark done", r.ID, slack.StylePrimary),
					button(ActionFail, "Can't complete", r.ID, slack.StyleDanger)))
		}
	}
	if isApprover || isAdmin {
		counts, err := h.svc.SeatCounts(ctx)
		if err != nil {
			return nil, err
		}
		total := counts[access.RoleAdmin] + counts[access.RoleEditor] + counts[access.RoleViewer]
		blocks = append(blocks, slack.NewDividerBlock(), section(fmt.Sprintf("*Seats in use*: %d in all — %d Admin, %d Editor, %d Viewer", total, counts[access.RoleAdmin], counts[access.RoleEditor], counts[access.RoleViewer])))
	}
	return blocks, nil
}
