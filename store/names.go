package store

import (
	"context"
	"errors"
	"time"
)

// ErrNameHeld refuses a guest a name that another node holds for someone
// else: a signed-in user, or a guest with another session token.
var ErrNameHeld = errors.New("store: name held on another node")

// NameClaim is one node's request to hold a name, as NameClaims.ClaimName
// takes it.
type NameClaim struct {
	Key  string // the case-folded name
	Node string
	// SignedIn claims the name for its owner: it always succeeds and takes
	// the name from the guests that hold it elsewhere.
	SignedIn bool
	// Presented is the hash of the session token the guest presented
	// (empty for none), Candidate the hash of the token it gets when no
	// other node holds the name.
	Presented, Candidate string
	// Gen tells this hold from a later one of the same name on the node,
	// for ReleaseNames.
	Gen   int64
	Lease time.Duration
	// DryRun checks the claim and holds nothing.
	DryRun bool
}

// NameClaimed is ClaimName's answer.
type NameClaimed struct {
	// UsePresented: other nodes hold the name for the presented token,
	// which the guest keeps.
	UsePresented bool
	// Ousted: guests held the name on other nodes and lost it.
	Ousted bool
}

// NameClaims keeps which node holds which name, so that a cluster's
// nodes give each name to one user. A node's holds last while it renews
// them; a node that dies loses them when their lease passes.
type NameClaims interface {
	// ClaimName holds c.Key for c.Node, or fails with ErrNameHeld.
	ClaimName(ctx context.Context, c NameClaim) (NameClaimed, error)
	// ReleaseNames drops node's holds of the keys, each only if it is
	// still the hold of the generation given.
	ReleaseNames(ctx context.Context, node string, gens map[string]int64) error
	// RenewNames extends the lease of every hold of node. A guest's hold
	// whose lease passed (the node could not renew it: it was cut off
	// from the store) while another node gave the name to another user is
	// dropped instead, and its key returned, for the node to close its
	// guest: two users share a name only while the cut lasts.
	RenewNames(ctx context.Context, node string, lease time.Duration) (lost []string, err error)
	// ForgetNode drops every hold of node, as a node starting with an id
	// it had before does.
	ForgetNode(ctx context.Context, node string) error
}
