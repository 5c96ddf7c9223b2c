package main

import "strconv"

// appendRSalt appends the reply salt of a socket's seq-th request:
// "<socket>-<seq>".
func appendRSalt(dst []byte, socket int, seq uint64) []byte {
	dst = strconv.AppendInt(dst, int64(socket), 10)
	dst = append(dst, '-')
	return strconv.AppendUint(dst, seq, 10)
}

// parseRSalt reads a reply salt made by appendRSalt.
func parseRSalt(b []byte) (socket int, seq uint64, ok bool) {
	dash := -1
	for i, c := range b {
		if c == '-' {
			dash = i
			break
		}
	}
	if dash <= 0 || dash == len(b)-1 {
		return 0, 0, false
	}
	sock, ok1 := parseDigits(b[:dash])
	seq, ok2 := parseDigits(b[dash+1:])
	return int(sock), seq, ok1 && ok2 && sock <= 1<<20
}

func parseDigits(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}
