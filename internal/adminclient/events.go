package adminclient

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"github.com/ferryid/ferry/internal/events"
)

// Events reads a page of the directory's events after a cursor ("" for
// the first), at most n (the server's default when 0), of the given types
// (all when none).
func (c *Client) Events(ctx context.Context, after string, n int, types []string) (*events.Page, []byte, error) {
	q := url.Values{}
	if after != "" {
		q.Set("after", after)
	}
	if n > 0 {
		q.Set("limit", strconv.Itoa(n))
	}
	if len(types) > 0 {
		q.Set("types", strings.Join(types, ","))
	}
	return getOne[events.Page](ctx, c, "GET", "/events", q, nil)
}
