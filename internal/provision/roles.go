package provision

import (
	"strings"
)

// Roles: an application declares the roles an assignment may give (its
// template does), as applications declare app roles in Entra ID; an
// assignment without a role gets the default one. A role may keep its
// principals out of scope: Microsoft's RingCentral tutorial says users
// assigned "Default Access" are not provisioned
// (https://learn.microsoft.com/entra/identity/saas-apps/ringcentral-provisioning-tutorial).

// checkRoles validates an application's roles: named, each name once
// (ignoring case), at most one default.
func checkRoles(roles []Role) error {
	seen := map[string]bool{}
	defaults := 0
	for _, r := range roles {
		name := strings.TrimSpace(r.Name)
		if name == "" {
			return invalid("roles: a role needs a name")
		}
		if seen[strings.ToLower(name)] {
			return invalid("roles: %q is declared twice", name)
		}
		seen[strings.ToLower(name)] = true
		if r.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return invalid("roles: %d roles are marked default; at most one may be", defaults)
	}
	return nil
}

// resolveRole returns the role an assignment asking for role gets: the
// declared role of that name (in its declared spelling), the default role
// for "", or an error listing the roles.
func (c Config) resolveRole(role string) (string, error) {
	role = strings.TrimSpace(role)
	if role == "" {
		for _, r := range c.Roles {
			if r.Default {
				return r.Name, nil
			}
		}
		return "", nil
	}
	var names []string
	for _, r := range c.Roles {
		if strings.EqualFold(r.Name, role) {
			return r.Name, nil
		}
		names = append(names, `"`+r.Name+`"`)
	}
	if len(names) == 0 {
		return "", invalid("role %q: this application declares no roles; assign without --role", role)
	}
	return "", invalid("role %q is not one of this application's roles: %s", role, strings.Join(names, ", "))
}

// roleProvisioned reports whether principals assigned role are in scope.
// An assignment without a role has the default role's behaviour.
func (c Config) roleProvisioned(role string) bool {
	for _, r := range c.Roles {
		if strings.EqualFold(r.Name, role) || (role == "" && r.Default) {
			return !r.NotProvisioned
		}
	}
	return true
}
