package adminclient

import (
	"context"
	"net/url"

	"github.com/ferryid/ferry/internal/sourcesync"
)

// The directory's sources (ferry sources), named by name.

func sourcePath(name string, rest ...string) string {
	p := "/sources/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// Sources lists the tenant's sources.
func (c *Client) Sources(ctx context.Context) ([]sourcesync.Source, []byte, error) {
	return get[[]sourcesync.Source](ctx, c, "GET", "/sources", nil, nil)
}

// Source reads a source.
func (c *Client) Source(ctx context.Context, name string) (*sourcesync.Source, []byte, error) {
	return getOne[sourcesync.Source](ctx, c, "GET", sourcePath(name), nil, nil)
}

// SourceStatus reads where a source's passes stand.
func (c *Client) SourceStatus(ctx context.Context, name string) (*sourcesync.Status, []byte, error) {
	return getOne[sourcesync.Status](ctx, c, "GET", sourcePath(name, "status"), nil, nil)
}

// CreateSource creates a source.
func (c *Client) CreateSource(ctx context.Context, in sourcesync.CreateInput) (*sourcesync.Source, []byte, error) {
	return getOne[sourcesync.Source](ctx, c, "POST", "/sources", nil, in)
}

// UpdateSource changes a source.
func (c *Client) UpdateSource(ctx context.Context, name string, in sourcesync.UpdateInput) (*sourcesync.Source, []byte, error) {
	return getOne[sourcesync.Source](ctx, c, "PATCH", sourcePath(name), nil, in)
}

// DeleteSource deletes a source; with release, the objects it owns are
// released first, otherwise a source that owns objects is refused.
func (c *Client) DeleteSource(ctx context.Context, name string, release bool) (*sourcesync.DeleteResult, []byte, error) {
	return getOne[sourcesync.DeleteResult](ctx, c, "DELETE", sourcePath(name), flag("release", release), nil)
}

// SyncSource runs a pass of a source now and returns its record; full
// asks for a full pass, allowShrink lets it through the read guard's
// shrink check once.
func (c *Client) SyncSource(ctx context.Context, name string, full, allowShrink bool) (*sourcesync.Pass, []byte, error) {
	q := url.Values{}
	for k, on := range map[string]bool{"full": full, "allow-shrink": allowShrink} {
		if on {
			q.Set(k, "true")
		}
	}
	return getOne[sourcesync.Pass](ctx, c, "POST", sourcePath(name, "sync"), q, nil)
}
