package validate

// Checks returns the whole catalog, in the order a run executes it:
// discovery and errors first (they need no data), then the RFC's resource
// checks, then the replays of Entra's and Okta's traffic. Each call returns
// a new slice.
func Checks() []Check {
	var all []Check
	for _, group := range [][]Check{
		discoveryChecks(),
		errorChecks(),
		userChecks(),
		groupChecks(),
		filterChecks(),
		listChecks(),
		cursorChecks(),
		patchChecks(),
		etagChecks(),
		bulkChecks(),
		entraChecks(),
		oktaChecks(),
	} {
		all = append(all, group...)
	}
	return all
}

// in lists a check's profiles; a new slice per check, so that no caller
// can change another check's list.
func in(profiles ...string) []string { return profiles }
