package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

// BenchmarkGetReadOptions compares what a GET by id costs the store with
// and without memberships and with the document decoded or left encoded
// (the server's read path asks for Members and Encoded).
func BenchmarkGetReadOptions(b *testing.B) {
	f := seeded(b, 10000)
	ctx := context.Background()
	for _, opts := range []store.ReadOptions{{}, {Encoded: true}, {Members: true}, {Members: true, Encoded: true}} {
		b.Run(fmt.Sprintf("members=%v/encoded=%v", opts.Members, opts.Encoded), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(3, 4))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.s.Get(ctx, f.tenant, store.UserType, f.ids[rng.IntN(len(f.ids))], opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
