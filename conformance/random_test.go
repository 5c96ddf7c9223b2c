package conformance

// TestRandom: a differential fuzz-ish test. Requests come from a grammar
// over the configuration (valid and near-valid: random types and shapes,
// mutated names, paths and IPs, now and then a transport mutation); every
// difference fails and is saved as a regression file.

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRandom(t *testing.T) {
	s := needSuite(t)
	n := *flagRandom
	if n <= 0 {
		t.Skip("-conformance.random is 0")
	}
	seed := *flagSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	head := fmt.Sprintf("conformance random: seed %d (rerun with -run TestRandom -conformance.seed %d -conformance.random %d)", seed, seed, n)
	summary(t, head)

	// All specs are drawn before anything is sent, so that a seed always
	// gives the same requests.
	r := rand.New(rand.NewPCG(uint64(seed), 0x636f6e6664))
	perConfig := make([][]Spec, len(s.configs))
	for i := 0; i < n; i++ {
		c := i % len(s.configs)
		perConfig[c] = append(perConfig[c], randomSpec(r, s.configs[c].model, i))
	}
	var total tally
	var mu sync.Mutex
	jobs := make(map[string]func(t *testing.T))
	for ci, c := range s.configs {
		jobs[c.name] = func(t *testing.T) {
			var tl tally
			s.runAndReport(t, c, perConfig[ci], &tl, func(x *exchangeResult) {
				mu.Lock()
				defer mu.Unlock()
				path, err := writeRegression(c, seed, x)
				if err != nil {
					t.Errorf("saving the regression case: %v", err)
					return
				}
				t.Logf("%s/%s saved as %s", c.name, x.spec.Name, path)
			})
			total.merge(&tl)
		}
	}
	t.Run("configs", func(t *testing.T) { s.runConcurrently(t, jobs) })
	line := "conformance random: " + total.String()
	summary(t, line)
}

// pools are the strings a configuration offers to the grammar.
type pools struct {
	nodes, instances, links, ips, paths []string
}

func newPools(m *model) *pools {
	p := &pools{links: append(append([]string(nil), m.links...), "", "nosuch")}
	for _, set := range []struct {
		list []entity
		out  *[]string
	}{{m.nodes, &p.nodes}, {m.instances, &p.instances}} {
		for _, e := range set.list {
			*set.out = append(*set.out, e.uuid)
			if e.hasName {
				*set.out = append(*set.out, e.name)
				*set.out = append(*set.out, dottedPrefixes(e.name)...)
			}
		}
	}
	for _, n := range m.nics {
		p.ips = append(p.ips, n.ip)
	}
	p.ips = append(p.ips, unknownIPs...)
	p.paths = append(p.paths, m.paths...)
	return p
}

var poolCache sync.Map // *model → *pools

func poolsOf(m *model) *pools {
	if p, ok := poolCache.Load(m); ok {
		return p.(*pools)
	}
	p, _ := poolCache.LoadOrStore(m, newPools(m))
	return p.(*pools)
}

func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

// mutations insert these.
var mutationRunes = []string{"x", ".", "/", "~", "~0", "~1", " ", "0", "-", "\u00e9", "\U0001F600", "\u0000", "\\", "\""}

// mutate changes a string a little.
func mutate(r *rand.Rand, s string) string {
	rs := []rune(s)
	i := 0
	if len(rs) > 0 {
		i = r.IntN(len(rs) + 1)
	}
	switch r.IntN(8) {
	case 0: // drop one character
		if len(rs) > 0 {
			j := min(i, len(rs)-1)
			return string(rs[:j]) + string(rs[j+1:])
		}
		return "x"
	case 1: // insert something
		return string(rs[:i]) + pick(r, mutationRunes) + string(rs[i:])
	case 2: // cut
		return string(rs[:i])
	case 3:
		return strings.ToUpper(s)
	case 4:
		return s + pick(r, []string{".", " ", "/", "x", ".example.com", "/0"})
	case 5:
		return pick(r, []string{" ", "/", ".", "0"}) + s
	case 6: // replace a digit
		for k, c := range rs {
			if c >= '0' && c <= '9' {
				rs[k] = rune('0' + r.IntN(10))
				return string(rs)
			}
		}
		return s + "1"
	default:
		return s + s
	}
}

// maybeMutate mutates s with probability p.
func maybeMutate(r *rand.Rand, s string, p float64) string {
	if r.Float64() < p {
		return mutate(r, s)
	}
	return s
}

// randomString draws a plain query fitting the type, often mutated.
func randomString(r *rand.Rand, p *pools, typ int) string {
	var pool []string
	switch typ {
	case 1, 7, 8:
		pool = p.nodes
	case 9:
		pool = p.instances
	case 6:
		pool = p.links
	case 10:
		pool = p.paths
	case 2:
		pool = p.ips
	}
	if len(pool) == 0 || r.IntN(5) == 0 {
		pool = pick(r, [][]string{p.nodes, p.instances, p.links, p.ips, p.paths})
	}
	if len(pool) == 0 {
		return "x"
	}
	return maybeMutate(r, pick(r, pool), 0.35)
}

// randomQuery draws a query member (raw JSON, "" for absent) and whether
// the server will probably drop the request.
func randomQuery(r *rand.Rand, p *pools, typ int) (string, bool) {
	dictFirst := typ == 2 || typ == 3
	x := r.IntN(100)
	switch {
	case x < 12:
		return "", false
	case x < 20:
		return "null", false
	case (dictFirst && x < 35) || (!dictFirst && x < 70):
		return pyJSON(randomString(r, p, typ)), false
	case x < 96:
		return randomDict(r, p)
	default:
		return pick(r, []string{"0", "1", "-1", "2.5", "true", "false", "[]", `["x"]`, `[{}]`}), true
	}
}

// randomDict draws a dict query; now and then a member has the wrong type
// or name, which drops the request.
func randomDict(r *rand.Rand, p *pools) (string, bool) {
	var o obj
	bad := false
	keys := []string{"0", "1", "2", "3"}
	r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for _, k := range keys {
		if r.IntN(10) >= 4 {
			continue
		}
		if r.IntN(12) == 0 {
			o = append(o, kv{k, nil})
			continue
		}
		switch k {
		case "0":
			o = append(o, kv{k, maybeMutate(r, pick(r, p.links), 0.2)})
		case "1":
			o = append(o, kv{k, maybeMutate(r, pick(r, p.ips), 0.2)})
		case "2":
			var ips []string
			for range r.IntN(5) {
				ips = append(ips, maybeMutate(r, pick(r, p.ips), 0.2))
			}
			o = append(o, kv{k, ips})
		case "3":
			var fs []any
			for range r.IntN(5) {
				if r.IntN(15) == 0 {
					f := pick(r, []any{3, -1, "0", raw("1.5"), raw("0.4"), nil})
					bad = bad || f != raw("1.5") && f != raw("0.4")
					fs = append(fs, f)
					continue
				}
				fs = append(fs, r.IntN(3))
			}
			if fs == nil {
				fs = []any{}
			}
			o = append(o, kv{k, fs})
		}
	}
	if r.IntN(20) == 0 {
		k := pick(r, []string{"4", "x", "link", ""})
		o = append(o, kv{k, "y"})
		bad = true
	}
	if r.IntN(25) == 0 && len(o) > 0 {
		// a wrongly typed value
		o[0].v = pick(r, []any{1, true, []any{1}, obj{}})
		bad = true
	}
	return pyJSON(o), bad
}

// randomSpec draws one request.
func randomSpec(r *rand.Rand, m *model, i int) Spec {
	p := poolsOf(m)
	s := Spec{Name: "random/" + strconv.Itoa(i)}
	bad := false
	switch x := r.IntN(100); {
	case x < 92:
		s.Type = r.IntN(12)
	case x < 97:
		s.Type = 8
	default:
		s.Type = pick(r, []int{12, -1, 255})
		bad = true
	}
	q, qbad := randomQuery(r, p, s.Type)
	s.Query = q
	bad = bad || qbad
	if r.IntN(10) == 0 {
		bad = mutateTransport(r, &s) || bad
	}
	s.Silent = bad
	return s
}

// mutateTransport applies one transport knob and tells whether the request
// will probably be dropped.
func mutateTransport(r *rand.Rand, s *Spec) bool {
	switch r.IntN(8) {
	case 0:
		s.TSOffset = pick(r, []int64{-301, -300, -299, 299, 300, 301, int64(r.IntN(800) - 400)})
		s.Clock = true
		return s.TSOffset > 300 || s.TSOffset < -300
	case 1:
		s.Salt = sp(pick(r, []string{"0x{hex}", " {now}", "({now})", "+{now}", "{now}.0", "{now} ", ""}))
		return strings.ContainsAny(*s.Salt, "+. ") && !strings.HasPrefix(*s.Salt, " ") || *s.Salt == ""
	case 2:
		s.UpperHMAC = true
	case 3:
		v := pick(r, []string{"0", "2", "-7", `"1"`, "1.5"})
		s.ReplaceRequest = append(s.ReplaceRequest, Member{Key: "protocol", Value: v})
		return v == `"1"`
	case 4:
		s.ReplaceRequest = append(s.ReplaceRequest, Member{Key: "rsalt", Value: pick(r, []string{`""`, `"\u00e9"`, `"\ud83d\ude00"`, "null"})})
	case 5:
		s.ReplaceRequest = append(s.ReplaceRequest, Member{Key: "type", Value: fmt.Sprintf("%d.%d", s.Type, r.IntN(10))})
	case 6:
		s.MsgSuffix = sp(pick(r, []string{"", " ", "\n\n", "\t"}))
	default:
		s.Key = sp(strings.TrimSuffix(testKey, "\n"))
		return true
	}
	return false
}
