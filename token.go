package tidbro

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// TokenPrefix marks tidbro API tokens so they are recognisable in a leak scan.
const TokenPrefix = "tb_"

// NewToken returns a fresh random API token and the hash under which it is
// stored. The token itself is shown once and never stored.
func NewToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("tidbro: no randomness: " + err.Error())
	}
	token = TokenPrefix + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return token, HashToken(token)
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// NewAppPassword returns a fresh app password for DAV clients, easy to type
// on a phone (lower-case groups of four, 100 random bits), and its hash.
func NewAppPassword() (password string, hash []byte) {
	b := make([]byte, 13)
	if _, err := rand.Read(b); err != nil {
		panic("tidbro: no randomness: " + err.Error())
	}
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:20]
	var groups []string
	for i := 0; i < len(s); i += 4 {
		groups = append(groups, s[i:i+4])
	}
	password = strings.Join(groups, "-")
	return password, HashToken(password)
}
