package provision

import "context"

// DueForTest says which cycle the scheduler would run now for an
// application: "full", "incremental", "retry", "staged" or "".
func (m *Manager) DueForTest(ctx context.Context, tenantID, app string) (string, error) {
	a, err := m.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return "", err
	}
	return m.due(ctx, a)
}
