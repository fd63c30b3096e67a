package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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

func (s *Store) appendNumbered(ctx context.Context, msgs []store.Message) ([]int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
		return nil, err
	}
	// original[i] is the index in msgs of the message i repeats within the
	// batch, or -1; stored[i] is the stored message i repeats.
	original := make([]int, len(msgs))
	stored := make(map[int]store.Message)
	if err := claimIDs(ctx, tx, msgs, original, stored); err != nil {
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
	// Counter rows are locked in the order of their rooms, as in Append,
	// so that two batches sharing rooms cannot deadlock.
	names := make([]string, 0, len(counts))
	for r := range counts {
		names = append(names, r)
	}
	slices.SortFunc(names, strings.Compare)
	ns := make([]int64, len(names))
	for i, r := range names {
		ns[i] = counts[r]
	}
	next := make(map[string]int64, len(names))
	if len(names) > 0 {
		rows, err := tx.Query(ctx, `INSERT INTO room_seqs (room, last_seq)
			SELECT * FROM unnest($1::text[], $2::bigint[]) ORDER BY 1
			ON CONFLICT (room) DO UPDATE SET last_seq = room_seqs.last_seq + excluded.last_seq
			RETURNING room, last_seq`, names, ns)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				r    string
				last int64
			)
			if err := rows.Scan(&r, &last); err != nil {
				rows.Close()
				return nil, err
			}
			next[r] = last - counts[r] + 1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var (
		room   []string
		seq    []int64
		sender []string
		text   [][]byte
		cmid   [][]byte
		tm     []time.Time
		kind   []string
		target []int64
		words  []string
		refs   = newReplyRefs(0)
		seqOf  = make([]int64, len(msgs))
	)
	for i, m := range msgs {
		if repeat(i) {
			continue
		}
		n, ok := next[m.Room]
		if !ok {
			return nil, fmt.Errorf("room %q: no sequence number returned", m.Room)
		}
		next[m.Room] = n + 1
		seqOf[i] = n
		room, seq, sender = append(room, m.Room), append(seq, n), append(sender, m.From)
		text, cmid, tm = append(text, []byte(m.Text)), append(cmid, []byte(m.ClientMsgID)), append(tm, m.Time)
		kind, target = append(kind, string(m.Change)), append(target, int64(m.Target))
		words = append(words, wordsText(m))
		refs.add(m)
	}
	if len(room) > 0 {
		if _, err := tx.Exec(ctx, insertMessages, room, seq, sender, text, cmid, tm, kind, target, words, refs.replyTo, refs.thread, refs.alsoRoom); err != nil {
			return nil, err
		}
		var b pgx.Batch
		for i, m := range msgs {
			if !repeat(i) {
				m.Seq = span.Seq(seqOf[i]) // a reaction keeps the number of its react, a root that of its newest reply
				queueChange(&b, m)
			}
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
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
			msgs[i].Seq = span.Seq(seqOf[i])
		}
	}
	return repeats, nil
}

// claimIDs claims the client ids of msgs in client_msg_ids. An id claimed
// by another transaction that has not ended makes the claim wait for it.
// A message whose id an earlier message of the batch carries gets that
// message's index in original (-1 otherwise); one whose id was claimed
// before gets the stored message in stored. An id claimed for a message
// that retention has since removed is free again: its message is stored.
func claimIDs(ctx context.Context, tx pgx.Tx, msgs []store.Message, original []int, stored map[int]store.Message) error {
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
		return nil
	}
	// In one order for every transaction, so that two claiming the same
	// ids cannot deadlock.
	rows, err := tx.Query(ctx, `INSERT INTO client_msg_ids (room, sender, client_msg_id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[]) ORDER BY 1, 2, 3
		ON CONFLICT DO NOTHING RETURNING room, sender, client_msg_id`, rooms, senders, ids)
	if err != nil {
		return err
	}
	claimed := make(map[idKey]bool, len(ids))
	for rows.Next() {
		var (
			k  idKey
			id []byte
		)
		if err := rows.Scan(&k.room, &k.sender, &id); err != nil {
			rows.Close()
			return err
		}
		k.id = string(id)
		claimed[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
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
	rows, err = tx.Query(ctx, selectMessage+`WHERE (room, sender, client_msg_id) IN
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
