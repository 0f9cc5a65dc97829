package sqlstore

import (
	"testing"

	"github.com/ferryid/ferry/internal/store"
)

func TestPageTotal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		count, offset int
		n             int
		want          int
		ok            bool
	}{
		{"a page that is not full", 10, 0, 3, 3, true},
		{"a last page", 10, 20, 4, 24, true},
		{"nothing at the start", 10, 0, 0, 0, true},
		{"a full page", 10, 0, 10, 0, false},
		{"nothing past the start", 10, 20, 0, 0, false},
	}
	for _, tc := range tests {
		got, ok := PageTotal(store.Query{Count: tc.count}, tc.offset, tc.n)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: PageTotal(count %d, offset %d, %d resources) = %d, %t; want %d, %t",
				tc.name, tc.count, tc.offset, tc.n, got, ok, tc.want, tc.ok)
		}
	}
}
