package triggers

import "github.com/eddydb/eddy/internal/uuid"

// newRevision returns a fresh ID: a function's or alias's RevisionId, an
// invocation's request ID. It is a random UUID (internal/uuid), as Lambda's.
func newRevision() string { return uuid.New() }
