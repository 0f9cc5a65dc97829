package provision

import (
	"fmt"
	"strings"

	"github.com/ferryid/ferry/internal/notify"
	"github.com/ferryid/ferry/internal/store"
)

// The engine tells an application's administrators, at its
// notificationEmail, when its job is quarantined (once, and again when the
// reason changes), when the accidental-deletion threshold holds disables
// and deletes, and, with notifyOnFailure, that objects failed (at most
// hourly), as Entra's provisioning service emails its Notification Email;
// and the same as signed JSON to its notificationWebhook. Delivery is internal/notify's: queued, retried,
// never in the way of provisioning.

// Notice types.
const (
	NoticeQuarantine    = notify.TypeQuarantine
	NoticeDeletesStaged = notify.TypeDeletesStaged
	NoticeFailures      = notify.TypeFailures
)

// Notice is what the engine has to tell an application's administrators.
type Notice struct {
	Type    string
	Subject string
	Text    string
	// Data is the notice's detail for webhook receivers (a Quarantine, a
	// StagedDeletes, failure counts).
	Data any
}

// notify sends a notice to an application's notification addresses, when
// the server has a notifier and the application has addresses.
func (e *Engine) notify(a *store.App, n Notice) {
	if e.opts.Notifier == nil {
		return
	}
	cfg, err := decodeConfig(a.Config)
	if err != nil {
		return
	}
	to, err := notify.ParseAddresses(cfg.NotificationEmail)
	if err != nil {
		return
	}
	route := notify.Route{Email: to}
	if cfg.NotificationWebhook != "" {
		creds, err := openCredentials(e.sealer, a)
		if err == nil && creds.WebhookSecret != "" {
			route.WebhookURL, route.WebhookSecret = cfg.NotificationWebhook, creds.WebhookSecret
		}
	}
	if len(route.Email) == 0 && route.WebhookURL == "" {
		return
	}
	now := e.clock.Now().UTC()
	ev := notify.Event{ID: fmt.Sprintf("%s-%s-%d", n.Type, a.ID, now.UnixNano()), Type: n.Type, Tenant: a.TenantID, App: a.Name,
		At: now, Subject: n.Subject, Text: n.Text, Data: n.Data}
	// Notify logs what it cannot queue; provisioning goes on regardless.
	_ = e.opts.Notifier.Notify(ev, route)
}

// shellQuote quotes an application name for a command line, when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"$`\\!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
