package ascii

import "testing"

func TestEqualFold(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"Unique-ID", "unique-id", true},
		{"UNIQUE-ID", "Unique-Id", true},
		{"", "", true},
		{"Unique-ID", "Unique-IDs", false},
		{"Unique-ID", "Unique_ID", false},
		{"@", "`", false},                 // 0x40 and 0x60 differ by the case bit but are not letters
		{"[", "{", false},                 // likewise 0x5B and 0x7B
		{"\u212a", "k", false},            // the Kelvin sign folds to k in Unicode, not here
		{"caf\u00c9", "caf\u00e9", false}, // no case outside ASCII
	} {
		if got := EqualFold(c.a, c.b); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := EqualFold(c.b, c.a); got != c.want {
			t.Errorf("EqualFold(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}
