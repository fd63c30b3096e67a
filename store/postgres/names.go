package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chatd/chatd/store"
)

var _ store.NameClaims = (*Store)(nil)

// ClaimName decides under a transaction-scoped advisory lock on the name,
// so that two nodes claiming one name at once are served one after the
// other: the second sees the first's hold.
func (s *Store) ClaimName(ctx context.Context, c store.NameClaim) (out store.NameClaimed, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return out, fmt.Errorf("claim name %q: %w", c.Key, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('chatd name ' || $1))`, c.Key); err != nil {
		return out, fmt.Errorf("claim name %q: lock: %w", c.Key, err)
	}
	rows, err := tx.Query(ctx, `SELECT signed_in, token_hash FROM name_claims WHERE key = $1 AND node <> $2 AND expires > now()`, c.Key, c.Node)
	if err != nil {
		return out, fmt.Errorf("claim name %q: %w", c.Key, err)
	}
	held := 0
	for rows.Next() {
		var signedIn bool
		var hash string
		if err := rows.Scan(&signedIn, &hash); err != nil {
			return out, fmt.Errorf("claim name %q: %w", c.Key, err)
		}
		held++
		switch {
		case c.SignedIn:
			out.Ousted = out.Ousted || !signedIn
		case signedIn || c.Presented == "" || hash != c.Presented:
			rows.Close()
			return out, store.ErrNameHeld
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("claim name %q: %w", c.Key, err)
	}
	out.UsePresented = held > 0 && !c.SignedIn
	if c.DryRun {
		return out, nil
	}
	hash := c.Candidate
	if c.SignedIn {
		hash = ""
		if _, err := tx.Exec(ctx, `DELETE FROM name_claims WHERE key = $1 AND node <> $2 AND NOT signed_in`, c.Key, c.Node); err != nil {
			return out, fmt.Errorf("claim name %q: oust: %w", c.Key, err)
		}
	} else if out.UsePresented {
		hash = c.Presented
	}
	_, err = tx.Exec(ctx, `INSERT INTO name_claims (key, node, signed_in, token_hash, gen, expires)
		VALUES ($1, $2, $3, $4, $5, now() + $6::bigint * interval '1 millisecond')
		ON CONFLICT (key, node) DO UPDATE SET signed_in = excluded.signed_in, token_hash = excluded.token_hash,
			gen = excluded.gen, expires = excluded.expires`,
		c.Key, c.Node, c.SignedIn, hash, c.Gen, c.Lease.Milliseconds())
	if err != nil {
		return out, fmt.Errorf("claim name %q: %w", c.Key, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return out, fmt.Errorf("claim name %q: commit: %w", c.Key, err)
	}
	return out, nil
}

// ReleaseNames deletes the holds in one statement.
func (s *Store) ReleaseNames(ctx context.Context, node string, gens map[string]int64) error {
	if len(gens) == 0 {
		return nil
	}
	keys := make([]string, 0, len(gens))
	ns := make([]int64, 0, len(gens))
	for k, g := range gens {
		keys = append(keys, k)
		ns = append(ns, g)
	}
	_, err := s.pool.Exec(ctx, `DELETE FROM name_claims c USING unnest($2::text[], $3::bigint[]) AS r(key, gen)
		WHERE c.node = $1 AND c.key = r.key AND c.gen = r.gen`, node, keys, ns)
	if err != nil {
		return fmt.Errorf("release %d names: %w", len(gens), err)
	}
	return nil
}

// RenewNames moves every hold's lease forward, after dropping the lapsed
// guest holds whose name another node's user holds now: a guest with
// another session token, or a signed-in user.
func (s *Store) RenewNames(ctx context.Context, node string, lease time.Duration) ([]string, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM name_claims c
		WHERE c.node = $1 AND NOT c.signed_in AND c.expires <= now()
			AND EXISTS (SELECT 1 FROM name_claims o WHERE o.key = c.key AND o.node <> $1 AND o.expires > now()
				AND (o.signed_in OR o.token_hash <> c.token_hash))
		RETURNING c.key`, node)
	if err != nil {
		return nil, fmt.Errorf("renew names: drop the lapsed: %w", err)
	}
	lost, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("renew names: drop the lapsed: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE name_claims SET expires = now() + $2::bigint * interval '1 millisecond' WHERE node = $1`, node, lease.Milliseconds()); err != nil {
		return lost, fmt.Errorf("renew names: %w", err)
	}
	return lost, nil
}

// ForgetNode deletes the node's holds, and those whose lease passed long
// ago, which nobody else deletes.
func (s *Store) ForgetNode(ctx context.Context, node string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM name_claims WHERE node = $1 OR expires < now() - interval '1 hour'`, node)
	if err != nil {
		return fmt.Errorf("forget node %q's names: %w", node, err)
	}
	return nil
}
