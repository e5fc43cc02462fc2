package global

import "testing"

func TestSerializesConditionalPublish(t *testing.T) {
	for v, want := range map[string]bool{
		"2.9.10": false, // Debian bookworm's nats-server
		"2.9.20": false,
		"2.10.0": true,
		"2.15.2": true, // go.mod's
		"3.0.0":  true,
		"v2.9.1": false,
		"":       true, // unknown: no warning
		"dev":    true,
	} {
		if got := serializesConditionalPublish(v); got != want {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}
