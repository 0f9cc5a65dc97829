package notify_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"time"

	"github.com/ferryid/ferry/internal/notify"
)

// A receiver checks each webhook before trusting it.
func ExampleVerify() {
	secret := "whsec-0123456789abcdef"
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		if err := notify.Verify(secret, r.Header.Get(notify.SignatureHeader), body, time.Now(), notify.DefaultTolerance); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		// Decode body, and drop it if r.Header.Get(notify.EventIDHeader) was seen before.
		w.WriteHeader(http.StatusNoContent)
	}
	_ = handler

	body := []byte(`{"id":"evt-1","type":"quarantine"}`)
	sent := time.Unix(1_800_000_000, 0)
	header := notify.Sign(secret, sent, body)
	fmt.Println(header[:13])
	fmt.Println(notify.Verify(secret, header, body, sent.Add(time.Minute), 0))
	fmt.Println(notify.Verify(secret, header, []byte(`{"id":"evt-2"}`), sent, 0) != nil)
	// Output:
	// t=1800000000,
	// <nil>
	// true
}

func ExampleParseAddresses() {
	to, err := notify.ParseAddresses("ops@example.com, Jane Doe <jane@example.com>")
	fmt.Println(to, err)
	_, err = notify.ParseAddresses("not-an-email")
	fmt.Println(err)
	// Output:
	// [ops@example.com jane@example.com] <nil>
	// "not-an-email" is not an email address: expected addresses like ops@example.com, separated by commas
}

// The server wires a Notifier once; the engine calls Notify.
func ExampleNotifier() {
	smtpCfg, err := notify.ParseSMTPURL("smtp://ferry:app-password@mail.example.com:587") // --smtp-url
	if err != nil {
		log.Fatal(err)
	}
	// smtpCfg.DialContext = guard.DialContext // the egress guard checks each address at dial time
	mailer, err := notify.NewMailer(smtpCfg, "Ferry <ferry@example.com>") // --smtp-from
	if err != nil {
		log.Fatal(err)
	}
	n := notify.New(notify.Options{
		Mailer:     mailer,
		HTTPClient: &http.Client{}, // e.g. with the egress guard's DialContext in its Transport
		Logger:     slog.Default(),
	})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n.Close(ctx)
	}()

	to, err := notify.ParseAddresses("ops@example.com") // the application's notificationEmail
	if err != nil {
		log.Fatal(err)
	}
	err = n.Notify(notify.Event{
		ID:      "quarantine-github-1772600767",
		Type:    notify.TypeQuarantine,
		Tenant:  "acme",
		App:     "github",
		Subject: "Ferry: github is in quarantine (CredentialsRefused)",
		Text:    "The target refused Ferry's credentials (401).\n",
		Data:    map[string]any{"reason": "CredentialsRefused"},
	}, notify.Route{
		Email:         to,
		WebhookURL:    "https://hooks.example.com/ferry",
		WebhookSecret: "whsec-0123456789abcdef",
	})
	if err != nil {
		slog.Error("notify", "error", err)
	}
}
