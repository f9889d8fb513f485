package httpx

// MaxID is the longest identifier a request may name. Every id gosid
// issues is shorter: flow, session, factor and scan ids are base64url of
// at most 48 random bytes, client ids at most 128 characters.
const MaxID = 128

// ValidID reports whether id, taken from a path, query or form, can be an
// identifier gosid issued: 1 to MaxID characters of the RFC 3986
// unreserved set (letters, digits, - . _ ~), which covers base64url ids and
// client ids. Anything else (NUL, invalid UTF-8, other Unicode, spaces,
// oversize) names nothing: the handler answers "not found" without asking
// storage, which may reject such bytes with an error (PostgreSQL refuses NUL
// and invalid UTF-8 in text).
func ValidID(id string) bool {
	if id == "" || len(id) > MaxID {
		return false
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~') {
			return false
		}
	}
	return true
}
