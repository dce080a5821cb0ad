package hunt

import (
	"context"
	"fmt"
)

// Check verifies, without running the hunt against data, that its query yields every column the
// pipeline needs (entity, fingerprint and occurrence columns). columns returns a query's result
// columns; the query it gets already declares HuntStart and HuntEnd.
func Check(ctx context.Context, h *Hunt, columns func(ctx context.Context, query string) ([]Column, error)) error {
	cols, err := columns(ctx, h.Query)
	if err != nil {
		return fmt.Errorf("hunt %s: query: %w", h.Name, h.QueryError(err))
	}
	if _, err := Findings(h, &Result{Columns: cols}); err != nil {
		return fmt.Errorf("%w [%s]", err, h.Source)
	}
	return nil
}
