package tidbro

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
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
