package store

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SearchOrder is the order of a search's hits.
type SearchOrder int

const (
	// SearchNewest lists the newest hits first: by Time, descending, to
	// the millisecond; hits of the same millisecond in an order the store
	// chooses, the same on every page.
	SearchNewest SearchOrder = iota
	// SearchBest lists the best matches first, as the store ranks them
	// (how often and how densely the words occur), newest first among
	// equals. Only the newest SearchBestWindow matches (those a newest
	// first search lists first) are ranked, fixed by the first page.
	SearchBest
)

// SearchBestWindow is how many of the newest matches a best first search
// ranks: ranking is per match, so a common word would otherwise rank most
// of the messages stored.
const SearchBestWindow = 1000

// MaxSearchWords is the most words a search matches; the words after it
// are ignored, so that one query cannot ask the index for a long list of
// its entries.
const MaxSearchWords = 8

// SearchQuery is what a Search looks for.
type SearchQuery struct {
	// Words are the words a hit must all contain, in any order and case,
	// as SearchWords splits them. At least one.
	Words []string
	// Prefix makes the last word match as a prefix too ("hel" finds
	// "hello"). A short prefix matches many words, each of whose index
	// entries the store reads, so it is asked for (SearchPrefix), not
	// the default.
	Prefix bool
	// Room, if not empty, is the only room searched.
	Room string
	// From, if not empty, is the only author searched.
	From string
	// After and Before, if not zero, bound the hits' Time: After < Time <
	// Before.
	After, Before time.Time
	// Order is the order of the hits.
	Order SearchOrder
	// Limit is the most hits a page holds; 0 or less returns none.
	Limit int
	// Cursor, if not empty, is the Next of the page before, with the same
	// query: the page continues after it.
	Cursor string
}

// SearchPage is one page of a search's hits.
type SearchPage struct {
	// Hits are chat messages (Change is ChangeNone) that are not deleted,
	// with their current text, in the query's order. Their Reactions are
	// not set.
	Hits []Message
	// After[i] continues the search after Hits[i], for a caller that
	// passes on only part of a page.
	After []string
	// Next continues the search on the next page, or is empty when there
	// are no more hits.
	Next string
}

// Searcher is a Store with a full-text index of its chat messages' current
// texts, which follows every edit, delete and Trim in the transaction that
// makes it. Words are runs of letters and digits (SearchWords); a search
// matches them without regard to case.
type Searcher interface {
	Store
	// Search returns a page of the chat messages that match q, in every
	// room: callers filter the rooms their user may not read. A Cursor
	// the store did not make fails with an error wrapping ErrBadCursor.
	Search(ctx context.Context, q SearchQuery) (SearchPage, error)
}

// ErrBadCursor is returned (wrapped) by Search for a cursor that is not
// the Next of an earlier page.
var ErrBadCursor = errors.New("store: not a search cursor")

// SearchWords splits text into the words a search matches: runs of
// letters, digits and private-use characters, the characters every
// store's index keeps (SQLite FTS5's unicode61 tokenizer and PostgreSQL's
// default parser agree on these), lower-cased, at most MaxSearchWords of
// them. Everything else separates words, so quotes, operators and other
// syntax of the index's query language never reach it.
func SearchWords(text string) []string {
	var words []string
	for w := range strings.FieldsFuncSeq(text, notWordRune) {
		if len(words) == MaxSearchWords {
			break
		}
		words = append(words, strings.ToLower(w))
	}
	return words
}

// SearchPrefix reports whether a query's text asks for its last word to
// match as a prefix: whether it ends with '*'.
func SearchPrefix(text string) bool {
	return strings.HasSuffix(strings.TrimSpace(text), "*")
}

func notWordRune(r rune) bool {
	return r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Co, r))
}

// Highlights returns where words (as SearchWords returns them, the last a
// prefix if prefix is set) occur in text: pairs of [start, end) offsets in Unicode code
// points, in order, so that a client can mark them whatever its string
// encoding. fold, if not nil, maps a lower-cased word to the form the
// stores' indexes compare (without its accents), applied to the words of
// text and to words alike.
func Highlights(text string, words []string, prefix bool, fold func(string) string) [][2]int {
	if len(words) == 0 {
		return nil
	}
	if fold == nil {
		fold = func(w string) string { return w }
	}
	folded := make([]string, len(words))
	for i, w := range words {
		folded[i] = fold(w)
	}
	var (
		out   [][2]int
		pos   int // code points before i
		start = -1
		begin int // byte offset of the current word
	)
	flush := func(i int) {
		if start < 0 {
			return
		}
		if matchesWord(fold(strings.ToLower(text[begin:i])), folded, prefix) {
			out = append(out, [2]int{start, pos})
		}
		start = -1
	}
	for i, r := range text {
		if notWordRune(r) {
			flush(i)
		} else if start < 0 {
			start, begin = pos, i
		}
		pos++
	}
	flush(len(text))
	return out
}

func matchesWord(w string, words []string, prefix bool) bool {
	last := len(words) - 1
	for i, q := range words {
		if w == q || prefix && i == last && strings.HasPrefix(w, q) {
			return true
		}
	}
	return false
}
