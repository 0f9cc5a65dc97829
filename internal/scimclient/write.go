package scimclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/ferryid/ferry/internal/scim/patch"
	"github.com/ferryid/ferry/internal/scim/resource"
)

// Rematch looks for the object a create was making, the way the engine
// matched it before deciding to create (usually Client.Match on the
// matching attribute). It reports found=false when the object does not
// exist.
type Rematch func(ctx context.Context) (doc resource.Document, found bool, err error)

// Create creates doc in resourceType ("Users", "Groups") and returns the
// object the target holds, which has an id.
//
// A POST is never resent blindly, since a create that failed in an
// ambiguous way (network error, timeout, 429, 5xx) may have happened all
// the same. After such a failure Create waits as for any retry, then calls
// rematch: if the object exists it is returned with matched=true, and
// otherwise the POST is sent again, up to the policy's MaxAttempts. A 409
// Conflict also calls rematch, and returns the object found with
// matched=true so that the engine links it; if none is found the conflict
// is the error. With rematch nil, Create sends one POST.
//
// A 2xx response without a resource carrying an id is an *Error with code
// SystemForCrossDomainIdentityManagementServiceIncompatible.
func (c *Client) Create(ctx context.Context, resourceType string, doc resource.Document, rematch Rematch) (created resource.Document, matched bool, err error) {
	path, err := resourcePath(resourceType)
	if err != nil {
		return nil, false, fmt.Errorf("create: %w", err)
	}
	body, err := marshal(doc)
	if err != nil {
		return nil, false, fmt.Errorf("create %s: encode: %w", resourceType, err)
	}
	r := &request{method: http.MethodPost, path: path, body: body}
	for n := 1; ; n++ {
		resp, err := c.attempt(ctx, r, n)
		if err == nil {
			return c.created(r, resp)
		}
		var e *Error
		if !errors.As(err, &e) || rematch == nil {
			return nil, false, err
		}
		switch {
		case e.Code == CodeEntryConflict:
		case e.Retryable && n < c.retry.MaxAttempts:
			if err := c.backoff(ctx, e, n); err != nil {
				return nil, false, err
			}
		default:
			return nil, false, err
		}
		d, found, rerr := rematch(ctx)
		if rerr != nil {
			return nil, false, fmt.Errorf("create %s: re-match after %q: %w", resourceType, e.Error(), rerr)
		}
		if found {
			id, _ := d.String("id")
			c.log.LogAttrs(ctx, slog.LevelInfo, "scim create failed but the object exists; linking it",
				slog.String("url", e.URL), slog.String("code", string(e.Code)), slog.String("id", id))
			return d, true, nil
		}
		if e.Code == CodeEntryConflict {
			return nil, false, err
		}
	}
}

// created checks a create's 2xx response.
func (c *Client) created(r *request, resp *response) (resource.Document, bool, error) {
	const expected = "201 with the created resource and its id"
	d, err := resource.Decode(resp.body)
	if err != nil {
		return nil, false, c.incompatible(r, resp, expected, "the body is not a SCIM resource: "+err.Error())
	}
	if id, ok := d.String("id"); !ok || id == "" {
		return nil, false, c.incompatible(r, resp, expected, "the created resource has no id")
	}
	return d, false, nil
}

// Patch applies ops to the object id of resourceType, written in the
// Client's Profile. It returns the updated object when the target answers
// 200 with it, and nil after a 204 (or a body that is not a resource: the
// change was made all the same). No operations send nothing. A 404 is an
// *Error for which IsNotFound reports true.
func (c *Client) Patch(ctx context.Context, resourceType, id string, ops []Operation) (resource.Document, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	wire, err := c.profile.renderOps(ops)
	if err != nil {
		return nil, fmt.Errorf("patch %s %s: %w", resourceType, id, err)
	}
	return c.patch(ctx, resourceType, id, wire)
}

func (c *Client) patch(ctx context.Context, resourceType, id string, ops []wireOp) (resource.Document, error) {
	path, err := resourcePath(resourceType, id)
	if err != nil {
		return nil, fmt.Errorf("patch: %w", err)
	}
	resp, err := c.do(ctx, &request{method: http.MethodPatch, path: path, body: encodePatch(ops), retry: true, byID: true})
	if err != nil {
		return nil, err
	}
	if len(resp.body) == 0 {
		return nil, nil
	}
	d, err := resource.Decode(resp.body)
	if err != nil {
		return nil, nil
	}
	return d, nil
}

// Delete deletes the object id of resourceType. A 404 is an *Error for
// which IsNotFound reports true; whether that counts as done is the
// caller's decision.
func (c *Client) Delete(ctx context.Context, resourceType, id string) error {
	path, err := resourcePath(resourceType, id)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	_, err = c.do(ctx, &request{method: http.MethodDelete, path: path, retry: true, byID: true})
	return err
}

// AddMembers adds memberIDs (target ids) to the group groupID, at most
// Config.MemberChunk per PATCH.
func (c *Client) AddMembers(ctx context.Context, groupID string, memberIDs []string) error {
	return c.members(ctx, patch.Add, groupID, memberIDs)
}

// RemoveMembers removes memberIDs (target ids) from the group groupID, at
// most Config.MemberChunk per PATCH. Under the RFC7644 profile each member
// is one filtered remove operation, all of a chunk in one PATCH.
func (c *Client) RemoveMembers(ctx context.Context, groupID string, memberIDs []string) error {
	return c.members(ctx, patch.Remove, groupID, memberIDs)
}

func (c *Client) members(ctx context.Context, op patch.Op, groupID string, ids []string) error {
	for i, id := range ids {
		if id == "" {
			return fmt.Errorf("%s members of group %s: member %d has an empty id", op, groupID, i)
		}
	}
	for start := 0; start < len(ids); start += c.memberChunk {
		end := min(start+c.memberChunk, len(ids))
		if _, err := c.patch(ctx, "Groups", groupID, c.profile.memberOps(op, ids[start:end])); err != nil {
			return fmt.Errorf("group %s: %s members %d–%d of %d: %w", groupID, op, start+1, end, len(ids), err)
		}
	}
	return nil
}
