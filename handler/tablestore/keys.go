package tablestore

import (
	"crypto/sha256"
	"encoding/hex"
)

// Keys. Table Storage keys are at most 1 KiB and may not contain / \ # ? or control characters;
// keys also end up in URLs and OData filters. A hunt id or fingerprint made only of
// [A-Za-z0-9-_.], 1 to maxPlainKey bytes long, is its own key (readable in Storage Explorer);
// any other string becomes hashedPrefix + the hex SHA-256 of its bytes. The prefix holds a
// character plain keys cannot contain, so the two forms never meet, and windowRowKey is neither.
const (
	maxPlainKey  = 200
	hashedPrefix = "h~"
	windowRowKey = "~window"
)

// key encodes s as a valid, unique, deterministic PartitionKey or RowKey.
func key(s string) string {
	if plainKey(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return hashedPrefix + hex.EncodeToString(sum[:])
}

func plainKey(s string) bool {
	if len(s) == 0 || len(s) > maxPlainKey {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}
