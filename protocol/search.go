package protocol

import "encoding/json"

// TypeSearch searches the messages of the rooms the user may read.
const TypeSearch = "search"

// Search orders (Request.Order).
const (
	OrderNewest = "newest" // the default: newest first
	OrderBest   = "best"   // best match first
)

// Search limits, documented in docs/protocol.md.
const (
	// MaxSearchQueryBytes bounds a search's q.
	MaxSearchQueryBytes = 256
	// DefaultSearchLimit is a search page's hits when the request gives
	// no limit; MaxSearchLimit is the most it may ask for.
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
	// MaxSearchMarks bounds the marks of one hit.
	MaxSearchMarks = 32
)

// SearchHit is one message a search found, in its current state.
type SearchHit struct {
	Room   string `json:"room"`
	Seq    uint64 `json:"seq"`
	From   string `json:"from"`
	TS     int64  `json:"ts"`
	Text   string `json:"text"`
	Edited int64  `json:"edited,omitempty"`
	// Marks are where the words searched for occur in Text, as [start,
	// end) offsets in Unicode code points (not bytes, not UTF-16 units),
	// in order: at most MaxSearchMarks.
	Marks [][2]int `json:"marks,omitempty"`
}

// HitSize is the length of h in a reply, with its separating comma.
func HitSize(h *SearchHit) int {
	b, err := json.Marshal(h)
	if err != nil {
		panic(err) // plain data
	}
	return len(b) + 1
}
