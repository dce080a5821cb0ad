package slack

import (
	"context"
	"fmt"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/huntwatch/huntwatch/handler/hunt"
)

// alertErrorMax bounds the error text a failure alert shows.
const alertErrorMax = 1500

// BuildAlert lays out a message about huntwatch itself: that hunt h is failing (how many runs in
// a row, since when, the last error), that it recovered, or the day's heartbeat. Like Build, it
// is pure and escapes everything, the error text included.
func BuildAlert(h *hunt.Hunt, a hunt.Alert) (Message, error) {
	if h == nil {
		h = &hunt.Hunt{}
	}
	name := strings.TrimSpace(h.Name)
	if name == "" {
		name = strings.TrimSpace(h.ID)
	}
	if name == "" {
		name = "hunt"
	}
	name = md(name, 150)
	hl := a.Health
	runs := func(n int) string {
		if n == 1 {
			return "1 failed run"
		}
		return count(n) + " failed runs"
	}
	var text, fallback string
	switch a.Kind {
	case hunt.AlertFailing:
		text = ":rotating_light: *huntwatch is failing*: " + name + "\n" + runs(hl.Failures) + " in a row"
		if !hl.FailingSince.IsZero() {
			text += ", since " + dateToken(hl.FailingSince)
		}
		if e := strings.TrimSpace(hl.LastError); e != "" {
			v, _ := fit(e, alertErrorMax, codeBlock(""))
			text += "\nLast error:\n```\n" + v + "\n```"
		}
		fallback = "huntwatch is failing: " + name + " (" + runs(hl.Failures) + " in a row)"
	case hunt.AlertRecovered:
		text = ":white_check_mark: *huntwatch recovered*: " + name
		fallback = "huntwatch recovered: " + name
		if hl.Failures > 0 {
			text += " — after " + runs(hl.Failures)
			fallback += " after " + runs(hl.Failures)
		}
		if !hl.FailingSince.IsZero() {
			text += " since " + dateToken(hl.FailingSince)
		}
	case hunt.AlertHeartbeat:
		d := hl.Today
		line := fmt.Sprintf("today %s runs, %s failed, %s rows, %s new, %s repeats, %s posted",
			count(d.Runs), count(d.Failed), count(d.Rows), count(d.New), count(d.Repeats), count(d.Posted))
		text = ":large_green_circle: " + name + ": " + line
		if d.Day != "" {
			text += " _(" + md(d.Day, 10) + " UTC)_"
		}
		fallback = name + ": " + line
	case hunt.AlertBroken:
		files := strings.Count(strings.TrimSpace(hl.LastError), "\n") + 1
		what := "1 hunt file"
		if files > 1 {
			what = count(files) + " hunt files"
		}
		v, _ := fit(strings.TrimSpace(hl.LastError), alertErrorMax, codeBlock(""))
		text = ":warning: *huntwatch could not load " + what + "*; the rest of the pack runs. Fix or remove them (`huntwatch validate` tells more):\n```\n" + v + "\n```"
		fallback = "huntwatch could not load " + what + "; the rest of the pack runs"
	case hunt.AlertTruncated:
		rest := a.Rows - a.MaxRows
		text = fmt.Sprintf(":warning: *%s answered %s rows; huntwatch processed the first %s* (HUNT_MAX_ROWS)", name, count(a.Rows), count(a.MaxRows))
		if !a.Window.End.IsZero() {
			text += " over " + dateToken(a.Window.Start) + " – " + dateToken(a.Window.End)
		}
		text += fmt.Sprintf(".\nThe other %s rows were not checked, and this window will not be queried again: narrow the query, or raise HUNT_MAX_ROWS (Log Analytics answers at most 500,000 rows).", count(rest))
		fallback = fmt.Sprintf("%s: %s of %s rows not processed (HUNT_MAX_ROWS %s)", name, count(rest), count(a.Rows), count(a.MaxRows))
	default:
		return Message{}, fmt.Errorf("slack: unknown alert kind %q", a.Kind)
	}
	return Message{
		Text:   cutEscaped(fallback, fallbackMax),
		Blocks: []slackapi.Block{slackapi.NewSectionBlock(mrkdwn(text), nil, nil)},
	}, nil
}

// Alert posts a message about huntwatch itself (see BuildAlert) to the channel, or through the
// webhook. When Slack refuses its blocks it posts the fallback text alone.
func (n *Notifier) Alert(ctx context.Context, h *hunt.Hunt, a hunt.Alert) error {
	m, err := BuildAlert(h, a)
	if err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	_, err = n.postOrPlain(ctx, outgoing{text: m.Text, blocks: m.Blocks}, func(string) string { return m.Text }, "alert", a.Kind)
	return err
}
