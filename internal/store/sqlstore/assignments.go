package sqlstore

import (
	"strings"

	"github.com/ferryid/ferry/internal/store"
)

// The app_assignments table: the users and groups assigned to each
// application.

// CheckPrincipalType rejects a principal type that is not a resource
// type.
func CheckPrincipalType(typ string) error {
	if typ != store.UserType && typ != store.GroupType {
		return store.Invalid("a principal is a %s or a %s, not %q", store.UserType, store.GroupType, typ)
	}
	return nil
}

// PrincipalNotFound is the ErrInvalid of an assignment of a principal
// that the tenant does not have.
func PrincipalNotFound(a store.Assignment) *store.Error {
	return store.Invalid("%s %q does not exist", strings.ToLower(a.PrincipalType), a.PrincipalID)
}

// NotAssigned is the ErrNotFound of an assignment that does not exist.
func NotAssigned(appID, principalType, principalID string) *store.Error {
	return store.NotFound("%s %q is not assigned to application %q", principalType, principalID, appID)
}

// AssignmentColumns are the columns ScanAssignment reads, of
// app_assignments as a.
const AssignmentColumns = `a.app_id, a.principal_type, a.principal_id, a.role, a.created_at`

// ScanAssignment reads a row of AssignmentColumns.
func ScanAssignment(row Row) (store.Assignment, error) {
	var a store.Assignment
	if err := row.Scan(&a.AppID, &a.PrincipalType, &a.PrincipalID, &a.Role, TextTime(&a.Created)); err != nil {
		return store.Assignment{}, err
	}
	return a, nil
}
