package adminclient

import (
	"context"
	"net/url"

	"github.com/ferryid/ferry/internal/webhooks"
)

// webhookPath is the path of a webhook, below /api/v1, and of what
// follows it.
func webhookPath(id string, rest ...string) string {
	p := "/webhooks/" + url.PathEscape(id)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// CreateWebhook subscribes a URL to the directory's events; the answer
// carries the signing secret, the only time it is shown.
func (c *Client) CreateWebhook(ctx context.Context, in webhooks.NewWebhook) (*webhooks.View, []byte, error) {
	return getOne[webhooks.View](ctx, c, "POST", "/webhooks", nil, in)
}

// Webhooks lists the tenant's webhooks.
func (c *Client) Webhooks(ctx context.Context) ([]webhooks.View, []byte, error) {
	return get[[]webhooks.View](ctx, c, "GET", "/webhooks", nil, nil)
}

// Webhook reads a webhook.
func (c *Client) Webhook(ctx context.Context, id string) (*webhooks.View, []byte, error) {
	return getOne[webhooks.View](ctx, c, "GET", webhookPath(id), nil, nil)
}

// DeleteWebhook deletes a webhook and its delivery log.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.send(ctx, "DELETE", webhookPath(id), nil)
}

// TestWebhook sends a signed ping to a webhook now.
func (c *Client) TestWebhook(ctx context.Context, id string) (*webhooks.TestResult, []byte, error) {
	return getOne[webhooks.TestResult](ctx, c, "POST", webhookPath(id, "test"), nil, nil)
}

// WebhookDeliveries reads a webhook's delivery log, newest first: at most
// n entries (the server's default when 0).
func (c *Client) WebhookDeliveries(ctx context.Context, id string, n int) ([]webhooks.Delivery, []byte, error) {
	return get[[]webhooks.Delivery](ctx, c, "GET", webhookPath(id, "deliveries"), limit(n, ""), nil)
}
