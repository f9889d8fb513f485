package post

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// A confirmation code is 10 characters of Crockford's base32 (50 bits),
// shown as two groups of five: ABCDE-23456. It survives being read off
// paper: case, spaces and dashes do not matter, and O, I and L are read as
// 0, 1 and 1.
const (
	alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeLen  = 10
)

// ErrCodeFormat means the input cannot be a confirmation code.
var ErrCodeFormat = errors.New("post: not a confirmation code")

// newCode returns a random code in its normal form (10 characters).
func newCode() string {
	b := make([]byte, codeLen)
	out := make([]byte, codeLen)
	_, _ = rand.Read(b)
	for i, v := range b {
		out[i] = alphabet[v&31]
	}
	return string(out)
}

// FormatCode shows a normal-form code in two groups.
func FormatCode(c string) string {
	if len(c) != codeLen {
		return c
	}
	return c[:5] + "-" + c[5:]
}

// ParseCode returns the normal form of a code as typed.
func ParseCode(s string) (string, error) {
	if len(s) > 64 {
		return "", ErrCodeFormat
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(alphabet, r) {
			return "", ErrCodeFormat
		}
		b.WriteRune(r)
	}
	if b.Len() != codeLen {
		return "", ErrCodeFormat
	}
	return b.String(), nil
}

// hashCode is the keyed hash a letter's code is stored as, bound to the
// letter.
func hashCode(key []byte, letterID, code string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(letterID + ":" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// sameHash compares two hashes in constant time.
func sameHash(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }
