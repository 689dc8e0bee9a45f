// Package ascii compares event socket names the way libesl and FreeSWITCH do: strcasecmp
// in the C locale, where only the ASCII letters have a case.
package ascii

// EqualFold reports whether a and b are equal when ASCII letters are compared without
// case; every other byte compares as it is (so, unlike strings.EqualFold, no Unicode
// folding, and strings of different lengths never match).
func EqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
