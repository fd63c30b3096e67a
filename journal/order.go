package journal

import "github.com/chatd/chatd/store"

// A change (a reaction, an edit, a delete) queued by one sender should not
// delay another sender's new message: in a storm of reactions a message
// would wait for the append in flight and then share its own with the
// reactions queued meanwhile, about twenty of them, and commit that much
// slower. So when the committer takes a batch, the new messages of the
// window go ahead of the changes of other senders, and the batch ends
// after them: the changes it left go in the next append, whatever comes
// meanwhile, so that a change is passed at most once.
//
// Nothing a message depends on can be moved after it. A change names a
// message the server read from the store, so its target is committed and
// not in the queue; a reply or a thread reply names a committed chat
// message too; a message's place is given only when the committer numbers
// it, just before its batch is appended, so the room's sequence, the
// store's tallies of reactions and every callback follow the order taken
// here. What a sender sees of its own requests keeps its order: a message
// never passes a change of its own sender, who may have meant the change
// to come first. Queued entries are not yet visible to anyone else, so
// putting one sender's message before another's change is an order they
// could have reached the server in.
//
// A journal whose store numbers the messages (Config.Sequencer, the
// cluster) keeps the submission order: there other nodes place their
// messages by the commits, and this order is not checked for that.

// isChange reports whether m changes an earlier message rather than being
// a new one.
func isChange(m *store.Message) bool { return m.Change != store.ChangeNone }

// messagesFirst looks at window, the head of the queue, for new messages
// that may go ahead of changes queued before or among them. When there
// are some, and changes that would otherwise share their append, it
// appends those messages to batch in queue order, moves the rest of
// window, in queue order, to its end, and returns the batch and the
// number of entries left there. Otherwise it returns batch as it was and
// 0, and leaves window alone. senders is scratch space, left empty.
func messagesFirst(window, batch []entry, senders map[string]struct{}) ([]entry, int) {
	defer clear(senders)
	changes, ahead := 0, 0
	for i := range window {
		m := &window[i].msg
		if isChange(m) {
			changes++
			senders[m.From] = struct{}{}
		} else if _, held := senders[m.From]; !held {
			ahead++
		}
	}
	if changes == 0 || ahead == 0 {
		return batch, 0
	}
	clear(senders)
	rest := 0
	for i := range window {
		m := &window[i].msg
		if isChange(m) {
			senders[m.From] = struct{}{}
		} else if _, held := senders[m.From]; !held {
			batch = append(batch, window[i])
			continue
		}
		window[rest] = window[i]
		rest++
	}
	copy(window[len(window)-rest:], window[:rest])
	clear(window[:len(window)-rest])
	return batch, rest
}
