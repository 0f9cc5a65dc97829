// Package notify delivers the provisioning engine's notifications: email over SMTP and signed webhooks.
//
// The engine composes an [Event] (its subject and plain-text body included) and hands it to a
// [Notifier] with a [Route] that says where the application's notifications go. Notify never
// blocks: deliveries wait in a bounded queue and are sent in the background, retried with backoff
// when the failure is transient, and each outcome is logged. Close stops the Notifier within the
// bound of its context.
//
// # Email
//
// [ParseSMTPURL] reads the server's --smtp-url, smtp://[user:pass@]host[:port] (port 587 unless
// given; STARTTLS when the server offers it) or smtps://[user:pass@]host[:port] (port 465; TLS from
// the start). A [Mailer] sends each event as a plain-text message whose Subject and body are the
// event's, with a Message-ID made from the event ID (so a retried message keeps its Message-ID),
// a Date, and "Auto-Submitted: auto-generated". The password is sent only over TLS or to a server
// on localhost, never appears in an error, a log line or String, and is refused (not sent) when a
// remote server does not offer STARTTLS.
//
// # Webhooks
//
// A webhook is an HTTP POST of the event's JSON (see [Event]; testdata/webhook_event.json shows one)
// with these headers:
//
//	Content-Type: application/json
//	Ferry-Event-Id: <event id>         the same on every retry: drop duplicates by it
//	Ferry-Event-Type: <event type>     e.g. quarantine
//	Ferry-Signature: t=<unix seconds>,v1=<hex>
//
// v1 is the lowercase hexadecimal HMAC-SHA256, keyed with the application's webhook secret, of the
// timestamp t in decimal, a period, and the request body exactly as received:
//
//	v1 = hex(HMAC-SHA256(secret, t + "." + body))
//
// A receiver recomputes v1 over the raw body (before decoding the JSON), compares it in constant
// time, and refuses a t more than a few minutes away from its own clock, so that a captured request
// cannot be replayed later; [Verify] does all three. Every attempt is signed anew with its own t.
// More than one v1 may appear, comma-separated; one match is enough.
//
// A 2xx answer acknowledges the event. A network error, 408, 425, 429 or 5xx is retried with
// backoff; any other answer is final. Redirects are never followed: a 3xx answer is a failed
// delivery (configure the final URL).
//
// # Outbound connections
//
// The dial function of [SMTPConfig] and the *http.Client of [Options] let the caller check every
// outbound connection at dial time (Ferry's egress guard); nil means the standard ones.
package notify
