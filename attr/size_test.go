package attr

import "testing"

// TestNumberSize checks numberSize against the 23 literals
// nubo-db/dynamodb-conformance measured against DynamoDB's 400 KB gate
// (src/item-size.ts, CAPTURED_NUMBER_BYTES, eu-west-2, 2026-08-18).
func TestNumberSize(t *testing.T) {
	captured := []struct {
		lit  string
		size int
	}{
		{"0", 1}, {"1", 2}, {"12", 2}, {"123", 3}, {"1234", 3},
		{"12345678901234567890123456789012345678", 20}, {"0042", 2}, {"100", 2},
		{"1010", 3}, {"0.0000001", 2}, {"1E125", 2}, {"1E-100", 2}, {"1.5", 3},
		{"15", 2}, {"1.2", 3}, {"1.200", 3}, {"1.234", 4}, {"3.14159", 5},
		{"123456", 4}, {"100.5", 4}, {"0.15", 2}, {"-42", 3}, {"-0", 1},
	}
	for _, c := range captured {
		canon, err := CanonicalNumber(c.lit)
		if err != nil {
			t.Fatalf("CanonicalNumber(%q): %v", c.lit, err)
		}
		if got := Size(N(canon)); got != c.size {
			t.Errorf("size of %s (canonical %q) = %d, DynamoDB measures %d", c.lit, canon, got, c.size)
		}
		if got := numberSize([]byte(canon)); got != c.size {
			t.Errorf("numberSize([]byte(%q)) = %d, want %d", canon, got, c.size)
		}
	}
}
