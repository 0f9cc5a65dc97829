package provision

import "context"

// DueForTest says which cycle the scheduler would run now for an
// application: "full", "incremental", "retry", "staged" or "".
func (s *Service) DueForTest(ctx context.Context, tenantID, app string) (string, error) {
	a, err := s.store.AppByName(ctx, tenantID, app)
	if err != nil {
		return "", err
	}
	return s.engine.due(ctx, a)
}
