package store

// ReactionRunEnds reports which of msgs, a batch as passed to Append, end
// a run of reactions: reactions (ChangeReact, ChangeUnreact) to one target
// that follow each other in their room's order within msgs, messages of
// other rooms between them not counting. ends[i] is set for the last of
// each run, a single reaction being a run of its own. It returns nil when
// msgs hold no reaction.
//
// Append reads the target's reactions after each such message (see
// Message.Tally), so that a room can send the members one state for a
// whole run instead of every reaction in it.
func ReactionRunEnds(msgs []Message) []bool {
	var ends []bool
	next := make(map[string]int) // room -> index of its next message in msgs
	for i := len(msgs) - 1; i >= 0; i-- {
		m := &msgs[i]
		if isReaction(m.Change) {
			if ends == nil {
				ends = make([]bool, len(msgs))
			}
			j, ok := next[m.Room]
			ends[i] = !ok || !isReaction(msgs[j].Change) || msgs[j].Target != m.Target
		}
		next[m.Room] = i
	}
	return ends
}

func isReaction(c Change) bool { return c == ChangeReact || c == ChangeUnreact }
