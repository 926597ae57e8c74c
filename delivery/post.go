package delivery

import (
	"context"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"

	"github.com/uxpin-access-bot/uxpin-access-bot/access"
)

// post makes notice n's message, unless an earlier attempt already did: a
// post that may have happened (an ambiguous failure, or a notice from before
// this process started) is first looked up by its notice ID in the message
// metadata.
func (w *Worker) post(ctx context.Context, n access.Notice, r *access.Request) error {
	channel, thread, err := w.destination(ctx, n)
	if err != nil {
		return err
	}
	if w.mayHavePosted(n) {
		channel, ts, found, err := w.findPosted(ctx, channel, thread, n)
		if err != nil {
			return err
		}
		if found {
			w.log.Info("outbox: notice was already posted; not posting again", "notice", n.ID, "request", n.RequestID)
			if n.Kind == access.NoticeApprovalCard || n.Kind == access.NoticeTask {
				// Updates made while this post was in doubt could not reach
				// it; bring it to the request's current state.
				if err := w.update(ctx, access.MessageRef{Channel: channel, TS: ts}, n, r); err != nil {
					return err
				}
			}
			w.sent(n, channel, ts)
			return nil
		}
	}
	text, blocks, err := w.render(ctx, n, r)
	if err != nil {
		return fmt.Errorf("render %s: %w", n, err)
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionMetadata(slack.SlackMetadata{
			EventType:    MetadataEventType,
			EventPayload: map[string]any{"notice_id": strconv.FormatUint(n.ID, 10), "request_id": n.RequestID},
		}),
	}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	key := postKey(n.To)
	// One post at a time per channel: a late timer on a busy machine must
	// not let two paced posts reach Slack together.
	unlock := w.pacer.serialize(key)
	defer unlock()
	if err := w.pacer.wait(ctx, key); err != nil {
		return err
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	ch, ts, err := w.api.PostMessageContext(cctx, channel, opts...)
	w.pacer.answered(key, err)
	if err != nil {
		if Classify(err).Ambiguous {
			w.setUncertain(n.ID, true)
		}
		return err
	}
	if ch == "" {
		ch = channel
	}
	w.ims.learn(n.To, ch)
	w.sent(n, ch, ts)
	return nil
}

// sent records that n's message is at channel/ts.
func (w *Worker) sent(n access.Notice, channel, ts string) {
	w.marks.add(n.ID, &access.MessageRef{NoticeID: n.ID, Kind: n.Kind, RequestID: n.RequestID, To: n.To, Channel: channel, TS: ts})
	w.setUncertain(n.ID, false)
	w.log.Debug("outbox: delivered", "notice", n.ID, "kind", n.Kind, "request", n.RequestID)
}

func (w *Worker) setUncertain(id uint64, on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if on {
		w.uncertain[id] = true
	} else {
		delete(w.uncertain, id)
	}
}

// mayHavePosted reports whether an earlier attempt, in this process or one
// that crashed, might have posted n.
func (w *Worker) mayHavePosted(n access.Notice) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.uncertain[n.ID] || n.CreatedAt.Before(w.started)
}

// findPosted looks for a message carrying notice n's ID: among thread's
// replies if thread is set, else in the channel's recent history. It
// returns the message's channel ID (a user's DM channel, not the user ID
// the post named, so that later updates can find it) and ts.
func (w *Worker) findPosted(ctx context.Context, to, thread string, n access.Notice) (channel, ts string, found bool, err error) {
	if thread != "" {
		ts, found, err = w.findReply(ctx, to, thread, n)
		return to, ts, found, err
	}
	if channel, err = w.ims.resolve(ctx, to); err != nil {
		return "", "", false, err
	}
	ts, found, err = w.findInHistory(ctx, channel, n)
	return channel, ts, found, err
}

// findInHistory looks through the channel's recent history for a message
// that carries notice n's ID in its metadata. Notices from before this
// process started share one history read per channel; a post that was in
// doubt in this process gets a fresh read.
func (w *Worker) findInHistory(ctx context.Context, channel string, n access.Notice) (string, bool, error) {
	want := strconv.FormatUint(n.ID, 10)
	w.mu.Lock()
	fresh := w.uncertain[n.ID]
	ids, cached := w.history[channel]
	w.mu.Unlock()
	if cached && !fresh {
		ts, ok := ids[want]
		return ts, ok, nil
	}
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return "", false, err
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	h, err := w.api.GetConversationHistoryContext(cctx, &slack.GetConversationHistoryParameters{
		ChannelID: channel, Limit: 200, IncludeAllMetadata: true,
	})
	w.pacer.answered(keyTier3, err)
	if err != nil {
		return "", false, fmt.Errorf("search history of %s: %w", channel, err)
	}
	ids = map[string]string{}
	for _, m := range h.Messages {
		if m.Metadata.EventType == MetadataEventType {
			ids[fmt.Sprint(m.Metadata.EventPayload["notice_id"])] = m.Timestamp
		}
	}
	if !fresh {
		w.mu.Lock()
		w.history[channel] = ids
		w.mu.Unlock()
	}
	ts, ok := ids[want]
	return ts, ok, nil
}

// findReply looks for notice n among the replies in thread, which
// conversations.history does not list.
func (w *Worker) findReply(ctx context.Context, channel, thread string, n access.Notice) (string, bool, error) {
	if err := w.pacer.wait(ctx, keyTier3); err != nil {
		return "", false, err
	}
	cctx, cancel := w.call(ctx)
	defer cancel()
	msgs, _, _, err := w.api.GetConversationRepliesContext(cctx, &slack.GetConversationRepliesParameters{
		ChannelID: channel, Timestamp: thread, Limit: 200, IncludeAllMetadata: true,
	})
	w.pacer.answered(keyTier3, err)
	if err != nil {
		return "", false, fmt.Errorf("search thread %s in %s: %w", thread, channel, err)
	}
	want := strconv.FormatUint(n.ID, 10)
	for _, m := range msgs {
		if m.Metadata.EventType == MetadataEventType && fmt.Sprint(m.Metadata.EventPayload["notice_id"]) == want {
			return m.Timestamp, true, nil
		}
	}
	return "", false, nil
}

// destination is where notice n is posted: a reminder goes in the thread of
// the approver's card, so a pending request does not grow a new card each
// time; everything else goes to its recipient. A user ID is posted to as it
// is: Slack delivers it to the app's DM with that user and answers with the
// DM's channel ID, which saves a conversations.open (tier 3) per person.
func (w *Worker) destination(ctx context.Context, n access.Notice) (channel, thread string, err error) {
	if n.To == "" {
		return "", "", &slack.SlackErrorResponse{Err: "channel_not_found"}
	}
	if n.Kind == access.NoticeReminder {
		refs, err := w.messageRefs(ctx, n.RequestID, access.NoticeApprovalCard)
		if err != nil {
			return "", "", err
		}
		for _, ref := range refs {
			if ref.To == n.To {
				return ref.Channel, ref.TS, nil
			}
		}
	}
	return n.To, "", nil
}
