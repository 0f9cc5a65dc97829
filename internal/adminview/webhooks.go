package adminview

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ferryid/ferry/internal/webhooks"
)

// WebhookCreated writes a new webhook's signing secret on out, on a line
// of its own, the only time it is shown, and what it is on notes, so that
// a script reads the secret alone.
func WebhookCreated(notes, out io.Writer, v *webhooks.View) {
	fmt.Fprintf(notes, "Created webhook %s to %s for %s. Verify each request's Ferry-Signature with this secret; it is shown only now.\n",
		v.ID, v.URL, webhookEvents(v.Events))
	fmt.Fprintln(out, v.Secret)
}

func webhookEvents(types []string) string {
	if len(types) == 0 {
		return "every event"
	}
	return strings.Join(types, ",")
}

// Webhooks writes a table of webhooks and where their deliveries stand.
func Webhooks(w io.Writer, list []webhooks.View) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "ID\tURL\tEVENTS\tCURSOR\tSTATE")
	for _, v := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, v.URL, webhookEvents(v.Events), orDash(v.Cursor), oneLine(webhookState(v)))
	}
	return tw.Flush()
}

// webhookState says whether a webhook is delivering or failing.
func webhookState(v webhooks.View) string {
	if v.Attempts == 0 {
		return "ok"
	}
	next := "-"
	if v.NextAttempt != nil {
		next = v.NextAttempt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("failing: %s, next attempt %s: %s", plural(v.Attempts, "attempt"), next, v.LastError)
}

// WebhookDeleted says a webhook is deleted.
func WebhookDeleted(w io.Writer, id string) {
	fmt.Fprintf(w, "Deleted webhook %s and its delivery log.\n", id)
}

// WebhookTested says what a test delivery met; a failed one is an error.
func WebhookTested(w io.Writer, id string, res *webhooks.TestResult) error {
	if !res.Delivered {
		return fmt.Errorf("the test delivery to webhook %s failed: %s", id, res.Error)
	}
	fmt.Fprintf(w, "Webhook %s answered %d to a signed ping in %d ms.\n", id, res.Status, res.DurationMs)
	return nil
}

// WebhookDeliveries writes a table of a webhook's delivery log.
func WebhookDeliveries(w io.Writer, log []webhooks.Delivery) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "AT\tEVENT\tTYPE\tATTEMPT\tSTATUS\tOUTCOME\tMS\tERROR")
	for _, d := range log {
		status := "-"
		if d.Status != 0 {
			status = fmt.Sprint(d.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n", formatTime(d.At), d.EventID, d.EventType, d.Attempt, status, d.Outcome,
			d.DurationMs, orDash(oneLine(d.Error)))
	}
	return tw.Flush()
}
