package server

import (
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// foldAccents returns word without the diacritics of its letters
// (decomposed, without its nonspacing marks, composed again), as both
// stores' search indexes compare words: SQLite's remove_diacritics and
// PostgreSQL's unaccent. A search hit's marks then fall on "café" for a
// search for "cafe" and the other way round.
func foldAccents(word string) string {
	ascii := true
	for i := 0; i < len(word); i++ {
		if word[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return word
	}
	// A chain keeps state between calls, so each call makes its own.
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, word)
	if err != nil {
		return word
	}
	return folded
}
