package relay

import "testing"

// TestToken: table names (DynamoDB allows '.') become one subject token,
// reversibly.
func TestToken(t *testing.T) {
	for in, want := range map[string]string{
		"orders":    "orders",
		"orders.v2": "orders%2Ev2",
		"a.b.c":     "a%2Eb%2Ec",
		"us-east-1": "us-east-1",
		"x_y-z":     "x_y-z",
		"a*b>c d":   "a%2Ab%3Ec%20d",
	} {
		if got := Token(in); got != want {
			t.Errorf("Token(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSubjectCovers: an existing stream must capture the relays' subjects.
func TestSubjectCovers(t *testing.T) {
	for _, c := range []struct {
		have, want string
		ok         bool
	}{
		{"eddy.us-east-1.>", "eddy.us-east-1.>", true},
		{"eddy.>", "eddy.us-east-1.>", true},
		{">", "eddy.us-east-1.>", true},
		{"eddy.*.>", "eddy.us-east-1.>", true},
		{"eddy.us-west-2.>", "eddy.us-east-1.>", false},
		{"eddy.us-east-1.*", "eddy.us-east-1.>", false},
		{"eddy.us-east-1", "eddy.us-east-1.>", false},
		{"other.>", "eddy.us-east-1.>", false},
	} {
		if got := subjectCovers(c.have, c.want); got != c.ok {
			t.Errorf("subjectCovers(%q, %q) = %v, want %v", c.have, c.want, got, c.ok)
		}
	}
}

// TestOptionsValidate reports every problem at once.
func TestOptionsValidate(t *testing.T) {
	o := Options{Stream: "a.b", SubjectPrefix: "x..y", MaxInFlight: -1}
	o.EnsureDefaults()
	if err := o.Validate(); err == nil {
		t.Fatal("bad options accepted")
	} else if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 3 {
		t.Fatalf("%d problems reported, want 3: %v", n, err)
	}
	o = Options{}
	o.EnsureDefaults()
	if err := o.Validate(); err != nil || o.Duplicates.String() != "10m0s" || o.Stream != "EDDY" {
		t.Fatalf("defaults: %v %+v", err, o)
	}
}
