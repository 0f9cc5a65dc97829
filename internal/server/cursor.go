package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/ferryid/ferry/internal/scim"
	"github.com/ferryid/ferry/internal/store"
)

// Cursors of cursor-based pagination (RFC 9865). A cursor is the position
// a page ended at (store.Position: the sort key and id of its last
// resource), the time it was issued, and a digest of the tenant, the
// resource type and the query (filter, sortBy, sortOrder) it belongs to,
// signed with HMAC-SHA-256 and written in base64url, which has only
// RFC 3986 unreserved characters (RFC 9865 §2). Nothing is kept on the
// server: any replica that holds the key answers the next page, and a
// client that walks away costs nothing (RFC 9865 §5.3).
//
// A cursor that fails its signature, or belongs to another tenant or
// another query, is refused with the one message, so that an answer
// tells nothing of other tenants' data (RFC 9865 §5.2).

// cursorVersion is the first byte of every cursor, to change the format.
const cursorVersion = 1

// cursorMACSize is how much of the HMAC a cursor carries: 128 bits.
const cursorMACSize = 16

// cursorCodec issues and reads cursors.
type cursorCodec struct {
	key     []byte
	timeout time.Duration
	now     func() time.Time
}

// cursorScope is what a cursor is valid for: a digest of the tenant, the
// resource type and the parts of the query that decide its order and its
// results. attributes and count do not: they change what a page shows and
// how long it is, not where the next one starts.
func cursorScope(tenant, typ string, q store.Query) [16]byte {
	h := sha256.New()
	for _, part := range []string{tenant, typ, filterText(q), q.SortBy} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(part)))
		h.Write(n[:])
		h.Write([]byte(part))
	}
	if q.Descending {
		h.Write([]byte{1})
	} else {
		h.Write([]byte{0})
	}
	var out [16]byte
	copy(out[:], h.Sum(nil))
	return out
}

func filterText(q store.Query) string {
	if q.Filter == nil {
		return ""
	}
	return q.Filter.String()
}

// encode returns the cursor of the position p in the query of scope.
func (c *cursorCodec) encode(scope [16]byte, p store.Position) string {
	var b bytes.Buffer
	b.WriteByte(cursorVersion)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(c.now().Unix())))
	b.Write(scope[:])
	if p.Key != nil {
		b.WriteByte(1)
		b.Write(binary.AppendUvarint(nil, uint64(len(*p.Key))))
		b.WriteString(*p.Key)
	} else {
		b.WriteByte(0)
	}
	b.WriteString(p.ID)
	b.Write(c.mac(b.Bytes()))
	return base64.RawURLEncoding.EncodeToString(b.Bytes())
}

func (c *cursorCodec) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:cursorMACSize]
}

// errInvalidCursor is the answer to every cursor the server did not issue
// for this query of this tenant.
var errInvalidCursor = scim.BadRequest(scim.InvalidCursor,
	"the cursor is not one this server issued for this query; send the nextCursor of the previous page with the same "+
		"filter, sortBy and sortOrder, or an empty cursor for the first page")

// decode returns the position a cursor of the query of scope stands for:
// 400 invalidCursor for one altered, made up, or issued for another
// tenant or query, 400 expiredCursor for one older than the timeout.
func (c *cursorCodec) decode(scope [16]byte, cursor string) (store.Position, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(cursor)
	const head = 1 + 8 + 16 + 1
	if err != nil || len(raw) < head+cursorMACSize || raw[0] != cursorVersion {
		return store.Position{}, errInvalidCursor
	}
	payload, sum := raw[:len(raw)-cursorMACSize], raw[len(raw)-cursorMACSize:]
	if !hmac.Equal(sum, c.mac(payload)) || !bytes.Equal(payload[9:25], scope[:]) {
		return store.Position{}, errInvalidCursor
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[1:9])), 0)
	if age := c.now().Sub(issued); age > c.timeout {
		return store.Position{}, scim.BadRequest(scim.ExpiredCursor,
			"the cursor expired: it was issued %s ago, and cursors last %s between pages (cursorTimeout in /ServiceProviderConfig); start again with an empty cursor",
			age.Truncate(time.Second), c.timeout)
	}
	rest := payload[head:]
	var p store.Position
	if payload[head-1] == 1 {
		n, w := binary.Uvarint(rest)
		if w <= 0 || uint64(len(rest)-w) < n {
			return store.Position{}, errInvalidCursor
		}
		key := string(rest[w : w+int(n)])
		p.Key = &key
		rest = rest[w+int(n):]
	}
	p.ID = string(rest)
	if p.ID == "" {
		return store.Position{}, errInvalidCursor
	}
	return p, nil
}
