package bench

import (
	"strconv"
	"testing"
)

// refParseUint is parseUint a digit at a time, as it was written first.
func refParseUint(b []byte, i int) (int64, int, bool) {
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 19 {
		i++
	}
	if (i < len(b) && b[i] >= '0' && b[i] <= '9') || i == start {
		return 0, i, false
	}
	v, err := strconv.ParseInt(string(b[start:i]), 10, 64)
	if err != nil {
		return 0, i, false
	}
	return v, i, true
}

func checkParseUint(t *testing.T, s string, at int) {
	t.Helper()
	if at < 0 || at > len(s) {
		return
	}
	v, next, ok := parseUint([]byte(s), at)
	rv, rnext, rok := refParseUint([]byte(s), at)
	if ok != rok || (ok && (v != rv || next != rnext)) {
		t.Fatalf("parseUint(%q, %d) = %d, %d, %v; want %d, %d, %v", s, at, v, next, ok, rv, rnext, rok)
	}
}

func TestParseUint(t *testing.T) {
	for _, s := range []string{
		"", "x", "0", "7 ", "12345678", "123456789", "1234567x9", "12345678 9",
		"1795842149182000000 ", "9223372036854775807", "9223372036854775808", "99999999999999999999",
		"0000000000000000001", "00000000000000000001", "1234567:", "1234567/", "12345678:12345678",
		"3 17 1795842149182000000 12345xxxx",
	} {
		for at := range len(s) + 1 {
			checkParseUint(t, s, at)
		}
	}
}

func FuzzParseUint(f *testing.F) {
	f.Add("3 17 1795842149182000000 12345xxxx", 5)
	f.Add("9223372036854775808", 0)
	f.Add("123456789012345678901234", 2)
	f.Fuzz(checkParseUint)
}

// BenchmarkParseMsg reads the numbers of one delivery's text.
func BenchmarkParseMsg(b *testing.B) {
	text := appendMsg(nil, 3, 123456, 1795842149182000000, 1234567890, 64)
	for range b.N {
		if _, _, _, ok := parseMsg(text, 1234567890); !ok {
			b.Fatal("not parsed")
		}
	}
}
