package tjson

import (
	"math/rand/v2"
	"testing"
)

// appendStringSlow is AppendString one byte at a time, the reference for
// its eight-bytes-at-a-time scan.
func appendStringSlow(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
			i++
		case c < 0x20:
			dst = appendControl(dst, c)
			i++
		case c < 0x80:
			dst = append(dst, c)
			i++
		default:
			r, n, err := decodeRune([]byte(s[i:min(i+4, len(s))]))
			if err != nil {
				r, n = rune(c), 1
			}
			dst = AppendUnicodeEscape(dst, r)
			i += n
		}
	}
	return append(dst, '"')
}

func TestAppendStringMatchesBytewise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("abcXYZ09 ~\x7f\x00\x1f\x20\"\\/\x80\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80")
	for range 20000 {
		n := rng.IntN(40)
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		want := string(appendStringSlow(nil, string(b)))
		if got := string(AppendString(nil, string(b))); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", b, got, want)
		}
		if got := string(AppendString(nil, b)); got != want {
			t.Fatalf("AppendString([]byte %q) = %s, want %s", b, got, want)
		}
	}
}
