package postgres

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/chatd/chatd/store"
	"github.com/chatd/chatd/store/internal/span"
)

var _ store.Sequencer = (*Store)(nil)

// AppendNumbered implements store.Sequencer. The room's counter row is
// moved forward by the batch's count with one upsert, which locks the row
// until COMMIT: a second process appending to the same room waits there,
// and then continues from the first one's numbers. As numbers are taken
// under that lock, a room's numbers commit in their order, and a rolled
// back batch gives its numbers back with the row. Client message ids are
// claimed first, in client_msg_ids (see its migration), so that a repeat
// takes no number.
//
// Every process appending to a room waits for the row in turn, so what
// bounds a room's rate across a cluster is how long each holds it. The
// row is therefore taken by the statement that also inserts the batch
// (numberMessages), sent in one round trip with the COMMIT: the row is
// held for that statement and the commit's flush, not for the round trips
// of a client that may be waiting for a CPU. The claims go before it, in
// one round trip with BEGIN, as they may wait for another transaction.
func (s *Store) AppendNumbered(ctx context.Context, msgs []store.Message) ([]int, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	repeats, err := s.appendNumbered(ctx, msgs)
	if err != nil {
		return nil, fmt.Errorf("postgres store: append: %w", err)
	}
	return repeats, nil
}

// idKey is a message's client id in its room, from its sender.
type idKey struct{ room, sender, id string }

// numberMessages moves the counters of the batch's rooms ($1) forward by
// their counts ($2), in the order of the rooms' names as Append does, so
// that two batches sharing rooms cannot deadlock, and inserts the
// messages: each takes its room's new last number less the messages of
// its room after it in the batch ($15). It returns the rooms' new last
// numbers.
const numberMessages = `WITH c AS (INSERT INTO room_seqs (room, last_seq)
		SELECT * FROM unnest($1::text[], $2::bigint[]) ORDER BY 1
		ON CONFLICT (room) DO UPDATE SET last_seq = room_seqs.last_seq + excluded.last_seq
		RETURNING room, last_seq),
	m AS (INSERT INTO messages (room, seq, sender, text, client_msg_id, time, kind, target, words, reply_to, thread, also_room)
		SELECT r, c.last_seq - b, f, t, cm, tm, k, tg, CASE WHEN k = '' THEN to_tsvector('chatd_words', w) END, rt, th, ar
		FROM unnest($3::text[], $4::text[], $5::bytea[], $6::bytea[], $7::timestamptz[], $8::text[], $9::bigint[], $10::text[],
			$11::bigint[], $12::bigint[], $13::boolean[], $14::bigint[])
			AS v (r, f, t, cm, tm, k, tg, w, rt, th, ar, b)
		JOIN c ON c.room = v.r)
	SELECT room, last_seq FROM c`

// commitTag checks the tag of a batch's COMMIT: that of a transaction
// that failed answers ROLLBACK, not an error; an earlier statement's error
// comes first, but an acknowledged append must never rest on that.
func commitTag(ct pgconn.CommandTag) error {
	if ct.String() != "COMMIT" {
		return fmt.Errorf("the transaction was rolled back (%s)", ct)
	}
	return nil
}

func (s *Store) appendNumbered(ctx context.Context, msgs []store.Message) ([]int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	// A connection left in a transaction by an error is closed by Release
	// rather than handed to the next caller (see append).
	defer conn.Release()
	// original[i] is the index in msgs of the message i repeats within the
	// batch, or -1; stored[i] is the stored message i repeats.
	original := make([]int, len(msgs))
	stored := make(map[int]store.Message)
	var b pgx.Batch
	b.Queue(`BEGIN`)
	b.Queue(`SET LOCAL synchronous_commit = on`)
	lookup := queueClaims(&b, msgs, original)
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	if err := lookup(ctx, conn.Conn(), stored); err != nil {
		return nil, err
	}
	repeat := func(i int) bool {
		_, ok := stored[i]
		return ok || original[i] >= 0
	}
	counts := make(map[string]int64, 4)
	for i, m := range msgs {
		if !repeat(i) {
			counts[m.Room]++
		}
	}
	names := make([]string, 0, len(counts))
	for r := range counts {
		names = append(names, r)
	}
	slices.SortFunc(names, strings.Compare)
	ns := make([]int64, len(names))
	for i, r := range names {
		ns[i] = counts[r]
	}
	var (
		room   []string
		sender []string
		text   [][]byte
		cmid   [][]byte
		tm     []time.Time
		kind   []string
		target []int64
		words  []string
		back   []int64
		refs   = newReplyRefs(0)
		// after[i] is how many messages of i's room follow it in the
		// batch: its number is the room's new last number less that.
		after   = make([]int64, len(msgs))
		left    = maps.Clone(counts)
		changes bool
	)
	for i, m := range msgs {
		if repeat(i) {
			continue
		}
		left[m.Room]--
		after[i] = left[m.Room]
		room, sender, back = append(room, m.Room), append(sender, m.From), append(back, after[i])
		text, cmid, tm = append(text, []byte(m.Text)), append(cmid, []byte(m.ClientMsgID)), append(tm, m.Time)
		kind, target = append(kind, string(m.Change)), append(target, int64(m.Target))
		words = append(words, wordsText(m))
		refs.add(m)
		changes = changes || len(m.Mentions) > 0 || m.Change != store.ChangeNone || m.Thread != 0
	}
	last := make(map[string]int64, len(names))
	b = pgx.Batch{}
	if len(room) > 0 {
		b.Queue(numberMessages, names, ns, room, sender, text, cmid, tm, kind, target, words, refs.replyTo, refs.thread, refs.alsoRoom, back).
			Query(func(rows pgx.Rows) error {
				var r string
				var n int64
				_, err := pgx.ForEachRow(rows, []any{&r, &n}, func() error {
					last[r] = n
					return nil
				})
				return err
			})
	}
	if changes {
		// The changes' statements name the numbers just taken: the row
		// stays held for one more round trip, for these batches only.
		if err := conn.SendBatch(ctx, &b).Close(); err != nil {
			return nil, err
		}
		b = pgx.Batch{}
	}
	seqOf := func(i int) (uint64, error) {
		n, ok := last[msgs[i].Room]
		if !ok {
			return 0, fmt.Errorf("room %q: no sequence number returned", msgs[i].Room)
		}
		return span.Seq(n - after[i]), nil
	}
	if changes {
		for i, m := range msgs {
			if repeat(i) {
				continue
			}
			seq, err := seqOf(i)
			if err != nil {
				return nil, err
			}
			m.Seq = seq // a reaction keeps the number of its react, a root that of its newest reply
			queueChange(&b, m)
		}
	}
	b.Queue(`COMMIT`).Exec(commitTag)
	if err := conn.SendBatch(ctx, &b).Close(); err != nil {
		return nil, err
	}
	var repeats []int
	for i := range msgs {
		switch o, ok := stored[i]; {
		case ok:
			msgs[i] = o
			repeats = append(repeats, i)
		case original[i] >= 0:
			msgs[i] = msgs[original[i]]
			repeats = append(repeats, i)
		default:
			seq, err := seqOf(i)
			if err != nil {
				return nil, err
			}
			msgs[i].Seq = seq
		}
	}
	return repeats, nil
}

// queueClaims queues the claim of msgs' client ids in client_msg_ids. An
// id claimed by another transaction that has not ended makes the claim
// wait for it. A message whose id an earlier message of the batch carries
// gets that message's index in original (-1 otherwise). Once the batch has
// run, the function returned puts in stored the stored message of each
// whose id was claimed before. An id claimed for a message that retention
// has since removed is free again: its message is stored.
func queueClaims(b *pgx.Batch, msgs []store.Message, original []int) func(context.Context, *pgx.Conn, map[int]store.Message) error {
	first := make(map[idKey]int)
	var rooms, senders []string
	var ids [][]byte
	for i, m := range msgs {
		original[i] = -1
		if m.ClientMsgID == "" {
			continue
		}
		k := idKey{m.Room, m.From, m.ClientMsgID}
		if j, ok := first[k]; ok {
			original[i] = j
			continue
		}
		first[k] = i
		rooms, senders, ids = append(rooms, m.Room), append(senders, m.From), append(ids, []byte(m.ClientMsgID))
	}
	if len(ids) == 0 {
		return func(context.Context, *pgx.Conn, map[int]store.Message) error { return nil }
	}
	claimed := make(map[idKey]bool, len(ids))
	// In one order for every transaction, so that two claiming the same
	// ids cannot deadlock.
	b.Queue(`INSERT INTO client_msg_ids (room, sender, client_msg_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) ORDER BY 1, 2, 3
		ON CONFLICT DO NOTHING RETURNING room, sender, client_msg_id`, rooms, senders, ids).Query(func(rows pgx.Rows) error {
		var (
			k  idKey
			id []byte
		)
		_, err := pgx.ForEachRow(rows, []any{&k.room, &k.sender, &id}, func() error {
			k.id = string(id)
			claimed[k] = true
			return nil
		})
		return err
	})
	return func(ctx context.Context, conn *pgx.Conn, stored map[int]store.Message) error {
		var tr, ts []string
		var ti [][]byte
		for k := range first {
			if !claimed[k] {
				tr, ts, ti = append(tr, k.room), append(ts, k.sender), append(ti, []byte(k.id))
			}
		}
		if len(tr) == 0 {
			return nil
		}
		// The claims that failed waited for their transactions, which have
		// committed: this statement sees their messages.
		rows, err := conn.Query(ctx, selectMessage+`WHERE (room, sender, client_msg_id) IN
			(SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])) AND client_msg_id <> ''::bytea ORDER BY seq`, tr, ts, ti)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				return err
			}
			stored[first[idKey{m.Room, m.From, m.ClientMsgID}]] = m // the newest wins
		}
		return rows.Err()
	}
}

// LastSeqs implements store.Sequencer.
func (s *Store) LastSeqs(ctx context.Context, rooms []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(rooms))
	if len(rooms) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT room, last_seq FROM room_seqs WHERE room = ANY($1::text[])`, rooms)
	if err != nil {
		return nil, fmt.Errorf("postgres store: last seqs: %w", err)
	}
	type row struct {
		Room string
		Last int64
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return nil, fmt.Errorf("postgres store: last seqs: %w", err)
	}
	for _, r := range got {
		out[r.Room] = span.Seq(r.Last)
	}
	return out, nil
}
