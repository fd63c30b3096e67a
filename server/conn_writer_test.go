package server

import (
	"testing"
	"time"
)

func TestAWritersHoldGrowsWithItsSweepUpToTheCeiling(t *testing.T) {
	for _, tc := range []struct {
		took, want time.Duration
	}{
		{0, 0}, // nothing written: the next frame goes at once
		{10 * time.Microsecond, holdFactor * 10 * time.Microsecond}, // a few connections
		{maxHold / holdFactor, maxHold},
		{time.Second, maxHold}, // a sweep longer than the ceiling is never followed by a wait
	} {
		if got := holdAfter(tc.took); got != tc.want {
			t.Errorf("holdAfter(%v) = %v, want %v", tc.took, got, tc.want)
		}
	}
}
