package bench

import (
	"encoding/binary"
	"math"
)

// parseUint reads the decimal digits of b from i on, at most 19 of them,
// and returns their value and the index after them; ok is false when there
// is no digit, or when the number is larger than an int64 can hold.
//
// Every delivery's text holds four numbers, two of them of 10 and 19
// digits (the run's tag and the send time in ns), and reading them a digit
// at a time was the largest share of the tool's work per delivery outside
// the system calls: eight digits at a time are read as one word.
func parseUint(b []byte, i int) (v int64, next int, ok bool) {
	start := i
	var u uint64
	// 11 digits and eight more are 19, which a uint64 holds.
	for len(b)-i >= 8 && i-start <= 11 {
		x := binary.LittleEndian.Uint64(b[i:])
		if !eightDigits(x) {
			break
		}
		u = u*1e8 + eightValue(x)
		i += 8
	}
	for i < len(b) && b[i]-'0' <= 9 && i-start < 19 {
		u = u*10 + uint64(b[i]-'0')
		i++
	}
	if (i < len(b) && b[i]-'0' <= 9) || u > math.MaxInt64 {
		return 0, i, false // too big
	}
	return int64(u), i, i > start
}

// eightDigits reports whether each byte of x is an ASCII digit: its high
// nibble is 3, and adding 6 leaves it 3 (0x3a-0x3f become 0x40-0x45).
func eightDigits(x uint64) bool {
	const hi = 0xf0f0f0f0f0f0f0f0
	return x&hi == 0x3030303030303030 && (x+0x0606060606060606)&hi == 0x3030303030303030
}

// eightValue is the value of the eight ASCII digits of x, the first in its
// lowest byte: pairs of digits, then pairs of pairs, each step one
// multiplication (as in Lemire's "Faster parsing of integers").
func eightValue(x uint64) uint64 {
	x -= 0x3030303030303030
	x = x*10 + x>>8 // bytes 0, 2, 4, 6: two-digit values
	return ((x&0x000000ff000000ff)*(100+1000000<<32) + (x>>16&0x000000ff000000ff)*(1+10000<<32)) >> 32
}
